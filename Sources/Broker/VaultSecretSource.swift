import AgentboxCore
import Vaults

/// The vault registry as the broker's source of values, announcing each read on the broker's
/// terminal (a `pass` read can wait on a pinentry prompt).
struct VaultSecretSource: SecretSource {
    let registry: VaultRegistry
    let progress: @Sendable (String) -> Void

    func read(reference: String) throws -> SecretBytes {
        progress("reading \(reference) (the vault may ask you to unlock it)")
        return try registry.read(reference)
    }
}
