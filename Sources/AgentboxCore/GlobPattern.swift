/// A shell-style wildcard pattern over one kind of name (a path, a host), matched on bytes.
///
/// The pattern is split into segments on `separator`:
/// - `*` matches any run (possibly empty) of bytes inside one segment;
/// - `?` matches exactly one character (one UTF-8 sequence) inside one segment;
/// - a segment that is exactly `**` matches zero or more whole segments, so `/srv/app/**`
///   matches `/srv/app` itself and everything below it, but not `/srv/app2`;
/// - a pattern that is exactly `*` matches everything (any host, any path);
/// - every other byte matches itself. There are no character classes, no escapes and no regex.
///
/// Matching is a greedy scan with a single backtrack point per level (segments, then bytes
/// inside a segment), so its cost is at most the product of the lengths: `a*a*a*a*b` against a
/// long run of `a` does not explode.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    /// The byte that separates segments (`/` for paths, `.` for hosts).
    public let separator: UInt8
    private let segments: [Segment]

    private enum Segment: Sendable, Hashable {
        case globstar
        case literal([UInt8])
        case wildcard([UInt8])
    }

    public init(_ pattern: String, separator: UInt8) {
        self.pattern = pattern
        self.separator = separator
        let bytes = Array(pattern.utf8)
        var segments: [Segment] = []
        if pattern == "*" {
            // A lone `*` means "anything", also across separators (`allowedHosts: ["*"]`).
            self.segments = [.globstar]
            return
        }
        for part in bytes.split(separator: separator, omittingEmptySubsequences: false) {
            let segment = Array(part)
            if segment == [UInt8(ascii: "*"), UInt8(ascii: "*")] {
                // Two globstars in a row mean the same as one.
                if segments.last != .globstar { segments.append(.globstar) }
            } else if segment.contains(UInt8(ascii: "*")) || segment.contains(UInt8(ascii: "?")) {
                segments.append(.wildcard(segment))
            } else {
                segments.append(.literal(segment))
            }
        }
        self.segments = segments
    }

    /// A pattern over absolute paths, with `/` as the separator.
    public static func path(_ pattern: String) -> GlobPattern {
        GlobPattern(pattern, separator: UInt8(ascii: "/"))
    }

    /// A pattern over host names, with `.` as the separator. Host names are compared as
    /// written: lowercase both sides first if the comparison should ignore case.
    public static func host(_ pattern: String) -> GlobPattern {
        GlobPattern(pattern, separator: UInt8(ascii: "."))
    }

    /// A pattern over one opaque string (a command-line argument, a user name): `*` and `?`
    /// may match any byte, there is no separator.
    public static func single(_ pattern: String) -> GlobPattern {
        GlobPattern(pattern, separator: 0)
    }

    /// Whether the pattern contains no wildcard at all (it matches exactly one string).
    public var isLiteral: Bool {
        segments.allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    public var description: String { pattern }

    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches(bytes: $0) }
    }

    public func matches(bytes text: UnsafeBufferPointer<UInt8>) -> Bool {
        // Segment boundaries of the text, as ranges of byte offsets.
        var parts: [Range<Int>] = []
        var start = 0
        for index in 0..<text.count where text[index] == separator {
            parts.append(start..<index)
            start = index + 1
        }
        parts.append(start..<text.count)

        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < parts.count {
            if p < segments.count {
                if segments[p] == .globstar {
                    starP = p
                    starT = t
                    p += 1
                    continue
                }
                if Self.segmentMatches(segments[p], UnsafeBufferPointer(rebasing: text[parts[t]])) {
                    p += 1
                    t += 1
                    continue
                }
            }
            guard starP >= 0 else { return false }
            // Let the last globstar swallow one more segment and retry from there.
            p = starP + 1
            starT += 1
            t = starT
        }
        while p < segments.count && segments[p] == .globstar { p += 1 }
        return p == segments.count
    }

    private static func segmentMatches(_ segment: Segment, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        switch segment {
        case .globstar: return true
        case .literal(let literal): return literal.elementsEqual(text)
        case .wildcard(let pattern): return wildcardMatches(pattern, text)
        }
    }

    /// `*` and `?` inside one segment; a single backtrack point keeps it O(pattern × text).
    private static func wildcardMatches(_ pattern: [UInt8], _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let star = UInt8(ascii: "*")
        let question = UInt8(ascii: "?")
        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < text.count {
            if p < pattern.count && pattern[p] == star {
                starP = p
                starT = t
                p += 1
            } else if p < pattern.count && pattern[p] == question {
                p += 1
                t = endOfCharacter(text, from: t)
            } else if p < pattern.count && pattern[p] == text[t] {
                p += 1
                t += 1
            } else if starP >= 0 {
                p = starP + 1
                starT += 1
                t = starT
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == star { p += 1 }
        return p == pattern.count
    }

    /// The offset after the UTF-8 sequence that starts at `index` (continuation bytes skipped).
    private static func endOfCharacter(_ text: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        var next = index + 1
        if text[index] >= 0xC0 {
            while next < text.count && text[next] & 0xC0 == 0x80 { next += 1 }
        }
        return next
    }
}
