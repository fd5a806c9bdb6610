import AgentboxCore

/// Dispatches a reference to the backend registered for its scheme; an unknown scheme is
/// refused, never guessed at.
public struct VaultRegistry: Sendable {
    private var backends: [String: any VaultBackend]

    /// A registry with exactly `backends`, keyed by lowercase scheme.
    public init(backends: [String: any VaultBackend] = [:]) {
        self.backends = Dictionary(uniqueKeysWithValues: backends.map { ($0.key.lowercased(), $0.value) })
    }

    /// The laptop's standard backends: `file://` and `pass://`, with `pass` found on `PATH` from
    /// `environment` (the broker's environment) and given up after `passTimeout`.
    public static func standard(
        environment: [String: String] = ProcessEnvironment.current,
        passTimeout: Duration = PassVault.defaultTimeout
    ) -> VaultRegistry {
        VaultRegistry(backends: [
            "file": FileVault(),
            "pass": PassVault(environment: environment, timeout: passTimeout),
        ])
    }

    /// Registers (or replaces) the backend for `scheme`.
    public mutating func register(_ backend: any VaultBackend, for scheme: String) {
        backends[scheme.lowercased()] = backend
    }

    /// The schemes this registry can read, sorted.
    public var schemes: [String] { backends.keys.sorted() }

    /// Reads `reference` with the backend for its scheme.
    public func read(_ reference: SecretReference) throws(VaultError) -> SecretBytes {
        guard let backend = backends[reference.scheme] else {
            throw .unsupportedScheme(reference: reference.raw, scheme: reference.scheme, supported: schemes)
        }
        return try backend.read(reference)
    }

    /// Parses `reference` and reads it.
    public func read(_ reference: String) throws(VaultError) -> SecretBytes {
        try read(SecretReference(reference))
    }
}
