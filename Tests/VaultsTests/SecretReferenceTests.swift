import AgentboxCore
import Testing

@testable import Vaults

@Suite struct SecretReferenceTests {
    @Test func parsesSchemePathAndFragmentLiterally() throws {
        let reference = try SecretReference("op://Engineering/Billing Dev DB/url")
        #expect(reference.scheme == "op")
        #expect(reference.path == "Engineering/Billing Dev DB/url")
        #expect(reference.fragment == nil)
        let withField = try SecretReference("pass://github/bot#login")
        #expect(withField.path == "github/bot")
        #expect(withField.fragment == "login")
        let file = try SecretReference("file:///home/alex/dev.env#DB_PASSWORD")
        #expect(file.path == "/home/alex/dev.env")
        #expect(file.fragment == "DB_PASSWORD")
        #expect("\(file)" == "file:///home/alex/dev.env#DB_PASSWORD")
    }

    @Test(arguments: ["no-scheme", "://x", "1pass://x", "pass://", "pass://a\nb", "pa ss://x"])
    func malformedReferencesAreRefused(_ text: String) {
        #expect(throws: VaultError.self) { try SecretReference(text) }
    }

    @Test func unknownSchemeIsRefusedNotGuessed() throws {
        let registry = VaultRegistry.standard(environment: ["PATH": "/usr/bin:/bin"])
        let error = vaultError { () throws(VaultError) in try registry.read("op://Private/op-sa/credential") }
        #expect(
            error
                == .unsupportedScheme(
                    reference: "op://Private/op-sa/credential", scheme: "op", supported: ["file", "pass"]))
        #expect("\(error!)".contains("unsupported scheme op://"))
    }

    @Test func registryDispatchesByScheme() throws {
        struct Fixed: VaultBackend {
            func read(_ reference: SecretReference) throws(VaultError) -> SecretBytes { SecretBytes(Array("v".utf8)) }
        }
        var registry = VaultRegistry()
        registry.register(Fixed(), for: "Demo")
        #expect(holds(try registry.read("demo://anything"), "v"))
        #expect(registry.schemes == ["demo"])
    }
}
