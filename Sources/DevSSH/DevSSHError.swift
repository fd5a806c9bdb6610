import AgentboxCore

public enum DevSSHError: Error, CustomStringConvertible {
    case usage(String)
    case broker(String)
    case ssh(String)
    case remoteSetup(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return ExitCode.usage.rawValue
        case .broker: return ExitCode.unavailable.rawValue
        case .ssh: return 255
        case .remoteSetup: return ExitCode.config.rawValue
        }
    }

    public var description: String {
        switch self {
        case .usage(let message), .broker(let message), .ssh(let message), .remoteSetup(let message): return message
        }
    }
}
