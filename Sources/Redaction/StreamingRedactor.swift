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
/// - the last few bytes when they are the start of some pattern (up to its last anchor gram,
///   whitespace runs counted as one byte) or token (up to its anchor pair).
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
    private var normalizer: Normalizer
    /// Raw bytes held back from earlier writes; `raw.base[0]` is absolute offset `rawBase`.
    private let raw = ByteBuffer(capacity: 1 << 16)
    private var rawBase = 0
    /// During `write`, the caller's bytes, which follow `raw`: released straight from there, and
    /// only what is held back is copied into `raw`.
    private var incoming = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The view from `viewBase` to `normalizer.viewPosition`.
    private let view = ByteBuffer(capacity: 1 << 16)
    private var viewBase = 0
    /// The next view offset (a multiple of `redactor.stride`) whose gram has not been looked at.
    private var patternScan = 0
    /// The next even view offset whose byte pair has not been looked at.
    private var tokenScan = 0
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
        normalizer = Normalizer(collapsesWhitespace: redactor.collapsesWhitespace)
    }

    /// Bytes written but not yet released.
    public var heldBackCount: Int { raw.count }

    /// Redacts `bytes` and appends what can be released to `sink`.
    public func write(_ bytes: UnsafeRawBufferPointer, into sink: inout [UInt8]) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        normalizer.run(base.assumingMemoryBound(to: UInt8.self), count: bytes.count, into: view)
        incoming = bytes
        process(atEnd: false, into: &sink)
        incoming = UnsafeRawBufferPointer(start: nil, count: 0)
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
        let rawEnd = rawBase + raw.count + incoming.count
        let safeRaw = safeView == viewEnd ? rawEnd : normalizer.rawOffset(ofView: safeView)
        release(upTo: safeRaw, into: &sink)
        releasedView = safeView

        // Keep the view from the released point (less one byte for the boundary test of tokens)
        // or the next unscanned gram, whichever is earlier.
        let keepView = max(viewBase, min(releasedView - TokenFormat.lookBehind, patternScan, tokenScan))
        if keepView > viewBase {
            view.removeFirst(keepView - viewBase)
            viewBase = keepView
        }
        // Keep what is held back: the rest of `raw`, then the rest of the caller's bytes.
        let heldEnd = rawBase + raw.count
        raw.removeFirst(min(safeRaw, heldEnd) - rawBase)
        if safeRaw < rawEnd {
            raw.append(UnsafeRawBufferPointer(rebasing: incoming[max(safeRaw, heldEnd) - heldEnd..<incoming.count]))
        }
        rawBase = safeRaw
        normalizer.trim(viewBefore: releasedView, rawBefore: rawBase)
    }

    /// Looks at the gram at every multiple of `stride` and the byte pair at every even offset whose
    /// bytes are here.
    private func scan(atEnd: Bool) {
        let redactor = self.redactor
        let end = viewEnd
        let bytes = UnsafeRawPointer(view.base - viewBase)

        if redactor.patternCount > 0 {
            let bits = redactor.bits
            let wordShift = redactor.wordShift
            let stride = redactor.stride
            var position = patternScan
            @inline(__always) func missing(_ position: Int) -> UInt64 {
                let probe = Redactor.filterProbe(
                    bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self), wordShift: wordShift)
                return ~bits[probe.word] & probe.mask
            }
            // Four grams at a time, one branch: their filter loads overlap.
            let lastOfFour = 3 &* stride &+ 4
            while position &+ lastOfFour <= end {
                let a = missing(position)
                let b = missing(position &+ stride)
                let c = missing(position &+ 2 &* stride)
                let d = missing(position &+ 3 &* stride)
                if a == 0 || b == 0 || c == 0 || d == 0 {
                    for offset in 0..<4 where missing(position + offset * stride) == 0 {
                        let at = position + offset * stride
                        patternHit(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self), at: at, atEnd: atEnd)
                    }
                }
                position &+= 4 &* stride
            }
            while position &+ 4 <= end {
                if missing(position) == 0 {
                    patternHit(
                        bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self), at: position, atEnd: atEnd)
                }
                position += stride
            }
            patternScan = position
        } else {
            patternScan = end
        }

        if !redactor.tokens.isEmpty {
            let pairs = redactor.tokenPairs
            @inline(__always) func pair(_ position: Int) -> UInt8 {
                pairs[Int(bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))]
            }
            var position = tokenScan
            @inline(__always) func anyOfFour(_ word: UInt64) -> UInt8 {
                pairs[Int(truncatingIfNeeded: word & 0xFFFF)] | pairs[Int(truncatingIfNeeded: word &>> 16 & 0xFFFF)]
                    | pairs[Int(truncatingIfNeeded: word &>> 32 & 0xFFFF)] | pairs[Int(truncatingIfNeeded: word &>> 48)]
            }
            // One load for four pairs (the loads, not the arithmetic, are the limit here), and one
            // branch for eight.
            while position &+ 16 <= end {
                let any =
                    anyOfFour(bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                    | anyOfFour(bytes.loadUnaligned(fromByteOffset: position &+ 8, as: UInt64.self))
                if any != 0 {
                    for offset in Swift.stride(from: 0, to: 16, by: 2) {
                        let formats = pair(position + offset)
                        if formats != 0 { tokenHit(formats, at: position + offset, atEnd: atEnd) }
                    }
                }
                position &+= 16
            }
            while position &+ 8 <= end {
                if anyOfFour(bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)) != 0 {
                    for offset in Swift.stride(from: 0, to: 8, by: 2) {
                        let formats = pair(position + offset)
                        if formats != 0 { tokenHit(formats, at: position + offset, atEnd: atEnd) }
                    }
                }
                position &+= 8
            }
            while position + 2 <= end {
                let formats = pair(position)
                if formats != 0 { tokenHit(formats, at: position, atEnd: atEnd) }
                position += 2
            }
            tokenScan = position
        } else {
            tokenScan = end
        }
    }

    /// The byte pair at `position` is at an anchor offset of each token format in `formats`. A
    /// candidate whose bytes so far do not fit the format's prefix is dropped here, before the
    /// recogniser.
    @inline(never)
    private func tokenHit(_ formats: UInt8, at position: Int, atEnd: Bool) {
        let classes = redactor.tokenPrefixClasses
        let starts = redactor.tokenPrefixStart
        let bytes = view.base - viewBase
        let end = viewEnd
        var remaining = formats
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            let prefix = starts[index]..<starts[index + 1]
            for offset in redactor.tokenAnchor[index]...(redactor.tokenAnchor[index] + 1) {
                let start = position - offset
                guard start >= viewBase else { continue }
                var fits = true
                for (classIndex, at) in zip(prefix, start..<min(end, start + prefix.count))
                where !classes[classIndex].contains(bytes[at]) {
                    fits = false
                    break
                }
                if fits { check(Candidate(target: Int32(-1 - index), start: start), atEnd: atEnd) }
            }
        }
    }

    @inline(never)
    private func patternHit(_ gram: UInt32, at position: Int, atEnd: Bool) {
        guard let slot = redactor.slot(of: gram) else { return }
        let first = Int(redactor.slotFirst[slot])
        for index in first..<first + Int(redactor.slotCount[slot]) {
            let target = redactor.candidateTarget[index]
            let anchor = position - Int(redactor.candidateOffset[index])
            guard let start = patternStart(Int(target), anchoredAt: anchor) else { continue }
            check(Candidate(target: target, start: start), atEnd: atEnd)
        }
    }

    /// Where pattern `index` starts if its anchor is at view offset `anchor`: the bytes before the
    /// anchor compared backwards, a space taking a whole whitespace run; nil if they differ or the
    /// start would be a byte already released.
    private func patternStart(_ index: Int, anchoredAt anchor: Int) -> Int? {
        let prefix = redactor.patternAnchor[index]
        if prefix == 0 { return anchor }
        let pattern = redactor.arena + redactor.patternOffset[index]
        let lowest = max(viewBase, releasedView)
        let bytes = view.base - viewBase
        var position = anchor
        var offset = prefix
        while offset > 0 {
            offset -= 1
            guard position > lowest else { return nil }
            let byte = pattern[offset]
            if byte == 0x20 {
                guard isWhitespace(bytes[position - 1]) else { return nil }
                position -= 1
                while position > lowest && isWhitespace(bytes[position - 1]) { position -= 1 }
            } else {
                guard bytes[position - 1] == byte else { return nil }
                position -= 1
            }
        }
        return position
    }

    /// Decides a candidate: a match (recorded), not a match, or not yet known (kept pending).
    private func check(_ candidate: Candidate, atEnd: Bool) {
        let start = candidate.start
        guard start >= releasedView, start >= viewBase else { return }
        let end = viewEnd
        if candidate.target >= 0 {
            let index = Int(candidate.target)
            switch comparePattern(index, at: start) {
            case -1:
                return
            case 0:
                if !atEnd { pending.append(candidate) }
            case let matchEnd:
                record(viewStart: start, viewEnd: matchEnd, label: redactor.patternLabel[index])
            }
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

    /// Compares pattern `index` with the view from `start`, a space in the pattern taking a whole
    /// whitespace run: the view offset after the match, 0 when the view ends first with everything
    /// so far equal, -1 when it differs.
    private func comparePattern(_ index: Int, at start: Int) -> Int {
        let pattern = redactor.arena + redactor.patternOffset[index]
        let length = redactor.patternLength[index]
        let end = viewEnd
        let bytes = view.base - viewBase
        var position = start
        var offset = 0
        while offset < length {
            guard position < end else { return 0 }
            let byte = pattern[offset]
            if byte == 0x20 {
                guard isWhitespace(bytes[position]) else { return -1 }
                position += 1
                while position < end && isWhitespace(bytes[position]) { position += 1 }
            } else {
                guard bytes[position] == byte else { return -1 }
                position += 1
            }
            offset += 1
        }
        return position
    }

    /// The earliest of the last few view offsets where a pattern or token could start whose anchor
    /// gram is not complete yet; `viewEnd` if none.
    private func tailHold() -> Int {
        let end = viewEnd
        let lowest = max(releasedView, viewBase)
        guard lowest < end else { return end }
        let hold = patternTailHold(end: end, lowest: lowest)
        return tokenTailHold(end: end, lowest: lowest, before: hold)
    }

    /// Patterns: walking back from the end of the view, whitespace runs counted as one space, as far
    /// as the longest prefix up to an anchor; the earliest start from which the rest is such a
    /// prefix, or `end`.
    private func patternTailHold(end: Int, lowest: Int) -> Int {
        let bytes = view.base - viewBase
        var hold = end
        var key = PrefixKey()
        var position = end
        var taken = 0
        while position > lowest && taken < redactor.longestPrefix {
            position -= 1
            taken += 1
            if isWhitespace(bytes[position]) {
                while position > lowest && isWhitespace(bytes[position - 1]) { position -= 1 }
                key.prepend(0x20)
            } else {
                key.prepend(bytes[position])
                if redactor.isPrefix(key.value) { hold = position }
            }
        }
        return hold
    }

    /// Tokens: the earliest of the last `tailWindow` offsets before `hold` from which the bytes to the
    /// end fit the beginning of some token format, or `hold`.
    private func tokenTailHold(end: Int, lowest: Int, before hold: Int) -> Int {
        let bytes = view.base - viewBase
        var start = max(lowest, end - redactor.tailWindow)
        while start < hold {
            var formats = redactor.tokenStartFormats[Int(bytes[start])]
            while formats != 0 {
                let index = formats.trailingZeroBitCount
                formats &= formats - 1
                if couldStart(index, at: start) { return start }
            }
            start += 1
        }
        return hold
    }

    /// Whether the bytes from `start` to the end are consistent with the beginning of token format
    /// `index`.
    private func couldStart(_ index: Int, at start: Int) -> Bool {
        let bytes = view.base - viewBase
        if start > viewBase && redactor.tokenNotBefore[index].contains(bytes[start - 1]) { return false }
        let prefix = redactor.tokenPrefixStart[index]..<redactor.tokenPrefixStart[index + 1]
        let body = redactor.tokenBody[index]
        for position in start..<viewEnd {
            let offset = position - start
            let byteClass = offset < prefix.count ? redactor.tokenPrefixClasses[prefix.lowerBound + offset] : body
            if !byteClass.contains(bytes[position]) { return false }
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
        let heldEnd = rawBase + raw.count
        if start < heldEnd {
            sink.append(
                contentsOf: UnsafeBufferPointer(start: raw.base + (start - rawBase), count: min(end, heldEnd) - start))
        }
        if end > heldEnd {
            let from = max(start, heldEnd) - heldEnd
            let bytes = incoming.baseAddress!.assumingMemoryBound(to: UInt8.self) + from
            sink.append(contentsOf: UnsafeBufferPointer(start: bytes, count: end - heldEnd - from))
        }
    }

    private func copyEscapes(from start: Int, to end: Int, into sink: inout [UInt8]) {
        normalizer.forEachEscapeSpan(from: start, to: end) { spanStart, spanEnd in
            copyRaw(from: spanStart, to: spanEnd, into: &sink)
        }
    }

    deinit {
        raw.removeAll()
        view.removeAll()
    }
}
