import AgentboxCore
import Foundation
import TestSupport
import Testing

/// What a client may try against the proxy, and what reaches the upstream.
@Suite(.serialized) struct ProxyAttackTests {
    func request(_ lease: ProxyHarness.Lease, _ lines: [String], body: String = "") throws -> String {
        var text = lines.joined(separator: "\r\n") + "\r\n"
        if !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "Connection: close\r\n\r\n" + body
        return try RawSocket.exchange(path: lease.proxySocket, text)
    }

    func status(_ answer: String) -> Int { Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0 }

    @Test func upstreamEchoNeverReturnsTheRealKey() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        let answer = try request(lease, ["POST \(lease.grant.proxies[0].pathPrefix)/echo HTTP/1.1", "Host: x",
                                         "Authorization: Bearer \(placeholder)", "Content-Type: text/plain"],
                                 body: "please echo")
        #expect(status(answer) == 200, "\(answer)")
        #expect(answer.contains("please echo"))
        #expect(answer.contains("[REDACTED]"))
        #expect(!answer.contains(harness.realKey))
        // Not even without its last byte (a header value once lost its last character, so the
        // echo no longer matched), nor as a header's name.
        #expect(!answer.contains(String(harness.realKey.dropLast(1))), "\(answer)")
        #expect(!answer.contains("the key as a header name"), "\(answer)")
        #expect(answer.contains("Content-Type: application/json\r\n"), "\(answer)")
        #expect(answer.contains("X-One: x\r\n"), "\(answer)")
        #expect(answer.contains("X-Echo-Authorization: Bearer [REDACTED]\r\n"), "\(answer)")
        let encoded = EchoBase64.encode(harness.realKey)
        #expect(!answer.contains(String(encoded.dropLast(4))))
        #expect(harness.upstream.requestLog.contains(harness.realKey))
    }

    /// An upstream that sends a body after a HEAD answer: the proxy's client gets a bodiless
    /// answer (no chunked terminator either), and the connection is not reused, so the stray bytes
    /// never become the next request's answer.
    @Test func bodyAfterAHeadAnswerNeverReachesTheNextRequest() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        let prefix = lease.grant.proxies[0].pathPrefix
        for _ in 0..<3 {
            let headAnswer = try request(lease, ["HEAD \(prefix)/echo HTTP/1.1", "Host: x", "Authorization: Bearer \(placeholder)"])
            #expect(status(headAnswer) == 200, "\(headAnswer)")
            #expect(headAnswer.hasSuffix("\r\n\r\n"), "a body after a HEAD answer: \(headAnswer.debugDescription)")
            let next = try request(lease, ["GET \(prefix)/small HTTP/1.1", "Host: x", "Authorization: Bearer \(placeholder)"])
            #expect(status(next) == 200, "\(next)")
            #expect(next.contains("{\"ok\":true}"), "\(next)")
            #expect(!next.contains("BLEED") && !next.contains(harness.realKey), "\(next)")
        }
    }

    @Test func proxyDropsClientCredentialsAndConnectionHeaderTrick() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        let answer = try request(lease, [
            "GET \(lease.grant.proxies[0].pathPrefix)/echo HTTP/1.1", "Host: evil.example",
            "Authorization: Bearer \(placeholder)", "x-api-key: attacker-key", "Cookie: session=1",
            "Connection: Authorization, x-api-key", "X-Forwarded-Host: evil.example",
        ])
        #expect(status(answer) == 200, "\(answer)")
        let log = harness.upstream.requestLog
        let entry = try #require(log.split(separator: "\n").last.map(String.init))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any])
        let headers = (object["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        #expect(headers.filter { $0.0 == "authorization" }.map(\.1) == ["Bearer \(harness.realKey)"])
        #expect(!headers.contains { $0.0 == "x-api-key" || $0.0 == "cookie" || $0.0 == "x-forwarded-host" })
        #expect(headers.first { $0.0 == "host" }?.1 == "127.0.0.1:\(harness.upstream.port)")
        #expect(!log.contains(placeholder) && !log.contains("attacker-key"))
    }

    @Test func proxyRefusesHostWithCRLF() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        // A bare CR inside the Host value: either libmicrohttpd or the proxy refuses it.
        let answer = try request(lease, ["GET \(lease.grant.proxies[0].pathPrefix)/echo HTTP/1.1",
                                         "Host: a\rX-Injected: 1", "Authorization: Bearer \(placeholder)"])
        #expect(status(answer) == 400, "\(answer)")
        #expect(!harness.upstream.requestLog.contains("X-Injected"))
    }

    @Test func proxyRefusesPathOutsideAllowlist() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        let prefix = lease.grant.proxies[0].pathPrefix
        for line in ["DELETE \(prefix)/files/1 HTTP/1.1", "GET \(prefix)/chat/completions HTTP/1.1",
                     "GET \(prefix)/../../admin HTTP/1.1"] {
            let answer = try request(lease, [line, "Host: x", "Authorization: Bearer \(placeholder)"])
            #expect([400, 403].contains(status(answer)), "\(line): \(answer)")
            #expect(answer.contains("\"type\":\"agentbox_proxy\""))
        }
        #expect(harness.upstream.requestLog.isEmpty)
    }

    @Test func proxyIsNotAnOpenProxy() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        for line in ["GET http://169.254.169.254/latest/meta-data/ HTTP/1.1", "CONNECT 169.254.169.254:80 HTTP/1.1",
                     "GET http://127.0.0.1:\(harness.upstream.port)/v1/echo HTTP/1.1"] {
            let answer = try request(lease, [line, "Host: 169.254.169.254", "Authorization: Bearer \(placeholder)"])
            #expect([400, 404, 405].contains(status(answer)), "\(line): \(answer)")
        }
        #expect(harness.upstream.requestLog.isEmpty)
    }

    @Test func privateUpstreamRefusedUnlessPolicyAllowsIt() throws {
        let harness = try ProxyHarness(allowPrivate: false)
        let lease = try harness.lease()
        let answer = try request(lease, ["GET \(lease.grant.proxies[0].pathPrefix)/small HTTP/1.1", "Host: x",
                                         "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))"])
        #expect(status(answer) == 403, "\(answer)")
        #expect(answer.contains("allowPrivateUpstream"))
        #expect(harness.upstream.requestLog.isEmpty)
    }

    @Test func proxyRefusesBodiesOverTheLimit() throws {
        let harness = try ProxyHarness(maxBodyBytes: 100)
        let lease = try harness.lease()
        let answer = try request(lease, ["POST \(lease.grant.proxies[0].pathPrefix)/echo HTTP/1.1", "Host: x",
                                         "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))"],
                                 body: String(repeating: "x", count: 500))
        #expect(status(answer) == 413, "\(answer)")
        #expect(harness.upstream.requestLog.isEmpty)
    }

    @Test func wrongOrMissingPlaceholderIsRefused() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let other = try harness.lease()
        let prefix = lease.grant.proxies[0].pathPrefix
        for auth in ["Authorization: Bearer abx-wrong", "X-Nothing: 1", "Authorization: Bearer \(harness.realKey)",
                     "Authorization: Bearer \(other.placeholder("OPENAI_API_KEY"))"] {
            let answer = try request(lease, ["GET \(prefix)/small HTTP/1.1", "Host: x", auth])
            #expect(status(answer) == 401, "\(auth): \(answer)")
        }
        // Another session's proxy socket does not know this lease.
        let answer = try request(other, ["GET \(prefix)/small HTTP/1.1", "Host: x",
                                         "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))"])
        #expect(status(answer) == 404, "\(answer)")
        #expect(harness.upstream.requestLog.isEmpty)
    }

    @Test func placeholderDiesWithTheLease() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        let lines = ["GET \(lease.grant.proxies[0].pathPrefix)/small HTTP/1.1", "Host: x", "Authorization: Bearer \(placeholder)"]
        #expect(status(try request(lease, lines)) == 200)
        _ = try lease.client.release(lease.grant.leaseId)
        let answer = try request(lease, lines)
        #expect(status(answer) == 401, "\(answer)")
        #expect(answer.contains("ended"))
    }

    @Test func neverSecretRequestedByRepositoryIsRefusedWithItsClass() throws {
        let harness = try ProxyHarness()
        #expect {
            _ = try harness.lease(names: ["OPENAI_API_KEY", "ROOT_TOKEN"])
        } throws: { error in
            "\(error)".contains("class never") && "\(error)".contains("ROOT_TOKEN")
        }
        #expect(!harness.auditText.contains(harness.realKey))
    }
}

enum EchoBase64 {
    static func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
}
