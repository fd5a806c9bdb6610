import AgentboxCore
import BrokerProtocol
import CAgentboxSys
import UnixHTTP

/// Decides and answers lease requests: nonce, policy, approval, vault, lease, audit, in that order.
final class LeaseService: @unchecked Sendable {
    let state: BrokerState
    let policy: PolicyReference
    let secrets: any SecretSource
    let audit: AuditLog
    let prompter: any ApprovalPrompter

    init(state: BrokerState, policy: PolicyReference, secrets: any SecretSource, audit: AuditLog,
         prompter: any ApprovalPrompter) {
        self.state = state
        self.policy = policy
        self.secrets = secrets
        self.audit = audit
        self.prompter = prompter
    }

    // MARK: - Requests

    /// - Parameter clientLeft: whether the requester has closed its connection; a requester that
    ///   left while the vault was read gets no lease.
    func requestLease(session: Session, request: LeaseRequest, clientLeft: () -> Bool = { false }) -> HTTPResponse {
        let context = LeaseContext(sessionId: session.id, host: session.host, sessionUser: session.remoteUser,
                                   request: request)
        audit.record("request", fields(context, ["nonceHash": .string(session.nonceHash)]))
        if request.remoteUser != session.remoteUser {
            return deny(context, code: "user-mismatch",
                        message: "denied: remote user \(request.remoteUser) is not the session's login user \(session.remoteUser)")
        }
        let terms: GrantTerms
        switch policy.current.decide(context) {
        case .deny(let code, let message): return deny(context, code: code, message: message)
        case .grant(let granted): terms = granted
        }
        audit.record("decision", fields(context, ["decision": "allow", "rule": .string(terms.rule),
                                                  "names": .strings(terms.secretNames)]))
        guard terms.requireApproval else { return issue(context, terms, approval: "not required", clientLeft: clientLeft) }
        if let covered = coveringApproval(context, terms) {
            return issue(context, terms, approval: covered, clientLeft: clientLeft)
        }
        let record = pendingApproval(context, terms)
        let pending = PendingApproval(
            approvalId: record.id, timeoutSeconds: max(0, record.deadline - nowSeconds()),
            message: "waiting for approval on the laptop (secret-broker approve \(record.id))")
        return HTTPResponse(status: 202, body: WireJSON.encode(pending))
    }

    /// The long-poll: blocks until the developer answers, the approval times out, the session
    /// ends, or the client leaves (`clientLeft`: it closed the connection, e.g. ^C). A client that
    /// left gets no lease, even when the approval comes after: nobody would hold or release it.
    /// When the last requester of a (shared) approval has left, the request is withdrawn, so it no
    /// longer waits on the laptop; one that was told to wait but has not asked yet still counts.
    func awaitApproval(session: Session, approvalId: String, clientLeft: () -> Bool = { false }) -> HTTPResponse {
        let found: ApprovalRecord? = state.withLock {
            guard let record = state.approvals[approvalId], record.context.sessionId == session.id else { return nil }
            record.waiting += 1
            return record
        }
        guard let record = found else {
            return errorResponse(404, "unknown-approval", "no pending approval \(approvalId) in this session")
        }
        let outcome: ApprovalRecord.Outcome? = state.withLock {
            var left = false
            while record.outcome == nil && !session.ended && nowSeconds() <= record.deadline {
                state.waitForChange(atMost: Self.clientCheckInterval)
                if record.outcome == nil && clientLeft() {
                    left = true
                    break
                }
            }
            record.waiting -= 1
            record.requesters -= 1
            if left {
                if record.requesters == 0 {
                    record.outcome = .denied(code: "client-left", message: "withdrawn: the requester left before an answer")
                    finish(record)
                }
                return nil
            }
            if record.outcome == nil {
                record.outcome = session.ended
                    ? .denied(code: "session-ended", message: "denied: the SSH session ended while waiting for approval")
                    : timeoutOutcome(record)
                finish(record)
            }
            return record.outcome!
        }
        switch outcome {
        case .approved(let choice)?:
            if clientLeft() { return withheld(record.context, approval: record.id) }
            return issue(record.context, record.terms, approval: "approved \(choice.rawValue) (\(record.id))",
                         clientLeft: clientLeft)
        case .denied(let code, let message)?:
            return errorResponse(403, code, message)
        case nil:
            return errorResponse(410, "client-left", "the requester left before an answer")
        }
    }

    private func withheld(_ context: LeaseContext, approval: String) -> HTTPResponse {
        audit.record("grant-withheld", fields(context, ["approval": .string(approval), "reason": "client-left"]))
        return errorResponse(410, "client-left", "the requester left before the grant")
    }

    /// How often a waiting approval looks at its client's connection.
    static let clientCheckInterval = 0.2

    // MARK: - Approval bookkeeping (lock held)

    private func coveringApproval(_ context: LeaseContext, _ terms: GrantTerms) -> String? {
        let fingerprint = approvalFingerprint(context, terms)
        return state.withLock {
            guard let until = state.approvedUntil[fingerprint], until > nowSeconds() else { return nil }
            return "covered by an earlier approval until \(until)"
        }
    }

    private func pendingApproval(_ context: LeaseContext, _ terms: GrantTerms) -> ApprovalRecord {
        let fingerprint = approvalFingerprint(context, terms)
        let (record, isNew): (ApprovalRecord, Bool) = state.withLock {
            if let shared = state.approvals.values.first(where: {
                $0.fingerprint == fingerprint && $0.outcome == nil && $0.context.sessionId == context.sessionId
            }) {
                shared.requesters += 1
                return (shared, false)
            }
            let record = ApprovalRecord(
                id: "ap-" + Crypto.randomToken(byteCount: 6), fingerprint: fingerprint, context: context,
                terms: terms, deadline: nowSeconds() + terms.approvalTimeoutSeconds)
            record.requesters = 1
            state.approvals[record.id] = record
            state.changed()
            return (record, true)
        }
        if isNew {
            audit.record("approval-requested", fields(context, ["approval": .string(record.id),
                                                               "names": .strings(terms.secretNames)]))
            prompter.announce(summary(record))
        }
        return record
    }

    private func timeoutOutcome(_ record: ApprovalRecord) -> ApprovalRecord.Outcome {
        .denied(code: "approval-timeout",
                message: "denied: nobody approved the request on the laptop within \(record.terms.approvalTimeoutSeconds)s")
    }

    /// Records a decided approval (lock held): audit, cache a duration grant, drop the record.
    private func finish(_ record: ApprovalRecord) {
        guard let outcome = record.outcome else { return }
        switch outcome {
        case .approved(let choice):
            if let seconds = choice.coverSeconds { state.approvedUntil[record.fingerprint] = nowSeconds() + seconds }
            audit.record("approval", fields(record.context, ["approval": .string(record.id), "decision": .string(choice.rawValue)]))
        case .denied(let code, _):
            audit.record("approval", fields(record.context, ["approval": .string(record.id), "decision": "deny",
                                                            "reason": .string(code)]))
        }
        record.decidedAt = nowSeconds()
        state.changed()
        prompter.resolved(record.id, outcome: outcome)
    }

    /// The developer's answer from the control socket or the terminal.
    func decide(approvalId: String, choice: ApprovalChoice) -> Bool {
        state.withLock {
            guard let record = state.approvals[approvalId], record.outcome == nil else { return false }
            record.outcome = choice == .deny
                ? .denied(code: "denied-by-developer", message: "denied: the developer refused the request on the laptop")
                : .approved(choice)
            finish(record)
            return true
        }
    }

    /// Times out approvals nobody waits for any more (called by the ticker, lock held).
    /// Decided records stay a minute so that every request that shared the prompt can collect the answer.
    func expireApprovals(now: Int64) {
        for record in state.approvals.values {
            if record.outcome == nil && record.deadline < now {
                record.outcome = timeoutOutcome(record)
                finish(record)
            } else if let decidedAt = record.decidedAt, decidedAt + 60 < now {
                state.approvals[record.id] = nil
            }
        }
    }

    func pendingSummaries() -> [ApprovalSummary] {
        state.withLock {
            state.approvals.values.filter { $0.outcome == nil }.sorted { $0.deadline < $1.deadline }.map(summary)
        }
    }

    func summary(_ record: ApprovalRecord) -> ApprovalSummary {
        let request = record.context.request
        return ApprovalSummary(
            approvalId: record.id, host: record.context.host, remoteUser: request.remoteUser, profile: record.terms.profile,
            cwd: request.cwd, argv: request.argv, secretNames: record.terms.secretNames, agent: request.agent,
            waiting: record.waiting, deadline: record.deadline)
    }

    // MARK: - Granting

    /// Reads the granted values (and only those) and hands out a lease.
    private func issue(_ context: LeaseContext, _ terms: GrantTerms, approval: String, clientLeft: () -> Bool)
        -> HTTPResponse
    {
        var environment: [EnvironmentEntry] = []
        for secret in terms.injected {
            do {
                let value = try secrets.read(reference: secret.reference)
                environment.append(EnvironmentEntry(name: secret.name, valueBase64: value.withUnsafeBytes(Base64.encode)))
            } catch {
                return vaultUnavailable(context, name: secret.name, reference: secret.reference, error: error)
            }
        }
        // Reading a vault can take a while (a passphrase, an unlock prompt): a requester that gave
        // up meanwhile gets nothing, and no lease is left that nobody holds.
        if clientLeft() {
            for index in environment.indices { environment[index].valueBase64 = "" }
            return withheld(context, approval: approval)
        }
        let now = nowSeconds()
        let record = LeaseRecord(id: "ls-" + Crypto.randomToken(byteCount: 8), sessionId: context.sessionId,
                                 context: context, terms: terms, grantedAt: now)
        // Proxy secrets: a placeholder in the environment, an endpoint to wire; the vault is not read now.
        var proxies: [ProxyEndpoint] = []
        for proxied in terms.proxied {
            var placeholder = Array(("abx-" + Crypto.hex(Crypto.randomBytes(32))).utf8)
            environment.append(EnvironmentEntry(name: proxied.name, valueBase64: placeholder.withUnsafeBytes(Base64.encode)))
            record.placeholders[proxied.name] = SecretBytes(consuming: &placeholder)
            proxies.append(ProxyEndpoint(secretName: proxied.name, baseURLEnvironmentName: proxied.spec.baseUrlEnv,
                                         pathPrefix: "/p/\(record.id)/\(proxied.name)"))
        }
        let sessionAlive: Bool = state.withLock {
            guard let session = state.sessions[context.sessionId], !session.ended else { return false }
            state.leases[record.id] = record
            state.changed()
            return true
        }
        guard sessionAlive else {
            return deny(context, code: "session-ended", message: "denied: the SSH session ended")
        }
        let audited = audit.record("grant", fields(context, ["lease": .string(record.id), "names": .strings(terms.secretNames),
                                               "expiresAt": .int(record.expiresAt), "approval": .string(approval),
                                               "rule": .string(terms.rule)]))
        guard audited else {
            state.withLock {
                record.state = .revoked
                state.changed()
            }
            return errorResponse(503, "audit-unavailable", "denied: the broker cannot write its audit log")
        }
        var grant = LeaseGrant(
            leaseId: record.id, profile: terms.profile, expiresAt: record.expiresAt, ttlSeconds: terms.ttlSeconds,
            renewable: isRenewable(context, terms), environment: environment, proxies: proxies, onDisconnect: terms.onDisconnect,
            proxySocket: proxies.isEmpty ? nil : context.sessionId + ".proxy.sock")
        grant.network = terms.network
        grant.runAs = terms.runAs
        var body = WireJSON.encode(grant)
        defer { body.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
        return HTTPResponse(status: 200, body: body)
    }

    /// A lease renews only while a fresh identical request would be granted without a prompt.
    func isRenewable(_ context: LeaseContext, _ terms: GrantTerms) -> Bool {
        !terms.requireApproval || coveringApproval(context, terms) != nil
    }

    /// Re-decides a lease's request under the policy in force, for renewal: nil when it would
    /// still be granted without a new approval, else the reason.
    func renewalRefusal(_ lease: LeaseRecord) -> String? {
        switch policy.current.decide(lease.context) {
        case .deny(_, let message): return message
        case .grant(let terms):
            if terms.secretNames != lease.terms.secretNames { return "denied: the policy for this lease has changed" }
            return isRenewable(lease.context, terms) ? nil : "denied: renewing this lease needs a new approval on the laptop"
        }
    }

    /// An allowed request the broker cannot serve because a vault cannot be read (a missing or
    /// unreadable `file://` vault, `pass` failing, a locked key). Not a denial: `503` with the
    /// code `vault-unavailable`, audited as `vault-error`. The message names the secret, its
    /// reference and the vault's error, which never contains a value.
    private func vaultUnavailable(_ context: LeaseContext, name: String, reference: String, error: any Error)
        -> HTTPResponse
    {
        let message = "the broker could not read the vault for \(name): \(error)"
        audit.record("vault-error", fields(context, ["names": .strings([name]), "reference": .string(reference),
                                                     "reason": "vault-unavailable", "message": .string(message)]))
        return errorResponse(503, "vault-unavailable", message)
    }

    private func deny(_ context: LeaseContext, code: String, message: String) -> HTTPResponse {
        audit.record("denial", fields(context, ["reason": .string(code), "message": .string(message)]))
        return errorResponse(403, code, message)
    }

    func fields(_ context: LeaseContext, _ extra: [String: AuditValue]) -> [String: AuditValue] {
        var result: [String: AuditValue] = [
            "session": .string(context.sessionId), "host": .string(context.host),
            "user": .string(context.request.remoteUser), "profile": .string(context.request.profile),
            "cwd": .string(context.request.cwd), "argv": .strings(context.request.argv),
            "agent": .bool(context.request.agent),
        ]
        if !context.request.requestedNames.isEmpty { result["requested"] = .strings(context.request.requestedNames) }
        result.merge(extra) { _, new in new }
        return result
    }
}

/// The policy in force, replaced whole on reload.
final class PolicyReference: @unchecked Sendable {
    private let lock = NSLockLike()
    private var gate: any PolicyGate

    init(_ gate: any PolicyGate) { self.gate = gate }

    var current: any PolicyGate {
        lock.locked { gate }
    }

    func replace(_ newGate: any PolicyGate) {
        lock.locked { gate = newGate }
    }
}
