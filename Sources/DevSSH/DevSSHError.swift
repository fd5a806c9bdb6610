import AgentboxCore

public enum DevSSHError: Error, CustomStringConvertible {
    case usage(String)
    case broker(String)
    case ssh(String)
    /// No ssh client to run: none on PATH, or `--ssh` names none.
    case sshNotFound(String)
    case remoteSetup(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return ExitCode.usage.rawValue
        case .broker: return ExitCode.unavailable.rawValue
        case .ssh: return 255
        case .sshNotFound: return 127
        case .remoteSetup: return ExitCode.config.rawValue
        }
    }

    public var description: String {
        switch self {
        case .usage(let message), .broker(let message), .ssh(let message), .sshNotFound(let message),
            .remoteSetup(let message):
            return message
        }
    }
}
