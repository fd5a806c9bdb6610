import AgentboxCore
import CAgentboxSys
import CMicroHTTPD

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

public enum HTTPServerError: Error, CustomStringConvertible {
    case listen(path: String, SystemError)
    case start(path: String)

    public var description: String {
        switch self {
        case .listen(let path, let error): return "cannot listen on \(path): \(error)"
        case .start(let path): return "cannot start serving HTTP on \(path)"
        }
    }
}

/// An HTTP/1.1 server (libmicrohttpd, one thread per connection) on a Unix socket that it creates
/// with mode 0600 and removes when stopped.
///
/// When `allowedPeerUID` is set, a connection from any other uid is refused before the handler
/// runs (SO_PEERCRED).
public final class UnixHTTPServer: @unchecked Sendable {
    public let socketPath: String
    private let context: ServerContext
    private var daemon: OpaquePointer?

    public static let maximumBodyBytes = 1 << 20

    public init(socketPath: String, allowedPeerUID: UInt32? = nil, handler: any HTTPHandler) throws(HTTPServerError) {
        self.socketPath = socketPath
        unlink(socketPath)
        let fd = ab_listen_unix(socketPath, 64)
        guard fd >= 0 else { throw .listen(path: socketPath, SystemError("bind/listen")) }
        context = ServerContext(handler: handler, allowedPeerUID: allowedPeerUID)
        let unmanaged = Unmanaged.passUnretained(context).toOpaque()
        daemon = ab_mhd_start_on_socket(fd, accessHandler, unmanaged, requestCompleted, unmanaged, 600)
        guard daemon != nil else {
            close(fd)
            unlink(socketPath)
            throw .start(path: socketPath)
        }
    }

    /// Stops accepting, waits for running handlers to return, removes the socket file.
    public func stop() {
        guard let running = daemon else { return }
        daemon = nil
        unlink(socketPath)
        // MHD_stop_daemon closes the listening socket itself: closing it again here would close
        // whatever descriptor another thread opened under the same number meanwhile.
        MHD_stop_daemon(running)
    }

    deinit { stop() }
}

/// State shared with the C callbacks; lives as long as the server.
final class ServerContext: @unchecked Sendable {
    let handler: any HTTPHandler
    let allowedPeerUID: UInt32?

    init(handler: any HTTPHandler, allowedPeerUID: UInt32?) {
        self.handler = handler
        self.allowedPeerUID = allowedPeerUID
    }
}

/// One request being received: its body so far.
final class RequestInProgress {
    var body: [UInt8] = []
    var tooLarge = false
}

private let accessHandler: MHD_AccessHandlerCallback = {
    cls, connection, url, method, _, uploadData, uploadDataSize, connectionContext in
    guard let cls, let connection, let url, let method, let uploadDataSize, let connectionContext else { return .NO }
    let server = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()

    guard let existing = connectionContext.pointee else {
        connectionContext.pointee = Unmanaged.passRetained(RequestInProgress()).toOpaque()
        return .YES
    }
    let progress = Unmanaged<RequestInProgress>.fromOpaque(existing).takeUnretainedValue()
    if uploadDataSize.pointee > 0 {
        if let uploadData, !progress.tooLarge {
            if progress.body.count + uploadDataSize.pointee > UnixHTTPServer.maximumBodyBytes {
                progress.tooLarge = true
            } else {
                progress.body.append(contentsOf: UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee))
            }
        }
        uploadDataSize.pointee = 0
        return .YES
    }

    let response = respond(server: server, connection: connection, url: String(cString: url),
                           method: String(cString: method), progress: progress)
    return send(response, on: connection)
}

private let requestCompleted: MHD_RequestCompletedCallback = { _, _, connectionContext, _ in
    guard let connectionContext, let existing = connectionContext.pointee else { return }
    Unmanaged<RequestInProgress>.fromOpaque(existing).release()
    connectionContext.pointee = nil
}

private func respond(
    server: ServerContext, connection: OpaquePointer, url: String, method: String, progress: RequestInProgress
) -> HTTPResponse {
    var uid: uid_t = 0
    var pid: pid_t = 0
    guard ab_peer_credentials(ab_mhd_connection_fd(connection), &uid, &pid) == 0 else {
        return errorResponse(403, "peer-unknown", "cannot identify the connecting process")
    }
    if let allowed = server.allowedPeerUID, allowed != uid {
        return errorResponse(403, "peer-refused", "this socket serves uid \(allowed) only")
    }
    if progress.tooLarge {
        return errorResponse(413, "too-large", "request body over \(UnixHTTPServer.maximumBodyBytes) bytes")
    }
    var request = HTTPRequest(
        method: method, path: url, query: values(connection, .GET_ARGUMENT_KIND),
        headers: values(connection, .HEADER_KIND), body: progress.body,
        peer: PeerCredentials(uid: uid, pid: pid))
    let socket = ab_mhd_connection_fd(connection)
    request.connectionClosed = { connectionHasClosed(socket) }
    return server.handler.handle(request)
}

private func values(_ connection: OpaquePointer, _ kind: MHD_ValueKind) -> [String: String] {
    final class Collector { var values: [String: String] = [:] }
    let collector = Collector()
    let iterator: MHD_KeyValueIterator = { cls, _, key, value in
        guard let cls, let key else { return .YES }
        let collector = Unmanaged<Collector>.fromOpaque(cls).takeUnretainedValue()
        collector.values[String(cString: key).lowercased()] = value.map { String(cString: $0) } ?? ""
        return .YES
    }
    withExtendedLifetime(collector) {
        _ = MHD_get_connection_values(connection, kind, iterator, Unmanaged.passUnretained(collector).toOpaque())
    }
    return collector.values
}

private func send(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
    var body = response.body
    defer { body.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
    let made = body.withUnsafeBytes { ab_mhd_response_zeroed_copy($0.baseAddress, $0.count) }
    guard let made else { return .NO }
    _ = MHD_add_response_header(made, "Content-Type", response.contentType)
    _ = MHD_add_response_header(made, "Cache-Control", "no-store")
    let result = MHD_queue_response(connection, UInt32(response.status), made)
    MHD_destroy_response(made)
    return result
}

/// A JSON error body `{"code":…, "message":…}` without going through a JSON encoder.
public func errorResponse(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
    HTTPResponse(status: status, body: Array("{\"code\":\(JSONString.quote(code)),\"message\":\(JSONString.quote(message))}".utf8))
}

/// Whether the peer has closed the connection or shut down its sending side (end of file
/// before any further byte). The clients of these sockets send one request and then only read,
/// never half-closing; and over ssh forwarding a client that is gone shows only as a half-close
/// (ssh shuts down its side of the channel towards us).
func connectionHasClosed(_ socket: Int32) -> Bool {
    var probe = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
    guard poll(&probe, 1, 0) == 1 else { return false }
    if probe.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
    var byte: UInt8 = 0
    return recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
}
