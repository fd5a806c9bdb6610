/// Exit statuses the commands use, following sysexits(3) where a meaning exists.
public enum ExitCode: Int32, Sendable {
    case success = 0
    case failure = 1
    /// Command line usage error.
    case usage = 64
    /// Input data was wrong (a policy or request file that does not parse).
    case dataError = 65
    /// The broker cannot be reached.
    case unavailable = 69
    /// An internal error.
    case software = 70
    /// An operating system error (cannot exec, cannot create a socket).
    case osError = 71
    /// A temporary failure worth retrying: the broker allowed the request but could not read
    /// the vault (missing file, locked key, `pass` failing).
    case temporaryFailure = 75
    /// The request was denied by policy, by the developer, or by an approval timeout.
    case denied = 77
    /// A configuration error (policy file unsafe or invalid).
    case config = 78
}
