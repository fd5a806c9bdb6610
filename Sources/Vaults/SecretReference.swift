/// A parsed secret reference: `scheme://rest#fragment`, e.g. `pass://billing/db-password`,
/// `pass://github/bot#login`, `file:///home/alex/.config/agentbox/dev.env#DB_PASSWORD`.
///
/// The text is taken literally: no percent-decoding, so `op://Engineering/Billing Dev DB/url`
/// keeps its spaces. The fragment starts at the first `#`. `raw` is kept for messages; a
/// reference names where a secret lives, never the secret itself.
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    /// The reference exactly as written.
    public let raw: String
    /// The lowercase scheme (`pass`, `file`, …).
    public let scheme: String
    /// Everything between `://` and `#` (for `file://`, the absolute path).
    public let path: String
    /// The text after the first `#`, or nil when there is no `#`.
    public let fragment: String?

    /// Parses `raw`; throws `VaultError.invalidReference` when it has no `scheme://` prefix, the
    /// scheme is not `[a-z][a-z0-9+.-]*`, or the path is empty.
    public init(_ raw: String) throws(VaultError) {
        self.raw = raw
        guard let separator = raw.firstRange(of: "://") else {
            throw .invalidReference(reference: raw, reason: "expected scheme://path")
        }
        let scheme = raw[..<separator.lowerBound].lowercased()
        guard let first = scheme.utf8.first, isLowerLetter(first),
            scheme.utf8.allSatisfy({
                isLowerLetter($0) || isDigit($0) || $0 == UInt8(ascii: "+")
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            })
        else {
            throw .invalidReference(reference: raw, reason: "the scheme must be letters, digits, '+', '-' or '.'")
        }
        let rest = raw[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") {
            path = String(rest[..<hash])
            fragment = String(rest[rest.index(after: hash)...])
        } else {
            path = String(rest)
            fragment = nil
        }
        guard !path.isEmpty else { throw .invalidReference(reference: raw, reason: "the path is empty") }
        if raw.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw .invalidReference(reference: raw, reason: "it contains a control character")
        }
        self.scheme = scheme
    }

    public var description: String { raw }
}

private func isLowerLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
