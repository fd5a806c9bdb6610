/// A loaded, validated policy: the broker's authority on who gets which secrets.
///
/// Built only by `PolicyLoader`, which checks everything first: a `Policy` value is always
/// complete and valid. `evaluate(_:)` is a pure function of the policy and the request.
public struct Policy: Sendable {
    /// Always 1.
    public let version: Int
    /// The path the policy was loaded from, as given.
    public let path: String
    /// The file's base name, cited in denial messages (`policy.yaml:7`).
    public let displayName: String
    /// The profiles in file order.
    public let profiles: [Profile]
    /// Findings that do not stop the policy from loading (unrestricted users, paths, commands).
    public let warnings: [PolicyDiagnostic]

    public init(version: Int, path: String, profiles: [Profile], warnings: [PolicyDiagnostic]) {
        self.version = version
        self.path = path
        self.displayName = path.split(separator: "/").last.map(String.init) ?? path
        self.profiles = profiles
        self.warnings = warnings
    }

    public func profile(named name: String) -> Profile? {
        profiles.first { $0.name == name }
    }

    /// `policy.yaml:7`, for messages.
    func cite(_ line: Int) -> String { "\(displayName):\(line)" }
}
