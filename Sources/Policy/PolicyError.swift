import AgentboxCore
import YAMLDocument

/// One finding about a policy file, at a position: an error (the policy is refused) or a
/// warning (`policy check` shows it; the policy still loads).
public struct PolicyDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Equatable {
        case error
        case warning
    }

    public let severity: Severity
    /// The file name as given to the loader.
    public let fileName: String
    public let mark: SourceMark
    public let message: String

    public init(_ severity: Severity, fileName: String, mark: SourceMark, message: String) {
        self.severity = severity
        self.fileName = fileName
        self.mark = mark
        self.message = message
    }

    /// `policy.yaml:7:5: error: message`, the shape compilers use so editors can jump to it.
    public var description: String {
        "\(fileName):\(mark.line):\(mark.column): \(severity.rawValue): \(message)"
    }
}

/// Why a policy could not be loaded. Loading is all-or-nothing: no partial policy is returned.
public enum PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or a directory above it can be changed by someone else, so it carries no authority.
    case unsafeFile(UnsafeFileError)
    /// The file could not be opened or read.
    case unreadable(SystemError)
    /// The file was read but is not a valid policy: every problem found, sorted by position.
    case invalid([PolicyDiagnostic])

    public var description: String {
        switch self {
        case .unsafeFile(let error): return "refusing policy: \(error)"
        case .unreadable(let error): return "cannot read policy: \(error)"
        case .invalid(let diagnostics):
            let count = diagnostics.count
            let summary = "policy refused: \(count) error\(count == 1 ? "" : "s"); fix them and reload"
            return (diagnostics.map(\.description) + [summary]).joined(separator: "\n")
        }
    }

    /// The diagnostics of an `invalid` policy, empty otherwise.
    public var diagnostics: [PolicyDiagnostic] {
        if case .invalid(let diagnostics) = self { return diagnostics }
        return []
    }
}
