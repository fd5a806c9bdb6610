import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Requests the policy or the session does not allow are refused on the remote with the rule's
/// message and exit status 77 (69 when there is no broker, 75 when the laptop's vault cannot be
/// read), and the command never runs.
@Suite struct RefusalTests {
    struct Case: CustomStringConvertible {
        let description: String
        let command: String
        let status: Int32
        let message: String
    }

    /// Runs each case through devssh and checks status, message, and that the command printed nothing.
    static func expectRefusals(_ cases: [Case], in world: RemoteWorld) throws {
        for refusal in cases {
            let output = try world.run(refusal.command)
            #expect(output.status == .exited(refusal.status), "\(refusal): \(redact(output.standardErrorText))")
            #expect(
                output.standardErrorText.contains(refusal.message),
                "\(refusal): stderr lacks \(refusal.message): \(redact(output.standardErrorText))")
            #expect(output.standardOutputBytes.isEmpty, "\(refusal): the command ran")
        }
        for (name, value) in [("DB_PASSWORD", TestSecrets.databasePassword), ("API_TOKEN", TestSecrets.apiToken)] {
            #expect(world.placesHolding(value) == [], "\(name) found where it must not be")
        }
    }

    @Test func refusesWrongPathWrongCommandUndeclaredNameAgentAndUnknownProfiles() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        // A repository that asks for a name the profile does not declare.
        try world.writeRemoteFile("work/billing/sub/.secrets.yaml", "requires: [DB_PASSWORD, AWS_SECRET_ACCESS_KEY]\n")
        let home = world.account.home
        try Self.expectRefusals(
            [
                Case(
                    description: "wrong path",
                    command: world.secretsRun("billing-dev", "/usr/bin/env -0", in: "work/other"),
                    status: 77,
                    message:
                        "denied: path \(home)/work/other is not in allowedPaths of profile billing-dev (policy.yaml:6)"),
                Case(
                    description: "wrong command", command: world.secretsRun("billing-dev", "/usr/bin/env"), status: 77,
                    message:
                        "denied: command /usr/bin/env is not in allowedCommands of profile billing-dev (policy.yaml:7)"),
                Case(
                    description: "command with an extra argument",
                    command: world.secretsRun("billing-dev", "/usr/bin/printenv API_TOKEN DB_PASSWORD"), status: 77,
                    message: "denied: command /usr/bin/printenv API_TOKEN DB_PASSWORD is not in allowedCommands"),
                Case(
                    description: "undeclared name",
                    command: world.secretsRun("billing-dev", "/usr/bin/env -0", in: "work/billing/sub"), status: 77,
                    message:
                        "denied: secret AWS_SECRET_ACCESS_KEY is not declared in profile billing-dev (policy.yaml:12)"),
                Case(
                    description: "agent profile", command: world.secretsRun("agent-tool", "/usr/bin/env -0"),
                    status: 77,
                    message: "denied: profile agent-tool is an agent profile (policy.yaml:"),
                Case(
                    description: "unknown profile", command: world.secretsRun("prod", "/usr/bin/env -0"), status: 77,
                    message: "denied: no profile named prod in policy.yaml"),
            ], in: world)
        let denials = try world.auditEvents().filter { $0.event == "denial" }
        #expect(denials.count == 6)
        #expect(try world.auditEvents().filter { $0.event == "grant" }.isEmpty)
    }

    @Test func refusesCallersWithoutTheSessionNonceAndReportsAMissingSocket() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let run = { (prefix: String) in world.secretsRun("billing-dev", "/usr/bin/env -0", prefix: prefix) }
        try Self.expectRefusals(
            [
                Case(
                    description: "wrong nonce",
                    command: run("AGENTBOX_SESSION_NONCE=\(String(repeating: "ab", count: 32)) "),
                    status: 77, message: "denied: missing or wrong session nonce"),
                Case(
                    description: "missing nonce", command: run("env -u AGENTBOX_SESSION_NONCE "), status: 77,
                    message: "denied: missing or wrong session nonce"),
                Case(
                    description: "absent socket", command: run("SECRETS_SOCKET=$HOME/no-broker.sock "), status: 69,
                    message: "no-broker.sock"),
            ], in: world)
        let badNonces = try world.auditEvents().filter { $0.event == "denial" && $0.reason == "bad-nonce" }
        #expect(badNonces.count == 2)
        #expect(try world.auditEvents().filter { $0.event == "grant" }.isEmpty)
    }

    /// A vault the broker cannot read (here the `file://` vault of API_TOKEN is gone) is no
    /// denial: `secrets run` says the broker could not read the vault and exits 75, the audit
    /// records a `vault-error`, and nothing is granted.
    @Test func unreadableVaultIsReportedAsSuchNotAsDenial() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let vault = world.laptop.file(TestSecrets.apiTokenFile)
        #expect(unlink(vault) == 0)
        try Self.expectRefusals(
            [
                Case(
                    description: "missing vault file",
                    command: world.secretsRun("billing-dev", "/usr/bin/printenv API_TOKEN"), status: 75,
                    message:
                        "secrets: the broker could not read the vault for API_TOKEN: cannot read secret file://\(vault): file \(vault) not found")
            ], in: world)
        let events = try world.auditEvents()
        #expect(events.contains { $0.event == "vault-error" && $0.reason == "vault-unavailable" })
        #expect(events.filter { $0.event == "denial" || $0.event == "grant" }.isEmpty)
    }
}
