/// `devssh` registers a session before it connects.
public struct SessionRegistration: Codable, Sendable, Equatable {
    /// The host as the developer named it to ssh (alias), which the policy's allowedHosts matches.
    public var host: String
    /// The login user ssh will use on the remote, from `ssh -G`.
    public var remoteUser: String
    /// The pid of the devssh process; the session ends when it is gone.
    public var ownerPid: Int32

    public init(host: String, remoteUser: String, ownerPid: Int32) {
        self.host = host
        self.remoteUser = remoteUser
        self.ownerPid = ownerPid
    }
}

/// The broker's answer to a registration. The nonce goes to the remote shell only.
public struct SessionCreated: Codable, Sendable, Equatable {
    public var sessionId: String
    public var nonce: String
    /// The laptop-side socket bound to this session, to forward with `ssh -R`.
    public var socketPath: String
    /// The laptop-side credential proxy socket of this session, forwarded beside the session
    /// socket as `<session>.proxy.sock` (absent from brokers without a proxy).
    public var proxySocketPath: String?

    public init(sessionId: String, nonce: String, socketPath: String, proxySocketPath: String? = nil) {
        self.sessionId = sessionId
        self.nonce = nonce
        self.socketPath = socketPath
        self.proxySocketPath = proxySocketPath
    }
}

public struct SessionSummary: Codable, Sendable, Equatable {
    public var sessionId: String
    public var host: String
    public var remoteUser: String
    public var createdAt: Int64
    public var activeLeases: Int

    public init(sessionId: String, host: String, remoteUser: String, createdAt: Int64, activeLeases: Int) {
        self.sessionId = sessionId
        self.host = host
        self.remoteUser = remoteUser
        self.createdAt = createdAt
        self.activeLeases = activeLeases
    }
}

/// A request waiting for the developer, with everything the prompt shows (names, never values).
public struct ApprovalSummary: Codable, Sendable, Equatable {
    public var approvalId: String
    public var host: String
    public var remoteUser: String
    public var profile: String
    public var cwd: String
    public var argv: [String]
    public var secretNames: [String]
    public var agent: Bool
    public var waiting: Int
    public var deadline: Int64

    public init(
        approvalId: String, host: String, remoteUser: String, profile: String, cwd: String, argv: [String],
        secretNames: [String], agent: Bool, waiting: Int, deadline: Int64
    ) {
        self.approvalId = approvalId
        self.host = host
        self.remoteUser = remoteUser
        self.profile = profile
        self.cwd = cwd
        self.argv = argv
        self.secretNames = secretNames
        self.agent = agent
        self.waiting = waiting
        self.deadline = deadline
    }
}

/// The developer's answer to a pending approval.
public enum ApprovalChoice: String, Codable, Sendable, CaseIterable {
    case once
    case oneHour = "1h"
    case fourHours = "4h"
    case deny

    /// How long a grant covers identical later requests; nil for once and deny.
    public var coverSeconds: Int64? {
        switch self {
        case .once, .deny: return nil
        case .oneHour: return 3600
        case .fourHours: return 4 * 3600
        }
    }
}

public struct ApprovalDecision: Codable, Sendable, Equatable {
    public var choice: ApprovalChoice
    public init(choice: ApprovalChoice) { self.choice = choice }
}

public struct LeaseSummary: Codable, Sendable, Equatable {
    public var leaseId: String
    public var sessionId: String
    public var host: String
    public var profile: String
    public var argv: [String]
    public var secretNames: [String]
    public var expiresAt: Int64
    public var state: LeaseStatus.State

    public init(
        leaseId: String, sessionId: String, host: String, profile: String, argv: [String], secretNames: [String],
        expiresAt: Int64, state: LeaseStatus.State
    ) {
        self.leaseId = leaseId
        self.sessionId = sessionId
        self.host = host
        self.profile = profile
        self.argv = argv
        self.secretNames = secretNames
        self.expiresAt = expiresAt
        self.state = state
    }
}

/// Paths of the protocol, in one place.
public enum Route {
    public static let nonceHeader = "X-Agentbox-Session-Nonce"
    public static let lease = "/v1/lease"
    public static func approval(_ id: String) -> String { "/v1/approvals/\(id)" }
    public static func renew(_ id: String) -> String { "/v1/leases/\(id)/renew" }
    public static func release(_ id: String) -> String { "/v1/leases/\(id)/release" }
    public static func watch(_ id: String) -> String { "/v1/leases/\(id)/watch" }
    public static let sessionInfo = "/v1/session"

    public static let sessions = "/v1/sessions"
    public static func session(_ id: String) -> String { "/v1/sessions/\(id)" }
    public static let approvals = "/v1/approvals"
    public static let leases = "/v1/leases"
    public static func revoke(_ id: String) -> String { "/v1/leases/\(id)/revoke" }
    public static let status = "/v1/status"
    public static let reload = "/v1/policy/reload"
}
