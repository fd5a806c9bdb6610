import AgentboxCore
import BrokerProtocol
import CredentialProxy
import UnixHTTP

/// A connection devssh registered: the host the laptop connected to, and the nonce the remote
/// shell must present on the session's own socket.
final class Session: @unchecked Sendable {
    let id: String
    let host: String
    let remoteUser: String
    let nonce: SecretBytes
    let nonceHash: String
    let ownerPid: Int32
    let socketPath: String
    let createdAt: Int64
    var server: UnixHTTPServer?
    /// The credential proxy, on its own socket beside the session's.
    var proxyServer: ProxyServer?
    var ended = false

    init(id: String, host: String, remoteUser: String, nonce: String, ownerPid: Int32, socketPath: String, createdAt: Int64) {
        self.id = id
        self.host = host
        self.remoteUser = remoteUser
        self.nonce = SecretBytes(Array(nonce.utf8))
        self.nonceHash = String(SHA256.hex(Array(nonce.utf8)).prefix(16))
        self.ownerPid = ownerPid
        self.socketPath = socketPath
        self.createdAt = createdAt
    }

    /// Constant-time check of a presented nonce.
    func accepts(nonce presented: String?) -> Bool {
        guard let presented else { return false }
        return nonce.constantTimeEquals(SecretBytes(Array(presented.utf8)))
    }
}

/// A request held until the developer answers. Identical concurrent requests share one record.
final class ApprovalRecord: @unchecked Sendable {
    enum Outcome: Equatable {
        case approved(ApprovalChoice)
        case denied(code: String, message: String)
    }

    let id: String
    let fingerprint: String
    let context: LeaseContext
    let terms: GrantTerms
    let deadline: Int64
    var waiting = 0
    /// Requests told to wait for this approval (202) whose long-poll has not ended.
    var requesters = 0
    var outcome: Outcome?
    var decidedAt: Int64?

    init(id: String, fingerprint: String, context: LeaseContext, terms: GrantTerms, deadline: Int64) {
        self.id = id
        self.fingerprint = fingerprint
        self.context = context
        self.terms = terms
        self.deadline = deadline
    }
}

/// A granted lease: what was handed out (names only), to whom, until when.
final class LeaseRecord: @unchecked Sendable {
    let id: String
    let sessionId: String
    let context: LeaseContext
    let terms: GrantTerms
    let grantedAt: Int64
    var expiresAt: Int64
    var state: LeaseStatus.State = .active
    /// Per proxy secret: the placeholder handed out instead of the key. Dies with the lease.
    var placeholders: [String: SecretBytes] = [:]
    /// Per proxy secret: the real value, read from the vault at the first proxied request and
    /// dropped (zeroed) when the lease ends.
    var proxyCredentials: [String: SecretBytes] = [:]

    init(id: String, sessionId: String, context: LeaseContext, terms: GrantTerms, grantedAt: Int64) {
        self.id = id
        self.sessionId = sessionId
        self.context = context
        self.terms = terms
        self.grantedAt = grantedAt
        self.expiresAt = grantedAt + terms.ttlSeconds
    }

    var status: LeaseStatus { LeaseStatus(leaseId: id, state: state, expiresAt: expiresAt) }
}
