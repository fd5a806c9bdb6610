import AgentboxCore
import BrokerProtocol
import SecretsRun
import Testing
import TestSupport

@testable import Broker

#if canImport(Glibc)
import Glibc
#endif

/// `secrets run` on a plain profile with a proxy secret: the command gets a base URL served by a
/// relay that `secrets` leaves behind, and a placeholder; the relay dies with the command.
@Suite struct SecretsRunRelayTests {
    @Test func secretsRunWiresARelayThatLivesExactlyAsLongAsTheCommand() throws {
        let harness = try ProxyHarness()
        let session = try harness.core.registerSession(
            SessionRegistration(host: "devbox", remoteUser: SecretsCommand.currentUserName(), ownerPid: 0))
        let marker = "relay-marker-\(getpid())"
        let client = FakeUpstream.fixturesDirectory + "/proxy-client.py"
        let output = try ChildProcess.run(
            executable: try BuiltProducts.path("secrets"),
            arguments: ["run", "--quiet", "models", "--", "/bin/sh", "-c",
                        "python3 \(client) openai-chat \"$OPENAI_BASE_URL\" \"$OPENAI_API_KEY\"; echo \(marker) \"$OPENAI_BASE_URL\"",
                        marker],
            environment: [
                "PATH": ProcessEnvironment.current["PATH"] ?? "/usr/bin:/bin",
                "HOME": ProcessEnvironment.current["HOME"] ?? "/",
                "SECRETS_SOCKET": session.socketPath, "AGENTBOX_SESSION_NONCE": session.nonce,
            ], timeout: .seconds(60))
        let text = output.standardOutputText
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        #expect(text.contains("Hello from upstream"), "\(text) \(output.standardErrorText)")
        #expect(text.contains("\(marker) http://127.0.0.1:"), "\(text)")
        #expect(!text.contains(harness.realKey) && !output.standardErrorText.contains(harness.realKey))
        #expect(harness.upstream.requestLog.contains("Bearer \(harness.realKey)"))
        // The relay (a forked `secrets`, whose argv carries the marker) is gone with the command.
        var left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        for _ in 0..<100 where !left.isEmpty {
            usleep(20_000)
            left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        }
        #expect(left.isEmpty, "the relay outlived the command: \(left)")
    }
}
