/// A set of byte values, as a 256-bit bitmap.
struct ByteClass: Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    init(_ characters: String) {
        for byte in characters.utf8 { insert(byte) }
    }

    /// `"A-Z0-9_"`-style ranges.
    init(ranges: String) {
        let bytes = Array(ranges.utf8)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count && bytes[index + 1] == UInt8(ascii: "-") {
                for byte in bytes[index]...bytes[index + 2] { insert(byte) }
                index += 3
            } else {
                insert(bytes[index])
                index += 1
            }
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    var inverted: ByteClass {
        var result = ByteClass()
        result.words = (~words.0, ~words.1, ~words.2, ~words.3)
        return result
    }

    func union(_ other: ByteClass) -> ByteClass {
        var result = ByteClass()
        result.words = (
            words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3
        )
        return result
    }

    var members: [UInt8] { (0...255).map { UInt8($0) }.filter { contains($0) } }

    /// Space, tab, LF, VT, FF, CR (`isWhitespace`).
    static let whitespace = ByteClass(" \t\n\u{0B}\u{0C}\r")
    static let upperDigit = ByteClass(ranges: "A-Z0-9")
    static let alphanumeric = ByteClass(ranges: "A-Za-z0-9")
    static let alphanumericUnderscore = ByteClass(ranges: "A-Za-z0-9_")
    static let base64URL = ByteClass(ranges: "A-Za-z0-9_-")
    static let alphanumericDash = ByteClass(ranges: "A-Za-z0-9-")
}
