#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A few byte patterns searched for together, in one pass over a buffer.
///
/// The scan slides a window as long as the shortest pattern and looks at the window's last two
/// bytes: a table (after Wu and Manber's multi-pattern search) says how far the window can move before those two bytes could line
/// up with any pattern, which for text that holds no echo is almost the whole window. Only where
/// the table allows a match are the patterns compared. Every start position is thus either skipped
/// because no pattern can begin there, or checked.
///
/// The patterns are forms of a secret: a class, shared by the scrubbers made from one, whose
/// storage is zeroed when the last one goes.
final class PatternSet: @unchecked Sendable {
    private(set) var patterns: [[UInt8]]
    /// The shortest pattern's length: the window.
    let shortest: Int
    let longest: Int
    /// Indexed by two bytes (64 KiB, exact: no two pairs share an entry): how far the window may
    /// move when those are its last two bytes (0: a pattern's first `shortest` bytes may end
    /// here; compare).
    private var shifts: [UInt8]

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
        let window = shortest
        let largest = UInt8(clamping: max(window - 1, 0))
        var table = [UInt8](repeating: largest, count: 1 << 16)
        if window >= 2 {
            for pattern in patterns {
                // The block ending at j (bytes j-1, j) sits `window - 1 - j` bytes before the window's end.
                for j in 1..<window {
                    let index = Self.index(pattern[j - 1], pattern[j])
                    table[index] = min(table[index], UInt8(clamping: window - 1 - j))
                }
            }
        }
        shifts = table
    }

    deinit {
        for index in patterns.indices { patterns[index].withUnsafeMutableBytes { zeroBytes($0) } }
        shifts.withUnsafeMutableBytes { zeroBytes($0) }
    }

    /// The earliest pattern that lies wholly in `buffer` and starts in `position..<limit` (the
    /// longest one, when several start there): its start and length.
    func firstMatch(in buffer: UnsafeRawBufferPointer, from position: Int, startsBefore limit: Int) -> (
        start: Int, length: Int
    )? {
        let count = buffer.count
        guard let base = buffer.baseAddress, position < limit, position + shortest <= count else { return nil }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        if shortest < 2 {
            for start in position..<min(limit, count) {
                if let length = matchLength(bytes, count, at: start) { return (start, length) }
            }
            return nil
        }
        var end = position + shortest - 1  // the window's last byte
        let lastEnd = min(count, limit + shortest - 1)
        return shifts.withUnsafeBufferPointer { table in
            while end < lastEnd {
                let shift = Int(table[Self.index(bytes[end - 1], bytes[end])])
                if shift != 0 {
                    end += shift
                    continue
                }
                let start = end - shortest + 1
                if let length = matchLength(bytes, count, at: start) { return (start, length) }
                end += 1
            }
            return nil
        }
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
