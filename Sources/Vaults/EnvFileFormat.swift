import AgentboxCore

/// The `KEY=VALUE` format of `file://…#KEY` vault files.
///
/// ```
/// # a comment: a line whose first non-blank character is '#'
/// DB_PASSWORD=s3cr=t$with"anything      <- unquoted: the rest of the line, byte for byte
/// TLS_KEY="-----BEGIN KEY-----\nMIIB…\n-----END KEY-----\n"
/// QUOTE="say \"hi\" \\ bye"
/// ```
///
/// - Lines end at LF. Blank lines and comment lines are skipped.
/// - A key is `[A-Za-z_][A-Za-z0-9_.-]*`, starts the line and is followed directly by `=`.
/// - An unquoted value is everything after the first `=` up to the end of the line, byte for
///   byte (spaces, `=`, `#`, `$`, quotes and non-ASCII included); only a final CR (a file
///   saved with CRLF endings) is dropped.
/// - A value starting with `"` is quoted: it ends at the next unescaped `"`, which must end the
///   line (a CR may follow). Escapes: `\n` newline, `\r` CR, `\t` tab, `\"` quote, `\\`
///   backslash; any other backslash sequence is an error. A quoted value stays on one line.
/// - A key may appear only once. Errors name the line number, never its content.
public enum EnvFileFormat {
    public struct ParseError: Error, Equatable {
        public let line: Int
        public let reason: String
    }

    public static func isValidKey<C: Collection>(_ key: C) -> Bool where C.Element == UInt8 {
        guard let first = key.first, isKeyStart(first) else { return false }
        return key.allSatisfy { isKeyStart($0) || isDigit($0) || $0 == dot || $0 == dash }
    }

    public static func isValidKey(_ key: String) -> Bool { isValidKey(Array(key.utf8)) }

    /// The value of `key` in `file`, or nil when the key is absent; the whole file is checked.
    public static func value(for key: String, in file: UnsafeRawBufferPointer) throws(ParseError) -> SecretBytes? {
        let wanted = Array(key.utf8)
        var seen = Set<[UInt8]>()
        var found: SecretBytes?
        var lineNumber = 0
        var start = 0
        while start < file.count {
            lineNumber += 1
            var end = start
            while end < file.count && file[end] != newline { end += 1 }
            let line = UnsafeRawBufferPointer(rebasing: file[start..<end])
            start = end + 1
            var first = 0
            while first < line.count && (line[first] == space || line[first] == tab) { first += 1 }
            if first == line.count || line[first] == hash { continue }
            guard first == 0 else { throw ParseError(line: lineNumber, reason: "a key must start the line") }
            guard let equals = line.firstIndex(of: equalsSign) else {
                throw ParseError(line: lineNumber, reason: "expected KEY=VALUE")
            }
            let name = Array(line[0..<equals])
            guard isValidKey(name) else {
                throw ParseError(line: lineNumber, reason: "invalid key name (allowed: [A-Za-z_][A-Za-z0-9_.-]*)")
            }
            guard seen.insert(name).inserted else {
                throw ParseError(line: lineNumber, reason: "duplicate key \(String(decoding: name, as: UTF8.self))")
            }
            let raw = UnsafeRawBufferPointer(rebasing: line[(equals + 1)...])
            let value: SecretBytes
            if raw.first == quote {
                value = try unquote(raw, lineNumber: lineNumber)
            } else {
                let length = raw.last == carriageReturn ? raw.count - 1 : raw.count
                value = SecretBytes(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
            }
            if name == wanted { found = value }
        }
        return found
    }

    /// Decodes a quoted value into a scratch buffer that is zeroed before it is freed.
    private static func unquote(_ raw: UnsafeRawBufferPointer, lineNumber: Int) throws(ParseError) -> SecretBytes {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(raw.count, 1), alignment: 1)
        defer {
            scratch.initializeMemory(as: UInt8.self, repeating: 0)
            scratch.deallocate()
        }
        var length = 0
        var index = 1
        while index < raw.count {
            let byte = raw[index]
            if byte == quote {
                let rest = raw.count - index - 1
                guard rest == 0 || (rest == 1 && raw[index + 1] == carriageReturn) else {
                    throw ParseError(line: lineNumber, reason: "text after the closing quote")
                }
                return SecretBytes(UnsafeRawBufferPointer(rebasing: scratch[0..<length]))
            }
            if byte == backslash {
                guard index + 1 < raw.count else { break }
                let escaped: UInt8
                switch raw[index + 1] {
                case UInt8(ascii: "n"): escaped = newline
                case UInt8(ascii: "r"): escaped = carriageReturn
                case UInt8(ascii: "t"): escaped = tab
                case quote: escaped = quote
                case backslash: escaped = backslash
                default: throw ParseError(line: lineNumber, reason: "unknown escape (allowed: \\n \\r \\t \\\" \\\\)")
                }
                scratch[length] = escaped
                index += 2
            } else {
                scratch[length] = byte
                index += 1
            }
            length += 1
        }
        throw ParseError(line: lineNumber, reason: "unterminated quoted value")
    }
}

private let newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
private let tab = UInt8(ascii: "\t")
private let space = UInt8(ascii: " ")
private let hash = UInt8(ascii: "#")
private let equalsSign = UInt8(ascii: "=")
private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")
private let dot = UInt8(ascii: ".")
private let dash = UInt8(ascii: "-")

private func isKeyStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || byte == UInt8(ascii: "_")
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
