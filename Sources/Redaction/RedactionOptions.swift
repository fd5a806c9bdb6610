import AgentboxCore

/// One value to redact, and the name shown in its marker.
public struct RedactionSecret: Sendable {
    /// Shown as `[REDACTED:NAME]`; nil gives `[REDACTED]`.
    public var name: String?
    public var value: [UInt8]

    public init(name: String? = nil, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(name: String? = nil, _ value: SecretBytes) {
        self.init(name: name, value: value.copyBytes())
    }
}

/// How a `Redactor` is built.
public struct RedactionOptions: Sendable {
    public static let defaultMinimumLength = 6

    /// Values shorter than this (after trimming whitespace) are not registered and produce a
    /// `RedactionWarning.tooShort`; forms and lines shorter than this are not matched. At least 5.
    public var minimumLength: Int
    /// Whether AWS, GitHub, OpenAI, Anthropic, Slack, Stripe tokens, JWTs and PEM private keys are
    /// redacted even when not registered.
    public var knownTokenFormats: Bool

    public init(minimumLength: Int = defaultMinimumLength, knownTokenFormats: Bool = true) {
        self.minimumLength = max(minimumLength, 5)
        self.knownTokenFormats = knownTokenFormats
    }
}

/// Something about the registered values that the caller should show the developer.
public enum RedactionWarning: Equatable, Sendable, CustomStringConvertible {
    /// The value is shorter than the minimum length and is *not* redacted.
    case tooShort(name: String?, length: Int, minimum: Int)
    /// The value looks like an ordinary word or number; it is redacted, and so is every ordinary
    /// occurrence of it.
    case commonWord(name: String?)

    public var description: String {
        switch self {
        case .tooShort(let name, let length, let minimum):
            return "warning: \(name ?? "a value") is \(length) bytes, shorter than the minimum of \(minimum): "
                + "it will not be redacted"
        case .commonWord(let name):
            return "warning: \(name ?? "a value") looks like an ordinary word; "
                + "every occurrence of it will be redacted, including ones that are not the secret"
        }
    }
}
