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
            writeError("secret-broker: no audit log at \(path)\n")
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
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            return String(decoding: line, as: UTF8.self)
        }
        let time = object["time"] as? String ?? "?"
        let event = object["event"] as? String ?? "?"
        let order = ["session", "lease", "approval", "host", "user", "profile", "cwd", "argv", "names", "decision",
                     "reason", "rule", "state", "message"]
        var parts = ["\(time) \(event)"]
        for key in order + object.keys.sorted().filter({ !order.contains($0) && $0 != "time" && $0 != "event" }) {
            guard let value = object[key] else { continue }
            if let list = value as? [String] {
                parts.append("\(key)=[\(list.joined(separator: " "))]")
            } else {
                parts.append("\(key)=\(value)")
            }
        }
        return parts.joined(separator: " ")
    }
}
