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
/// bytes were escape sequences (`escapeSpans`), so a match in the view maps back to raw bytes and
/// the escapes inside a redacted range can be kept.
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
    /// Raw ranges of escape bytes as flattened `[start, end)` pairs.
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

    /// Normalizes `count` raw bytes at `input`, appending the view bytes to `view`.
    mutating func run(_ input: UnsafePointer<UInt8>, count: Int, into view: ByteBuffer) {
        let out = view.reserveTail(count + 8)
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

        @inline(__always)
        func dropEscape() {
            let raw = rawStart + index
            if let last = escapeSpans.last, last == raw {
                escapeSpans[escapeSpans.count - 1] = raw + 1
            } else {
                escapeSpans.append(raw, raw + 1)
            }
            droppedSinceLastKept = true
        }

        let collapses = collapsesWhitespace
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
                // Fast path: the span up to the next ESC is copied as it is, eight bytes at a time
                // (`out` has eight bytes of slack).
                if droppedSinceLastKept && input[index] != 0x1B {
                    breakpoints.append(viewStart + written, rawStart + index - (viewStart + written))
                    droppedSinceLastKept = false
                }
                let copied = Self.copyUntilEscape(input + index, count - index, to: out + written)
                index += copied
                written += copied
                guard index < count else { break }
                // A whole CSI sequence (a colour change) in one step; anything else byte by byte.
                var end = index + 2
                if end < count && input[index + 1] == UInt8(ascii: "[") {
                    let limit = min(count, end + Self.maximumCSILength)
                    while end < limit && input[end] &- 0x20 < 0x20 { end += 1 }
                    if end < count && input[end] &- 0x40 < 0x3F {
                        let spanStart = rawStart + index
                        if let last = escapeSpans.last, last == spanStart {
                            escapeSpans[escapeSpans.count - 1] = rawStart + end + 1
                        } else {
                            escapeSpans.append(spanStart, rawStart + end + 1)
                        }
                        droppedSinceLastKept = true
                        index = end + 1
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
    /// Copies bytes from `input` to `out` up to the first ESC or `count`; `out` must have room for
    /// `count + 8` bytes. Returns how many. The first 32 bytes are copied eight at a time while
    /// testing them for ESC (SWAR: the spans of coloured output are short); a longer span goes to
    /// `memchr` and `memcpy`.
    @inline(__always)
    static func copyUntilEscape(_ input: UnsafePointer<UInt8>, _ count: Int, to out: UnsafeMutablePointer<UInt8>) -> Int
    {
        let source = UnsafeRawPointer(input)
        let target = UnsafeMutableRawPointer(out)
        var index = 0
        while index &+ 8 <= count {
            if index == 32 {
                let next = memchr(input + index, 0x1B, count - index)
                let stop = next.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - input } ?? count
                memcpy(out + index, input + index, stop - index)
                return stop
            }
            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            target.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
            let flipped = word ^ 0x1B1B_1B1B_1B1B_1B1B
            let escapes = (flipped &- 0x0101_0101_0101_0101) & ~flipped & 0x8080_8080_8080_8080
            if escapes != 0 { return index &+ escapes.trailingZeroBitCount &>> 3 }
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
