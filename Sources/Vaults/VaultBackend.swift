import AgentboxCore

/// A place secrets are read from on the laptop (`pass`, a file, …), selected by URI scheme.
///
/// An implementation returns the value in a `SecretBytes`, zeroes every temporary copy it made,
/// and throws only `VaultError`s whose messages name the reference, never the value.
public protocol VaultBackend: Sendable {
    /// Reads the secret `reference` names. The reference's scheme is the backend's own.
    func read(_ reference: SecretReference) throws(VaultError) -> SecretBytes
}
