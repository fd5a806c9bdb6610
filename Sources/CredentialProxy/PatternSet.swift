#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A few byte patterns searched for together, in one pass over a buffer.
///
/// Every occurrence of a pattern covers at least `shortest` bytes, so it holds one of the byte
/// pairs that start every `shortest - 1` bytes (the samples): the scan reads only those pairs and
/// looks each up in a bit set of the pairs the patterns' first `shortest` bytes hold (8 KiB, in
/// the first-level cache). The samples do not depend on one another, so the loads overlap;
/// for text with no echo that is two byte loads and a bit test per `shortest - 1` bytes. Only
/// where a sample's pair is in the set are the starts that put that pair inside a pattern
/// compared with the patterns. Every start position is thus either ruled out by a sample or
/// checked.
///
/// The patterns are forms of a secret: a class, shared by the scrubbers made from one, whose
/// storage is zeroed when the last one goes.
final class PatternSet: @unchecked Sendable {
    private(set) var patterns: [[UInt8]]
    /// The shortest pattern's length: the stretch every occurrence covers.
    let shortest: Int
    let longest: Int
    /// A bit for each byte pair (first byte high) that starts at offset 0 to `shortest - 2` of a pattern.
    private let pairBits: UnsafeMutablePointer<UInt64>
    private static let pairWords = (1 << 16) / 64

    @inline(__always)
    private static func index(_ first: UInt8, _ second: UInt8) -> Int {
        Int(first) << 8 | Int(second)
    }

    /// `patterns` must not be empty nor hold an empty pattern.
    init(_ patterns: [[UInt8]]) {
        precondition(!patterns.isEmpty && !patterns.contains { $0.isEmpty })
        self.patterns = patterns.sorted { $0.count > $1.count }
        shortest = patterns.map(\.count).min()!
        longest = patterns.map(\.count).max()!
        pairBits = .allocate(capacity: Self.pairWords)
        pairBits.initialize(repeating: 0, count: Self.pairWords)
        if shortest >= 2 {
            for pattern in patterns {
                for offset in 0..<(shortest - 1) {
                    let index = Self.index(pattern[offset], pattern[offset + 1])
                    pairBits[index >> 6] |= 1 << UInt64(index & 63)
                }
            }
        }
    }

    deinit {
        for index in patterns.indices { patterns[index].withUnsafeMutableBytes { zeroBytes($0) } }
        zeroBytes(UnsafeMutableRawBufferPointer(start: pairBits, count: Self.pairWords * 8))
        pairBits.deallocate()
    }

    /// The earliest pattern that lies wholly in `buffer` and starts in `position..<limit` (the
    /// longest one, when several start there): its start and length.
    func firstMatch(in buffer: UnsafeRawBufferPointer, from position: Int, startsBefore limit: Int) -> (
        start: Int, length: Int
    )? {
        let count = buffer.count
        guard let base = buffer.baseAddress, position < limit, position + shortest <= count else { return nil }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        // Starts past this cannot hold a whole pattern.
        let startEnd = min(limit, count - shortest + 1)
        if shortest < 2 {
            for start in position..<startEnd {
                if let length = matchLength(bytes, count, at: start) { return (start, length) }
            }
            return nil
        }
        let step = shortest - 1
        // An occurrence starting at p holds the sample s with p <= s <= p + step - 1.
        let sampleEnd = min(startEnd + step - 1, count - 1)
        var sample = position
        while sample < sampleEnd {
            let index = Self.index(bytes[sample], bytes[sample + 1])
            if pairBits[index >> 6] & (1 << UInt64(index & 63)) != 0 {
                let first = max(position, sample - step + 1)
                let last = min(sample, startEnd - 1)
                if first <= last {
                    for start in first...last {
                        if let length = matchLength(bytes, count, at: start) { return (start, length) }
                    }
                }
            }
            sample += step
        }
        return nil
    }

    /// The longest pattern that starts at `start` and lies wholly in the buffer.
    @inline(__always)
    private func matchLength(_ bytes: UnsafePointer<UInt8>, _ count: Int, at start: Int) -> Int? {
        for pattern in patterns where start + pattern.count <= count && pattern[0] == bytes[start] {
            let equal = pattern.withUnsafeBytes { memcmp(bytes + start, $0.baseAddress!, $0.count) == 0 }
            if equal { return pattern.count }
        }
        return nil
    }

    /// The earliest start at or after `position` from which some pattern runs past the end of
    /// `buffer` with every byte it has there equal: what more bytes could turn into an echo.
    /// `buffer.count` when there is none.
    func firstPartialMatch(in buffer: UnsafeRawBufferPointer, from position: Int) -> Int {
        let count = buffer.count
        guard let base = buffer.baseAddress else { return count }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for start in max(position, count - longest + 1)..<max(count, position) {
            for pattern in patterns where start + pattern.count > count && pattern[0] == bytes[start] {
                let equal = pattern.withUnsafeBytes { memcmp(bytes + start, $0.baseAddress!, count - start) == 0 }
                if equal { return start }
            }
        }
        return count
    }
}
