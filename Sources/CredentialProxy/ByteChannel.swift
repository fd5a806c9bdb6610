import Foundation

/// A bounded, blocking byte queue between the upstream thread (libcurl's write callback) and
/// the client connection's thread (libmicrohttpd's content reader). The producer blocks while
/// `capacity` bytes wait, so memory stays flat however large the response.
final class ByteChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var offset = 0
    private var buffered = 0
    private var finished = false
    private var failed = false
    private var cancelled = false
    /// Whether a side sleeps in `wait()`: the other wakes it only then (a wake-up is a system call).
    private var producerWaiting = false
    private var consumerWaiting = false
    let capacity: Int

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
    }

    /// Adds bytes; blocks while the queue is full. False when the reader went away.
    func push(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        condition.lock()
        defer { condition.unlock() }
        while buffered >= capacity && !cancelled {
            producerWaiting = true
            condition.wait()
            producerWaiting = false
        }
        if cancelled { return false }
        chunks.append(bytes)
        buffered += bytes.count
        if consumerWaiting { condition.broadcast() }
        return true
    }

    /// The producer is done; `error` marks a broken upstream stream.
    func finish(error: Bool) {
        condition.lock()
        finished = true
        failed = error
        condition.broadcast()
        condition.unlock()
    }

    /// The reader went away: wakes and fails the producer.
    func cancel() {
        condition.lock()
        cancelled = true
        chunks.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    enum ReadResult {
        case bytes(Int)
        case end
        case error
    }

    /// Copies up to `max` bytes into `buffer`, blocking until some are there or the stream ends.
    func read(into buffer: UnsafeMutableRawPointer, max: Int) -> ReadResult {
        condition.lock()
        defer { condition.unlock() }
        while head == chunks.count && !finished && !cancelled {
            consumerWaiting = true
            condition.wait()
            consumerWaiting = false
        }
        if head == chunks.count {
            return failed || cancelled ? .error : .end
        }
        var copied = 0
        while copied < max && head < chunks.count {
            let chunk = chunks[head]
            let take = min(max - copied, chunk.count - offset)
            chunk.withUnsafeBytes { source in
                (buffer + copied).copyMemory(from: source.baseAddress! + offset, byteCount: take)
            }
            copied += take
            offset += take
            if offset == chunk.count {
                chunks[head] = []
                head += 1
                offset = 0
            }
        }
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 {
            chunks.removeFirst(head)
            head = 0
        }
        buffered -= copied
        if producerWaiting && buffered < capacity { condition.broadcast() }
        return .bytes(copied)
    }
}
