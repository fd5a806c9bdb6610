import AgentboxCore
import BrokerProtocol
import UnixHTTPClient

/// Asks the broker for a lease over the forwarded socket, waiting out an approval if needed.
public struct LeaseClient: Sendable {
    public let socketPath: String
    public let nonce: String?
    /// Where progress goes ("waiting for approval on the laptop…").
    public let progress: @Sendable (String) -> Void

    public init(socketPath: String, nonce: String?, progress: @escaping @Sendable (String) -> Void) {
        self.socketPath = socketPath
        self.nonce = nonce
        self.progress = progress
    }

    private var client: UnixHTTPClient { UnixHTTPClient(socketPath: socketPath) }
    private var headers: [String: String] { nonce.map { [Route.nonceHeader: $0] } ?? [:] }

    /// - Parameter cancelDescriptor: when it becomes readable (a stop signal's wake-up pipe), the
    ///   request is given up and its connection closed (`SecretsError.cancelled`); the broker then
    ///   withdraws a pending approval and grants nothing.
    public func requestLease(_ request: LeaseRequest, cancelDescriptor: Int32? = nil) throws(SecretsError) -> LeaseGrant {
        var response = try send("POST", Route.lease, body: WireJSON.encode(request), timeout: 60, cancel: cancelDescriptor)
        defer { response.scrub() }
        if response.status == 202 {
            let pending = try decode(PendingApproval.self, response)
            progress("waiting for approval on the laptop (\(pending.approvalId), up to \(pending.timeoutSeconds)s)…")
            var answer = try send("GET", Route.approval(pending.approvalId), body: nil,
                                  timeout: Int(pending.timeoutSeconds) + 30, cancel: cancelDescriptor)
            defer { answer.scrub() }
            let grant = try grantOrDenial(answer)
            progress("approved on the laptop")
            return grant
        }
        return try grantOrDenial(response)
    }

    public func release(_ leaseId: String, ending: LeaseEnding? = nil) throws(SecretsError) -> LeaseStatus {
        let response = try send("POST", Route.release(leaseId), body: ending.map { WireJSON.encode($0) }, timeout: 10)
        return try statusOrError(response)
    }

    public func renew(_ leaseId: String) throws(SecretsError) -> LeaseStatus {
        let response = try send("POST", Route.renew(leaseId), body: nil, timeout: 10)
        return try statusOrError(response)
    }

    /// Long-polls until the lease stops being active or `timeoutSeconds` pass.
    public func watch(_ leaseId: String, timeoutSeconds: Int) throws(SecretsError) -> LeaseStatus {
        let response = try send("GET", Route.watch(leaseId) + "?timeout=\(timeoutSeconds)", body: nil,
                                timeout: timeoutSeconds + 15)
        return try statusOrError(response)
    }

    public func sessionInfo() throws(SecretsError) -> SessionSummary {
        let response = try send("GET", Route.sessionInfo, body: nil, timeout: 10)
        guard response.status == 200 else { throw denial(response) }
        return try decode(SessionSummary.self, response)
    }

    private func send(_ method: String, _ path: String, body: [UInt8]?, timeout: Int, cancel: Int32? = nil)
        throws(SecretsError) -> HTTPClientResponse
    {
        do {
            return try client.send(method, path, headers: headers, body: body, timeoutSeconds: timeout,
                                   cancelDescriptor: cancel)
        } catch .cancelled {
            throw .cancelled
        } catch {
            throw .brokerUnreachable("\(error)")
        }
    }

    private func grantOrDenial(_ response: HTTPClientResponse) throws(SecretsError) -> LeaseGrant {
        guard response.status == 200 else { throw denial(response) }
        return try decode(LeaseGrant.self, response)
    }

    private func statusOrError(_ response: HTTPClientResponse) throws(SecretsError) -> LeaseStatus {
        guard response.status == 200 else { throw denial(response) }
        return try decode(LeaseStatus.self, response)
    }

    private func denial(_ response: HTTPClientResponse) -> SecretsError {
        guard let error = try? WireJSON.decode(ErrorBody.self, from: response.body) else {
            return .protocolViolation("HTTP \(response.status) without an error body")
        }
        switch response.status {
        case 401, 403: return .denied(error.message)
        // The request was allowed; the laptop's vault could not be read (not a denial: retrying can help).
        case 503 where error.code == "vault-unavailable": return .vaultUnavailable(error.message)
        case 404 where error.code == "not-found":
            return .brokerUnreachable("the socket at \(socketPath) does not speak the broker protocol")
        default: return .protocolViolation("HTTP \(response.status) \(error.code): \(error.message)")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: HTTPClientResponse) throws(SecretsError) -> T {
        do {
            return try WireJSON.decode(type, from: response.body)
        } catch {
            throw .protocolViolation("\(error)")
        }
    }
}
