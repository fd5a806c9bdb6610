import Sandbox

/// Combines what the profile asks for with what the command line asks for: the command line may
/// make the sandbox stricter, never looser.
enum SandboxSettings {
    /// Strictness order: none > proxy-only > host.
    static func network(profile: String?, requested: SandboxNetwork?) throws(AgentboxError) -> SandboxNetwork {
        guard let profile else { return requested ?? .proxyOnly }
        guard let required = SandboxNetwork(rawValue: profile) else {
            throw .lease(.protocolViolation("the lease names an unknown network mode \(profile)"))
        }
        guard let requested else { return required }
        if rank(requested) < rank(required) {
            throw .config("--network \(requested.rawValue) is looser than the profile's network: \(required.rawValue)")
        }
        return requested
    }

    /// The profile's `runAs` wins; a different `--run-as` is refused rather than silently ignored.
    static func account(profile: String?, requested: String?) throws(AgentboxError) -> String? {
        guard let profile else { return requested }
        if let requested, requested != profile {
            throw .config("--run-as \(requested) differs from the profile's runAs: \(profile)")
        }
        return profile
    }

    private static func rank(_ mode: SandboxNetwork) -> Int {
        switch mode {
        case .host: return 0
        case .proxyOnly: return 1
        case .none: return 2
        }
    }
}
