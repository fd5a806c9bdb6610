import AgentboxCore
import BrokerProtocol
import UnixHTTPClient

/// Why a control call failed.
public enum ControlError: Error, CustomStringConvertible {
    case unreachable(String)
    case refused(code: String, message: String)
    case malformed(String)

    public var description: String {
        switch self {
        case .unreachable(let detail): return "\(detail) (is 'secret-broker serve' running?)"
        case .refused(_, let message): return message
        case .malformed(let detail): return "unexpected answer from the broker: \(detail)"
        }
    }
}

/// A client of the broker's laptop-local control socket (devssh and the CLI).
public struct ControlClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    public func registerSession(_ registration: SessionRegistration) throws(ControlError) -> SessionCreated {
        try call("POST", Route.sessions, body: WireJSON.encode(registration))
    }

    public func endSession(_ id: String) throws(ControlError) {
        let _: [String: String] = try call("DELETE", Route.session(id), body: nil)
    }

    public func sessions() throws(ControlError) -> [SessionSummary] { try call("GET", Route.sessions, body: nil) }

    public func pendingApprovals() throws(ControlError) -> [ApprovalSummary] { try call("GET", Route.approvals, body: nil) }

    public func decide(_ approvalId: String, _ choice: ApprovalChoice) throws(ControlError) {
        let _: [String: String] = try call("POST", Route.approval(approvalId),
                                           body: WireJSON.encode(ApprovalDecision(choice: choice)))
    }

    public func leases() throws(ControlError) -> [LeaseSummary] { try call("GET", Route.leases, body: nil) }

    public func revoke(_ leaseId: String) throws(ControlError) -> LeaseStatus {
        try call("POST", Route.revoke(leaseId), body: nil)
    }

    /// The reloaded policy's path and its warnings, as the broker read them.
    public func reloadPolicy() throws(ControlError) -> (path: String, warnings: [String]) {
        let answer: [String: String] = try call("POST", Route.reload, body: nil)
        let warnings = (answer["warnings"] ?? "").split(separator: "\n").map(String.init)
        return (answer["reloaded"] ?? "", warnings)
    }

    private func call<T: Decodable>(_ method: String, _ path: String, body: [UInt8]?) throws(ControlError) -> T {
        let response: HTTPClientResponse
        do {
            response = try UnixHTTPClient(socketPath: socketPath).send(method, path, body: body, timeoutSeconds: 30)
        } catch {
            throw .unreachable("\(error)")
        }
        guard response.status == 200 else {
            if let error = try? WireJSON.decode(ErrorBody.self, from: response.body) {
                throw .refused(code: error.code, message: error.message)
            }
            throw .malformed("HTTP \(response.status)")
        }
        do {
            return try WireJSON.decode(T.self, from: response.body)
        } catch {
            throw .malformed("\(error)")
        }
    }
}
