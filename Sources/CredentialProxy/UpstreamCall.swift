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

/// One request to the upstream with libcurl on its own thread. The head is handed over once
/// complete; the body flows through a `ByteChannel`, scrubbed of echoes of the credential.
final class UpstreamCall: @unchecked Sendable {
    let url: String
    let method: String
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    let spec: ProxySpec
    let options: UpstreamOptions
    let scrubber: EchoScrubber
    let channel = ByteChannel()

    private let condition = NSCondition()
    private var head: UpstreamHead?
    private var headLines: [(name: String, value: String)] = []
    private var headStatus = 0
    private var failure: String?
    private var done = false
    private(set) var refusedAddress = false
    private(set) var bytesOut: Int64 = 0

    init(
        url: String, method: String, headers: [(name: String, value: String)], body: [UInt8], spec: ProxySpec,
        options: UpstreamOptions, scrubber: EchoScrubber
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.spec = spec
        self.options = options
        self.scrubber = scrubber
    }

    /// Starts the transfer and waits for the head (or the failure that came first).
    func start() -> Result<UpstreamHead, ProxyRefusal> {
        let thread = Thread { [self] in perform() }
        thread.stackSize = 1 << 20
        thread.start()
        condition.lock()
        defer { condition.unlock() }
        while head == nil && !done { condition.wait() }
        if let head { return .success(head) }
        if refusedAddress {
            return .failure(
                ProxyRefusal(
                    403, "upstream-address-refused",
                    "refused: \(spec.upstream.host) resolves to a private, loopback or link-local address; the policy does not allow that (allowPrivateUpstream)"
                ))
        }
        return .failure(
            ProxyRefusal(
                502, "upstream-unreachable", "the upstream \(spec.upstream.host) failed: \(failure ?? "no answer")"))
    }

    private func perform() {
        let pool = spec.allowPrivateUpstream ? HandlePool.privateAllowed : HandlePool.publicOnly
        let handle = pool.take()
        defer { pool.give(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        // An empty value removes a header curl would add on its own.
        for name in ["Expect", "Accept", "Content-Type"]
        where !headers.contains(where: { $0.name.caseInsensitiveEquals(name) }) {
            list = curl_slist_append(list, "\(name):")
        }
        defer { curl_slist_free_all(list) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let me = Unmanaged.passUnretained(self).toOpaque()
        var code: CURLcode = CURLE_OK
        body.withUnsafeBytes { bodyBytes in
            errorBuffer.withUnsafeMutableBufferPointer { errors in
                _ = ab_curl_setopt_string(handle, CURLOPT_URL, url)
                _ = ab_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, spec.upstream.scheme)
                _ = ab_curl_setopt_string(handle, CURLOPT_PROXY, "")
                _ = ab_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
                _ = ab_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                _ = ab_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
                _ = ab_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 256 * 1024)
                _ = ab_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds)
                _ = ab_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                if let caFile = options.caFile { _ = ab_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
                _ = ab_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
                if method == "HEAD" {
                    _ = ab_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
                } else if method != "GET" || !body.isEmpty {
                    _ = ab_curl_setopt_pointer(
                        handle, CURLOPT_POSTFIELDS,
                        bodyBytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } ?? emptyBody)
                    _ = ab_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
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
                code = curl_easy_perform(handle)
            }
        }
        if code == CURLE_OK {
            headComplete()  // a response without a body never reached the blank line callback twice
            let tail = scrubber.finish()
            bytesOut += Int64(tail.count)
            _ = channel.push(tail)
            channel.finish(error: false)
        } else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            condition.lock()
            failure = message
            condition.unlock()
            channel.finish(error: true)
        }
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    fileprivate func headerLine(_ line: String) {
        let trimmed =
            line.hasSuffix("\r\n") ? String(line.dropLast(2)) : line.hasSuffix("\n") ? String(line.dropLast()) : line
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
        headLines.append((name, scrubber.scrubAll(value)))
    }

    private func headComplete() {
        condition.lock()
        if head == nil { head = UpstreamHead(status: headStatus == 0 ? 502 : headStatus, headers: headLines) }
        condition.broadcast()
        condition.unlock()
    }

    fileprivate func bodyBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        headComplete()
        let scrubbed = scrubber.feed(bytes)
        bytesOut += Int64(scrubbed.count)
        return channel.push(scrubbed)
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
    call.headerLine(String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
    return length
}

private let writeCallback: ab_curl_write_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let call = Unmanaged<UpstreamCall>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return call.bodyBytes(UnsafeRawBufferPointer(start: data, count: length)) ? length : ab_curl_write_abort()
}

private let openSocketCallback: ab_curl_opensocket_callback = { context, _, address in
    guard let context, let address else { return ab_curl_socket_bad() }
    let call = Unmanaged<UpstreamCall>.fromOpaque(context).takeUnretainedValue()
    let allowed = withUnsafePointer(to: &address.pointee.addr) { call.addressAllowed($0) }
    guard allowed else { return ab_curl_socket_bad() }
    return socket(
        address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
}

/// Easy handles kept between requests, so that connections to an upstream are reused
/// (curl_easy_reset keeps a handle's connection cache). Two pools: a connection opened where
/// private addresses were allowed is never reused where they are not.
final class HandlePool: @unchecked Sendable {
    static let publicOnly = HandlePool()
    static let privateAllowed = HandlePool()
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }

    func take() -> UnsafeMutableRawPointer {
        lock.lock()
        let handle = idle.popLast()
        lock.unlock()
        if let handle {
            curl_easy_reset(handle)
            return handle
        }
        return curl_easy_init()!
    }

    func give(_ handle: UnsafeMutableRawPointer) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < 16 { idle.append(handle) } else { curl_easy_cleanup(handle) }
    }
}
