import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Echo scrubbing works on one answer at a time: a key that is only partly in each of two
/// answers would never be replaced.
@Suite struct ProxySplitEchoAttackTests {
    /// Two requests for two halves (`Range`) of an answer that echoes the credential would each
    /// carry half of the key, which no form of the scrubber matches (a partial match at the end
    /// of a stream is emitted as is): the agent would join them and have the real key. The proxy
    /// drops `Range` and `If-Range`, so every answer is whole and scrubbed whole (the fake
    /// upstream honours `Range` on /echo, as any static or cached resource does).
    @Test func rangeRequestsCannotSplitTheEchoAcrossAnswers() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let prefix = lease.grant.proxies[0].pathPrefix
        /// The answer's body, its chunks joined.
        func body(_ range: String?) throws -> String {
            var request = "GET \(prefix)/echo HTTP/1.1\r\nHost: x\r\n"
            request += "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))\r\n"
            if let range { request += "Range: \(range)\r\nIf-Range: *\r\n" }
            let answer = try RawSocket.exchange(path: lease.proxySocket, request + "Connection: close\r\n\r\n")
            var rest = Substring(answer[(answer.range(of: "\r\n\r\n")?.upperBound ?? answer.endIndex)...])
            var joined = ""
            while let line = rest.range(of: "\r\n"), let size = Int(rest[..<line.lowerBound], radix: 16), size > 0 {
                let stop = rest.utf8.index(line.upperBound, offsetBy: size)
                joined += rest[line.upperBound..<stop]
                rest = rest[rest.utf8.index(stop, offsetBy: 2)...]
            }
            return joined
        }
        /// Ranges written with five digits each, so that every request echoes headers of one length.
        func range(_ first: Int, _ last: Int) -> String {
            func digits(_ n: Int) -> String { String(repeating: "0", count: 5 - String(n).count) + String(n) }
            return "bytes=\(digits(first))-\(digits(last))"
        }
        let whole = try body(range(0, 99999))
        #expect(whole.contains("[REDACTED]") && !whole.contains(harness.realKey), "\(whole)")
        // The upstream's JSON up to the key is as it sent it:
        // {"headers": {..., "Authorization": "Bearer sk-real-…"}, ...}; cut the key in the middle.
        let keyStart = try #require(whole.range(of: "Bearer [REDACTED]")).lowerBound
        let middle = whole.utf8.distance(from: whole.startIndex, to: keyStart) + 7 + harness.realKey.utf8.count / 2
        let first = try body(range(0, middle - 1))
        let second = try body(range(middle, 99999))
        #expect(!(first + second).contains(harness.realKey), "the real key, from two Range answers")
        #expect(!harness.upstream.requestLog.contains("Range"), "the upstream was sent a Range header")
    }

    /// Apache httpd's byte-range filter reads `Request-Range` when there is no `Range` (kept for
    /// Netscape 2-3 compatibility; `ap_set_byterange`), and answers 206 with the range: against such
    /// an upstream, a forwarded `Request-Range` would fetch an echoing answer in two halves, each
    /// with half of the real key. It is dropped like `Range`.
    @Test func requestRangeHeaderNeverReachesTheUpstream() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let prefix = lease.grant.proxies[0].pathPrefix
        var request = "GET \(prefix)/echo HTTP/1.1\r\nHost: x\r\n"
        request += "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))\r\n"
        request += "Request-Range: bytes=0-99\r\n"
        _ = try RawSocket.exchange(path: lease.proxySocket, request + "Connection: close\r\n\r\n")
        #expect(!harness.upstream.requestLog.lowercased().contains("range"),
                "the upstream was sent a range header: \(harness.upstream.requestLog)")
    }
}
