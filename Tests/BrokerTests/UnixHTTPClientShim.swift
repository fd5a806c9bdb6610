import BrokerProtocol
import UnixHTTPClient

enum UnixHTTPClientShim {
    static func send(socket: String, nonce: String?, path: String) throws -> Int {
        let headers = nonce.map { [Route.nonceHeader: $0] } ?? [:]
        return try UnixHTTPClient(socketPath: socket).send("GET", path, headers: headers, timeoutSeconds: 5).status
    }
}
