#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Why a child process could not be run to completion.
///
/// Messages name the executable, never its arguments, environment or input: those may be
/// sensitive even though secrets never belong in argv.
public enum ChildProcessError: Error, Equatable, CustomStringConvertible {
    /// `find(executable:inPath:)` found nothing, or the path given does not exist.
    case executableNotFound(name: String)
    /// posix_spawn failed (the errno it returned).
    case spawnFailed(executable: String, code: Int32)
    /// An argument or environment entry contains a NUL byte or the environment a name with `=`.
    case invalidArgument(executable: String, reason: String)
    /// The child ran longer than its timeout and was killed.
    case timedOut(executable: String, seconds: Double)
    /// A system call around the child (pipe, poll, waitpid) failed.
    case system(SystemError)

    public var description: String {
        switch self {
        case .executableNotFound(let name):
            return "\(name): executable not found"
        case .spawnFailed(let executable, let code):
            return "cannot run \(executable): \(String(cString: strerror(code)))"
        case .invalidArgument(let executable, let reason):
            return "cannot run \(executable): \(reason)"
        case .timedOut(let executable, let seconds):
            return "\(executable) did not finish within \(formatSeconds(seconds)) and was killed"
        case .system(let error):
            return error.description
        }
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    if seconds == seconds.rounded() { return "\(Int(seconds))s" }
    return "\(seconds)s"
}
