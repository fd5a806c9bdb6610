import AgentboxCore
import Foundation

/// The audit trail: one JSON object per line, appended with O_APPEND and written before the
/// answer it records is sent. Holds secret names, never values; nonces only as hashes.
public final class AuditLog: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()

    public init(path: String) throws(SystemError) {
        self.path = path
        try FileSafety.makePrivateDirectory(FileSafety.parent(of: path))
        fd = try valueOrErrno("open \(path)") { open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600) }
    }

    deinit { close(fd) }

    /// Appends one event. `fields` must not contain secret values; callers pass names only.
    /// Returns false when the event could not be written (the caller fails closed where it matters).
    @discardableResult
    public func record(_ event: String, _ fields: [String: AuditValue]) -> Bool {
        var object = fields
        object["event"] = .string(event)
        object["time"] = .string(Self.timestamp())
        var line = AuditValue.object(object).json
        line.append("\n")
        lock.lock()
        defer { lock.unlock() }
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                writeStandardError("secret-broker: cannot write audit log \(path): \(String(cString: strerror(errno)))\n")
                return false
            }
            offset += written
        }
        bytes.removeAll()
        return true
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = now.tv_nsec / 1_000_000
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(millis), 3))Z"
    }
}

/// A JSON value for audit events, encoded with sorted keys so lines are stable.
public enum AuditValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral
{
    case string(String)
    case int(Int64)
    case bool(Bool)
    case strings([String])
    case object([String: AuditValue])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    var json: String {
        switch self {
        case .string(let text): return JSONString.quote(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .strings(let list): return "[" + list.map(JSONString.quote).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.keys.sorted().map { JSONString.quote($0) + ":" + fields[$0]!.json }.joined(separator: ",") + "}"
        }
    }
}
