import AgentboxCore

/// Why `secrets` could not run the command; each maps to a documented exit code.
public enum SecretsError: Error, CustomStringConvertible {
    case usage(String)
    case brokerUnreachable(String)
    case denied(String)
    /// The policy allowed the request, but the broker could not read a vault on the laptop.
    case vaultUnavailable(String)
    case protocolViolation(String)
    case badRequestFile(String)
    case exec(command: String, code: Int32)
    /// The request was given up (a stop signal while it waited); nothing was granted to us.
    case cancelled

    public var exitCode: Int32 {
        switch self {
        case .usage: return ExitCode.usage.rawValue
        case .brokerUnreachable: return ExitCode.unavailable.rawValue
        case .denied: return ExitCode.denied.rawValue
        case .vaultUnavailable: return ExitCode.temporaryFailure.rawValue
        case .protocolViolation: return ExitCode.software.rawValue
        case .badRequestFile: return ExitCode.dataError.rawValue
        case .exec(_, let code): return code == ENOENT ? 127 : 126
        case .cancelled: return 128 + SIGINT
        }
    }

    public var description: String {
        switch self {
        case .usage(let message): return message
        case .brokerUnreachable(let message): return message
        case .denied(let message): return message
        case .vaultUnavailable(let message): return message
        case .protocolViolation(let message): return "the broker's answer was refused: \(message)"
        case .badRequestFile(let message): return message
        case .exec(let command, let code): return "cannot execute \(command): \(String(cString: strerror(code)))"
        case .cancelled: return "the lease request was given up"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
