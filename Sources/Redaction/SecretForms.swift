/// Every form of a secret value that the redactor looks for.
///
/// Given the bytes of one value, `forms(of:)` lists:
/// - the raw value (whitespace inside it later matches any run of whitespace, see `Normalizer`);
/// - each line of a multi-line value on its own, when the line is at least the minimum length,
///   with all of the forms below (a program may print or encode one line alone);
/// - for a value that is a JSON object or array, each string or number leaf at least the minimum
///   length, with all of the forms below (so `jq -c` output loses its values and keeps its braces);
/// - base64 and base64url at the three byte alignments: the part of the encoding that depends only
///   on the value's bytes when the value sits at offset 0, 1 or 2 of a larger encoded stream (this
///   covers `user:S` in Basic auth and `echo $S | base64`), plus the end of the encoding, with and
///   without padding, for a value that ends the stream, and the whole encoding of the value followed
///   by a newline;
/// - percent-encoding in upper and lower case, both encoding everything but unreserved bytes and in
///   `encodeURIComponent` style;
/// - JSON string escaping: plain, with `\/`, with non-ASCII as `\u` escapes (lower and upper case
///   hex, and with `\/` as PHP does), and Go's HTML-safe `\u003c` style;
/// - shell quoting: inside single quotes (`'\''`) and inside double quotes.
///
/// Forms are returned raw; the redactor normalizes them (see `Normalizer.view(of:)`) and drops
/// duplicates and forms shorter than the minimum length.
public enum SecretForms {
    /// The forms of `value`, without duplicates, in a stable order.
    public static func forms(of value: [UInt8], minimumLength: Int = RedactionOptions.defaultMinimumLength) -> [[UInt8]]
    {
        var result: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        func add(_ form: [UInt8]) {
            if !form.isEmpty && seen.insert(form).inserted { result.append(form) }
        }
        let trimmed = trimWhitespace(value)
        add(value)
        add(trimmed)
        if trimmed.contains(UInt8(ascii: "\n")) || trimmed.contains(UInt8(ascii: "\r")) {
            for line in lines(of: trimmed) where line.count >= minimumLength {
                for form in encodedForms(of: line) { add(form) }
            }
        }
        for form in encodedForms(of: trimmed) { add(form) }
        if let leaves = JSONLeaves.leaves(of: trimmed) {
            for leaf in leaves where trimWhitespace(leaf).count >= minimumLength {
                for form in encodedForms(of: leaf) { add(form) }
            }
        }
        return result
    }

    /// The encodings of one value (not its lines or JSON leaves).
    static func encodedForms(of value: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = [value]
        for alphabet in [base64Alphabet, base64URLAlphabet] {
            result += base64Forms(of: value, alphabet: alphabet)
            // `echo $S | base64`: the value and a newline, encoded from the start.
            let withNewline = value + [0x0A]
            result.append(base64(withNewline, alphabet: alphabet, padding: true))
            result.append(base64(withNewline, alphabet: alphabet, padding: false))
        }
        for keep in [unreserved, uriComponentUnreserved] {
            result.append(percentEncoded(value, keep: keep, upperCase: true))
            result.append(percentEncoded(value, keep: keep, upperCase: false))
        }
        result += jsonForms(of: value)
        result.append(shellSingleQuoted(value))
        result.append(shellDoubleQuoted(value))
        return result
    }

    // MARK: Lines

    static func lines(of value: [UInt8]) -> [[UInt8]] {
        value.split(omittingEmptySubsequences: true) { $0 == 0x0A || $0 == 0x0D }.map { trimWhitespace(Array($0)) }
    }

    static func trimWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        guard let first = bytes.firstIndex(where: { !isWhitespace($0) }),
            let last = bytes.lastIndex(where: { !isWhitespace($0) })
        else { return [] }
        return Array(bytes[first...last])
    }

    // MARK: Base64

    public static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    public static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64 of `bytes` with `alphabet`.
    public static func base64(_ bytes: [UInt8], alphabet: [UInt8] = base64Alphabet, padding: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(group >> UInt32(shift) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var group = UInt32(bytes[index]) << 16
            if rest == 2 { group |= UInt32(bytes[index + 1]) << 8 }
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(group >> 6 & 63)]) }
            if padding { out += Array(repeating: UInt8(ascii: "="), count: 3 - rest) }
        }
        return out
    }

    /// For the value at byte offset 0, 1 and 2 of an encoded stream: the characters that depend on
    /// the value's bits only, and, for a value that ends the stream, those characters plus the rest
    /// of the encoding with and without padding.
    static func base64Forms(of value: [UInt8], alphabet: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for alignment in 0..<3 {
            let stream = Array(repeating: UInt8(0), count: alignment) + value
            let encoded = base64(stream, alphabet: alphabet, padding: true)
            let first = (8 * alignment + 5) / 6
            let stableEnd = 8 * stream.count / 6
            let unpaddedEnd = (8 * stream.count + 5) / 6
            guard stableEnd > first else { continue }
            result.append(Array(encoded[first..<stableEnd]))
            result.append(Array(encoded[first..<unpaddedEnd]))
            result.append(Array(encoded[first...]))
        }
        return result
    }

    // MARK: Percent-encoding

    /// RFC 3986 unreserved bytes.
    static let unreserved = ByteClass(ranges: "A-Za-z0-9-._~")
    /// What JavaScript's `encodeURIComponent` leaves alone.
    static let uriComponentUnreserved = ByteClass(ranges: "A-Za-z0-9-._~!'()*")

    static func percentEncoded(_ value: [UInt8], keep: ByteClass, upperCase: Bool) -> [UInt8] {
        let digits = Array((upperCase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        for byte in value {
            if keep.contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 15)]]
            }
        }
        return out
    }

    // MARK: JSON

    /// `value` inside a JSON string, as encoders write it: plain, with `\/`, with non-ASCII as
    /// `\u` escapes (lower and upper case hex, and with `\/` as PHP does), and Go's HTML-safe
    /// `\u003c` style.
    public static func jsonForms(of value: [UInt8]) -> [[UInt8]] {
        [
            jsonEscaped(value),
            jsonEscaped(value, escapeSlash: true),
            jsonEscaped(value, asciiOnly: true),
            jsonEscaped(value, escapeSlash: true, asciiOnly: true),  // PHP's json_encode
            jsonEscaped(value, asciiOnly: true, upperCaseHex: true),
            jsonEscaped(value, htmlSafe: true),
        ]
    }

    static func jsonEscaped(
        _ value: [UInt8], escapeSlash: Bool = false, asciiOnly: Bool = false, upperCaseHex: Bool = false,
        htmlSafe: Bool = false
    ) -> [UInt8] {
        let digits = Array((upperCaseHex ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        func unicodeEscape(_ unit: UInt16) {
            out += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
            for shift in [12, 8, 4, 0] { out.append(digits[Int(unit >> UInt16(shift) & 15)]) }
        }
        var scalars: [Unicode.Scalar]? = nil
        if asciiOnly {
            var decoded: [Unicode.Scalar] = []
            var iterator = value.makeIterator()
            var decoder = UTF8()
            loop: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): decoded.append(scalar)
                case .emptyInput: break loop
                case .error: return jsonEscaped(value, escapeSlash: escapeSlash)  // not UTF-8: bytes as they are
                }
            }
            scalars = decoded
        }
        func escapeASCII(_ byte: UInt8) {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case UInt8(ascii: "/") where escapeSlash: out += Array(#"\/"#.utf8)
            case 0x08: out += Array(#"\b"#.utf8)
            case 0x0C: out += Array(#"\f"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x0D: out += Array(#"\r"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case UInt8(ascii: "<") where htmlSafe, UInt8(ascii: ">") where htmlSafe, UInt8(ascii: "&") where htmlSafe:
                unicodeEscape(UInt16(byte))
            case 0..<0x20: unicodeEscape(UInt16(byte))
            default: out.append(byte)
            }
        }
        if let scalars {
            for scalar in scalars {
                if scalar.isASCII {
                    escapeASCII(UInt8(scalar.value))
                } else {
                    for unit in String(scalar).utf16 { unicodeEscape(unit) }
                }
            }
        } else {
            for byte in value { escapeASCII(byte) }
        }
        return out
    }

    // MARK: Shell

    /// The value as it appears inside single quotes (`set -x`, `printf %q`-less quoting).
    static func shellSingleQuoted(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in value {
            if byte == UInt8(ascii: "'") { out += Array(#"'\''"#.utf8) } else { out.append(byte) }
        }
        return out
    }

    /// The value as it appears inside double quotes.
    static func shellDoubleQuoted(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in value {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "$")
                || byte == UInt8(ascii: "`")
            {
                out.append(UInt8(ascii: "\\"))
            }
            out.append(byte)
        }
        return out
    }
}
