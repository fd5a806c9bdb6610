import Foundation
import AgentboxCore
import BrokerProtocol
import SecretsRun
import Testing
import UnixHTTP

@testable import Broker

@Suite struct LeaseGrantTests {
    @Test func grantedValuesArriveByteExactAndOnlyTheProfilesBundle() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        let received = try values(grant)
        #expect(received.keys.sorted() == ["API_TOKEN", "DB_PASSWORD"])
        #expect(received["API_TOKEN"] == BrokerHarness.tokenValue)
        #expect(received["DB_PASSWORD"] == BrokerHarness.passwordValue)
        #expect(grant.ttlSeconds == 3600)
    }

    @Test func requestedSubsetIsAllThatIsRead() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request(names: ["DB_PASSWORD"]))
        #expect(try values(grant).keys.sorted() == ["DB_PASSWORD"])
    }

    @Test func neverSecretIsRefusedByNameWithoutReadingTheVault() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let error = #expect(throws: SecretsError.self) { try client.requestLease(harness.request(names: ["ROOT_TOKEN"])) }
        #expect("\(error!)".contains("class never"))
        #expect(!harness.auditText.contains("vault-error"))
    }

    @Test func wrongNonceIsRefusedBeforeAnyPolicyDecision() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (created, _) = try harness.session()
        let impostor = LeaseClient(socketPath: created.socketPath, nonce: String(created.nonce.reversed()), progress: { _ in })
        let error = #expect(throws: SecretsError.self) { try impostor.requestLease(harness.request()) }
        #expect("\(error!)".contains("nonce"))
        let anonymous = LeaseClient(socketPath: created.socketPath, nonce: nil, progress: { _ in })
        #expect(throws: SecretsError.self) { try anonymous.requestLease(harness.request()) }
        #expect(harness.auditText.contains("bad-nonce"))
        #expect(!harness.auditText.contains("\"grant\""))
    }

    @Test func nonceOfOneSessionDoesNotOpenAnother() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (first, _) = try harness.session()
        let (second, _) = try harness.session()
        let crossed = LeaseClient(socketPath: second.socketPath, nonce: first.nonce, progress: { _ in })
        #expect(throws: SecretsError.self) { try crossed.requestLease(harness.request()) }
    }

    @Test func remoteUserClaimMustMatchTheSessionsLoginUser() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session(user: "alex")
        let error = #expect(throws: SecretsError.self) { try client.requestLease(harness.request(user: "root")) }
        #expect("\(error!)".contains("not the session's login user"))
    }

    @Test func hostComesFromTheSessionNotFromTheRemote() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session(host: "other-box")
        let error = #expect(throws: SecretsError.self) { try client.requestLease(harness.request()) }
        #expect("\(error!)".contains("host other-box"))
    }

    @Test func agentProfileIsRefusedToPlainSecretsRunAndPlainProfileToAgents() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let agentError = #expect(throws: SecretsError.self) {
            try client.requestLease(harness.request("agent-profile", argv: ["codex"]))
        }
        #expect("\(agentError!)".contains("agentbox start"))
        #expect(throws: SecretsError.self) { try client.requestLease(harness.request(agent: true)) }
    }

    @Test func auditLogHoldsNamesNeverValuesAndNoncesOnlyAsHashes() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (created, client) = try harness.session()
        _ = try client.requestLease(harness.request())
        _ = try? client.requestLease(harness.request(argv: ["rm", "-rf", "/"]))
        let audit = Array(harness.auditText.utf8)
        #expect(harness.auditText.contains("\"grant\""))
        #expect(harness.auditText.contains("API_TOKEN"))
        #expect(harness.auditText.contains("commandNotAllowed"))
        for forbidden in [Array("hunter2-correct-horse".utf8), Array("tok-\u{00fc}ber".utf8), Array(created.nonce.utf8)] {
            #expect(!audit.contains(subsequence: forbidden))
        }
    }

    @Test func releasedLeaseReportsReleasedAndRenewKeepsItActive() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        #expect(try client.renew(grant.leaseId).state == .active)
        #expect(try client.release(grant.leaseId).state == .released)
        #expect(try client.watch(grant.leaseId, timeoutSeconds: 1).state == .released)
    }

    @Test func revokedLeaseWakesItsWatcher() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        let revoker = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            _ = harness.core.end(grant.leaseId, as: .revoked, session: nil)
        }
        revoker.start()
        let started = ContinuousClock.now
        let status = try client.watch(grant.leaseId, timeoutSeconds: 20)
        #expect(status.state == .revoked)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func expiredLeaseIsMarkedByTheTicker() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy())
        let (_, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        harness.core.tick(now: grant.expiresAt + 1)
        #expect(try client.watch(grant.leaseId, timeoutSeconds: 1).state == .expired)
        #expect(harness.auditText.contains("\"expired\""))
    }

    @Test func endingTheSessionRemovesItsSocketAndKillsLeasesWhenThePolicySaysKill() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(onDisconnect: "kill"))
        let (created, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        #expect(harness.core.endSession(created.sessionId, reason: "test"))
        #expect(access(created.socketPath, F_OK) != 0)
        #expect(harness.core.leaseSummaries().first { $0.leaseId == grant.leaseId }?.state == .disconnected)
        #expect(throws: SecretsError.self) { try client.requestLease(harness.request()) }
    }

    @Test func graceOnDisconnectShortensTheLease() throws {
        let harness = try BrokerHarness(policyBody: BrokerHarness.policy(onDisconnect: "grace 5m"))
        let (created, client) = try harness.session()
        let grant = try client.requestLease(harness.request())
        _ = harness.core.endSession(created.sessionId, reason: "test")
        let lease = try #require(harness.core.leaseSummaries().first { $0.leaseId == grant.leaseId })
        #expect(lease.state == .active)
        #expect(lease.expiresAt <= Int64(time(nil)) + 300)
    }

    /// Ways a vault can fail to give a value the policy granted: a key missing from the file, the
    /// file missing, the file readable by others (refused before it is read).
    enum VaultProblem: String, CaseIterable, CustomStringConvertible {
        case missingKey, missingFile, fileReadableByOthers
        var description: String { rawValue }
    }

    /// A vault that cannot be read is not a denial: the remote is told the broker could not read
    /// the vault (503 `vault-unavailable`, exit 75), the audit says so (`vault-error`, never
    /// `denial`), and no value of the vault appears in the answer or the audit.
    @Test(arguments: VaultProblem.allCases)
    func unreadableVaultIsAnsweredAsVaultUnavailableNotAsDenial(_ problem: VaultProblem) throws {
        let harness = try BrokerHarness(policyBody: { vault in
            let policy = BrokerHarness.policy()(vault)
            switch problem {
            case .missingKey: return policy.replacingOccurrences(of: "#DB_PASSWORD", with: "#NO_SUCH_KEY")
            case .missingFile: return policy.replacingOccurrences(of: "\(vault)#DB_PASSWORD", with: "\(vault).gone#DB_PASSWORD")
            case .fileReadableByOthers: return policy
            }
        })
        if problem == .fileReadableByOthers { chmod(harness.vaultPath, 0o644) }
        let (_, client) = try harness.session()
        let error = try #require(#expect(throws: SecretsError.self) { try client.requestLease(harness.request()) })
        guard case .vaultUnavailable(let message) = error else {
            Issue.record("answered as \(error), not as an unreadable vault")
            return
        }
        #expect(error.exitCode == 75)
        let name = problem == .fileReadableByOthers ? "API_TOKEN" : "DB_PASSWORD"
        #expect(message.hasPrefix("the broker could not read the vault for \(name): cannot read secret file://"), "\(message)")
        switch problem {
        case .missingKey: #expect(message.contains("key NO_SUCH_KEY in \(harness.vaultPath) not found"), "\(message)")
        case .missingFile: #expect(message.contains("file \(harness.vaultPath).gone not found"), "\(message)")
        case .fileReadableByOthers: #expect(message.contains("unsafe vault file"), "\(message)")
        }
        let audit = harness.auditText
        let event = try #require(audit.split(separator: "\n").first { $0.contains("\"event\":\"vault-error\"") }, "\(audit)")
        #expect(event.contains("\"reason\":\"vault-unavailable\""))
        #expect(event.contains("\"names\":[\"\(name)\"]"))
        #expect(!audit.contains("\"denial\""), "\(audit)")
        #expect(!audit.contains("\"grant\""), "\(audit)")
        for value in ["hunter2", "tok-\u{00fc}ber"] {
            #expect(!message.contains(value))
            #expect(!audit.contains(value))
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
