import BrokerProtocol
import Policy

/// Everything the broker knows about one lease request: the trusted part (host and login user,
/// from the session devssh registered) and the remote wrapper's claims.
public struct LeaseContext: Sendable, Equatable {
    public var sessionId: String
    /// Trusted: the host the laptop connected to.
    public var host: String
    /// Trusted: the login user ssh used.
    public var sessionUser: String
    public var request: LeaseRequest

    public init(sessionId: String, host: String, sessionUser: String, request: LeaseRequest) {
        self.sessionId = sessionId
        self.host = host
        self.sessionUser = sessionUser
        self.request = request
    }
}

/// One secret a grant delivers, by name and vault reference (never the value).
public struct GrantedSecret: Sendable, Equatable {
    public var name: String
    public var reference: String

    public init(name: String, reference: String) {
        self.name = name
        self.reference = reference
    }
}

/// A `proxy`-class secret a grant routes: name, reference and the proxy settings.
public struct GrantedProxy: Sendable, Equatable {
    public var name: String
    public var reference: String
    public var spec: ProxySpec

    public init(name: String, reference: String, spec: ProxySpec) {
        self.name = name
        self.reference = reference
        self.spec = spec
    }
}

/// What the policy allows for a request, before approval and before any vault is read.
public struct GrantTerms: Sendable, Equatable {
    public var profile: String
    public var injected: [GrantedSecret]
    /// Secrets that stay on the laptop behind the credential proxy.
    public var proxied: [GrantedProxy]
    public var ttlSeconds: Int64
    public var requireApproval: Bool
    public var approvalTimeoutSeconds: Int64
    /// `continue`, `kill` or `grace <seconds>`.
    public var onDisconnect: String
    /// Which rule allowed it, for the audit log.
    public var rule: String
    public var network: String?
    public var runAs: String?

    public init(
        profile: String, injected: [GrantedSecret], ttlSeconds: Int64, requireApproval: Bool,
        approvalTimeoutSeconds: Int64, onDisconnect: String, rule: String, proxied: [GrantedProxy] = [],
        network: String? = nil, runAs: String? = nil
    ) {
        self.proxied = proxied
        self.network = network
        self.runAs = runAs
        self.profile = profile
        self.injected = injected
        self.ttlSeconds = ttlSeconds
        self.requireApproval = requireApproval
        self.approvalTimeoutSeconds = approvalTimeoutSeconds
        self.onDisconnect = onDisconnect
        self.rule = rule
    }

    public var secretNames: [String] { injected.map(\.name) + proxied.map(\.name) }
}

/// The policy's answer.
public enum PolicyVerdict: Sendable, Equatable {
    case grant(GrantTerms)
    /// `code` is stable (for scripts and the audit log); `message` names the rule that refused.
    case deny(code: String, message: String)
}

/// Where verdicts come from: the loaded policy, swapped atomically on reload.
public protocol PolicyGate: Sendable {
    func decide(_ context: LeaseContext) -> PolicyVerdict
}
