import AgentboxCore
import BrokerProtocol
import SecretsRun
import Testing

@testable import Broker

/// What agentbox's teardown scrub reports with `release` lands in the audit log; a failed scrub
/// gets an event of its own.
@Suite struct ScrubAuditTests {
    @Test(arguments: [0, 2])
    func scrubFindingsSentWithReleaseAreAudited(_ findings: Int) throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        let ending = LeaseEnding(reason: "exit", exitStatus: 3, scrubFindings: findings)
        #expect(try client.release(grant.leaseId, ending: ending).state == .released)
        let lines = harness.auditText.split(separator: "\n")
        #expect(lines.contains { $0.contains("\"lease-end\"") && $0.contains("\"scrubFindings\":\(findings)") })
        #expect(lines.contains { $0.contains("\"scrub-failed\"") } == (findings > 0), "\(harness.auditText)")
    }
}
