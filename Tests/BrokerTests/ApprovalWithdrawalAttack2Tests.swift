import AgentboxCore
import BrokerProtocol
import Foundation
import Testing
import UnixHTTP
import Policy
import SecretsRun
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@testable import Broker

/// Shared approvals and the "last requester leaving withdraws" rule.
@Suite struct ApprovalWithdrawalAttack2Tests {
    /// Two identical requests of one session share one approval. The second requester's
    /// long-poll starts and its client leaves while the first requester is between its 202 and
    /// its own long-poll: the approval must stay for the first requester, which never left.
    @Test func sharedApprovalSurvivesTheOtherRequesterLeaving() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (created, _) = try harness.session()
        let session = try #require(harness.core.state.withLock { harness.core.state.sessions[created.sessionId] })
        let service = harness.core.leaseService

        let first = service.requestLease(session: session, request: harness.request())
        let second = service.requestLease(session: session, request: harness.request())
        #expect(first.status == 202 && second.status == 202)
        let id = try WireJSON.decode(PendingApproval.self, from: first.body).approvalId
        #expect(try WireJSON.decode(PendingApproval.self, from: second.body).approvalId == id)

        // The second requester waits, then its client goes away (^C).
        let left = service.awaitApproval(session: session, approvalId: id, clientLeft: { true })
        #expect(left.status == 410)

        // The first requester now starts its long-poll; the developer approves meanwhile.
        let decided = Thread {
            Thread.sleep(forTimeInterval: 0.5)
            _ = service.decide(approvalId: id, choice: .once)
        }
        decided.start()
        let answer = service.awaitApproval(session: session, approvalId: id, clientLeft: { false })
        #expect(answer.status == 200,
                "the first requester never left but got \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        Thread.sleep(forTimeInterval: 0.6)
    }
}

/// A vault that takes its time (a pass/gpg pinentry, a 1Password unlock prompt).
struct SlowSecretSource: SecretSource {
    let seconds: Double
    func read(reference: String) throws -> SecretBytes {
        Thread.sleep(forTimeInterval: seconds)
        var value = Array("slow-vault-value-123".utf8)
        return SecretBytes(consuming: &value)
    }
}

@Suite struct GivenUpRequestAttack2Tests {
    /// docs/protocol.md: "no lease is ever granted that no one holds". A request that needs no
    /// approval but waits on a slow vault is given up by the client (agentbox's cancel
    /// descriptor, i.e. a stop signal): once the vault answers, the broker must see that the
    /// requester left and grant nothing.
    @Test func requestGivenUpDuringAVaultUnlockGetsNoLease() throws {
        let directory = try TemporaryDirectory(prefix: "abat")
        defer { directory.remove() }
        let policyPath = try directory.write("policy.yaml", Array(BrokerHarness.policy(approval: false)("/nonexistent").utf8))
        let core = try BrokerCore(
            policy: LoadedPolicy(policy: try PolicyLoader.load(path: policyPath)),
            secrets: SlowSecretSource(seconds: 1.5), audit: try AuditLog(path: directory.file("audit.log")),
            sessionDirectory: directory.file("sessions"))
        defer { core.shutdown() }
        let created = try core.registerSession(SessionRegistration(host: "devbox", remoteUser: "alex", ownerPid: 0))
        let client = LeaseClient(socketPath: created.socketPath, nonce: created.nonce, progress: { _ in })

        var pipeFDs: [Int32] = [-1, -1]
        #expect(pipe(&pipeFDs) == 0)
        defer { close(pipeFDs[0]); close(pipeFDs[1]) }
        let writer = pipeFDs[1]
        Thread {
            Thread.sleep(forTimeInterval: 0.3)
            var byte: UInt8 = 15
            _ = write(writer, &byte, 1)  // SIGTERM while the broker unlocks the vault
        }.start()
        let request = LeaseRequest(profile: "billing", cwd: "/home/alex/work/billing", argv: ["npm", "test"],
                                   requestedNames: [], remoteUser: "alex", agent: false)
        #expect(throws: SecretsError.self) { _ = try client.requestLease(request, cancelDescriptor: pipeFDs[0]) }
        Thread.sleep(forTimeInterval: 4.0)  // two secrets, 1.5 s each
        let active = core.leaseSummaries().filter { $0.sessionId == created.sessionId && $0.state == .active }
        #expect(active.isEmpty, "the request was given up, yet \(active.map(\.leaseId)) is active: nobody holds it")
    }
}

@Suite struct PromptUnderLockAttack2Tests {
    /// `finish` runs with the broker's state lock held and calls `prompter.resolved`, which writes
    /// to the broker's terminal. When that terminal does not take output (paused with ^S, stderr
    /// piped to a stuck pager or logger), that write must not hold the state lock: every session's
    /// requests, long-polls, watches, renewals and the control socket would wait on it.
    @Test func blockedPromptOutputDoesNotHoldTheBrokersStateLock() throws {
        var inputFDs: [Int32] = [-1, -1]
        var outputFDs: [Int32] = [-1, -1]
        #expect(pipe(&inputFDs) == 0 && pipe(&outputFDs) == 0)
        let directory = try TemporaryDirectory(prefix: "abpl")
        defer { directory.remove() }
        let vault = try directory.write("vault.env", Array("API_TOKEN=x1234567\nDB_PASSWORD=y1234567\n".utf8))
        let policyPath = try directory.write("policy.yaml", Array(BrokerHarness.policy(approval: true, timeout: "30s")(vault).utf8))
        let input = FileHandle(fileDescriptor: inputFDs[0], closeOnDealloc: false)
        let output = FileHandle(fileDescriptor: outputFDs[1], closeOnDealloc: false)
        let core = try BrokerCore(
            policy: LoadedPolicy(policy: try PolicyLoader.load(path: policyPath)),
            secrets: SlowSecretSource(seconds: 0), audit: try AuditLog(path: directory.file("audit.log")),
            sessionDirectory: directory.file("sessions"),
            prompter: { core in TerminalPrompter(input: input, output: output) { id, choice in
                core.leaseService.decide(approvalId: id, choice: choice) } })
        let created = try core.registerSession(SessionRegistration(host: "devbox", remoteUser: "alex", ownerPid: 0))
        let session = try #require(core.state.withLock { core.state.sessions[created.sessionId] })
        let request = LeaseRequest(profile: "billing", cwd: "/home/alex/work/billing", argv: ["npm", "test"],
                                   requestedNames: [], remoteUser: "alex", agent: false)
        let pending = core.leaseService.requestLease(session: session, request: request)
        let id = try WireJSON.decode(PendingApproval.self, from: pending.body).approvalId

        // The terminal stops taking output: fill the pipe.
        let flags = fcntl(outputFDs[1], F_GETFL)
        _ = fcntl(outputFDs[1], F_SETFL, flags | O_NONBLOCK)
        var block = [UInt8](repeating: 0x2E, count: 4096)
        while block.withUnsafeMutableBytes({ write(outputFDs[1], $0.baseAddress, $0.count) }) > 0 {}
        _ = fcntl(outputFDs[1], F_SETFL, flags)

        // The developer denies with `secret-broker deny` (the control socket's thread).
        Thread { _ = core.leaseService.decide(approvalId: id, choice: .deny) }.start()
        Thread.sleep(forTimeInterval: 0.3)
        // Meanwhile anything else that takes the state lock.
        let answered = DispatchSemaphore(value: 0)
        Thread {
            _ = core.leaseService.pendingSummaries()
            answered.signal()
        }.start()
        let free = answered.wait(timeout: .now() + 3) == .success
        #expect(free, "the broker's state lock is held by a terminal write that does not complete")

        // Unblock: drain the pipe, so that every thread can finish.
        let readEnd = outputFDs[0]
        let drain = Thread {
            var sink = [UInt8](repeating: 0, count: 65536)
            while sink.withUnsafeMutableBytes({ read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
        }
        drain.start()
        _ = answered.wait(timeout: .now() + 5)
        core.shutdown()
        close(inputFDs[1])
        close(outputFDs[1])
        Thread.sleep(forTimeInterval: 0.3)
        close(inputFDs[0])
        close(outputFDs[0])
    }
}
