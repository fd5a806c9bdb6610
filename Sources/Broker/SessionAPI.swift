import BrokerProtocol
import UnixHTTP

/// The remote-facing API on one session's socket. Every call must carry the session nonce.
struct SessionAPI: HTTPHandler {
    let core: BrokerCore
    let session: Session

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard session.accepts(nonce: request.header(Route.nonceHeader)) else {
            core.audit.record("denial", ["session": .string(session.id), "host": .string(session.host),
                                         "reason": "bad-nonce", "path": .string(request.path)])
            return errorResponse(401, "bad-nonce",
                                 "denied: missing or wrong session nonce; run this inside the shell devssh opened (AGENTBOX_SESSION_NONCE)")
        }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.method, parts.count, parts) {
        case ("POST", 2, _) where request.path == Route.lease:
            do {
                let lease = try WireJSON.decode(LeaseRequest.self, from: request.body)
                return core.leaseService.requestLease(session: session, request: lease, clientLeft: request.connectionClosed)
            } catch {
                return errorResponse(400, "bad-request", "\(error)")
            }
        case ("GET", 2, _) where request.path == Route.sessionInfo:
            let active = core.leaseSummaries().filter { $0.sessionId == session.id && $0.state == .active }.count
            return HTTPResponse(status: 200, body: WireJSON.encode(SessionSummary(
                sessionId: session.id, host: session.host, remoteUser: session.remoteUser,
                createdAt: session.createdAt, activeLeases: active)))
        case ("GET", 3, let p) where p[1] == "approvals":
            return core.leaseService.awaitApproval(session: session, approvalId: p[2], clientLeft: request.connectionClosed)
        case ("GET", 4, let p) where p[1] == "leases" && p[3] == "watch":
            let timeout = min(max(Int64(request.query["timeout"] ?? "") ?? 25, 1), 300)
            return statusResponse(core.watch(p[2], session: session, timeout: timeout), p[2])
        case ("POST", 4, let p) where p[1] == "leases" && p[3] == "renew":
            switch core.renew(p[2], session: session) {
            case .success(let status)?: return statusResponse(status, p[2])
            case .failure(let refusal)?: return errorResponse(403, "renewal-refused", refusal.message)
            case nil: return statusResponse(nil, p[2])
            }
        case ("POST", 4, let p) where p[1] == "leases" && p[3] == "release":
            let ending = request.body.isEmpty ? nil : try? WireJSON.decode(LeaseEnding.self, from: request.body)
            return statusResponse(core.end(p[2], as: .released, session: session, ending: ending), p[2])
        default:
            return errorResponse(404, "not-found", "no such call: \(request.method) \(request.path)")
        }
    }

    private func statusResponse(_ status: LeaseStatus?, _ id: String) -> HTTPResponse {
        guard let status else { return errorResponse(404, "unknown-lease", "no lease \(id) in this session") }
        return HTTPResponse(status: 200, body: WireJSON.encode(status))
    }
}
