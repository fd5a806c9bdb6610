/// Text from an untrusted source, made safe to print in a message: control characters and
/// other invisible or bidirectional-override characters become `\u{…}` escapes (so a remote
/// cannot send terminal escape sequences through a denial), and very long text is cut.
func displayable(_ text: String, limit: Int = 200) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count >= limit {
            out += "…"
            break
        }
        let value = scalar.value
        let invisible =
            value < 0x20 || (0x7F...0x9F).contains(value) || (0x200B...0x200F).contains(value)
            || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) || value == 0xFEFF
        if invisible {
            out += "\\u{" + String(value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
        count += 1
    }
    return out
}

/// argv shown the way a shell user would type it: arguments with spaces or quotes are quoted.
func displayableCommand(_ argv: [String]) -> String {
    let words = argv.map { argument -> String in
        let plain =
            !argument.isEmpty && argument.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "'" && $0 != "\\" }
        if plain { return argument }
        return "'" + argument.replacing("'", with: "'\\''") + "'"
    }
    return displayable(words.joined(separator: " "))
}

/// The Levenshtein distance between two short strings (for "did you mean" suggestions).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased())
    let b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word, $0)) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let limit = max(2, min(word.count, best.0.count) / 3)
    return best.1 <= limit ? best.0 : nil
}
