import AgentboxCore
import Foundation

/// `secret-broker audit [--follow] [--json]`: prints the audit log, as JSON lines or readable.
enum AuditCommand {
    static func run(_ args: inout CommandLineArguments, defaultPath: String) throws -> Int32 {
        let follow = args.flag("--follow", "-f")
        let json = args.flag("--json")
        let path = try args.option("--audit-log") ?? defaultPath
        try args.finish()
        guard let handle = FileHandle(forReadingAtPath: path) else {
            writeStandardError("secret-broker: no audit log at \(path)\n")
            return ExitCode.failure.rawValue
        }
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty {
                if !follow { break }
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                print(json ? String(decoding: line, as: UTF8.self) : readable(line))
            }
        }
        return 0
    }

    /// `TIME EVENT key=value ...` with the most useful keys first.
    static func readable(_ line: Data) -> String {
        guard let object = try? JSONDecoder().decode([String: AuditValue].self, from: line) else {
            return String(decoding: line, as: UTF8.self)
        }
        let order = ["session", "lease", "approval", "host", "user", "profile", "cwd", "argv", "requested", "names",
                     "decision", "reason", "state", "message", "rule"]
        var parts = ["\(object["time"]?.plain ?? "?") \(object["event"]?.plain ?? "?")"]
        let rest = object.keys.sorted().filter { !order.contains($0) && $0 != "time" && $0 != "event" }
        for key in order + rest {
            if let value = object[key] { parts.append("\(key)=\(value.plain)") }
        }
        return parts.joined(separator: " ")
    }
}

extension AuditValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .int(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let list = try? container.decode([String].self) {
            self = .strings(list)
        } else {
            self = .object(try container.decode([String: AuditValue].self))
        }
    }

    /// The value as shown by `secret-broker audit` without `--json`.
    var plain: String {
        switch self {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .strings(let list): return "[" + list.map(shellQuotedForDisplay).joined(separator: " ") + "]"
        case .object: return json
        }
    }
}
