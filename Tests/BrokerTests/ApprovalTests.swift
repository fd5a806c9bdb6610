import AgentboxCore
import BrokerProtocol
import Foundation
import SecretsRun
import Synchronization
import Testing

@testable import Broker

@Suite struct ApprovalTests {
    /// Polls until the broker shows a pending approval (optionally with `waiting` long-polls).
    func waitForPending(_ harness: BrokerHarness, waiting: Int = 1) throws -> ApprovalSummary {
        for _ in 0..<200 {
            let pending = harness.core.leaseService.pendingSummaries()
            if let first = pending.first, first.waiting >= waiting { return first }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw SecretsError.denied("no pending approval appeared")
    }

    @Test func approvedOnceGrantsThisRequestOnly() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (_, client) = try harness.session()
        let answered = Thread {
            if let pending = try? waitForPending(harness) {
                _ = harness.core.leaseService.decide(approvalId: pending.approvalId, choice: .once)
            }
        }
        answered.start()
        let grant = try client.requestLease(harness.request())
        #expect(try values(grant)["DB_PASSWORD"] == BrokerHarness.passwordValue)
        // A second identical request needs a new approval: "once" covers nothing later.
        let second = Thread {
            if let pending = try? waitForPending(harness) {
                _ = harness.core.leaseService.decide(approvalId: pending.approvalId, choice: .deny)
            }
        }
        second.start()
        let error = #expect(throws: SecretsError.self) { try client.requestLease(harness.request()) }
        #expect("\(error!)".contains("refused"))
    }

    @Test func approvalForAnHourCoversIdenticalRequestsButNotOthers() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (_, client) = try harness.session()
        Thread {
            if let pending = try? waitForPending(harness) {
                _ = harness.core.leaseService.decide(approvalId: pending.approvalId, choice: .oneHour)
            }
        }.start()
        _ = try client.requestLease(harness.request())
        _ = try client.requestLease(harness.request())
        #expect(harness.core.leaseService.pendingSummaries().isEmpty)
        // A different command is a different request: it waits for its own approval, and times out.
        let quickHarness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "1s"))
        let (_, quickClient) = try quickHarness.session()
        #expect(throws: SecretsError.self) { try quickClient.requestLease(quickHarness.request(argv: ["printenv", "DB_PASSWORD"])) }
    }

    @Test func unansweredApprovalIsDeniedAtTheTimeout() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "1s"))
        let (_, client) = try harness.session()
        let started = ContinuousClock.now
        let error = #expect(throws: SecretsError.self) { try client.requestLease(harness.request()) }
        #expect("\(error!)".contains("within 1s"))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(harness.auditText.contains("approval-timeout"))
    }

    @Test func concurrentIdenticalRequestsShareOnePrompt() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (_, client) = try harness.session()
        let granted = Mutex(0)
        let group = DispatchGroup()
        for _ in 0..<20 {
            group.enter()
            Thread {
                if (try? client.requestLease(harness.request())) != nil { granted.withLock { $0 += 1 } }
                group.leave()
            }.start()
        }
        let pending = try waitForPending(harness, waiting: 20)
        #expect(harness.core.leaseService.pendingSummaries().count == 1)
        #expect(harness.core.leaseService.decide(approvalId: pending.approvalId, choice: .once))
        #expect(group.wait(timeout: .now() + 20) == .success)
        #expect(granted.withLock { $0 } == 20)
        let prompts = harness.auditText.split(separator: "\n").filter { $0.contains("\"approval-requested\"") }
        #expect(prompts.count == 1)
    }

    @Test func approvalOfOneSessionCannotBeCollectedFromAnother() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (_, client) = try harness.session()
        let (_, other) = try harness.session()
        Thread { _ = try? client.requestLease(harness.request()) }.start()
        let pending = try waitForPending(harness)
        let response = try UnixHTTPProbe.get(other, path: Route.approval(pending.approvalId))
        #expect(response == 404)
        _ = harness.core.leaseService.decide(approvalId: pending.approvalId, choice: .deny)
    }

    @Test func endingTheSessionDeniesItsWaitingRequests() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (created, client) = try harness.session()
        Thread {
            _ = try? waitForPending(harness)
            _ = harness.core.endSession(created.sessionId, reason: "test")
        }.start()
        let error = #expect(throws: SecretsError.self) { try client.requestLease(harness.request()) }
        #expect("\(error!)".contains("session ended") || "\(error!)".contains("cannot reach"), "\(error!)")
    }

    @Test func promptShowsContextAndNamesButNoValues() throws {
        let summary = ApprovalSummary(
            approvalId: "ap-1", host: "remote-devbox-1", remoteUser: "alex", profile: "billing-dev",
            cwd: "/home/alex/work/billing", argv: ["./gradlew", "bootRun", "--args=a b"], secretNames: ["DB_URL", "DB_PASSWORD"],
            agent: false, waiting: 1, deadline: 0)
        let text = approvalPromptText(summary)
        #expect(text.contains("remote-devbox-1 requests profile billing-dev"))
        #expect(text.contains("/home/alex/work/billing"))
        #expect(text.contains("./gradlew bootRun '--args=a b'"))
        #expect(text.contains("DB_URL, DB_PASSWORD"))
    }

    @Test func promptNeutralisesTerminalEscapesInRemoteText() {
        #expect(shellQuotedForDisplay("\u{1b}[2J") == "'\\x1b[2J'")
    }
}

/// Raw calls on a session socket, for tests that need a status code.
enum UnixHTTPProbe {
    static func get(_ client: LeaseClient, path: String) throws -> Int {
        let response = try UnixHTTPClientShim.send(socket: client.socketPath, nonce: client.nonce, path: path)
        return response
    }
}

@Suite struct RenewalTests {
    @Test func leaseApprovedOnceCannotBeRenewedWithoutANewApproval() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(approval: true, timeout: "30s"))
        let (_, client) = try harness.session()
        Thread {
            for _ in 0..<200 {
                if let pending = harness.core.leaseService.pendingSummaries().first {
                    _ = harness.core.leaseService.decide(approvalId: pending.approvalId, choice: .once)
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }.start()
        let grant = try client.requestLease(harness.request())
        #expect(grant.renewable == false)
        let error = #expect(throws: SecretsError.self) { try client.renew(grant.leaseId) }
        #expect("\(error!)".contains("needs a new approval"))
    }

    @Test func renewalFollowsThePolicyInForce() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        #expect(grant.renewable)
        #expect(try client.renew(grant.leaseId).state == .active)
        let stricter = try BrokerHarness(policyBody: { vault in
            BrokerHarness.policy()(vault).replacingOccurrences(of: "\"npm test\", ", with: "")
        })
        harness.core.replacePolicy(stricter.core.policy.current)
        let error = #expect(throws: SecretsError.self) { try client.renew(grant.leaseId) }
        #expect("\(error!)".contains("allowedCommands"))
    }
}
