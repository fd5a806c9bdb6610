import AgentboxCore

/// A list of rules from one key of a profile, with the line of that key so messages can cite it.
public struct RuleList<Rule: Sendable>: Sendable {
    public let rules: [Rule]
    /// The line of the key (`allowedPaths:`) in the policy file.
    public let line: Int

    public init(_ rules: [Rule], line: Int) {
        self.rules = rules
        self.line = line
    }
}

/// What network an agent session gets.
public enum NetworkMode: String, Sendable, Equatable, CaseIterable {
    /// The host's network, unchanged.
    case host
    /// A private network namespace that reaches only the broker's proxy endpoints.
    case proxyOnly = "proxy-only"
    /// A private network namespace with loopback only.
    case none
}

/// What happens to a running command when the SSH connection to the laptop drops.
public enum DisconnectBehavior: Sendable, Equatable, CustomStringConvertible {
    /// Keep running with what was already delivered, until the lease expires.
    case `continue`
    /// End the session at once.
    case kill
    /// Keep running for this long, then end the session unless the connection came back.
    case grace(Duration)

    public var description: String {
        switch self {
        case .continue: return "continue"
        case .kill: return "kill"
        case .grace(let duration): return "grace \(DurationText.format(duration))"
        }
    }
}

/// One profile of the policy: who may get which secrets, where, for what, and for how long.
public struct Profile: Sendable {
    public let name: String
    /// The line of the profile's name in the policy file.
    public let line: Int
    /// `agent: true`: only for `agentbox start`, never for plain `secrets run`.
    public let isAgent: Bool
    /// Host patterns (`.`-separated globs, compared in lowercase). Always present.
    public let allowedHosts: RuleList<GlobPattern>
    /// Remote user names or globs; nil when the key is absent (any user).
    public let allowedRemoteUsers: RuleList<GlobPattern>?
    /// Absolute path globs the working directory must match; nil when absent (any directory).
    public let allowedPaths: RuleList<GlobPattern>?
    /// Command patterns argv must match; nil when absent (any command; never for agents).
    public let allowedCommands: RuleList<CommandPattern>?
    /// The declared secrets, in file order.
    public let secrets: [SecretSpec]
    /// The line of the `secrets:` key, or of the profile when there is none.
    public let secretsLine: Int
    public let ttl: Duration
    public let requireApproval: Bool
    public let approvalTimeout: Duration
    /// The sandbox network for agent profiles; nil for plain profiles.
    public let network: NetworkMode?
    public let onDisconnect: DisconnectBehavior
    /// The Unix account agentbox runs the agent as when it runs as root; agent profiles only.
    public let runAs: String?

    public init(
        name: String, line: Int, isAgent: Bool, allowedHosts: RuleList<GlobPattern>,
        allowedRemoteUsers: RuleList<GlobPattern>?, allowedPaths: RuleList<GlobPattern>?,
        allowedCommands: RuleList<CommandPattern>?, secrets: [SecretSpec], secretsLine: Int, ttl: Duration,
        requireApproval: Bool, approvalTimeout: Duration, network: NetworkMode?, onDisconnect: DisconnectBehavior,
        runAs: String?
    ) {
        self.name = name
        self.line = line
        self.isAgent = isAgent
        self.allowedHosts = allowedHosts
        self.allowedRemoteUsers = allowedRemoteUsers
        self.allowedPaths = allowedPaths
        self.allowedCommands = allowedCommands
        self.secrets = secrets
        self.secretsLine = secretsLine
        self.ttl = ttl
        self.requireApproval = requireApproval
        self.approvalTimeout = approvalTimeout
        self.network = network
        self.onDisconnect = onDisconnect
        self.runAs = runAs
    }

    /// The declared secret called exactly `name`.
    public func secret(named name: String) -> SecretSpec? {
        secrets.first { $0.name == name }
    }
}
