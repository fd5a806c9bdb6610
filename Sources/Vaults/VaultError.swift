import AgentboxCore

/// Why a secret could not be read. Every message names the reference (and where useful the
/// program or file) and never contains the value or any other content of the vault.
public enum VaultError: Error, Equatable, CustomStringConvertible {
    /// The reference text does not parse.
    case invalidReference(reference: String, reason: String)
    /// No backend is registered for the scheme.
    case unsupportedScheme(reference: String, scheme: String, supported: [String])
    /// The entry, key or field does not exist; `what` says which (a path or a name).
    case notFound(reference: String, what: String)
    /// The program the backend runs (`pass`) is not on the broker's `PATH`.
    case backendNotInstalled(reference: String, program: String)
    /// The vault could not be decrypted (locked key, no secret key, cancelled pinentry);
    /// `reason` is one scrubbed line of the tool's error output.
    case decryptFailed(reference: String, reason: String)
    /// A vault file is group/other accessible, not a regular file, or not owned by the user.
    case unsafeFile(reference: String, UnsafeFileError)
    /// A vault file does not follow its format; `line` is 1-based, the content is not repeated.
    case malformedFile(reference: String, path: String, line: Int, reason: String)
    /// The backend's program did not finish in time and was killed.
    case timedOut(reference: String, program: String, seconds: Double)
    /// The backend's program failed in a way not covered above.
    case backendFailed(reference: String, program: String, status: String, reason: String)
    /// A system call on the vault failed (open, read).
    case system(reference: String, SystemError)

    public var reference: String {
        switch self {
        case .invalidReference(let reference, _), .unsupportedScheme(let reference, _, _),
            .notFound(let reference, _), .backendNotInstalled(let reference, _), .decryptFailed(let reference, _),
            .unsafeFile(let reference, _), .malformedFile(let reference, _, _, _), .timedOut(let reference, _, _),
            .backendFailed(let reference, _, _, _), .system(let reference, _):
            return reference
        }
    }

    public var description: String {
        let prefix = "cannot read secret \(reference): "
        switch self {
        case .invalidReference(_, let reason):
            return prefix + "not a valid secret reference: \(reason)"
        case .unsupportedScheme(_, let scheme, let supported):
            let list = supported.isEmpty ? "none" : supported.map { "\($0)://" }.joined(separator: ", ")
            return prefix + "unsupported scheme \(scheme):// (supported here: \(list))"
        case .notFound(_, let what):
            return prefix + "\(what) not found"
        case .backendNotInstalled(_, let program):
            return prefix + "\(program) is not installed (not found on the broker's PATH)"
        case .decryptFailed(_, let reason):
            return prefix + "could not decrypt (is the GnuPG key available and unlocked?): \(reason)"
        case .unsafeFile(_, let problem):
            return prefix + "unsafe vault file: \(problem)"
        case .malformedFile(_, let path, let line, let reason):
            return prefix + "\(path):\(line): \(reason)"
        case .timedOut(_, let program, let seconds):
            return prefix + "\(program) did not answer within \(Int(seconds.rounded()))s and was stopped"
        case .backendFailed(_, let program, let status, let reason):
            return prefix + "\(program) failed (\(status))" + (reason.isEmpty ? "" : ": \(reason)")
        case .system(_, let error):
            return prefix + error.description
        }
    }
}
