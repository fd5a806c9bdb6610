import AgentboxCore
import YAMLDocument

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A problem in a repository request file, at a position.
public struct RepositoryRequestFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let fileName: String
    public let mark: SourceMark
    public let message: String

    public var description: String { "\(fileName):\(mark.line):\(mark.column): \(message)" }
}

/// The repository's `.secrets.yaml`: which profile, which names and how long it would like.
///
/// It is a *request*, never authority: the repository is code anyone may have written. The
/// broker's policy decides; this file can only narrow what is asked for.
///
/// ```yaml
/// secretProfile: billing-dev
/// requires: [DB_URL, DB_PASSWORD]
/// ttl: 4h
/// ```
public struct RepositoryRequestFile: Sendable, Equatable {
    public static let fileName = ".secrets.yaml"
    static let keys = ["secretProfile", "requires", "ttl"]

    /// The profile to ask for when the command line names none.
    public let secretProfile: String?
    /// The secret names to ask for; empty asks for the profile's bundle.
    public let requires: [String]
    /// A shorter lease to ask for.
    public let ttl: Duration?

    public init(secretProfile: String? = nil, requires: [String] = [], ttl: Duration? = nil) {
        self.secretProfile = secretProfile
        self.requires = requires
        self.ttl = ttl
    }

    /// Parses request-file text; unknown keys and wrong types are errors, all of them reported.
    public static func parse(bytes: [UInt8], fileName: String) throws(RepositoryRequestFileErrors)
        -> RepositoryRequestFile
    {
        let root: YAMLNode
        do {
            root = try YAMLDocument.parse(bytes: bytes, fileName: fileName)
        } catch {
            throw RepositoryRequestFileErrors([
                RepositoryRequestFileError(fileName: fileName, mark: error.mark, message: error.message)
            ])
        }
        var errors: [RepositoryRequestFileError] = []
        func fail(_ mark: SourceMark, _ message: String) {
            errors.append(RepositoryRequestFileError(fileName: fileName, mark: mark, message: message))
        }
        guard case .mapping(let pairs) = root.kind else {
            throw RepositoryRequestFileErrors([
                RepositoryRequestFileError(
                    fileName: fileName, mark: root.mark,
                    message: "\(Self.fileName) must be a mapping with secretProfile, requires and ttl")
            ])
        }
        var profile: String?
        var names: [String] = []
        var ttl: Duration?
        var seen: Set<String> = []
        for pair in pairs {
            guard case .scalar(let key, _) = pair.key.kind, !pair.key.isNull else {
                fail(pair.key.mark, "keys must be names, got \(pair.key.kindDescription)")
                continue
            }
            guard seen.insert(key).inserted else {
                fail(pair.key.mark, "duplicate key \(key); keep one")
                continue
            }
            switch key {
            case "secretProfile":
                if let text = pair.value.scalarText, !pair.value.isNull, isProfileName(text) {
                    profile = text
                } else {
                    fail(pair.value.mark, "secretProfile must be a profile name such as billing-dev")
                }
            case "requires":
                guard case .sequence(let items) = pair.value.kind else {
                    fail(pair.value.mark, "requires must be a list of secret names, e.g. [DB_URL, DB_PASSWORD]")
                    continue
                }
                for item in items {
                    if let name = item.scalarText, !item.isNull, EnvironmentName.isValid(name) {
                        if !names.contains(name) { names.append(name) }
                    } else {
                        fail(item.mark, "each entry of requires must be an environment variable name such as DB_URL")
                    }
                }
            case "ttl":
                guard let text = pair.value.scalarText, !pair.value.isNull else {
                    fail(pair.value.mark, "ttl must be a duration such as 4h")
                    continue
                }
                do {
                    ttl = try DurationText.parse(text)
                } catch {
                    fail(pair.value.mark, "bad ttl: \(error)")
                }
            default:
                let known = keys.joined(separator: ", ")
                fail(
                    pair.key.mark,
                    "unknown key \(String(key.unicodeScalars.filter { $0.value >= 0x20 })) in \(Self.fileName); known keys: \(known)"
                )
            }
        }
        if !errors.isEmpty { throw RepositoryRequestFileErrors(errors) }
        return RepositoryRequestFile(secretProfile: profile, requires: names, ttl: ttl)
    }

    /// The nearest `.secrets.yaml` at or above `cwd` (an absolute path), walking up to `/`;
    /// nil when there is none. Only regular files count.
    public static func find(startingAt cwd: String) -> String? {
        guard cwd.hasPrefix("/") else { return nil }
        var directory = cwd
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        while true {
            let candidate = (directory == "/" ? "" : directory) + "/" + fileName
            var info = stat()
            if stat(candidate, &info) == 0 && info.st_mode & S_IFMT == S_IFREG { return candidate }
            if directory == "/" { return nil }
            directory = FileSafety.parent(of: directory)
        }
    }

    private static func isProfileName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-"
        }
    }
}

/// Every problem found in a request file, in file order.
public struct RepositoryRequestFileErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public let errors: [RepositoryRequestFileError]

    public init(_ errors: [RepositoryRequestFileError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
