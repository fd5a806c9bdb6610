import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The proxy drops `Range` and `If-Range` so that every answer is whole (two
/// ranges of an echoing answer would each hold half of the key, which no form matches).
@Suite struct ProxyRangeAttack2Tests {
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
