import AgentboxCore
import BrokerProtocol
import Foundation
import CredentialProxy
import UnixHTTP

/// The broker's working parts: sessions and their sockets, leases, approvals, the ticker that
/// expires them, and the audit log. The daemon and the tests drive it.
public final class BrokerCore: @unchecked Sendable {
    let state = BrokerState()
    let policy: PolicyReference
    let audit: AuditLog
    let sessionDirectory: String
    let leaseService: LeaseService
    let upstreamOptions: UpstreamOptions
    private var ticker: Thread?
    private let stopping = Atomic()

    init(policy: any PolicyGate, secrets: any SecretSource, audit: AuditLog, sessionDirectory: String,
         prompter: (@Sendable (BrokerCore) -> any ApprovalPrompter)? = nil,
         upstreamOptions: UpstreamOptions = UpstreamOptions()) throws(SystemError) {
        self.upstreamOptions = upstreamOptions
        self.policy = PolicyReference(policy)
        self.audit = audit
        self.sessionDirectory = sessionDirectory
        try FileSafety.makePrivateDirectory(sessionDirectory)
        let relay = PrompterRelay()
        self.leaseService = LeaseService(state: state, policy: self.policy, secrets: secrets, audit: audit, prompter: relay)
        relay.target = prompter?(self) ?? SilentPrompter()
    }

    public func replacePolicy(_ gate: any PolicyGate) {
        policy.replace(gate)
    }

    // MARK: - Sessions

    func registerSession(_ registration: SessionRegistration) throws -> SessionCreated {
        let id = "s-" + Crypto.randomToken(byteCount: 8)
        let nonce = Crypto.randomToken(byteCount: 32)
        let path = sessionDirectory + "/" + id + ".sock"
        let session = Session(id: id, host: registration.host, remoteUser: registration.remoteUser, nonce: nonce,
                              ownerPid: registration.ownerPid, socketPath: path, createdAt: nowSeconds())
        session.server = try UnixHTTPServer(socketPath: path, handler: SessionAPI(core: self, session: session))
        let proxyPath = sessionDirectory + "/" + id + ".proxy.sock"
        do {
            session.proxyServer = try ProxyServer(
                socketPath: proxyPath, router: BrokerProxyRouter(core: self, sessionId: id), options: upstreamOptions)
        } catch {
            session.server?.stop()
            throw error
        }
        state.withLock { state.sessions[id] = session }
        audit.record("session-start", ["session": .string(id), "host": .string(registration.host),
                                       "user": .string(registration.remoteUser), "nonceHash": .string(session.nonceHash),
                                       "ownerPid": .int(Int64(registration.ownerPid))])
        return SessionCreated(sessionId: id, nonce: nonce, socketPath: path, proxySocketPath: proxyPath)
    }

    /// Ends a session: its socket goes, waiters wake, its leases end as their profile says.
    func endSession(_ id: String, reason: String) -> Bool {
        let ended: Session? = state.withLock {
            guard let session = state.sessions[id], !session.ended else { return nil }
            session.ended = true
            state.sessions[id] = nil
            let now = nowSeconds()
            for lease in state.leases.values where lease.sessionId == id && lease.state == .active {
                applyDisconnect(lease, now: now)
            }
            state.changed()
            return session
        }
        guard let session = ended else { return false }
        session.server?.stop()
        session.proxyServer?.stop()
        audit.record("session-end", ["session": .string(id), "host": .string(session.host), "reason": .string(reason)])
        return true
    }

    /// The profile's `onDisconnect` for one lease (lock held).
    private func applyDisconnect(_ lease: LeaseRecord, now: Int64) {
        let rule = lease.terms.onDisconnect
        if rule == "kill" {
            lease.state = .disconnected
            audit.record("lease-end", ["lease": .string(lease.id), "session": .string(lease.sessionId),
                                       "state": "disconnected", "profile": .string(lease.terms.profile)])
        } else if rule.hasPrefix("grace "), let seconds = Int64(rule.dropFirst(6)) {
            lease.expiresAt = min(lease.expiresAt, now + seconds)
        }
    }

    // MARK: - Leases

    func leaseStatus(_ id: String, session: Session) -> LeaseStatus? {
        state.withLock {
            guard let lease = state.leases[id], lease.sessionId == session.id else { return nil }
            return lease.status
        }
    }

    /// Blocks until the lease is no longer active or `timeout` seconds pass.
    func watch(_ id: String, session: Session, timeout: Int64) -> LeaseStatus? {
        state.withLock {
            guard let lease = state.leases[id], lease.sessionId == session.id else { return nil }
            _ = state.wait(until: nowSeconds() + timeout) { lease.state != .active || session.ended }
            return lease.status
        }
    }

    /// Extends an active lease by its ttl, if the policy in force would grant it again without a
    /// prompt; otherwise the lease is left to expire and the reason is returned.
    func renew(_ id: String, session: Session) -> Result<LeaseStatus, RenewalRefused>? {
        guard let lease = state.withLock({ state.leases[id] }), lease.sessionId == session.id else { return nil }
        if let refusal = leaseService.renewalRefusal(lease) {
            audit.record("renew", ["lease": .string(id), "session": .string(session.id), "result": "refused",
                                   "message": .string(refusal)])
            return .failure(RenewalRefused(message: refusal))
        }
        return renewGranted(id, session: session).map { .success($0) }
    }

    private func renewGranted(_ id: String, session: Session) -> LeaseStatus? {
        let status: LeaseStatus? = state.withLock {
            guard let lease = state.leases[id], lease.sessionId == session.id else { return nil }
            if lease.state == .active {
                lease.expiresAt = max(lease.expiresAt, nowSeconds() + lease.terms.ttlSeconds)
                state.changed()
            }
            return lease.status
        }
        if let status, status.state == .active {
            audit.record("renew", ["lease": .string(id), "session": .string(session.id), "expiresAt": .int(status.expiresAt)])
        }
        return status
    }

    func end(_ id: String, as final: LeaseStatus.State, session: Session?, ending: LeaseEnding? = nil) -> LeaseStatus? {
        let status: LeaseStatus? = state.withLock {
            guard let lease = state.leases[id] else { return nil }
            if let session, lease.sessionId != session.id { return nil }
            if lease.state == .active {
                lease.state = final
                lease.proxyCredentials.removeAll()
                state.changed()
            }
            return lease.status
        }
        if let status, status.state == final || ending != nil {
            var fields: [String: AuditValue] = ["lease": .string(id), "state": .string(status.state.rawValue)]
            if let ending {
                fields["ended"] = .string(String(ending.reason.prefix(32)))
                if let exitStatus = ending.exitStatus { fields["exitStatus"] = .int(Int64(exitStatus)) }
                if let findings = ending.scrubFindings { fields["scrubFindings"] = .int(Int64(findings)) }
            }
            audit.record("lease-end", fields)
            if let findings = ending?.scrubFindings, findings > 0 {
                // The agent host found secrets left in what it keeps after its teardown scrub.
                audit.record("scrub-failed", ["lease": .string(id), "scrubFindings": .int(Int64(findings))])
            }
        }
        return status
    }

    func leaseSummaries() -> [LeaseSummary] {
        state.withLock {
            state.leases.values.sorted { $0.grantedAt < $1.grantedAt }.map {
                LeaseSummary(leaseId: $0.id, sessionId: $0.sessionId, host: $0.context.host, profile: $0.terms.profile,
                             argv: $0.context.request.argv, secretNames: $0.terms.secretNames,
                             expiresAt: $0.expiresAt, state: $0.state)
            }
        }
    }

    func sessionSummaries() -> [SessionSummary] {
        state.withLock {
            state.sessions.values.sorted { $0.createdAt < $1.createdAt }.map { session in
                SessionSummary(sessionId: session.id, host: session.host, remoteUser: session.remoteUser,
                               createdAt: session.createdAt,
                               activeLeases: state.leases.values.filter { $0.sessionId == session.id && $0.state == .active }.count)
            }
        }
    }

    // MARK: - Ticker

    /// Starts the background ticker: lease expiry, approval timeouts, sessions whose devssh died.
    func startTicker(interval: Double = 0.2) {
        let thread = Thread { [weak self] in
            while let self, !self.stopping.isSet {
                self.tick(now: nowSeconds())
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "broker-ticker"
        ticker = thread
        thread.start()
    }

    func tick(now: Int64) {
        var orphaned: [String] = []
        state.withLock {
            for lease in state.leases.values where lease.state == .active && lease.expiresAt <= now {
                lease.state = .expired
                audit.record("lease-end", ["lease": .string(lease.id), "session": .string(lease.sessionId),
                                           "state": "expired", "profile": .string(lease.terms.profile)])
                state.changed()
            }
            // A lease that ended takes its placeholders and cached credentials with it.
            for lease in state.leases.values where lease.state != .active && !lease.proxyCredentials.isEmpty {
                lease.proxyCredentials.removeAll()
            }
            for lease in state.leases.values where lease.state != .active && lease.expiresAt + 3600 < now {
                state.leases[lease.id] = nil
            }
            leaseService.expireApprovals(now: now)
            for session in state.sessions.values where session.ownerPid > 0 && !processExists(session.ownerPid) {
                orphaned.append(session.id)
            }
        }
        for id in orphaned { _ = endSession(id, reason: "devssh exited") }
    }

    /// Stops the ticker and every session socket.
    public func shutdown() {
        stopping.set()
        let ids = state.withLock { Array(state.sessions.keys) }
        for id in ids { _ = endSession(id, reason: "broker stopped") }
    }
}

private func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}

struct RenewalRefused: Error {
    let message: String
}

/// A set-once flag.
final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}

/// Lets the prompter be created after the core it reports to.
final class PrompterRelay: ApprovalPrompter, @unchecked Sendable {
    var target: any ApprovalPrompter = SilentPrompter()
    func announce(_ approval: ApprovalSummary) { target.announce(approval) }
    func resolved(_ approvalId: String, outcome: ApprovalRecord.Outcome) { target.resolved(approvalId, outcome: outcome) }
}
