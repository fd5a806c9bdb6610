#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Why a sandbox was not started. Every case names the protection or step concerned.
public enum SandboxError: Error, Equatable, CustomStringConvertible {
    /// The box cannot provide a protection the profile asks for; the agent is not run.
    case missingProtection(protection: String, reason: String)
    /// The request cannot be sandboxed as asked (a working directory that would expose too much).
    case invalidRequest(String)
    /// A step of building the sandbox failed in the child; `detail` says which operation.
    case stepFailed(step: String, detail: String?, code: Int32)
    /// The command could not be executed inside the sandbox.
    case exec(command: String, code: Int32)
    /// A system call in the supervisor failed.
    case system(String)

    public var description: String {
        switch self {
        case .missingProtection(let protection, let reason):
            return "refusing to start: this box cannot provide \(protection) (\(reason)); the agent is never run with less protection than asked"
        case .invalidRequest(let message):
            return "refusing to start: \(message)"
        case .stepFailed(let step, let detail, let code):
            return "refusing to start: sandbox step '\(step)'\(detail.map { " (\($0))" } ?? "") failed: \(String(cString: strerror(code)))"
        case .exec(let command, let code):
            return "cannot execute \(command) in the sandbox: \(String(cString: strerror(code)))"
        case .system(let message):
            return message
        }
    }
}
