import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `requireApproval: true`: the remote waits, the developer answers on the laptop with
/// `secret-broker approve` / `deny`, and nothing runs without that answer.
@Suite struct ApprovalTests {
    static let command = "/usr/bin/printenv API_TOKEN"

    @Test func commandWaitsForApprovalAndDenialOrTimeoutRefusesIt() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let remote = world.secretsRun("approved", Self.command)
        let token = TestSecrets.apiToken

        // Approved once: the remote says it waits, then the command runs.
        let once = try world.start(remote)
        let pending = try world.waitForPending { $0.count == 1 && $0[0].waiting == 1 }
        #expect(pending[0].profile == "approved")
        #expect(pending[0].argv == ["/usr/bin/printenv", "API_TOKEN"])
        #expect(pending[0].cwd == world.account.home + "/work/billing")
        #expect(pending[0].secretNames == ["API_TOKEN"])
        try waitUntil("the remote says it waits") { once.logText.contains("waiting for approval on the laptop") }
        #expect(once.log.occurrences(of: token) == 0, "the command ran before the approval")
        try world.answer(pending[0].approvalId, approveFor: "once")
        #expect(once.wait() == 0, "approved once: \(once.logText.count) bytes of output")
        let log = once.log
        let waitingAt = log.firstRange(of: Array("waiting for approval".utf8))?.lowerBound
        let valueAt = log.firstRange(of: token)?.lowerBound
        #expect(waitingAt != nil && valueAt != nil && waitingAt! < valueAt!, "the value did not follow the wait")
        #expect(log.occurrences(of: token) == 1)

        // Denied: 77 and the developer's refusal.
        let denied = try world.start(remote)
        let deniedPending = try world.waitForPending { $0.count == 1 && $0[0].waiting == 1 }
        try world.answer(deniedPending[0].approvalId, approveFor: nil)
        #expect(denied.wait() == 77)
        #expect(
            denied.logText.contains("denied: the developer refused the request on the laptop"),
            "\(redact(denied.logText))")
        #expect(denied.log.occurrences(of: token) == 0)

        // Nobody answers: 77 after approvalTimeout (5s).
        let started = ContinuousClock.now
        let unanswered = try world.start(remote)
        _ = try world.waitForPending { $0.count == 1 && $0[0].waiting == 1 }
        #expect(unanswered.wait(timeout: .seconds(30)) == 77)
        #expect(ContinuousClock.now - started >= .seconds(4))
        #expect(
            unanswered.logText.contains("denied: nobody approved the request on the laptop within 5s"),
            "\(redact(unanswered.logText))")
        #expect(unanswered.log.occurrences(of: token) == 0)
        #expect(try world.pendingApprovals().isEmpty)

        // Approved for 1h: the next identical request runs without asking again.
        let hour = try world.start(remote)
        let hourPending = try world.waitForPending { $0.count == 1 && $0[0].waiting == 1 }
        try world.answer(hourPending[0].approvalId, approveFor: "1h")
        #expect(hour.wait() == 0)
        #expect(hour.log.occurrences(of: token) == 1)
        let again = try world.run(remote, printsSecrets: true)
        #expect(again.status == .exited(0), "\(redact(again.standardErrorText))")
        #expect(!again.standardErrorText.contains("waiting for approval"))
        #expect(again.standardOutputBytes == token + [0x0A], "covered request: output differs")

        let events = try world.auditEvents()
        #expect(events.filter { $0.event == "approval-requested" }.count == 4)
        #expect(events.filter { $0.event == "grant" }.count == 3)
        #expect(world.placesHolding(token) == [], "API_TOKEN found where it must not be")
    }

    @Test func twentyConcurrentIdenticalRequestsShareOneApproval() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let one = "( \(world.secrets) run approved -- \(Self.command); echo \"exit=$?\" ) &"
        let remote =
            "cd work/billing && for i in \((1...20).map(String.init).joined(separator: " ")); do \(one) done; wait"
        let many = try world.start(remote)

        let pending = try world.waitForPending(timeout: .seconds(60)) { $0.count == 1 && $0[0].waiting == 20 }
        try world.answer(pending[0].approvalId, approveFor: "once")
        #expect(many.wait() == 0)
        let log = many.log
        #expect(log.occurrences(of: TestSecrets.apiToken) == 20, "not every command printed the value")
        #expect(log.occurrences(of: Array("exit=0".utf8)) == 20, "\(many.logText.count) bytes of output")

        let events = try world.auditEvents()
        #expect(events.filter { $0.event == "approval-requested" }.count == 1)
        #expect(events.filter { $0.event == "approval" }.count == 1)
        #expect(events.filter { $0.event == "grant" }.count == 20)
        #expect(world.placesHolding(TestSecrets.apiToken) == [], "API_TOKEN found where it must not be")
    }
}

/// Polls `condition` every 20ms for at most `timeout`; throws naming `what` if it never holds.
func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw FixtureError("timed out waiting until \(what)")
}
