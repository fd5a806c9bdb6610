import AgentboxCore
import Sandbox
import SecretsRun

/// Why `agentbox` stopped before or instead of running the agent; each maps to an exit code.
public enum AgentboxError: Error, CustomStringConvertible {
    case usage(String)
    case sandbox(SandboxError)
    case lease(SecretsError)
    case config(String)
    case noSuchSession(String)
    case system(String)
    /// SIGTERM, SIGINT or SIGHUP arrived while the session was being set up: nothing was started.
    case stoppedBeforeStart(Int32)

    public var exitCode: Int32 {
        switch self {
        case .usage: return ExitCode.usage.rawValue
        case .sandbox(.exec(_, let code)): return code == ENOENT ? 127 : 126
        case .sandbox(.missingProtection), .sandbox(.invalidRequest): return AgentboxCommand.refusedExitCode
        case .sandbox: return ExitCode.osError.rawValue
        case .lease(let error): return error.exitCode
        case .config: return ExitCode.config.rawValue
        case .noSuchSession: return ExitCode.failure.rawValue
        case .system: return ExitCode.osError.rawValue
        case .stoppedBeforeStart(let signal): return 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .usage(let message), .config(let message), .system(let message): return message
        case .sandbox(let error): return error.description
        case .lease(let error): return error.description
        case .noSuchSession(let id): return "no live session \(id) (see agentbox list)"
        case .stoppedBeforeStart(let signal):
            return "stopped by \(String(cString: strsignal(signal))) before the agent started; nothing was run"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
