import BrokerProtocol
import Foundation
import UnixHTTP

/// The laptop-local control API: devssh registers sessions here, the CLI answers approvals.
/// Served on a socket that only the broker's own uid may connect to.
struct ControlAPI: HTTPHandler {
    let core: BrokerCore
    /// The reloaded policy's path and its warnings (`FILE:LINE:COLUMN: warning: MESSAGE`).
    let reload: @Sendable () -> Result<(path: String, warnings: [String]), PolicyLoadFailure>

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        switch (request.method, parts) {
        case ("POST", ["v1", "sessions"]):
            do {
                var registration = try WireJSON.decode(SessionRegistration.self, from: request.body)
                // The session lives as long as the process that registered it, as the kernel reports it.
                if request.peer.pid > 0 { registration.ownerPid = request.peer.pid }
                return ok(try core.registerSession(registration))
            } catch {
                return errorResponse(400, "bad-request", "cannot register session: \(error)")
            }
        case ("GET", ["v1", "sessions"]):
            return ok(core.sessionSummaries())
        case ("DELETE", let p) where p.count == 3 && p[1] == "sessions":
            return core.endSession(p[2], reason: "devssh ended the session")
                ? ok(["ended": p[2]]) : errorResponse(404, "unknown-session", "no session \(p[2])")
        case ("GET", ["v1", "approvals"]):
            return ok(core.leaseService.pendingSummaries())
        case ("POST", let p) where p.count == 3 && p[1] == "approvals":
            do {
                let decision = try WireJSON.decode(ApprovalDecision.self, from: request.body)
                return core.leaseService.decide(approvalId: p[2], choice: decision.choice)
                    ? ok(["decided": p[2]])
                    : errorResponse(404, "unknown-approval", "no pending approval \(p[2]) (already decided or timed out?)")
            } catch {
                return errorResponse(400, "bad-request", "\(error)")
            }
        case ("GET", ["v1", "leases"]):
            return ok(core.leaseSummaries())
        case ("POST", let p) where p.count == 4 && p[1] == "leases" && p[3] == "revoke":
            guard let status = core.end(p[2], as: .revoked, session: nil) else {
                return errorResponse(404, "unknown-lease", "no lease \(p[2])")
            }
            return ok(status)
        case ("POST", ["v1", "policy", "reload"]):
            switch reload() {
            case .success(let reloaded):
                return ok(["reloaded": reloaded.path, "warnings": reloaded.warnings.joined(separator: "\n")])
            case .failure(let failure): return errorResponse(422, failure.code, failure.message)
            }
        case ("GET", ["v1", "status"]):
            return ok(["sessions": String(core.sessionSummaries().count), "pid": String(getpid())])
        default:
            return errorResponse(404, "not-found", "no such call: \(request.method) \(request.path)")
        }
    }

    private func ok<T: Encodable>(_ value: T) -> HTTPResponse {
        HTTPResponse(status: 200, body: WireJSON.encode(value))
    }
}

/// Why a policy reload was refused; the old policy stays in force.
public struct PolicyLoadFailure: Error, Sendable {
    /// `policy-invalid` (the file does not parse or is not a valid policy), `policy-unsafe`
    /// (others can change it), or `broker-stopping`.
    public let code: String
    public let message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
