import AgentboxCore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The approval withdrawal through the real chain (devssh, ssh -R, sshd).
@Suite struct ApprovalWithdrawalAttack2Tests {
    /// A `secrets run` that is killed while it waits for approval must withdraw the approval, and
    /// an approval given afterwards must grant nothing. Over `ssh -R` the broker's end of the
    /// forwarded connection sees only a half-close (ssh shuts down its write side on the channel's
    /// EOF; it never learns that the remote client is gone), so a half-close counts as leaving.
    @Test func killedRequesterOverSSHForwardingGetsNoLease() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let request = world.secrets + " run approved -- /usr/bin/printenv API_TOKEN"
        let remote = "cd work/billing && { \(request) & pid=$!; sleep 2; kill -KILL $pid; echo requester-killed; sleep 6; }"
        let session = try world.start(remote)
        let pending = try world.waitForPending { $0.count == 1 && $0[0].waiting == 1 }
        try waitUntil("the remote killed the requester") { session.logText.contains("requester-killed") }
        usleep(1_200_000)  // six of the broker's 200 ms looks at the connection

        let stillPending = try world.pendingApprovals()
        #expect(stillPending.isEmpty, "the killed requester's approval is still pending on the laptop")
        // The developer approves what the laptop still shows.
        _ = try? world.broker.cli(["approve", pending[0].approvalId, "--for", "once"])
        usleep(500_000)
        let events = try world.auditEvents()
        #expect(events.filter { $0.event == "grant" }.isEmpty,
                "a lease was granted to a requester that had been killed: nobody holds or releases it")
        let leases = try world.broker.cli(["leases", "--json"])
        #expect(!leases.standardOutputText.contains("\"active\""), "an active lease nobody holds")
        _ = session.wait(timeout: .seconds(30))
    }
}
