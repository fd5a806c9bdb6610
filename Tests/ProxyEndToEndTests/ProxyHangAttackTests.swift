import AgentboxCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Attacks on the proxy's watch of a departed client while it waits on its upstream.
@Suite struct ProxyHangAttackTests {
    func audited(_ harness: ProxyHarness, _ path: String, within seconds: Int) -> Bool {
        for _ in 0..<(seconds * 50) {
            if FileIO.readText(harness.auditPath).split(separator: "\n").contains(where: { $0.contains(path) }) { return true }
            usleep(20_000)
        }
        return false
    }

    /// A client that sends one more byte while its request waits on the upstream (a pipelined
    /// request, or any garbage) and then closes its connection must still be noticed: else the
    /// connection's thread waits on the stalled upstream for up to 600 s (forever with an upstream
    /// that trickles a header line now and then), and 256 such connections take the session's
    /// whole proxy.
    @Test func pipelinedClientThatLeavesEndsTheWaitForTheUpstream() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let fd = try RawSocket.connectedSocket(path: lease.proxySocket)
        let prefix = lease.grant.proxies[0].pathPrefix
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        RawSocket.send(fd, "GET \(prefix)/hang HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(placeholder)\r\n\r\n")
        for _ in 0..<100 where !harness.upstream.requestLog.contains("/hang") { usleep(20_000) }
        #expect(harness.upstream.requestLog.contains("/hang"))
        // The next request, sent while the first waits on its upstream (libmicrohttpd has read
        // the first one already, so these bytes stay in the socket).
        RawSocket.send(fd, "GET \(prefix)/small HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(placeholder)\r\n\r\n")
        usleep(1_500_000)  // at least one round of the wait has seen the pipelined bytes
        close(fd)
        #expect(audited(harness, "/hang", within: 6),
                "the exchange of a client that closed its connection was still running 6 s later")
    }

    /// Same with a client that first shuts down its sending side (still answered, as documented)
    /// and then closes its connection for good: the close must be noticed.
    @Test func halfClosedClientThatThenLeavesEndsTheWaitForTheUpstream() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let fd = try RawSocket.connectedSocket(path: lease.proxySocket)
        let prefix = lease.grant.proxies[0].pathPrefix
        RawSocket.send(
            fd, "GET \(prefix)/hang HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))\r\n\r\n")
        for _ in 0..<100 where !harness.upstream.requestLog.contains("/hang") { usleep(20_000) }
        shutdown(fd, Int32(SHUT_WR))
        usleep(1_500_000)
        close(fd)
        #expect(audited(harness, "/hang", within: 6),
                "the exchange of a client that closed its connection was still running 6 s later")
    }
}
