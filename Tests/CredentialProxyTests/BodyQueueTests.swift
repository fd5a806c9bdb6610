@testable import CredentialProxy
import Testing

/// The queue between libcurl's write callback and the client's buffer: bytes come out in order,
/// however the appends and takes interleave, and the buffer is reused rather than regrown.
@Suite struct BodyQueueTests {
    @Test func bytesComeOutInOrderThroughCompactionAndGrowth() {
        var generator = SystemRandomNumberGenerator()
        let queue = BodyQueue()
        var expected: [UInt8] = []
        var received: [UInt8] = []
        var next: UInt8 = 0
        var output = [UInt8](repeating: 0, count: 300_000)
        for _ in 0..<500 {
            let appended = Int.random(in: 0...200_000, using: &generator)
            var chunk = [UInt8](repeating: 0, count: appended)
            for index in chunk.indices {
                chunk[index] = next
                next &+= 1
            }
            expected += chunk
            chunk.withUnsafeBytes { queue.append($0) }
            let wanted = Int.random(in: 0...output.count, using: &generator)
            let taken = output.withUnsafeMutableBytes { queue.take(into: $0.baseAddress!, max: wanted) }
            #expect(taken == min(wanted, expected.count - received.count))
            received += output[0..<taken]
            #expect(queue.count == expected.count - received.count)
        }
        while !queue.isEmpty {
            let taken = output.withUnsafeMutableBytes { queue.take(into: $0.baseAddress!, max: $0.count) }
            received += output[0..<taken]
        }
        #expect(received == expected)
    }

    @Test func anEmptyQueueGivesNothing() {
        let queue = BodyQueue()
        var byte: UInt8 = 0
        #expect(queue.isEmpty && queue.take(into: &byte, max: 1) == 0)
        queue.append([])
        #expect(queue.isEmpty)
    }
}
