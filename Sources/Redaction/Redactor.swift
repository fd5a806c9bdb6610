#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The compiled redaction patterns of a session: every form of every registered value and the
/// known token formats, built once and shared by any number of `StreamingRedactor`s.
///
/// Matching happens in a *view* of the stream (`Normalizer`): escape sequences removed, whitespace
/// runs collapsed to one space. Patterns are normalized the same way, so they are plain byte
/// strings there. The engine is filter-then-verify rather than a per-byte automaton:
///
/// 1. Every pattern (at least 5 bytes in the view) is *anchored* by its first two 4-byte grams, at
///    offsets 0 and 1. Known token formats are anchored the same way, by every gram their first bytes'
///    classes allow (a few hundred at most).
/// 2. The scanner looks at the 4-byte gram at every *even* view offset only. Whatever the parity of
///    an occurrence's start, one of its two anchors sits on an even offset, so every occurrence is
///    seen exactly once, with half the lookups of a per-byte scan.
/// 3. A gram is hashed into a bit table sized at about 128 bits per anchor (a few % of L2 for 100
///    secrets), so nearly every position costs a load, a multiply and a bit test; on a hit, an exact
///    hash table lists the candidates (pattern or token format, anchor offset), and each is checked
///    with `memcmp` or the token recogniser.
///
/// There is no per-byte dependency chain, unlike a DFA walk: the loads are independent, which is
/// what keeps the throughput near memory speed.
public final class Redactor: @unchecked Sendable {
    public let options: RedactionOptions
    /// What the caller should show: values too short to register, values that look like words.
    public let warnings: [RedactionWarning]

    // Patterns, normalized, back to back in one arena (zeroed on deinit).
    let arena: UnsafeMutablePointer<UInt8>
    let arenaCount: Int
    let patternOffset: [Int]
    let patternLength: [Int]
    let patternLabel: [Int32]
    /// Marker bytes per label index.
    let markers: [[UInt8]]
    let tokens: [TokenFormat]
    let tokenLabels: [String: Int32]

    // The filter: a bit per hashed gram.
    let bits: UnsafeMutablePointer<UInt64>
    let bitWords: Int
    let hashShift: UInt32

    // Exact gram table (open addressing) → candidate lists.
    let slotKeys: [UInt32]
    let slotFirst: [Int32]
    let slotCount: [Int32]
    let candidateTarget: [Int32]
    let candidateOffset: [Int8]

    /// Packed prefixes of length 1...4 of every pattern, for the streaming hold-back test.
    let prefixes: [Set<UInt32>]
    /// How many bytes at the end of the view may start a match whose anchor has not been seen.
    let tailWindow: Int

    static let hashMultiplier: UInt32 = 0x9E37_79B1

    public init(secrets: [RedactionSecret], options: RedactionOptions = RedactionOptions()) {
        self.options = options
        var warnings: [RedactionWarning] = []
        var labels: [String] = []
        var labelIndex: [String: Int32] = [:]
        func label(_ name: String) -> Int32 {
            if let index = labelIndex[name] { return index }
            labels.append(name)
            labelIndex[name] = Int32(labels.count - 1)
            return Int32(labels.count - 1)
        }
        _ = label("")

        // Forms of every value, normalized, deduplicated.
        var patterns: [[UInt8]] = []
        var patternLabels: [Int32] = []
        var seen: [[UInt8]: Int] = [:]
        for secret in secrets {
            let trimmed = SecretForms.trimWhitespace(secret.value)
            if trimmed.count < options.minimumLength {
                warnings.append(.tooShort(name: secret.name, length: trimmed.count, minimum: options.minimumLength))
                continue
            }
            if Self.looksLikeWord(trimmed) { warnings.append(.commonWord(name: secret.name)) }
            let index = label(Self.sanitizedName(secret.name))
            for form in SecretForms.forms(of: secret.value, minimumLength: options.minimumLength) {
                let pattern = Normalizer.view(of: form)
                guard pattern.count >= options.minimumLength, seen[pattern] == nil else { continue }
                seen[pattern] = patterns.count
                patterns.append(pattern)
                patternLabels.append(index)
            }
        }
        self.warnings = warnings

        let tokens = options.knownTokenFormats ? TokenFormat.all : []
        var tokenLabels: [String: Int32] = [:]
        for token in tokens {
            tokenLabels[token.label] = label(token.label)
            if token.label == "openai-key" { tokenLabels["anthropic-key"] = label("anthropic-key") }
        }
        self.tokens = tokens
        self.tokenLabels = tokenLabels
        markers = labels.map { name in Array((name.isEmpty ? "[REDACTED]" : "[REDACTED:\(name)]").utf8) }

        // The arena.
        let total = patterns.reduce(0) { $0 + $1.count }
        arenaCount = total
        let arena = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
        self.arena = arena
        var offsets: [Int] = []
        var lengths: [Int] = []
        var cursor = 0
        for pattern in patterns {
            offsets.append(cursor)
            lengths.append(pattern.count)
            pattern.withUnsafeBufferPointer { (arena + cursor).update(from: $0.baseAddress!, count: pattern.count) }
            cursor += pattern.count
        }
        patternOffset = offsets
        patternLength = lengths
        patternLabel = patternLabels

        // Anchors: gram → candidates.
        var anchors: [UInt32: [(Int32, Int8)]] = [:]
        var prefixes = Array(repeating: Set<UInt32>(), count: 5)
        for (index, pattern) in patterns.enumerated() {
            for offset in 0..<2 {
                anchors[Self.pack(pattern[offset..<offset + 4]), default: []].append((Int32(index), Int8(offset)))
            }
            for length in 1...4 { prefixes[length].insert(Self.pack(pattern[0..<length])) }
        }
        var tailWindow = 4
        for (index, token) in tokens.enumerated() {
            for offset in token.anchor...(token.anchor + 1) {
                for gram in token.grams(at: offset) {
                    anchors[gram, default: []].append((Int32(-1 - index), Int8(offset)))
                }
            }
            tailWindow = max(tailWindow, token.anchor + 5)
        }
        self.prefixes = prefixes
        self.tailWindow = tailWindow

        // Bit filter: about 128 bits per gram, between 2^16 and 2^26 bits.
        var bitCount = 16
        while bitCount < 26 && (1 << bitCount) < anchors.count * 128 { bitCount += 1 }
        let hashShift = UInt32(32 - bitCount)
        self.hashShift = hashShift
        bitWords = (1 << bitCount) / 64
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: bitWords)
        bits.initialize(repeating: 0, count: bitWords)
        self.bits = bits

        var slots = 16
        while slots < anchors.count * 2 { slots *= 2 }
        var slotKeys = Array(repeating: UInt32(0), count: slots)
        var slotFirst = Array(repeating: Int32(-1), count: slots)
        var slotCount = Array(repeating: Int32(0), count: slots)
        var targets: [Int32] = []
        var candidateOffsets: [Int8] = []
        for (gram, list) in anchors.sorted(by: { $0.key < $1.key }) {
            let hash = (gram &* Self.hashMultiplier) >> hashShift
            bits[Int(hash >> 6)] |= 1 << UInt64(hash & 63)
            var slot = Int(hash) & (slots - 1)
            while slotFirst[slot] >= 0 { slot = (slot + 1) & (slots - 1) }
            slotKeys[slot] = gram
            slotFirst[slot] = Int32(targets.count)
            slotCount[slot] = Int32(list.count)
            for (target, offset) in list {
                targets.append(target)
                candidateOffsets.append(offset)
            }
        }
        self.slotKeys = slotKeys
        self.slotFirst = slotFirst
        self.slotCount = slotCount
        candidateTarget = targets
        candidateOffset = candidateOffsets
    }

    deinit {
        wipe(arena, max(arenaCount, 1))
        arena.deallocate()
        bits.deallocate()
    }

    /// How many distinct patterns (forms, after normalization) are registered.
    public var patternCount: Int { patternLength.count }

    /// A fresh stream.
    public func makeStream() -> StreamingRedactor { StreamingRedactor(self) }

    /// Redacts a whole buffer at once.
    public func redact(_ bytes: [UInt8]) -> [UInt8] {
        let stream = makeStream()
        var out = stream.write(bytes)
        out += stream.flush()
        return out
    }

    /// The exact-table slot of `gram`, or nil.
    @inline(__always)
    func slot(of gram: UInt32) -> Int? {
        let mask = slotKeys.count - 1
        var slot = Int((gram &* Self.hashMultiplier) >> hashShift) & mask
        while slotFirst[slot] >= 0 {
            if slotKeys[slot] == gram { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    static func pack<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var value: UInt32 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt32(byte) << (8 * UInt32(index)) }
        return value
    }

    /// Names go into the marker as they are when they are made of `[A-Za-z0-9_.-]`; anything else
    /// is dropped from the name.
    static func sanitizedName(_ name: String?) -> String {
        guard let name else { return "" }
        let allowed = ByteClass(ranges: "A-Za-z0-9_.-")
        return String(decoding: name.utf8.filter { allowed.contains($0) }.prefix(64), as: UTF8.self)
    }

    /// Letters of one case only, or digits only, and short: a word or a number people also type.
    static func looksLikeWord(_ value: [UInt8]) -> Bool {
        guard value.count <= 12 else { return false }
        let lower = value.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
        let upper = value.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        let capitalized =
            value.first.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } == true
            && value.dropFirst().allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
        let digits = value.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return lower || upper || capitalized || digits
    }
}
