/// How a secret may reach the remote side.
public enum SecretClass: String, Sendable, Equatable, CaseIterable {
    /// Put into the target process's environment at exec time.
    case inject
    /// Kept on the laptop; the broker's HTTP proxy adds it to allowed upstream requests.
    case proxy
    /// No remote process receives it in any form; the vault is not even read.
    case never
}

/// A vault reference such as `pass://billing/db-password`. Only the syntax and the scheme are
/// checked here; the backends that resolve references live in `Vaults`.
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    /// The schemes a reference may use.
    public static let knownSchemes = [
        "pass", "op", "keychain", "secret-tool", "keepassxc", "bw", "file", "aws-sts", "github-app", "postgres-role",
    ]

    /// The reference as written.
    public let text: String
    /// The part before `://`.
    public let scheme: String
    /// The part after `://`, passed to the backend.
    public let location: String

    /// Why a reference text was refused.
    public enum ParseError: Error, Equatable, Sendable {
        case notAURI
        case unknownScheme(String)
        case emptyLocation
        case controlCharacter
    }

    public static func parse(_ text: String) throws(ParseError) -> SecretReference {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { throw .controlCharacter }
        guard let separator = text.firstRange(of: "://") else { throw .notAURI }
        let scheme = String(text[..<separator.lowerBound])
        let location = String(text[separator.upperBound...])
        guard knownSchemes.contains(scheme) else {
            if scheme.isEmpty { throw .notAURI }
            throw .unknownScheme(scheme)
        }
        if location.isEmpty { throw .emptyLocation }
        return SecretReference(text: text, scheme: scheme, location: location)
    }

    public var description: String { text }
}

/// One declared secret of a profile.
public struct SecretSpec: Sendable, Equatable {
    /// The environment variable name the secret is delivered as (for proxy secrets: the
    /// variable that gets the session's placeholder key).
    public let name: String
    public let reference: SecretReference
    public let secretClass: SecretClass
    /// The proxy settings; present exactly when `secretClass == .proxy`.
    public let proxy: ProxySpec?
    /// The line of the secret's name in the policy file.
    public let line: Int

    public init(name: String, reference: SecretReference, secretClass: SecretClass, proxy: ProxySpec?, line: Int) {
        self.name = name
        self.reference = reference
        self.secretClass = secretClass
        self.proxy = proxy
        self.line = line
    }
}
