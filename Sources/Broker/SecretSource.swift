import AgentboxCore

/// Where secret values come from (the vault registry in production).
public protocol SecretSource: Sendable {
    /// Reads the value `reference` names. A thrown error's description names the reference and
    /// never the value.
    func read(reference: String) throws -> SecretBytes
}
