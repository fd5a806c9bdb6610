import AgentboxCore
import Glibc
import Testing
@testable import UnixHTTP
import UnixHTTPClient

struct EchoHandler: HTTPHandler {
    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let summary = "\(request.method) \(request.path) q=\(request.query["wait"] ?? "-") h=\(request.header("X-Test") ?? "-") uid=\(request.peer.uid) body=\(String(decoding: request.body, as: UTF8.self))"
        return HTTPResponse(status: 200, body: Array(summary.utf8), contentType: "text/plain")
    }
}

private func temporarySocketPath() -> String {
    "/tmp/abhttp-\(getpid())-\(Crypto.randomToken(byteCount: 4)).sock"
}

@Suite struct UnixSocketRoundTripTests {
    @Test func requestReachesHandlerWithPeerCredentials() throws {
        let path = temporarySocketPath()
        let server = try UnixHTTPServer(socketPath: path, handler: EchoHandler())
        defer { server.stop() }
        let response = try UnixHTTPClient(socketPath: path).send(
            "POST", "/v1/echo?wait=5", headers: ["X-Test": "yes"], body: Array("{\"a\":1}".utf8))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "POST /v1/echo q=5 h=yes uid=\(getuid()) body={\"a\":1}")
    }

    @Test func socketFileIsPrivateToItsOwner() throws {
        let path = temporarySocketPath()
        let server = try UnixHTTPServer(socketPath: path, handler: EchoHandler())
        defer { server.stop() }
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o077 == 0)
    }

    @Test func connectionFromAnotherUIDIsRefusedBeforeTheHandler() throws {
        let path = temporarySocketPath()
        let server = try UnixHTTPServer(socketPath: path, allowedPeerUID: getuid() + 4242, handler: EchoHandler())
        defer { server.stop() }
        let response = try UnixHTTPClient(socketPath: path).send("GET", "/v1/status")
        #expect(response.status == 403)
        #expect(String(decoding: response.body, as: UTF8.self).contains("peer-refused"))
    }

    @Test func stoppedServerRemovesItsSocketAndClientsSeeUnreachable() throws {
        let path = temporarySocketPath()
        let server = try UnixHTTPServer(socketPath: path, handler: EchoHandler())
        server.stop()
        #expect(access(path, F_OK) != 0)
        #expect(throws: HTTPClientError.self) { try UnixHTTPClient(socketPath: path).send("GET", "/") }
    }

    @Test func oversizedBodyIsRefused() throws {
        let path = temporarySocketPath()
        let server = try UnixHTTPServer(socketPath: path, handler: EchoHandler())
        defer { server.stop() }
        let response = try UnixHTTPClient(socketPath: path).send(
            "POST", "/v1/echo", body: [UInt8](repeating: 65, count: UnixHTTPServer.maximumBodyBytes + 1))
        #expect(response.status == 413)
    }
}
