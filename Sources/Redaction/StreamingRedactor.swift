#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Redacts a byte stream as it is written, for one output (a PTY, a transcript, a file).
///
/// `write` returns (or appends to a sink) every byte that can no longer be part of a match, with
/// matches replaced by a marker; it holds back only the bytes from the earliest position where a
/// match could still start:
/// - a candidate whose anchor matched and whose bytes so far match (a pattern or token not yet
///   complete), and
/// - the last few bytes (at most 9 in the view) when they are the start of some pattern or token.
///
/// `flush()` is for idle or end of output: it decides every open candidate with the bytes it has
/// (a pattern that is not complete does not match; a token or PEM block that runs to the end is
/// redacted to the end) and releases everything. Writing after a flush is fine; a secret split
/// across a flush is not matched.
///
/// The output does not depend on how the input is split into writes (without flushes between
/// them). The marker is `[REDACTED:NAME]` for a registered value with a name, `[REDACTED:kind]` for
/// a known token format (`github-token`, `aws-access-key-id`, `private-key`, …), `[REDACTED]`
/// otherwise. Where matches overlap, their union becomes one marker (named after the match that
/// starts first); matches that only touch get one marker each. Escape sequences inside a redacted
/// range are kept, after the marker; every other byte of the range goes.
public final class StreamingRedactor {
    let redactor: Redactor
    private var normalizer = Normalizer()
    /// Raw bytes not yet released; `raw.base[0]` is absolute offset `rawBase`.
    private let raw = ByteBuffer(capacity: 1 << 16)
    private var rawBase = 0
    /// The view from `viewBase` to `normalizer.viewPosition`.
    private let view = ByteBuffer(capacity: 1 << 16)
    private var viewBase = 0
    /// The next even view offset whose gram has not been looked at.
    private var scanPosition = 0
    /// Everything before this view offset has been released; no match can start before it.
    private var releasedView = 0

    private struct Candidate {
        var target: Int32  // >= 0: pattern index; < 0: token format -1 - target
        var start: Int
    }
    private var pending: [Candidate] = []

    private struct Range {
        var start: Int  // raw, absolute
        var end: Int
        /// The match that names the range: smallest (view start, -length, label).
        var key: (Int, Int, Int32)
        var markerEmitted = false
    }
    private var ranges: [Range] = []

    init(_ redactor: Redactor) {
        self.redactor = redactor
    }

    /// Bytes written but not yet released.
    public var heldBackCount: Int { raw.count }

    /// Redacts `bytes` and appends what can be released to `sink`.
    public func write(_ bytes: UnsafeRawBufferPointer, into sink: inout [UInt8]) {
        guard bytes.count > 0 else { return }
        let oldCount = raw.count
        raw.append(bytes)
        normalizer.run(UnsafePointer(raw.base + oldCount), count: bytes.count, into: view)
        process(atEnd: false, into: &sink)
    }

    public func write(_ bytes: [UInt8], into sink: inout [UInt8]) {
        bytes.withUnsafeBytes { write($0, into: &sink) }
    }

    /// Redacts `bytes` and returns what can be released.
    public func write(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        write(bytes, into: &out)
        return out
    }

    /// Releases everything held back, deciding open candidates with the bytes at hand.
    public func flush(into sink: inout [UInt8]) {
        process(atEnd: true, into: &sink)
    }

    public func flush() -> [UInt8] {
        var out: [UInt8] = []
        flush(into: &out)
        return out
    }

    // MARK: Matching

    private var viewEnd: Int { normalizer.viewPosition }

    private func process(atEnd: Bool, into sink: inout [UInt8]) {
        // Candidates that were waiting for more bytes.
        if !pending.isEmpty {
            let waiting = pending
            pending.removeAll(keepingCapacity: true)
            for candidate in waiting { check(candidate, atEnd: atEnd) }
        }
        scan(atEnd: atEnd)

        var safeView = viewEnd
        for candidate in pending { safeView = min(safeView, candidate.start) }
        if !atEnd { safeView = min(safeView, tailHold()) }
        let safeRaw = safeView == viewEnd ? rawBase + raw.count : normalizer.rawOffset(ofView: safeView)
        release(upTo: safeRaw, into: &sink)
        releasedView = safeView

        // Keep the view from the released point (less one byte for the boundary test of tokens)
        // or the next unscanned gram, whichever is earlier.
        let keepView = max(viewBase, min(releasedView - TokenFormat.lookBehind, scanPosition))
        if keepView > viewBase {
            view.removeFirst(keepView - viewBase)
            viewBase = keepView
        }
        if safeRaw > rawBase {
            raw.removeFirst(safeRaw - rawBase)
            rawBase = safeRaw
        }
        normalizer.trim(viewBefore: releasedView, rawBefore: rawBase)
    }

    /// Looks at the gram at every even view offset whose four bytes are here.
    private func scan(atEnd: Bool) {
        let redactor = self.redactor
        let bits = redactor.bits
        let shift = redactor.hashShift
        let multiplier = Redactor.hashMultiplier
        let end = viewEnd
        let base = viewBase
        let bytes = UnsafeRawPointer(view.base)
        var position = scanPosition

        /// The filter bit of `gram`, as 0 or 1 (no branch, so the three loads of a word overlap).
        @inline(__always) func bit(_ gram: UInt32) -> UInt64 {
            let hash = (gram &* multiplier) &>> shift
            return bits[Int(hash &>> 6)] &>> UInt64(hash & 63) & 1
        }
        @inline(__always) func test(_ gram: UInt32) -> Bool { bit(gram) != 0 }

        // Three grams per 8-byte load: at +0, +2, +4.
        while position + 8 <= end {
            let word = bytes.loadUnaligned(fromByteOffset: position - base, as: UInt64.self)
            let first = UInt32(truncatingIfNeeded: word)
            let second = UInt32(truncatingIfNeeded: word &>> 16)
            let third = UInt32(truncatingIfNeeded: word &>> 32)
            if bit(first) | bit(second) | bit(third) != 0 {
                if test(first) { hit(first, at: position, atEnd: atEnd) }
                if test(second) { hit(second, at: position + 2, atEnd: atEnd) }
                if test(third) { hit(third, at: position + 4, atEnd: atEnd) }
            }
            position += 6
        }
        while position + 4 <= end {
            let gram = bytes.loadUnaligned(fromByteOffset: position - base, as: UInt32.self)
            if test(gram) { hit(gram, at: position, atEnd: atEnd) }
            position += 2
        }
        scanPosition = position
    }

    private func hit(_ gram: UInt32, at position: Int, atEnd: Bool) {
        guard let slot = redactor.slot(of: gram) else { return }
        let first = Int(redactor.slotFirst[slot])
        for index in first..<first + Int(redactor.slotCount[slot]) {
            let start = position - Int(redactor.candidateOffset[index])
            check(Candidate(target: redactor.candidateTarget[index], start: start), atEnd: atEnd)
        }
    }

    /// Decides a candidate: a match (recorded), not a match, or not yet known (kept pending).
    private func check(_ candidate: Candidate, atEnd: Bool) {
        let start = candidate.start
        guard start >= releasedView, start >= viewBase else { return }
        let end = viewEnd
        if candidate.target >= 0 {
            let index = Int(candidate.target)
            let length = redactor.patternLength[index]
            let available = min(length, end - start)
            let same = memcmp(view.base + (start - viewBase), redactor.arena + redactor.patternOffset[index], available)
            guard same == 0 else { return }
            if available < length {
                if !atEnd { pending.append(candidate) }
                return
            }
            record(viewStart: start, viewEnd: start + length, label: redactor.patternLabel[index])
        } else {
            let token = redactor.tokens[Int(-1 - candidate.target)]
            switch token.recognise(UnsafePointer(view.base), base: viewBase, end: end, start: start, atEnd: atEnd) {
            case .none:
                return
            case .incomplete:
                pending.append(candidate)
            case .match(let matchEnd, let label):
                record(viewStart: start, viewEnd: matchEnd, label: redactor.tokenLabels[label] ?? 0)
            }
        }
    }

    /// The earliest of the last few view offsets where a pattern or token could start whose anchor
    /// gram is not complete yet; `viewEnd` if none.
    private func tailHold() -> Int {
        let end = viewEnd
        let window = max(releasedView, viewBase, end - redactor.tailWindow)
        guard window < end else { return end }
        let bytes = view.base
        for start in window..<end {
            let length = end - start
            if length <= 4 {
                var packed: UInt32 = 0
                for index in 0..<length {
                    packed |= UInt32(bytes[start - viewBase + index]) << (8 * UInt32(index))
                }
                if redactor.prefixes[length].contains(packed) { return start }
            }
            for token in redactor.tokens where couldStart(token, at: start) { return start }
        }
        return end
    }

    /// Whether the bytes from `start` to the end are consistent with the beginning of `token`.
    private func couldStart(_ token: TokenFormat, at start: Int) -> Bool {
        let bytes = view.base
        if let notBefore = token.notBefore, start > viewBase, notBefore.contains(bytes[start - 1 - viewBase]) {
            return false
        }
        for position in start..<viewEnd
        where !token.byteClass(at: position - start).contains(bytes[position - viewBase]) {
            return false
        }
        return true
    }

    // MARK: Ranges and release

    private func record(viewStart: Int, viewEnd: Int, label: Int32) {
        let start = normalizer.rawOffset(ofView: viewStart)
        let end = normalizer.rawOffset(ofView: viewEnd - 1) + 1
        var range = Range(start: start, end: end, key: (viewStart, viewStart - viewEnd, label))
        // Ranges are sorted and never overlap, so their ends are sorted too: the ones this range
        // overlaps (share a byte with) are contiguous.
        var low = ranges.count
        while low > 0 && ranges[low - 1].end > range.start { low -= 1 }
        var high = low
        while high < ranges.count && ranges[high].start < range.end { high += 1 }
        for other in ranges[low..<high] {
            range.start = min(range.start, other.start)
            range.end = max(range.end, other.end)
            if other.key < range.key { range.key = other.key }
            range.markerEmitted = range.markerEmitted || other.markerEmitted
        }
        ranges.replaceSubrange(low..<high, with: [range])
    }

    /// Releases raw bytes up to `limit` (absolute), with ranges replaced by their marker and the
    /// escape sequences inside them.
    private func release(upTo limit: Int, into sink: inout [UInt8]) {
        var position = rawBase
        var done = 0
        for index in ranges.indices {
            let range = ranges[index]
            if range.start >= limit { break }
            if range.start > position {
                copyRaw(from: position, to: range.start, into: &sink)
                position = range.start
            }
            if !range.markerEmitted {
                sink.append(contentsOf: redactor.markers[Int(range.key.2)])
                ranges[index].markerEmitted = true
            }
            let stop = min(range.end, limit)
            copyEscapes(from: position, to: stop, into: &sink)
            position = max(position, stop)
            if range.end <= limit { done += 1 } else { break }
        }
        if position < limit { copyRaw(from: position, to: limit, into: &sink) }
        if done > 0 { ranges.removeFirst(done) }
    }

    private func copyRaw(from start: Int, to end: Int, into sink: inout [UInt8]) {
        guard end > start else { return }
        sink.append(contentsOf: UnsafeBufferPointer(start: raw.base + (start - rawBase), count: end - start))
    }

    private func copyEscapes(from start: Int, to end: Int, into sink: inout [UInt8]) {
        let spans = normalizer.escapeSpans
        var index = 0
        while index < spans.count {
            let spanStart = max(spans[index], start)
            let spanEnd = min(spans[index + 1], end)
            if spanStart < spanEnd { copyRaw(from: spanStart, to: spanEnd, into: &sink) }
            if spans[index] >= end { break }
            index += 2
        }
    }

    deinit {
        raw.removeAll()
        view.removeAll()
    }
}
