import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A client that stops reading holds the upstream back: the proxy keeps a bounded amount of the
/// answer (memory flat however large the response), and every byte still arrives, in order, once
/// the client reads again.
@Suite struct BackPressureTests {
    static let total = 64 << 20

    @Test func stalledClientHoldsTheUpstreamBackAndGetsEveryByte() throws {
        let harness = try ProxyHarness()
        let lease = try harness.lease()
        let placeholder = lease.placeholder("OPENAI_API_KEY")
        let fd = try RawSocket.connectedSocket(path: lease.proxySocket, timeoutSeconds: 30)
        defer { close(fd) }
        // HTTP/1.0: the answer's end is the end of the connection (no chunked framing to undo).
        RawSocket.send(
            fd,
            "GET \(lease.grant.proxies[0].pathPrefix)/big?bytes=\(Self.total)&numbered=1 HTTP/1.0\r\nHost: x\r\n"
                + "Authorization: Bearer \(placeholder)\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var received: [UInt8] = []
        while Self.endOfHead(received) == nil {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            try #require(count > 0, "the answer stopped early: \(String(decoding: received, as: UTF8.self))")
            received += buffer[0..<count]
        }
        // Stalled for a while: the upstream gets only as far as the buffers on the way allow.
        var sentWhileStalled = 0
        for _ in 0..<15 {
            usleep(100_000)
            sentWhileStalled = harness.upstream.bigBytesSent
        }
        #expect(sentWhileStalled < 32 << 20, "the upstream sent \(sentWhileStalled) bytes to a client that read none")

        var bodyBytes = 0
        var stray = 0
        let headEnd = try #require(Self.endOfHead(received))
        #expect(String(decoding: received[..<headEnd], as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        // Every 64 KiB block starts with its number (eight digits), the rest is "x".
        func count(_ bytes: ArraySlice<UInt8>) {
            for byte in bytes {
                let offset = bodyBytes % 65536
                let expected =
                    offset < 8 ? Array(String(100_000_000 + bodyBytes / 65536).utf8.dropFirst())[offset] : 0x78
                if byte != expected { stray += 1 }
                bodyBytes += 1
            }
        }
        count(received[headEnd...])
        while true {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            count(buffer[0..<got])
        }
        #expect(bodyBytes == Self.total)
        #expect(stray == 0)
        #expect(harness.upstream.bigBytesSent == Self.total)
    }

    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index..<index + 4].elementsEqual([13, 10, 13, 10]) {
            return index + 4
        }
        return nil
    }
}
