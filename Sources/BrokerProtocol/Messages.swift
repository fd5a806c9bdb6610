/// The remote wrapper's request for a lease: the whole context in one message.
public struct LeaseRequest: Codable, Sendable, Equatable {
    public var profile: String
    /// Realpath of the working directory, as the remote wrapper sees it.
    public var cwd: String
    /// The command about to be executed, argv[0] as typed.
    public var argv: [String]
    /// Names a repository request file asked for; empty means the profile's bundle.
    public var requestedNames: [String]
    /// The remote user the wrapper runs as (a claim).
    public var remoteUser: String
    /// True when asked by `agentbox start`.
    public var agent: Bool
    /// A shorter lifetime the repository's request file asks for; never extends the profile's ttl.
    public var requestedTTLSeconds: Int64?

    public init(profile: String, cwd: String, argv: [String], requestedNames: [String], remoteUser: String, agent: Bool) {
        self.profile = profile
        self.cwd = cwd
        self.argv = argv
        self.requestedNames = requestedNames
        self.remoteUser = remoteUser
        self.agent = agent
    }
}

/// One environment entry of a lease. The value is base64 so any byte sequence survives JSON.
public struct EnvironmentEntry: Codable, Sendable, Equatable {
    public var name: String
    public var valueBase64: String

    public init(name: String, valueBase64: String) {
        self.name = name
        self.valueBase64 = valueBase64
    }
}

/// A proxy endpoint the remote wires in place of a real key: the remote serves the lease's proxy
/// socket on a local port and sets `baseURLEnvironmentName` to `http://127.0.0.1:PORT` +
/// `pathPrefix`; the secret's own name carries the lease's placeholder (in `environment`).
public struct ProxyEndpoint: Codable, Sendable, Equatable {
    /// The secret's name, which is also the variable that holds the placeholder key.
    public var secretName: String
    /// The variable that gets the base URL (the policy's `baseUrlEnv`).
    public var baseURLEnvironmentName: String
    /// `/p/<lease>/<secretName>`: the proxy routes by it.
    public var pathPrefix: String

    public init(secretName: String, baseURLEnvironmentName: String, pathPrefix: String) {
        self.secretName = secretName
        self.baseURLEnvironmentName = baseURLEnvironmentName
        self.pathPrefix = pathPrefix
    }
}

/// A granted lease.
public struct LeaseGrant: Codable, Sendable, Equatable {
    public var leaseId: String
    public var profile: String
    /// Seconds since the Unix epoch.
    public var expiresAt: Int64
    public var ttlSeconds: Int64
    public var renewable: Bool
    public var environment: [EnvironmentEntry]
    public var proxies: [ProxyEndpoint]
    /// The file name of the session's proxy socket (`<session>.proxy.sock`), in the same
    /// directory as the session socket the lease was asked on; nil when the lease has no proxies.
    public var proxySocket: String?
    /// What the profile wants when the SSH session ends: `continue`, `kill` or `grace <seconds>`.
    public var onDisconnect: String
    /// Agent profiles: `host`, `proxy-only` or `none`; agentbox may only make it stricter.
    public var network: String?
    /// Agent profiles: the Unix account the agent runs as when agentbox runs as root.
    public var runAs: String?

    public init(
        leaseId: String, profile: String, expiresAt: Int64, ttlSeconds: Int64, renewable: Bool,
        environment: [EnvironmentEntry], proxies: [ProxyEndpoint], onDisconnect: String, proxySocket: String? = nil
    ) {
        self.proxySocket = proxySocket
        self.leaseId = leaseId
        self.profile = profile
        self.expiresAt = expiresAt
        self.ttlSeconds = ttlSeconds
        self.renewable = renewable
        self.environment = environment
        self.proxies = proxies
        self.onDisconnect = onDisconnect
    }
}

/// How the command of a lease ended, sent with `release` so the audit log records it.
public struct LeaseEnding: Codable, Sendable, Equatable {
    /// `exit`, `expiry`, `revoke`, `disconnect`, `stop` or `error`.
    public var reason: String
    /// The command's exit status (128 + N when killed by signal N), when it ran.
    public var exitStatus: Int32?
    /// Agent sessions: secrets still found in the kept transcript and files by the teardown
    /// scrub's last scan (0 when clean; absent when nothing was kept or scanned).
    public var scrubFindings: Int?

    public init(reason: String, exitStatus: Int32?, scrubFindings: Int? = nil) {
        self.reason = reason
        self.exitStatus = exitStatus
        self.scrubFindings = scrubFindings
    }
}

/// The broker holds the request until the developer answers on the laptop.
public struct PendingApproval: Codable, Sendable, Equatable {
    public var approvalId: String
    /// Seconds until an unanswered request is denied.
    public var timeoutSeconds: Int64
    public var message: String

    public init(approvalId: String, timeoutSeconds: Int64, message: String) {
        self.approvalId = approvalId
        self.timeoutSeconds = timeoutSeconds
        self.message = message
    }
}

/// Every non-success answer: a stable code and a message a person can act on.
public struct ErrorBody: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// The state of a lease as seen by `watch`, `renew` and `release`.
public struct LeaseStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case active, expired, revoked, released, disconnected
    }
    public var leaseId: String
    public var state: State
    public var expiresAt: Int64

    public init(leaseId: String, state: State, expiresAt: Int64) {
        self.leaseId = leaseId
        self.state = state
        self.expiresAt = expiresAt
    }
}
