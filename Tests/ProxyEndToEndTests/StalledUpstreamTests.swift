import AgentboxCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An upstream that never answers holds no thread for longer than its client waits, and never
/// holds up the proxy's stop (which the broker's ticker runs when a session ends).
@Suite struct StalledUpstreamTests {
    func sendHangingRequest(_ lease: ProxyHarness.Lease) throws -> Int32 {
        let fd = try RawSocket.connectedSocket(path: lease.proxySocket)
        RawSocket.send(
            fd,
            "GET \(lease.grant.proxies[0].pathPrefix)/hang HTTP/1.1\r\nHost: x\r\n"
                + "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))\r\n\r\n")
        return fd
    }

    @Test func clientThatLeavesEndsTheWaitForTheUpstream() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let fd = try sendHangingRequest(lease)
        var logged = false
        for _ in 0..<100 where !logged {  // the upstream has the request
            logged = harness.upstream.requestLog.contains("/hang")
            usleep(20_000)
        }
        #expect(logged)
        close(fd)
        // The exchange ends (and is audited) within a few seconds, not when the upstream answers.
        var audited = false
        for _ in 0..<250 where !audited {
            audited = FileIO.readText(harness.auditPath).split(separator: "\n").contains { $0.contains("/hang") }
            usleep(20_000)
        }
        #expect(audited, "the exchange with a departed client was still running after 5 s")
    }

    @Test func stopDoesNotWaitForAnUpstreamThatNeverAnswers() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let fd = try sendHangingRequest(lease)
        defer { close(fd) }
        for _ in 0..<100 where !harness.upstream.requestLog.contains("/hang") { usleep(20_000) }
        let start = ContinuousClock.now
        harness.core.shutdown()
        let took = ContinuousClock.now - start
        #expect(took < .seconds(3), "stopping took \(took)")
    }

    /// A client that shuts down only its sending side after the request is still answered: only a
    /// connection closed both ways counts as gone.
    @Test func halfClosedClientStillGetsTheWholeStream() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let fd = try RawSocket.connectedSocket(path: lease.proxySocket)
        defer { close(fd) }
        RawSocket.send(
            fd,
            "GET \(lease.grant.proxies[0].pathPrefix)/timed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Authorization: Bearer \(lease.placeholder("OPENAI_API_KEY"))\r\n\r\n")
        shutdown(fd, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
        #expect(text.components(separatedBy: "\"index\"").count - 1 == 10, "\(text)")
    }
}
