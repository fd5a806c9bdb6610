import AgentboxCore
import CAgentboxSys
import CMicroHTTPD
import Foundation
import Policy
import UnixHTTP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The credential proxy on its own Unix socket (0600, removed when stopped). Each request is
/// checked (target, control characters, lease and placeholder, allowlist, body size), sent to
/// the upstream with the real credential, and the answer streamed back chunk by chunk with every
/// echo of the credential replaced. libmicrohttpd, one thread per connection.
public final class ProxyServer: @unchecked Sendable {
    public let socketPath: String
    let router: any ProxyRouter
    let options: UpstreamOptions
    private var daemon: OpaquePointer?
    let shutdown = ProxyShutdown()

    public init(socketPath: String, router: any ProxyRouter, options: UpstreamOptions = UpstreamOptions())
        throws(HTTPServerError)
    {
        self.socketPath = socketPath
        self.router = router
        self.options = options
        unlink(socketPath)
        let fd = ab_listen_unix(socketPath, 128)
        guard fd >= 0 else { throw .listen(path: socketPath, SystemError("bind/listen")) }
        let me = Unmanaged.passUnretained(self).toOpaque()
        daemon = ab_mhd_start_proxy_on_socket(fd, proxyAccess, me, proxyCompleted, me, proxyURILog, me, 900)
        guard daemon != nil else {
            close(fd)
            unlink(socketPath)
            throw .start(path: socketPath)
        }
    }

    /// Stops accepting, waits for running exchanges, removes the socket file.
    public func stop() {
        guard let running = daemon else { return }
        daemon = nil
        unlink(socketPath)
        shutdown.stop()  // transfers waiting on an upstream give up now, so their threads can end
        // MHD_stop_daemon closes the listening socket itself: closing it again here would close
        // whatever descriptor another thread opened under the same number meanwhile.
        MHD_stop_daemon(running)
    }

    deinit { stop() }

    // MARK: - One exchange

    /// The first call for a request: everything but the body.
    func begin(_ exchange: ProxyExchange) throws(ProxyRefusal) {
        let target = try ProxyRequestCheck.parseTarget(exchange.rawTarget)
        exchange.target = target
        try ProxyRequestCheck.checkHeaders(exchange.headers)
        if exchange.method.utf8.contains(where: { !($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) }) {
            throw ProxyRefusal(400, "bad-method", "refused: the method is not an uppercase token")
        }
        let route: AuthorizedRoute
        switch router.authorize(target, headers: exchange.headers) {
        case .failure(let refusal): throw refusal
        case .success(let authorized): route = authorized
        }
        guard route.spec.allows(method: exchange.method, path: target.rest) else {
            throw ProxyRefusal(
                403, "route-not-allowed",
                "refused: \(exchange.method) \(target.rest) is not in the allow list of \(target.secretName) (policy.yaml:\(route.spec.line))"
            )
        }
        if let length = exchange.headers.first(where: { $0.name.caseInsensitiveEquals("content-length") }).flatMap({
            Int($0.value)
        }),
            length > route.spec.maxBodyBytes
        {
            throw tooLarge(route.spec)
        }
        exchange.route = route
    }

    func tooLarge(_ spec: ProxySpec) -> ProxyRefusal {
        ProxyRefusal(413, "body-too-large", "refused: the request body is over maxBodyBytes (\(spec.maxBodyBytes))")
    }

    /// The last call: the body is complete; ask the upstream.
    func forward(_ exchange: ProxyExchange) -> Result<UpstreamHead, ProxyRefusal> {
        guard let route = exchange.route, let target = exchange.target else {
            return .failure(ProxyRefusal(500, "internal", "no route"))
        }
        let spec = route.spec
        var url =
            spec.upstream.scheme + "://"
            + (spec.upstream.host.contains(":") ? "[\(spec.upstream.host)]" : spec.upstream.host)
        url += ":\(spec.upstream.port)" + spec.upstream.path + target.rest
        if let query = target.query { url += "?" + query }
        let credentialValue = route.credential.withUnsafeBytes {
            spec.headerValue(secret: String(decoding: $0, as: UTF8.self))
        }
        let headers = ProxyRequestCheck.upstreamHeaders(
            from: exchange.headers, credentialHeaderName: spec.headerName, credentialValue: credentialValue)
        let call = UpstreamCall(
            url: url, method: exchange.method, headers: headers, body: exchange.body, spec: spec,
            options: options, scrubber: EchoScrubber(secret: route.credential),
            poolKey: "\(target.leaseId) \(target.secretName)", clientSocket: exchange.clientSocket, shutdown: shutdown)
        exchange.call = call
        return call.start()
    }
}

/// One request on a connection: its raw target, headers, body, route and upstream call.
final class ProxyExchange {
    let rawTarget: String
    let started = ContinuousClock.now
    var begun = false
    var method = ""
    var headers: [(name: String, value: String)] = []
    var target: ProxyTarget?
    var route: AuthorizedRoute?
    var body: [UInt8] = []
    var bodyTooLarge = false
    var status = 0
    var code: String?
    var call: UpstreamCall?
    /// The client connection's socket (libmicrohttpd's), -1 when unknown.
    var clientSocket: Int32 = -1

    init(rawTarget: String) {
        self.rawTarget = rawTarget
    }

    deinit {
        body.withUnsafeMutableBytes { zeroBytes($0) }
    }
}

private let proxyURILog: ab_mhd_uri_log_callback = { _, uri, _ in
    let exchange = ProxyExchange(rawTarget: uri.map { String(cString: $0) } ?? "")
    return Unmanaged.passRetained(exchange).toOpaque()
}

private let proxyAccess: MHD_AccessHandlerCallback = {
    cls, connection, _, method, _, uploadData, uploadDataSize, connectionContext in
    guard let cls, let connection, let method, let uploadDataSize, let connectionContext,
        let context = connectionContext.pointee
    else { return .NO }
    let server = Unmanaged<ProxyServer>.fromOpaque(cls).takeUnretainedValue()
    let exchange = Unmanaged<ProxyExchange>.fromOpaque(context).takeUnretainedValue()

    if !exchange.begun {
        exchange.begun = true
        exchange.method = String(cString: method)
        exchange.headers = headerLines(connection)
        exchange.clientSocket = ab_mhd_connection_fd(connection)
        do throws(ProxyRefusal) {
            try server.begin(exchange)
        } catch {
            return refuse(error, exchange, connection)
        }
        return .YES
    }
    if uploadDataSize.pointee > 0 {
        if let uploadData, !exchange.bodyTooLarge, let route = exchange.route {
            if exchange.body.count + uploadDataSize.pointee > route.spec.maxBodyBytes {
                exchange.bodyTooLarge = true
                exchange.body.withUnsafeMutableBytes { zeroBytes($0) }
                exchange.body = []
            } else {
                exchange.body.append(
                    contentsOf: UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee))
            }
        }
        uploadDataSize.pointee = 0
        return .YES
    }
    if exchange.bodyTooLarge, let route = exchange.route {
        return refuse(server.tooLarge(route.spec), exchange, connection)
    }
    switch server.forward(exchange) {
    case .failure(let refusal):
        return refuse(refusal, exchange, connection)
    case .success(let head):
        // A larger send buffer for the client connection: fewer, larger writes of the answer.
        var sendBuffer: Int32 = 2 << 20
        _ = setsockopt(
            ab_mhd_connection_fd(connection), SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        // An answer that has no body by definition gets an empty one: a streamed answer of unknown
        // size would be framed as chunked, and its terminating chunk would be a stray body.
        let bodiless = exchange.method == "HEAD" || head.status == 204 || head.status == 304
        let response =
            bodiless
            ? ab_mhd_response_zeroed_copy(nil, 0)
            : MHD_create_response_from_callback(
                ab_mhd_size_unknown(), 256 * 1024, proxyContentReader, Unmanaged.passRetained(exchange).toOpaque(),
                proxyContentFree)
        guard let response else { return .NO }
        for (name, value) in head.headers { _ = MHD_add_response_header(response, name, value) }
        exchange.status = head.status
        let result = MHD_queue_response(connection, UInt32(head.status), response)
        MHD_destroy_response(response)
        return result
    }
}

private let proxyContentReader: MHD_ContentReaderCallback = { cls, _, buffer, max in
    guard let cls, let buffer else { return ab_mhd_content_end_with_error() }
    let exchange = Unmanaged<ProxyExchange>.fromOpaque(cls).takeUnretainedValue()
    guard let call = exchange.call else { return ab_mhd_content_end_of_stream() }
    switch call.read(into: UnsafeMutableRawPointer(buffer), max: max) {
    case .bytes(let count): return count
    case .end: return ab_mhd_content_end_of_stream()
    case .error:
        exchange.code = "upstream-stream-broken"
        return ab_mhd_content_end_with_error()
    }
}

private let proxyContentFree: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    let exchange = Unmanaged<ProxyExchange>.fromOpaque(cls).takeRetainedValue()
    exchange.call?.close()
}

private let proxyCompleted: MHD_RequestCompletedCallback = { cls, _, connectionContext, _ in
    guard let cls, let connectionContext, let context = connectionContext.pointee else { return }
    connectionContext.pointee = nil
    let server = Unmanaged<ProxyServer>.fromOpaque(cls).takeUnretainedValue()
    let exchange = Unmanaged<ProxyExchange>.fromOpaque(context).takeRetainedValue()
    exchange.call?.close()
    let elapsed = ContinuousClock.now - exchange.started
    let target = exchange.target
    server.router.record(
        ProxyAuditEntry(
            leaseId: target?.leaseId ?? "", secretName: target?.secretName ?? "", method: exchange.method,
            path: target?.auditPath ?? "(refused target)", status: exchange.status, code: exchange.code,
            bytesIn: Int64(exchange.body.count), bytesOut: exchange.call?.bytesOut ?? 0,
            milliseconds: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
}

private func refuse(_ refusal: ProxyRefusal, _ exchange: ProxyExchange, _ connection: OpaquePointer) -> MHD_Result {
    exchange.status = refusal.status
    exchange.code = refusal.code
    let body = Array(
        "{\"error\":{\"message\":\(jsonString(refusal.message)),\"type\":\"agentbox_proxy\",\"code\":\(jsonString(refusal.code))}}"
            .utf8)
    let response = body.withUnsafeBytes { ab_mhd_response_zeroed_copy($0.baseAddress, $0.count) }
    guard let response else { return .NO }
    _ = MHD_add_response_header(response, "Content-Type", "application/json")
    let result = MHD_queue_response(connection, UInt32(refusal.status), response)
    MHD_destroy_response(response)
    return result
}

private func headerLines(_ connection: OpaquePointer) -> [(name: String, value: String)] {
    final class Collector { var lines: [(name: String, value: String)] = [] }
    let collector = Collector()
    let iterator: MHD_KeyValueIterator = { cls, _, key, value in
        guard let cls, let key else { return .YES }
        let collector = Unmanaged<Collector>.fromOpaque(cls).takeUnretainedValue()
        collector.lines.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
        return .YES
    }
    withExtendedLifetime(collector) {
        _ = MHD_get_connection_values(
            connection, .HEADER_KIND, iterator, Unmanaged.passUnretained(collector).toOpaque())
    }
    return collector.lines
}

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
