import AgentboxCore
import CAgentboxSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    /// The socket is missing or nobody listens on it.
    case unreachable(socketPath: String, detail: String)
    case timedOut(socketPath: String, seconds: Int)
    case failed(detail: String)
    /// The cancel descriptor became readable before the answer was complete.
    case cancelled

    public var description: String {
        switch self {
        case .unreachable(let path, let detail): return "cannot reach the broker at \(path): \(detail)"
        case .timedOut(let path, let seconds): return "no answer from \(path) within \(seconds)s"
        case .failed(let detail): return "HTTP request failed: \(detail)"
        case .cancelled: return "the request was cancelled"
        }
    }
}

public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// Zeroes the body; call when a body that carried secrets has been decoded.
    public mutating func scrub() {
        body.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) }
        body.removeAll()
    }
}

/// HTTP/1.1 over a Unix socket: one request per connection (`Connection: close`), the request
/// written in a single `write`, the answer read to end of file.
///
/// The remote wrapper runs before every command, so it avoids libcurl, whose 30-odd shared
/// libraries cost more to load than the whole request (docs/protocol.md). It speaks only what the
/// broker sends: a status line, headers, and a body delimited by Content-Length, chunked
/// encoding, or the end of the connection.
public struct UnixHTTPClient: Sendable {
    public let socketPath: String
    public static let maximumResponseBytes = 16 << 20

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// - Parameter cancelDescriptor: when it becomes readable (it is not read), the request is
    ///   given up and the connection closed: `HTTPClientError.cancelled`.
    public func send(
        _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil,
        timeoutSeconds: Int = 30, cancelDescriptor: Int32? = nil
    ) throws(HTTPClientError) -> HTTPClientResponse {
        var request = try Self.encodeRequest(method: method, path: path, headers: headers, body: body)
        defer { request.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
        let deadline = monotonicSeconds() + Double(timeoutSeconds)
        let fd = try connectSocket()
        defer { close(fd) }
        let wait = Wait(deadline: deadline, timeoutSeconds: timeoutSeconds, cancelDescriptor: cancelDescriptor)
        try writeAll(fd, request, wait)
        var raw = try readToEnd(fd, wait)
        defer { raw.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
        if raw.isEmpty {
            throw .unreachable(socketPath: socketPath, detail: "the connection closed before an answer (did the SSH session end?)")
        }
        return try HTTPResponseParser.parse(raw)
    }

    static func encodeRequest(method: String, path: String, headers: [String: String], body: [UInt8]?)
        throws(HTTPClientError) -> [UInt8]
    {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            head += "\(name): \(value)\r\n"
        }
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        let forbidden = (head.utf8.dropLast(2).split(separator: UInt8(ascii: "\n")).contains { line in
            line.dropLast().contains(UInt8(ascii: "\r")) || line.contains(0)
        })
        guard !forbidden, !method.contains(" "), !path.contains(" ") else {
            throw .failed(detail: "refusing to send a request with a line break or space in its method, path or headers")
        }
        return Array(head.utf8) + (body ?? [])
    }

    private func connectSocket() throws(HTTPClientError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .unreachable(socketPath: socketPath, detail: "the socket path is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed(detail: "socket: \(SystemError("socket"))") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected != 0 {
            let code = errno
            close(fd)
            switch code {
            case ENOENT: throw .unreachable(socketPath: socketPath, detail: "no such socket")
            case ECONNREFUSED:
                throw .unreachable(socketPath: socketPath, detail: "nothing is listening (did the SSH session end?)")
            case EACCES: throw .unreachable(socketPath: socketPath, detail: "permission denied")
            default: throw .unreachable(socketPath: socketPath, detail: String(cString: strerror(code)))
            }
        }
        return fd
    }

    /// How long a request may wait, and what may cancel it.
    private struct Wait {
        var deadline: Double
        var timeoutSeconds: Int
        var cancelDescriptor: Int32?
    }

    private func waitFor(_ fd: Int32, events: Int16, _ wait: Wait) throws(HTTPClientError) {
        while true {
            let remaining = wait.deadline - monotonicSeconds()
            if remaining <= 0 { throw .timedOut(socketPath: socketPath, seconds: wait.timeoutSeconds) }
            var descriptors = [pollfd(fd: fd, events: events, revents: 0)]
            if let cancel = wait.cancelDescriptor { descriptors.append(pollfd(fd: cancel, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(min(remaining * 1000, 60_000)) + 1)
            if ready > 0 {
                // An answer already there is read first: a grant must not be dropped unread.
                if descriptors[0].revents != 0 { return }
                throw .cancelled
            }
            if ready < 0 && errno != EINTR { throw .failed(detail: "poll: \(SystemError("poll"))") }
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], _ wait: Wait) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            try waitFor(fd, events: Int16(POLLOUT), wait)
            let written = bytes.withUnsafeBytes { socketSend(fd, $0.baseAddress! + offset, $0.count - offset, noSignalFlag) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .unreachable(socketPath: socketPath, detail: "the connection was closed (did the SSH session end?)")
            }
            offset += written
        }
    }

    private func readToEnd(_ fd: Int32, _ wait: Wait) throws(HTTPClientError) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        defer { buffer.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
        while true {
            try waitFor(fd, events: Int16(POLLIN), wait)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return result }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .unreachable(socketPath: socketPath, detail: "the connection was closed (did the SSH session end?)")
            }
            result.append(contentsOf: buffer[0..<count])
            if result.count > Self.maximumResponseBytes { throw .failed(detail: "response larger than 16 MiB") }
            if HTTPResponseParser.isComplete(result) { return result }
        }
    }
}

private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// `send(2)` under a name the struct's own `send` method does not shadow.
private func socketSend(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    send(fd, buffer, count, flags)
}

#if os(Linux)
private let noSignalFlag = Int32(MSG_NOSIGNAL)
#else
private let noSignalFlag: Int32 = 0  // Darwin: SIGPIPE is ignored process-wide instead
#endif
