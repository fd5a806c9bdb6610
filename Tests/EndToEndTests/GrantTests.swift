import AgentboxCore
import TestSupport
import Testing

/// A granted secret crosses pass → broker → session socket → ssh -R → `secrets run` → execve
/// without a byte changed, and leaves nothing behind.
@Suite struct GrantTests {
    @Test func grantedValuesArriveByteExactWithoutShellOrEncodingDamage() throws {
        let world = try TestSecrets.world(usePass: true)
        defer { world.stop() }

        let output = try world.run(world.secretsRun("billing-dev", "/usr/bin/env -0"), printsSecrets: true)
        #expect(output.status == .exited(0), "devssh: \(redact(output.standardErrorText))")
        let environment = TestSecrets.environment(fromNULSeparated: output.standardOutputBytes)
        let password = try #require(environment["DB_PASSWORD"], "DB_PASSWORD missing from the command's environment")
        let token = try #require(environment["API_TOKEN"], "API_TOKEN missing from the command's environment")
        #expect(
            password == TestSecrets.databasePassword,
            "DB_PASSWORD differs: \(password.count) bytes, expected \(TestSecrets.databasePassword.count)")
        #expect(
            token == TestSecrets.apiToken,
            "API_TOKEN differs: \(token.count) bytes, expected \(TestSecrets.apiToken.count)")
        // The session's own variables stay with `secrets`: the command cannot ask for more.
        #expect(environment["AGENTBOX_SESSION_NONCE"] == nil)
        #expect(environment["SECRETS_SOCKET"] == nil)

        let single = try world.run(
            world.secretsRun("billing-dev", "/usr/bin/printenv DB_PASSWORD"), printsSecrets: true)
        #expect(single.status == .exited(0), "devssh: \(redact(single.standardErrorText))")
        #expect(single.standardOutputBytes == TestSecrets.databasePassword + [0x0A], "printenv output differs")

        for (name, value) in [("DB_PASSWORD", TestSecrets.databasePassword), ("API_TOKEN", TestSecrets.apiToken)] {
            #expect(world.placesHolding(value) == [], "\(name) found where it must not be")
        }
        let grants = try world.auditEvents().filter { $0.event == "grant" }
        #expect(grants.count == 2)
    }
}
