import AgentboxCore
import CCurl
import Foundation
import Policy

/// What the upstream answered before its body: the status and the header lines (already
/// scrubbed of the credential, hop-by-hop headers and length removed).
struct UpstreamHead: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
}

/// Settings of the upstream client that are not per request.
public struct UpstreamOptions: Sendable {
    /// A CA bundle to trust instead of the system's (tests with a throwaway CA).
    public var caFile: String?
    public var connectTimeoutSeconds: Int

    public init(caFile: String? = nil, connectTimeoutSeconds: Int = 10) {
        self.caFile = caFile
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }
}

/// One request to the upstream, driven by libcurl's multi interface on the thread of the client's
/// connection (libmicrohttpd runs a thread per connection): `start` runs the transfer until the
/// head is complete, and each `read` runs it until body bytes are there, scrubbed of echoes of the
/// credential. No thread of its own and no hand-over between threads: a small request costs no
/// thread start and no wake-up of another thread, and the body is copied once on its way through
/// (scrubbed into a chunk, then into libmicrohttpd's buffer).
///
/// Memory stays flat: when more than `bufferedLimit` bytes wait for the client, the write callback
/// pauses the transfer (libcurl keeps the chunk) until the client has taken them.
final class UpstreamCall {
    let url: String
    let method: String
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    let spec: ProxySpec
    let options: UpstreamOptions
    let scrubber: EchoScrubber

    static let bufferedLimit = 1 << 20
    /// An upstream that sends nothing at all for this long (no head, no event) is given up on.
    static let idleSeconds = 600

    enum ReadResult {
        case bytes(Int)
        case end
        case error
    }

    private var transfer: CurlTransfer?
    /// Idle connections are kept per route (lease and secret), so a connection only ever carries
    /// one credential's requests: an upstream that answers out of turn (a body after a HEAD) can
    /// only confuse that route's own answers, and they are scrubbed with that route's key.
    private let poolKey: String
    private let shutdown: ProxyShutdown
    /// The client's socket: watched while waiting on the upstream, so a client that has gone
    /// ends the transfer instead of holding a thread until the upstream answers.
    private let clientSocket: Int32
    private var clientSentMore = false
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// libcurl writes its error message here during the transfer: memory of ours, not an array's.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()
    private var head: UpstreamHead?
    private var headLines: [(name: String, value: String)] = []
    private var headStatus = 0
    private var result: CURLcode?
    private var paused = false
    private let pending = BodyQueue()
    /// During a `read` with nothing queued: the client's buffer, which the write callback scrubs
    /// into directly (what does not fit is queued).
    private var target: (buffer: UnsafeMutableRawPointer, capacity: Int, filled: Int)?
    private(set) var refusedAddress = false
    private(set) var bytesOut: Int64 = 0

    init(
        url: String, method: String, headers: [(name: String, value: String)], body: [UInt8], spec: ProxySpec,
        options: UpstreamOptions, scrubber: EchoScrubber, poolKey: String, clientSocket: Int32, shutdown: ProxyShutdown
    ) {
        self.poolKey = (spec.allowPrivateUpstream ? "private " : "public ") + poolKey
        self.clientSocket = clientSocket
        self.shutdown = shutdown
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.spec = spec
        self.options = options
        self.scrubber = scrubber
    }

    deinit {
        close()
        errorBuffer.deallocate()
    }

    /// Starts the transfer and runs it until the head is complete (or the failure that came first).
    func start() -> Result<UpstreamHead, ProxyRefusal> {
        let transfer = TransferPool.shared.take(poolKey)
        self.transfer = transfer
        configure(transfer.easy)
        shutdown.register(transfer.multi)
        curl_multi_add_handle(transfer.multi, transfer.easy)
        while head == nil && result == nil { step() }
        if let head, result.map({ $0 == CURLE_OK }) ?? true { return .success(head) }
        if refusedAddress {
            return .failure(
                ProxyRefusal(
                    403, "upstream-address-refused",
                    "refused: \(spec.upstream.host) resolves to a private, loopback or link-local address; the policy does not allow that (allowPrivateUpstream)"
                ))
        }
        return .failure(
            ProxyRefusal(
                502, "upstream-unreachable", "the upstream \(spec.upstream.host) failed: \(failureMessage)"))
    }

    /// Copies up to `max` scrubbed body bytes into `buffer`, running the transfer until some are
    /// there or it has ended.
    func read(into buffer: UnsafeMutableRawPointer, max: Int) -> ReadResult {
        while pending.isEmpty && result == nil {
            target = (buffer, max, 0)
            step()
            let filled = target?.filled ?? 0
            target = nil
            if filled > 0 { return .bytes(filled) }
        }
        if !pending.isEmpty {
            let count = pending.take(into: buffer, max: max)
            if paused && pending.count < Self.bufferedLimit, let transfer {
                paused = false
                _ = ab_curl_unpause(transfer.easy)  // may deliver the kept chunk right away
            }
            return .bytes(count)
        }
        return result == CURLE_OK ? .end : .error
    }

    /// Ends the transfer (finished or not) and gives the handles back: a connection whose response
    /// was not read to the end is closed by libcurl, never reused. Nor is one whose answer had no
    /// body by definition (HEAD, 1xx, 204, 304): bytes an upstream sends there anyway would be
    /// taken for the next answer.
    func close() {
        guard let transfer else { return }
        self.transfer = nil
        shutdown.unregister(transfer.multi)
        curl_multi_remove_handle(transfer.multi, transfer.easy)
        curl_slist_free_all(headerList)
        headerList = nil
        let bodiless = method == "HEAD" || (100..<200).contains(headStatus) || headStatus == 204 || headStatus == 304
        TransferPool.shared.give(transfer, key: poolKey, reusable: result == CURLE_OK && !bodiless)
    }

    /// One round of the multi interface: wait (up to a second) for the upstream's socket unless
    /// libcurl has work at hand, then let it read and write.
    private func step() {
        guard let transfer else {
            result = result ?? CURLE_FAILED_INIT
            return
        }
        var running: Int32 = 0
        if curl_multi_perform(transfer.multi, &running) != CURLM_OK {
            finish(CURLE_FAILED_INIT)
            return
        }
        var code = CURLE_OK
        if ab_curl_multi_next_done(transfer.multi, &code) == 1 {
            finish(code)
            return
        }
        let delivered = !pending.isEmpty || (target?.filled ?? 0) > 0
        if head == nil || !delivered {
            if shutdown.stopping || clientHasGone() {
                finish(CURLE_ABORTED_BY_CALLBACK)
                return
            }
            // Once the client's socket was readable, only a hang-up (reported whatever the events) wakes.
            var client = curl_waitfd(fd: clientSocket, events: clientSentMore ? 0 : Int16(CURL_WAIT_POLLIN), revents: 0)
            var ready: Int32 = 0
            _ = curl_multi_poll(transfer.multi, &client, clientSocket < 0 ? 0 : 1, 1000, &ready)
        }
    }

    /// Whether the client closed its connection (POLLHUP: both directions shut). A client that
    /// sends more (a pipelined request) or only shuts down its sending side is still there; its
    /// socket stays readable, so from then on only POLLHUP and POLLERR are asked about.
    private func clientHasGone() -> Bool {
        guard clientSocket >= 0 else { return false }
        let events = clientSentMore ? 0 : Int16(POLLIN) | Self.pollReadHangUp
        var probe = pollfd(fd: clientSocket, events: events, revents: 0)
        guard poll(&probe, 1, 0) == 1 else { return false }
        if probe.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        clientSentMore = true
        return false
    }

    /// POLLRDHUP (Linux; not exported without _GNU_SOURCE).
    static let pollReadHangUp: Int16 = 0x2000

    private func finish(_ code: CURLcode) {
        if code == CURLE_OK {
            headComplete()  // a response without a body never reached the blank line callback twice
            let tail = scrubber.finish()
            bytesOut += Int64(tail.count)
            pending.append(tail)
        }
        result = code
    }

    private var failureMessage: String {
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty { return detail }
        if let result, result != CURLE_OK { return String(cString: curl_easy_strerror(result)) }
        return "no answer"
    }

    private func configure(_ handle: UnsafeMutableRawPointer) {
        for (name, value) in headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // An empty value removes a header curl would add on its own.
        for name in ["Expect", "Accept", "Content-Type"]
        where !headers.contains(where: { $0.name.caseInsensitiveEquals(name) }) {
            headerList = curl_slist_append(headerList, "\(name):")
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = ab_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = ab_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, spec.upstream.scheme)
        _ = ab_curl_setopt_string(handle, CURLOPT_PROXY, "")
        _ = ab_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ab_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ab_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        _ = ab_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 256 * 1024)
        _ = ab_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds)
        _ = ab_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = ab_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, Self.idleSeconds)
        _ = ab_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        if let caFile = options.caFile { _ = ab_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        _ = ab_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        if method == "HEAD" {
            _ = ab_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        } else if method != "GET" || !body.isEmpty {
            // COPYPOSTFIELDS: libcurl keeps its own copy, as the transfer outlives this call.
            _ = ab_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = body.withUnsafeBytes {
                ab_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS,
                    $0.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } ?? emptyBody)
            }
        }
        if method != "GET" && method != "HEAD" && method != "POST" {
            _ = ab_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        _ = ab_curl_setopt_header_function(handle, headerCallback)
        _ = ab_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        _ = ab_curl_setopt_write_function(handle, writeCallback)
        _ = ab_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        if !spec.allowPrivateUpstream {
            _ = ab_curl_setopt_opensocket_function(handle, openSocketCallback)
            _ = ab_curl_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, me)
        }
    }

    /// One header line as libcurl delivers it (with its line ending). The ending is cut on bytes:
    /// as a `String`, "\r\n" is one character, and cutting two would take the value's last one.
    fileprivate func headerLine(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        if end > 0 && line[end - 1] == 0x0A { end -= 1 }
        if end > 0 && line[end - 1] == 0x0D { end -= 1 }
        let trimmed = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]), as: UTF8.self)
        if trimmed.hasPrefix("HTTP/") {
            let words = trimmed.split(separator: " ")
            headStatus = words.count > 1 ? Int(words[1]) ?? 502 : 502
            headLines = []
            return
        }
        if trimmed.isEmpty {
            if headStatus >= 200 { headComplete() }
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon])
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces()
        if ProxyRequestCheck.isDroppedResponseHeader(name) { return }
        // A name cannot carry the marker: a header whose name echoes the credential is dropped.
        if scrubber.scrubAll(name) != name { return }
        headLines.append((name, scrubber.scrubAll(value)))
    }

    private func headComplete() {
        if head == nil { head = UpstreamHead(status: headStatus == 0 ? 502 : headStatus, headers: headLines) }
    }

    /// A chunk of the body: scrubbed and queued, or kept by libcurl (paused) while the client has
    /// not taken what is queued.
    fileprivate func bodyBytes(_ bytes: UnsafeRawBufferPointer) -> Int {
        headComplete()
        if pending.count >= Self.bufferedLimit {
            paused = true
            return ab_curl_write_pause()
        }
        scrubber.feed(bytes) { piece in
            guard !piece.isEmpty else { return }
            bytesOut += Int64(piece.count)
            var rest = piece
            if pending.isEmpty, let (buffer, capacity, filled) = target, filled < capacity {
                let take = min(capacity - filled, piece.count)
                (buffer + filled).copyMemory(from: piece.baseAddress!, byteCount: take)
                target?.filled += take
                rest = UnsafeRawBufferPointer(rebasing: piece[take...])
            }
            if !rest.isEmpty { pending.append(rest) }
        }
        return bytes.count
    }

    fileprivate func addressAllowed(_ address: UnsafePointer<sockaddr>) -> Bool {
        let allowed: Bool
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            allowed = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                var raw = v4.pointee.sin_addr.s_addr  // network order
                return !AddressClass.isNonPublicIPv4(withUnsafeBytes(of: &raw) { Array($0) })
            }
        case AF_INET6:
            allowed = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                var raw = v6.pointee.sin6_addr
                return !AddressClass.isNonPublicIPv6(withUnsafeBytes(of: &raw) { Array($0) })
            }
        default:
            allowed = false
        }
        if !allowed { refusedAddress = true }
        return allowed
    }
}

/// A one-byte buffer that lives as long as the process, for bodiless requests curl still reads.
nonisolated(unsafe) private let emptyBody = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

private let headerCallback: ab_curl_write_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let call = Unmanaged<UpstreamCall>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    call.headerLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

private let writeCallback: ab_curl_write_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let call = Unmanaged<UpstreamCall>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return call.bodyBytes(UnsafeRawBufferPointer(start: data, count: length))
}

private let openSocketCallback: ab_curl_opensocket_callback = { context, _, address in
    guard let context, let address else { return ab_curl_socket_bad() }
    let call = Unmanaged<UpstreamCall>.fromOpaque(context).takeUnretainedValue()
    let allowed = withUnsafePointer(to: &address.pointee.addr) { call.addressAllowed($0) }
    guard allowed else { return ab_curl_socket_bad() }
    return socket(
        address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
}

/// A multi handle and the easy handle it runs, kept together between requests: the multi handle
/// holds the connection cache, so connections to an upstream are reused (curl_easy_reset keeps
/// them).
struct CurlTransfer {
    let multi: UnsafeMutableRawPointer
    let easy: UnsafeMutableRawPointer
}

/// Idle transfers, each kept under the key of the route it served (see `UpstreamCall.poolKey`;
/// the key also says whether private addresses were allowed, so a connection opened where they
/// were is never reused where they are not). At most `capacity` are kept; the oldest go first.
final class TransferPool: @unchecked Sendable {
    static let shared = TransferPool()
    static let capacity = 32
    private let lock = NSLock()
    private var idle: [(key: String, transfer: CurlTransfer)] = []

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }

    func take(_ key: String) -> CurlTransfer {
        lock.lock()
        let index = idle.lastIndex { $0.key == key }
        let transfer = index.map { idle.remove(at: $0).transfer }
        lock.unlock()
        if let transfer {
            curl_easy_reset(transfer.easy)
            return transfer
        }
        return CurlTransfer(multi: curl_multi_init()!, easy: curl_easy_init()!)
    }

    func give(_ transfer: CurlTransfer, key: String, reusable: Bool) {
        var dropped: [CurlTransfer] = []
        lock.lock()
        if reusable {
            idle.append((key, transfer))
            if idle.count > Self.capacity { dropped.append(idle.removeFirst().transfer) }
        } else {
            dropped.append(transfer)
        }
        lock.unlock()
        for transfer in dropped {
            curl_easy_cleanup(transfer.easy)
            curl_multi_cleanup(transfer.multi)
        }
    }
}
