import AgentboxCore
import Foundation
import TestSupport
import Testing

/// The policy file is the laptop's authority: an unsafe one is refused, and a broken edit picked
/// up by SIGHUP never replaces the policy in force.
@Suite struct PolicyFileTests {
    @Test func groupWritablePolicyIsRefusedByPolicyCheck() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let path = world.broker.directory.file("group-writable.yaml")
        try FileIO.write(path, FileIO.read(world.broker.policyPath) ?? [], mode: 0o664)
        let output = try world.broker.cli(["policy", "check", path])
        #expect(output.status == .exited(78), "\(redact(output.standardErrorText))")
        #expect(output.standardErrorText.contains(path), "\(redact(output.standardErrorText))")
        #expect(output.standardErrorText.contains("writable by group or others"), "\(redact(output.standardErrorText))")
        // The same content, private, is fine.
        let ok = try world.broker.cli(["policy", "check", world.broker.policyPath])
        #expect(ok.status == .exited(0), "\(redact(ok.standardErrorText))")
    }

    @Test func brokenPolicyReloadedBySIGHUPKeepsTheOldPolicy() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let request = world.secretsRun("billing-dev", "/usr/bin/printenv API_TOKEN")
        let expected = TestSecrets.apiToken + [0x0A]
        let before = try world.run(request, printsSecrets: true)
        #expect(before.status == .exited(0), "\(redact(before.standardErrorText))")

        let good = FileIO.readText(world.broker.policyPath)
        try world.broker.writePolicy(good.replacingOccurrences(of: "allowedCommands:\n", with: "allowedCommand:\n"))
        world.broker.sendHangup()
        try waitUntil("the broker reports the failed reload") { world.broker.log.contains("policy reload failed") }
        #expect(world.broker.log.contains("unknown key allowedCommand"))
        #expect(try world.auditEvents().contains { $0.event == "policy-reload" && $0.result == "kept old policy" })
        let after = try world.run(request, printsSecrets: true)
        #expect(after.status == .exited(0), "after a broken reload: \(redact(after.standardErrorText))")
        #expect(after.standardOutputBytes == expected, "after a broken reload: output differs")

        // A valid edit does take effect: the same request is refused once its command is gone.
        try world.broker.writePolicy(good.replacingOccurrences(of: "      - /usr/bin/printenv API_TOKEN\n", with: ""))
        world.broker.sendHangup()
        try waitUntil("the broker reloads") { world.broker.log.contains("policy reloaded from") }
        let refused = try world.run(request)
        #expect(refused.status == .exited(77), "after a valid reload: \(redact(refused.standardErrorText))")
        #expect(refused.standardErrorText.contains("is not in allowedCommands of profile billing-dev"))
        #expect(world.placesHolding(TestSecrets.apiToken) == [], "API_TOKEN found where it must not be")
    }
}
