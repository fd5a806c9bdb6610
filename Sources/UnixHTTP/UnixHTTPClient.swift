import AgentboxCore
import CAgentboxSys
import CCurl

public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    /// The socket is missing or nobody listens on it.
    case unreachable(socketPath: String, detail: String)
    case timedOut(socketPath: String, seconds: Int)
    case failed(detail: String)

    public var description: String {
        switch self {
        case .unreachable(let path, let detail): return "cannot reach the broker at \(path): \(detail)"
        case .timedOut(let path, let seconds): return "no answer from \(path) within \(seconds)s"
        case .failed(let detail): return "HTTP request failed: \(detail)"
        }
    }
}

public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    /// Zeroes the body; call when a body that carried secrets has been decoded.
    public mutating func scrub() {
        body.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) }
        body.removeAll()
    }
}

/// HTTP/1.1 over a Unix socket through libcurl (CURLOPT_UNIX_SOCKET_PATH).
public struct UnixHTTPClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
        _ = Self.globalInit
    }

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    public func send(
        _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil,
        timeoutSeconds: Int = 30
    ) throws(HTTPClientError) -> HTTPClientResponse {
        guard let handle = curl_easy_init() else { throw .failed(detail: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }

        let sink = ResponseSink()
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        headerList = curl_slist_append(headerList, "Expect:")
        if body != nil { headerList = curl_slist_append(headerList, "Content-Type: application/json") }

        _ = ab_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socketPath)
        _ = ab_curl_setopt_string(handle, CURLOPT_URL, "http://broker" + path)
        _ = ab_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        _ = ab_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ab_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        _ = ab_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
        _ = ab_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        _ = ab_curl_setopt_write_function(handle, writeCallback)

        var payload = body ?? []
        defer { payload.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
        let result: CURLcode = payload.withUnsafeMutableBytes { buffer in
            if body != nil {
                _ = ab_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
                if let base = buffer.baseAddress {
                    _ = ab_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, base)
                } else {
                    _ = ab_curl_setopt_string(handle, CURLOPT_POSTFIELDS, "")
                }
            }
            return withExtendedLifetime(sink) {
                _ = ab_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
                return curl_easy_perform(handle)
            }
        }
        switch result {
        case CURLE_OK: break
        case CURLE_COULDNT_CONNECT:
            throw .unreachable(socketPath: socketPath, detail: "nothing is listening (is devssh connected?)")
        case CURLE_OPERATION_TIMEDOUT: throw .timedOut(socketPath: socketPath, seconds: timeoutSeconds)
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            throw .unreachable(socketPath: socketPath, detail: "the connection was closed (did the SSH session end?)")
        default: throw .failed(detail: String(cString: curl_easy_strerror(result)))
        }
        var status = 0
        _ = ab_curl_response_code(handle, &status)
        return HTTPClientResponse(status: status, body: sink.bytes)
    }
}

final class ResponseSink {
    var bytes: [UInt8] = []
    deinit { bytes.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
}

private let writeCallback: ab_curl_write_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let total = size * count
    if sink.bytes.count + total > 16 << 20 { return 0 }
    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: total))
    return total
}
