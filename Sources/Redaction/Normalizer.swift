#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Turns the raw output stream into the *matching view* the patterns are searched in.
///
/// ANSI escape sequences are removed: CSI (`ESC [` … final byte), two- and three-byte `ESC`
/// sequences, and the introducer and terminator (`BEL` or `ESC \`) of string sequences (OSC, DCS,
/// SOS, PM, APC). The *payload* of a string sequence stays visible, so a secret inside an OSC 8
/// hyperlink is still matched.
///
/// Whitespace is kept as it is (`collapsesWhitespace == false`, the fast mode): the view differs
/// from the raw stream only where escapes were, the hot path copies eight bytes at a time and tests
/// them for ESC (SWAR), and matching treats a space in a pattern as any run of whitespace. In the
/// collapsing mode, which the redactor uses only for patterns that have no five bytes in a row
/// without whitespace (see `Redactor`), and which `view(of:)` uses for patterns, every run of
/// whitespace (space, tab, CR, LF, VT, FF) becomes one space.
///
/// Every other byte (UTF-8, invalid bytes, other control characters) is copied unchanged. The
/// normalizer records where the view and the raw stream drift apart (`breakpoints`) and which raw
/// bytes were escape sequences (`forEachEscapeSpan`), so a match in the view maps back to raw bytes
/// and the escapes inside a redacted range can be kept. In the fast mode only escapes make the two
/// drift apart, so the escape spans are the gaps the breakpoints describe and are not recorded twice.
///
/// Collapsing hot path: eight bytes at a time, a word with no control byte and no second
/// consecutive space is copied as is (SWAR tests, no per-byte branches); only words that contain one
/// are walked byte by byte.
struct Normalizer {
    enum EscapeState: UInt8 {
        case ground, escape, csi, intermediate, string, stringEscape
    }

    /// Longest CSI parameter/intermediate run treated as one escape sequence; a longer one is text.
    static let maximumCSILength = 64

    /// Whether whitespace runs become one space (the slow mode) or stay as they are.
    let collapsesWhitespace: Bool

    init(collapsesWhitespace: Bool) {
        self.collapsesWhitespace = collapsesWhitespace
    }

    var state = EscapeState.ground
    var csiLength = 0
    var previousWasSpace = false
    var droppedSinceLastKept = false
    /// Absolute offset of the next raw byte and of the next view byte.
    var rawPosition = 0
    var viewPosition = 0

    /// Pairs (view offset, delta): from that view offset on (until the next pair), the raw offset is
    /// the view offset plus the delta.
    let breakpoints = IntList([0, 0])
    /// Raw ranges of escape bytes as flattened `[start, end)` pairs; collapsing mode only (in the
    /// fast mode they follow from `breakpoints`).
    let escapeSpans = IntList()

    /// The raw offset of the byte that produced view byte `view`.
    func rawOffset(ofView view: Int) -> Int {
        var low = 0
        var high = breakpoints.count / 2 - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if breakpoints[2 * middle] <= view { low = middle } else { high = middle - 1 }
        }
        return view + breakpoints[2 * low + 1]
    }

    /// Forgets breakpoints and escape spans that can no longer be asked about.
    mutating func trim(viewBefore view: Int, rawBefore raw: Int) {
        var keep = 0
        while 2 * (keep + 1) < breakpoints.count && breakpoints[2 * (keep + 1)] <= view { keep += 1 }
        if keep > 0 { breakpoints.removeFirst(2 * keep) }
        var spans = 0
        while spans < escapeSpans.count && escapeSpans[spans + 1] <= raw { spans += 2 }
        if spans > 0 { escapeSpans.removeFirst(spans) }
    }

    /// Calls `body` with each raw range of escape bytes that overlaps `start..<end` (clipped to it),
    /// in order. Only ranges after the last `trim`'s raw offset are known.
    func forEachEscapeSpan(from start: Int, to end: Int, _ body: (Int, Int) -> Void) {
        guard start < end else { return }
        if collapsesWhitespace {
            var index = 0
            while index < escapeSpans.count && escapeSpans[index] < end {
                let spanStart = max(escapeSpans[index], start)
                let spanEnd = min(escapeSpans[index + 1], end)
                if spanStart < spanEnd { body(spanStart, spanEnd) }
                index += 2
            }
            return
        }
        // Between breakpoints (v0, d0) and (v1, d1) the view lost the raw bytes v1 + d0 ..< v1 + d1;
        // escapes dropped since the last kept byte end at `rawPosition`.
        var index = 2
        while index <= breakpoints.count {
            let previousDelta = breakpoints[index - 1]
            let spanStart: Int
            let spanEnd: Int
            if index < breakpoints.count {
                spanStart = breakpoints[index] + previousDelta
                spanEnd = breakpoints[index] + breakpoints[index + 1]
            } else {
                guard droppedSinceLastKept else { break }
                spanStart = viewPosition + previousDelta
                spanEnd = rawPosition
            }
            if spanStart >= end { break }
            let clippedStart = max(spanStart, start)
            let clippedEnd = min(spanEnd, end)
            if clippedStart < clippedEnd { body(clippedStart, clippedEnd) }
            index += 2
        }
    }

    /// Normalizes `count` raw bytes at `input`, appending the view bytes to `view`.
    mutating func run(_ input: UnsafePointer<UInt8>, count: Int, into view: ByteBuffer) {
        let out = view.reserveTail(count + 16)
        var written = 0
        var index = 0
        var previousWasSpace = self.previousWasSpace
        var droppedSinceLastKept = self.droppedSinceLastKept
        let rawStart = rawPosition
        let viewStart = viewPosition

        @inline(__always)
        func keep(_ byte: UInt8) {
            if droppedSinceLastKept {
                breakpoints.append(viewStart + written, rawStart + index - (viewStart + written))
                droppedSinceLastKept = false
            }
            out[written] = byte
            written += 1
        }

        let collapses = collapsesWhitespace
        @inline(__always)
        func dropEscape() {
            droppedSinceLastKept = true
            guard collapses else { return }
            let raw = rawStart + index
            if let last = escapeSpans.last, last == raw {
                escapeSpans[escapeSpans.count - 1] = raw + 1
            } else {
                escapeSpans.append(raw, raw + 1)
            }
        }

        @inline(__always)
        func visible(_ byte: UInt8) {
            if !collapses {
                keep(byte)
            } else if isWhitespace(byte) {
                if previousWasSpace {
                    droppedSinceLastKept = true
                } else {
                    keep(0x20)
                    previousWasSpace = true
                }
            } else {
                keep(byte)
                previousWasSpace = false
            }
        }

        let raw = UnsafeRawPointer(input)
        while index < count {
            if state == .ground && !collapses {
                // Fast path: the span up to the next ESC is copied as it is, sixteen bytes at a time
                // (`out` has sixteen bytes of slack).
                if droppedSinceLastKept && input[index] != 0x1B {
                    breakpoints.append(viewStart + written, rawStart + index - (viewStart + written))
                    droppedSinceLastKept = false
                }
                let copied = Self.copyUntilEscape(input + index, count - index, to: out + written)
                index += copied
                written += copied
                guard index < count else { break }
                // A whole CSI sequence (a colour change) in one step; anything else byte by byte.
                if index + 1 < count && input[index + 1] == UInt8(ascii: "[") {
                    let end = Self.endOfCSI(input, at: index, count: count)
                    if end > 0 {
                        droppedSinceLastKept = true
                        index = end
                        continue
                    }
                }
                dropEscape()
                state = .escape
                index += 1
                continue
            }
            if state == .ground {
                // Fast path: whole words with nothing to rewrite. `carry` is 0x80 when the byte
                // before the word was a space.
                var carry: UInt64 = previousWasSpace ? 0x80 : 0
                while index + 8 <= count {
                    let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    let control = (word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080
                    let flipped = word ^ 0x2020_2020_2020_2020
                    let spaces =
                        ~(((flipped & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | flipped
                        | 0x7F7F_7F7F_7F7F_7F7F)
                    let doubled = spaces & ((spaces &<< 8) | carry)
                    if control | doubled != 0 { break }
                    if droppedSinceLastKept {
                        breakpoints.append(viewStart + written, rawStart + index - (viewStart + written))
                        droppedSinceLastKept = false
                    }
                    UnsafeMutableRawPointer(out + written).storeBytes(of: word, as: UInt64.self)
                    written += 8
                    index += 8
                    carry = spaces &>> 56
                }
                previousWasSpace = carry != 0
                // One word (or the tail) byte by byte.
                let stop = min(index + 8, count)
                while index < stop {
                    let byte = input[index]
                    if state != .ground { break }
                    if byte == 0x1B {
                        dropEscape()
                        state = .escape
                    } else {
                        visible(byte)
                    }
                    index += 1
                }
                continue
            }
            let byte = input[index]
            switch state {
            case .ground:
                break
            case .escape:
                switch byte {
                case UInt8(ascii: "["):
                    state = .csi
                    csiLength = 0
                    dropEscape()
                case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "X"), UInt8(ascii: "^"), UInt8(ascii: "_"):
                    state = .string
                    dropEscape()
                case 0x20...0x2F:
                    state = .intermediate
                    dropEscape()
                case 0x30...0x7E:
                    state = .ground
                    dropEscape()
                case 0x1B:
                    dropEscape()
                default:
                    state = .ground
                    continue  // not an escape after all: reprocess as text
                }
            case .csi:
                switch byte {
                case 0x20...0x3F:
                    csiLength += 1
                    if csiLength > Self.maximumCSILength {
                        state = .ground
                        continue
                    }
                    dropEscape()
                case 0x40...0x7E:
                    state = .ground
                    dropEscape()
                case 0x1B:
                    state = .escape
                    dropEscape()
                default:
                    state = .ground
                    continue
                }
            case .intermediate:
                switch byte {
                case 0x20...0x2F:
                    dropEscape()
                case 0x30...0x7E:
                    state = .ground
                    dropEscape()
                case 0x1B:
                    state = .escape
                    dropEscape()
                default:
                    state = .ground
                    continue
                }
            case .string:
                switch byte {
                case 0x07:
                    state = .ground
                    dropEscape()
                case 0x1B:
                    state = .stringEscape
                    dropEscape()
                default:
                    visible(byte)
                }
            case .stringEscape:
                if byte == UInt8(ascii: "\\") {
                    state = .ground
                    dropEscape()
                } else {
                    state = .escape
                    continue
                }
            }
            index += 1
        }
        self.previousWasSpace = previousWasSpace
        self.droppedSinceLastKept = droppedSinceLastKept
        rawPosition += count
        viewPosition += written
        view.didAppend(written)
    }
}

extension Normalizer {
    /// For an `ESC [` at `index`: the offset after the CSI sequence's final byte when the whole
    /// sequence (parameter and intermediate bytes 0x20...0x3F, then a final byte 0x40...0x7E) is in
    /// the input, else 0. Sequences of up to eight parameter bytes (every colour change) are read
    /// with one load and no per-byte branch: their lengths vary too much for a loop to predict.
    @inline(__always)
    static func endOfCSI(_ input: UnsafePointer<UInt8>, at index: Int, count: Int) -> Int {
        var end = index + 2
        if end + 8 <= count {
            let word = UnsafeRawPointer(input).loadUnaligned(fromByteOffset: end, as: UInt64.self)
            // Zero in the bytes that are parameters or intermediates (top three bits 001).
            let other = (word & 0xE0E0_E0E0_E0E0_E0E0) ^ 0x2020_2020_2020_2020
            let nonzero = (((other & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | other) & 0x8080_8080_8080_8080
            if nonzero != 0 {
                end += nonzero.trailingZeroBitCount &>> 3
                return input[end] &- 0x40 < 0x3F ? end + 1 : 0
            }
        }
        let limit = min(count, end + maximumCSILength)
        while end < limit && input[end] &- 0x20 < 0x20 { end += 1 }
        return end < count && input[end] &- 0x40 < 0x3F ? end + 1 : 0
    }

    /// Copies bytes from `input` to `out` up to the first ESC or `count`; `out` must have room for
    /// `count + 16` bytes. Returns how many. The first 128 bytes are copied sixteen at a time while
    /// testing them for ESC (SWAR, one branch per sixteen bytes: the spans of coloured output are
    /// short, and a libc call costs more than such a span); a longer span goes to `memchr` and
    /// `memcpy`.
    @inline(__always)
    static func copyUntilEscape(_ input: UnsafePointer<UInt8>, _ count: Int, to out: UnsafeMutablePointer<UInt8>) -> Int
    {
        let source = UnsafeRawPointer(input)
        let target = UnsafeMutableRawPointer(out)
        @inline(__always) func escapes(_ word: UInt64) -> UInt64 {
            let flipped = word ^ 0x1B1B_1B1B_1B1B_1B1B
            return (flipped &- 0x0101_0101_0101_0101) & ~flipped & 0x8080_8080_8080_8080
        }
        var index = 0
        while index &+ 16 <= count {
            if index == 128 {
                let next = memchr(input + index, 0x1B, count - index)
                let stop = next.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - input } ?? count
                memcpy(out + index, input + index, stop - index)
                return stop
            }
            let low = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let high = source.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)
            target.storeBytes(of: low, toByteOffset: index, as: UInt64.self)
            target.storeBytes(of: high, toByteOffset: index &+ 8, as: UInt64.self)
            let lowEscapes = escapes(low)
            let highEscapes = escapes(high)
            if lowEscapes | highEscapes != 0 {
                return index &+ (lowEscapes != 0 ? lowEscapes.trailingZeroBitCount : 64 &+ highEscapes.trailingZeroBitCount) &>> 3
            }
            index &+= 16
        }
        while index &+ 8 <= count {
            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            target.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
            let found = escapes(word)
            if found != 0 { return index &+ found.trailingZeroBitCount &>> 3 }
            index &+= 8
        }
        while index < count && input[index] != 0x1B {
            out[index] = input[index]
            index &+= 1
        }
        return index
    }
}

/// Space, tab, LF, VT, FF, CR.
@inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
}

extension Normalizer {
    /// The view of a whole value (for patterns): escapes removed, whitespace runs collapsed, and
    /// leading and trailing whitespace trimmed.
    static func view(of bytes: [UInt8]) -> [UInt8] {
        var normalizer = Normalizer(collapsesWhitespace: true)
        let buffer = ByteBuffer(capacity: bytes.count + 16)
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { normalizer.run(base, count: source.count, into: buffer) }
        }
        var result = Array(UnsafeBufferPointer(start: buffer.base, count: buffer.count))
        while result.last == 0x20 { result.removeLast() }
        if let first = result.firstIndex(where: { $0 != 0x20 }) {
            result.removeFirst(first)
        } else {
            result.removeAll()
        }
        return result
    }
}
