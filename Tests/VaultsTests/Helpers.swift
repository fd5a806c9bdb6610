import AgentboxCore
import TestSupport
import Vaults

/// Compares a secret with the expected bytes in constant time; only a Bool reaches test output.
func holds(_ secret: SecretBytes, _ expected: [UInt8]) -> Bool {
    secret.constantTimeEquals(SecretBytes(expected))
}

func holds(_ secret: SecretBytes, _ expected: String) -> Bool {
    holds(secret, Array(expected.utf8))
}

/// A value unique to one test, easy to search for in messages, argv and files.
func sentinel(_ label: String) -> String {
    "ab-sentinel-\(label)-\(Crypto.randomToken(byteCount: 6))"
}

/// The error `body` throws, as a `VaultError` (nil if it did not throw one).
func vaultError(_ body: () throws(VaultError) -> SecretBytes) -> VaultError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
