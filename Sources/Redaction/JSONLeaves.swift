/// The string and number leaves of a JSON document, for secrets whose value is a JSON object or
/// array (a service-account file, a `.dockerconfigjson`). Keys, `true`, `false` and `null` are
/// structure, not secrets, and are not returned.
enum JSONLeaves {
    /// The leaves in document order, or nil when `bytes` is not one JSON object or array.
    static func leaves(of bytes: [UInt8]) -> [[UInt8]]? {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        guard let first = reader.peek, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        var leaves: [[UInt8]] = []
        guard reader.value(into: &leaves, depth: 0) else { return nil }
        reader.skipWhitespace()
        return reader.atEnd ? leaves : nil
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func value(into leaves: inout [[UInt8]], depth: Int) -> Bool {
            guard depth < 64 else { return false }
            skipWhitespace()
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "{"):
                index += 1
                if expect(UInt8(ascii: "}")) { return true }
                repeat {
                    skipWhitespace()
                    guard string() != nil, expect(UInt8(ascii: ":")), value(into: &leaves, depth: depth + 1) else {
                        return false
                    }
                } while expect(UInt8(ascii: ","))
                return expect(UInt8(ascii: "}"))
            case UInt8(ascii: "["):
                index += 1
                if expect(UInt8(ascii: "]")) { return true }
                repeat {
                    guard value(into: &leaves, depth: depth + 1) else { return false }
                } while expect(UInt8(ascii: ","))
                return expect(UInt8(ascii: "]"))
            case UInt8(ascii: "\""):
                guard let text = string() else { return false }
                leaves.append(text)
                return true
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default:
                let start = index
                while let next = peek,
                    next == UInt8(ascii: "-") || next == UInt8(ascii: "+") || next == UInt8(ascii: ".")
                        || next == UInt8(ascii: "e") || next == UInt8(ascii: "E")
                        || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9"))
                {
                    index += 1
                }
                guard index > start else { return false }
                leaves.append(Array(bytes[start..<index]))
                return true
            }
        }

        mutating func literal(_ word: String) -> Bool {
            for byte in word.utf8 {
                guard peek == byte else { return false }
                index += 1
            }
            return true
        }

        /// A string at `index` (which must be at its opening quote), decoded to UTF-8.
        mutating func string() -> [UInt8]? {
            guard peek == UInt8(ascii: "\"") else { return nil }
            index += 1
            var out: [UInt8] = []
            var pendingHigh: UInt16? = nil
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return out
                case UInt8(ascii: "\\"):
                    guard let escape = peek else { return nil }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                            let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                        else { return nil }
                        index += 4
                        if (0xD800..<0xDC00).contains(unit) {
                            pendingHigh = unit
                            continue
                        }
                        var scalar: Unicode.Scalar?
                        if let high = pendingHigh, (0xDC00..<0xE000).contains(unit) {
                            scalar = Unicode.Scalar(0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(unit - 0xDC00))
                        } else {
                            scalar = Unicode.Scalar(unit)
                        }
                        pendingHigh = nil
                        guard let scalar else { return nil }
                        out += Array(String(scalar).utf8)
                    default: out.append(escape)
                    }
                default:
                    out.append(byte)
                }
            }
            return nil
        }
    }
}
