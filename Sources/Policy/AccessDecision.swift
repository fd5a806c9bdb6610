/// The answer of `Policy.evaluate`.
public enum AccessDecision: Sendable, Equatable {
    case granted(Grant)
    case denied(Denial)

    public var grant: Grant? {
        if case .granted(let grant) = self { return grant }
        return nil
    }

    public var denial: Denial? {
        if case .denied(let denial) = self { return denial }
        return nil
    }
}

/// What a request is allowed to receive, before any approval.
public struct Grant: Sendable, Equatable {
    public let profile: String
    public let isAgent: Bool
    /// Secrets to inject into the environment, in profile order.
    public let inject: [SecretSpec]
    /// Secrets to serve through the proxy, in profile order.
    public let proxy: [SecretSpec]
    /// The lease lifetime: the profile's `ttl`, or the request's shorter one.
    public let ttl: Duration
    public let requireApproval: Bool
    public let approvalTimeout: Duration
    public let onDisconnect: DisconnectBehavior
    /// The sandbox network (agent profiles only).
    public let network: NetworkMode?
    /// The account to run the agent as (agent profiles only).
    public let runAs: String?
    /// Which rules allowed it, for the approval prompt and the audit log.
    public let rule: String
}

/// Why a request is refused.
public enum DenialReason: String, Sendable, Equatable, CaseIterable {
    case unknownProfile
    case agentProfileNeedsAgentbox
    case plainProfileNotForAgents
    case hostNotAllowed
    case userNotAllowed
    case pathNotAllowed
    case commandNotAllowed
    case secretNotDeclared
    case secretClassNever
    case emptyCommand
    /// A malformed claim: a relative or non-canonical cwd, a NUL in argv, an invalid name.
    case invalidRequest
}

/// A refusal with a message for the person at the terminal, naming the rule that refused.
public struct Denial: Sendable, Equatable, CustomStringConvertible {
    public let reason: DenialReason
    /// E.g. `denied: path /home/alex/other is not in allowedPaths of profile billing-dev (policy.yaml:7)`.
    public let message: String

    public init(_ reason: DenialReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}
