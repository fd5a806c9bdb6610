import AgentboxCore
import BrokerProtocol
import TestSupport
import Foundation
import Testing

/// Real clients (the openai and anthropic Python SDKs) through the broker's proxy and the
/// remote relay, against a local upstream that insists on the real key.
@Suite(.serialized) struct ClientSDKTests {
    @Test func openAIStreamingChatCompletionThroughProxy() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        #expect(placeholder.hasPrefix("abx-") && placeholder.count == 68)
        #expect(!lease.grant.environment.contains { String(decoding: Base64.decode($0.valueBase64)!, as: UTF8.self) == harness.realKey })
        let output = try harness.client(["openai-chat", lease.baseURL("OPENAI_API_KEY"), placeholder])
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        #expect(output.standardOutputText.contains("Hello from upstream"))
        let log = harness.upstream.requestLog
        #expect(log.contains("Bearer \(harness.realKey)"))
        #expect(!log.contains(placeholder))
        #expect(harness.auditText.contains("\"event\":\"proxy\""))
        #expect(!harness.auditText.contains(harness.realKey) && !harness.auditText.contains(placeholder))
    }

    @Test func openAIStreamingResponsesThroughProxy() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let output = try harness.client(["openai-responses", lease.baseURL("OPENAI_API_KEY"), lease.placeholder("OPENAI_API_KEY")])
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        #expect(output.standardOutputText.contains("Hello from the fake Responses API"))
        #expect(harness.upstream.requestLog.contains("\"path\": \"/v1/responses\""))
    }

    @Test func anthropicStreamingMessageThroughProxy() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("ANTHROPIC_API_KEY")
        let output = try harness.client(["anthropic", lease.baseURL("ANTHROPIC_API_KEY"), placeholder])
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        #expect(output.standardOutputText.contains("Hello from Claude"))
        let log = harness.upstream.requestLog
        #expect(log.contains("[\"x-api-key\", \"\(harness.realKey)\"]"))
        #expect(!log.contains(placeholder))
    }

    @Test func httpsUpstreamTrustedThroughConfiguredCA() throws {
        let certificates = try TemporaryDirectory(prefix: "abca")
        defer { certificates.remove() }
        let ca = try ThrowawayCA(in: certificates)
        let harness = try ProxyHarness(upstreamCA: ca.caCertificate, tls: (ca.certificate, ca.key), upstreamHost: "localhost")
        let lease = try harness.lease()
        let output = try harness.client(["openai-chat", lease.baseURL("OPENAI_API_KEY"), lease.placeholder("OPENAI_API_KEY")])
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        #expect(output.standardOutputText.contains("Hello from upstream"))
    }
}

/// Streams keep their timing: each event reaches the client as the upstream sends it.
@Suite(.serialized) struct StreamingTests {
    func checkTiming(_ path: String) throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let output = try harness.client(["timed", lease.baseURL("OPENAI_API_KEY"), lease.placeholder("OPENAI_API_KEY"), path])
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        let arrivals = try #require(try JSONSerialization.jsonObject(with: Data(output.standardOutputText.utf8)) as? [[Double]])
        #expect(arrivals.count == 10)
        guard arrivals.count == 10 else { return }
        #expect(arrivals[0][2] - arrivals[0][1] < 0.25, "first event after \(arrivals[0][2] - arrivals[0][1]) s")
        for index in 1..<10 {
            let delay = arrivals[index][2] - arrivals[index][1]
            #expect(delay < 0.25, "event \(index) after \(delay) s")
            let spacing = arrivals[index][2] - arrivals[index - 1][2]
            #expect(spacing > 0.1 && spacing < 0.35, "spacing \(spacing) s before event \(index)")
        }
    }

    @Test func serverSentEventsAreFlushedAsTheyCome() throws { try checkTiming("/timed") }
    @Test func serverSentEventsWithCharsetAreFlushedAsTheyCome() throws { try checkTiming("/timed?charset=1") }
    @Test func chunkedNDJSONIsFlushedAsItComes() throws { try checkTiming("/ndjson") }
}
