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
/// left as it is. Patterns are normalized with whitespace runs collapsed to one space, and a space
/// in a pattern matches any run of whitespace in the view. The engine is filter-then-verify rather
/// than a per-byte automaton:
///
/// 1. Every pattern (at least 5 bytes) is *anchored* by `stride` 4-byte grams in a row, starting at
///    offset `k`, in its longest run of bytes without whitespace: those bytes are the same in the view
///    whatever whitespace run stands for each space. A match is verified backwards from the anchor
///    to its start and forwards to its end. A pattern without five such bytes (a phrase of short
///    words) cannot be anchored that way: when one is registered, the streams of this redactor
///    collapse whitespace runs in the view as well (`collapsesWhitespace`, slower), and every
///    pattern is anchored from offset 0. Known token formats are anchored by the byte pairs at two
///    offsets of their literal prefix (`tokenPairs`).
/// 2. The scanner looks at the 4-byte gram at every view offset that is a multiple of `stride` (at
///    most 16: 13 when every pattern has 16 bytes without whitespace in a row), and at the byte pair at every
///    even offset for the token formats. Whatever the alignment of an occurrence, exactly one of its
///    anchors is looked at, so every occurrence is seen exactly once.
/// 3. A gram is hashed (one multiply) into a blocked Bloom filter, two bits in one 64-bit word,
///    about 32 bits per anchor (128 KiB for 100 secrets); on a hit, an exact hash table lists the
///    candidates (pattern, anchor offset), each verified against the view. A byte pair is looked up
///    directly in `tokenPairs`, and a hit runs the token recogniser.
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
    /// Where each pattern's first anchor gram starts.
    let patternAnchor: [Int]
    /// Whether the view collapses whitespace runs (some pattern cannot be anchored without it).
    let collapsesWhitespace: Bool
    /// Marker bytes per label index.
    let markers: [[UInt8]]
    let tokens: [TokenFormat]
    let tokenLabels: [String: Int32]

    // The filter: a blocked Bloom filter, two bits in one 64-bit word per gram (`filterProbe`).
    let bits: UnsafeMutablePointer<UInt64>
    let bitWords: Int
    /// 64 less log2 of `bitWords`: the word is the top bits of the 64-bit hash.
    let wordShift: UInt64
    /// 32 less log2 of the exact table's size.
    let slotShift: UInt32

    // Exact gram table (open addressing) → candidate lists.
    let slotKeys: [UInt32]
    let slotFirst: [Int32]
    let slotCount: [Int32]
    let candidateTarget: [Int32]
    /// Which of the pattern's anchor grams this is (0..<stride).
    let candidateOffset: [Int32]

    /// Patterns are looked for at view offsets that are multiples of this (2...8): the shortest run
    /// of anchorable bytes among the patterns, less 3.
    let stride: Int
    static let maximumStride = 16
    /// `PrefixKey` of every pattern's prefixes up to the last byte before the end of its last
    /// anchor gram, for the streaming hold-back test.
    /// An open-addressing table of those keys (0: empty; keys are never 0).
    let prefixSlots: [UInt64]
    /// The longest of those prefixes.
    let longestPrefix: Int
    /// For each pair of bytes (first byte in the low 8 bits), a bit for each token format that has
    /// this pair at its anchor offset or the next one. Looked up at every even view offset.
    let tokenPairs: UnsafeMutablePointer<UInt8>
    /// How many bytes at the end of the view may start a token whose anchor has not been seen.
    let tailWindow: Int
    /// For each byte, a bit for each token format whose first byte it can be.
    let tokenStartFormats: [UInt8]
    /// Every token format's prefix classes back to back (`tokenPrefixStart[i]..<tokenPrefixStart[i + 1]`)
    /// and anchor offsets: plain values, read on every pair hit without copying a `TokenFormat`.
    let tokenPrefixClasses: [ByteClass]
    let tokenPrefixStart: [Int]
    let tokenAnchor: [Int]
    /// Bytes that may not come right before each token format (empty: no rule), and its body class.
    let tokenNotBefore: [ByteClass]
    let tokenBody: [ByteClass]

    static let hashMultiplier: UInt32 = 0x9E37_79B1
    static let filterMultiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The filter word of `gram` and the two bits it must have.
    @inline(__always)
    static func filterProbe(_ gram: UInt32, wordShift: UInt64) -> (word: Int, mask: UInt64) {
        let hash = UInt64(gram) &* filterMultiplier
        let mask = (1 as UInt64) &<< (hash &>> 20) | (1 as UInt64) &<< (hash &>> 26)
        return (Int(truncatingIfNeeded: hash &>> wordShift), mask)
    }

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

        // Anchors: `stride` grams in a row inside the longest run of bytes without whitespace of each
        // pattern (a whole pattern in the collapsing mode), so that whatever the alignment of an
        // occurrence, one of its anchor grams starts at a multiple of `stride`.
        let solidRuns = patterns.map(Self.longestSolidRun)
        let collapses = solidRuns.contains { $0.length < 5 }
        collapsesWhitespace = collapses
        let runs = collapses ? patterns.map { (start: 0, length: $0.count) } : solidRuns
        let stride = min(Self.maximumStride, runs.map { $0.length - 3 }.min() ?? Self.maximumStride)
        self.stride = stride
        patternAnchor = runs.map(\.start)

        var anchors: [UInt32: [(Int32, Int32)]] = [:]
        var prefixes = Set<UInt64>()
        var longestPrefix = 0
        for (index, pattern) in patterns.enumerated() {
            let anchor = patternAnchor[index]
            for offset in 0..<stride {
                let gram = Self.pack(pattern[anchor + offset..<anchor + offset + 4])
                anchors[gram, default: []].append((Int32(index), Int32(offset)))
            }
            // Until the last anchor gram is complete, a match may start unseen in the last bytes.
            let prefixEnd = min(pattern.count, anchor + stride + 2)
            for length in 1...prefixEnd { prefixes.insert(PrefixKey(pattern[0..<length]).value) }
            longestPrefix = max(longestPrefix, prefixEnd)
        }
        var prefixSlotCount = 16
        while prefixSlotCount < prefixes.count * 2 { prefixSlotCount *= 2 }
        var prefixSlots = Array(repeating: UInt64(0), count: prefixSlotCount)
        for key in prefixes {
            var slot = Int(truncatingIfNeeded: key &>> 32) & (prefixSlotCount - 1)
            while prefixSlots[slot] != 0 { slot = (slot + 1) & (prefixSlotCount - 1) }
            prefixSlots[slot] = key
        }
        self.prefixSlots = prefixSlots
        self.longestPrefix = longestPrefix

        // Token formats: a table of the byte pairs at their anchor offsets, a bit per format.
        precondition(tokens.count <= 8, "a token format needs a bit in tokenPairs")
        let tokenPairs = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
        tokenPairs.initialize(repeating: 0, count: 1 << 16)
        var tailWindow = 0
        var tokenStartFormats = [UInt8](repeating: 0, count: 256)
        for (index, token) in tokens.enumerated() {
            for first in token.prefix[0].members { tokenStartFormats[Int(first)] |= 1 << UInt8(index) }
            for offset in token.anchor...(token.anchor + 1) {
                let seconds = token.prefix[offset + 1].members
                for first in token.prefix[offset].members {
                    for second in seconds { tokenPairs[Int(first) | Int(second) << 8] |= 1 << UInt8(index) }
                }
            }
            tailWindow = max(tailWindow, token.anchor + 3)
        }
        self.tokenPairs = tokenPairs
        self.tailWindow = tailWindow
        self.tokenStartFormats = tokenStartFormats
        tokenPrefixClasses = tokens.flatMap(\.prefix)
        tokenPrefixStart = tokens.reduce(into: [0]) { $0.append($0.last! + $1.prefix.count) }
        tokenAnchor = tokens.map(\.anchor)
        tokenNotBefore = tokens.map { $0.notBefore ?? ByteClass() }
        tokenBody = tokens.map(\.body)

        // Bit filter: about 32 bits per gram (under 1% of false hits, 128 KiB for 100 secrets),
        // between 2^6 and 2^20 words.
        var wordBits = 6
        while wordBits < 20 && (64 << wordBits) < anchors.count * 32 { wordBits += 1 }
        let wordShift = UInt64(64 - wordBits)
        self.wordShift = wordShift
        bitWords = 1 << wordBits
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: bitWords)
        bits.initialize(repeating: 0, count: bitWords)
        self.bits = bits

        var slotBits = 4
        while (1 << slotBits) < anchors.count * 2 { slotBits += 1 }
        let slots = 1 << slotBits
        slotShift = UInt32(32 - slotBits)
        var slotKeys = Array(repeating: UInt32(0), count: slots)
        var slotFirst = Array(repeating: Int32(-1), count: slots)
        var slotCount = Array(repeating: Int32(0), count: slots)
        var targets: [Int32] = []
        var candidateOffsets: [Int32] = []
        for (gram, list) in anchors.sorted(by: { $0.key < $1.key }) {
            let probe = Self.filterProbe(gram, wordShift: wordShift)
            bits[probe.word] |= probe.mask
            var slot = Int((gram &* Self.hashMultiplier) >> slotShift)
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
        tokenPairs.deallocate()
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
        var slot = Int((gram &* Self.hashMultiplier) >> slotShift)
        while slotFirst[slot] >= 0 {
            if slotKeys[slot] == gram { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The longest run of bytes with no space in a normalized pattern (the first of the longest).
    static func longestSolidRun(_ pattern: [UInt8]) -> (start: Int, length: Int) {
        var best = (start: 0, length: 0)
        var start = 0
        for (index, byte) in pattern.enumerated() {
            if byte == 0x20 {
                start = index + 1
            } else if index + 1 - start > best.length {
                best = (start, index + 1 - start)
            }
        }
        return best
    }

    /// Whether `key` (a `PrefixKey` value) is the key of a pattern prefix.
    @inline(__always)
    func isPrefix(_ key: UInt64) -> Bool {
        let mask = prefixSlots.count - 1
        var slot = Int(truncatingIfNeeded: key &>> 32) & mask
        while prefixSlots[slot] != 0 {
            if prefixSlots[slot] == key { return true }
            slot = (slot + 1) & mask
        }
        return false
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
