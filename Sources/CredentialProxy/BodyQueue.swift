/// The scrubbed body bytes libcurl delivered and the client has not taken yet, as the chunks the
/// scrubber returned (moved in, copied out once). One thread only: the client connection's.
struct BodyQueue {
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var offset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        count += chunk.count
        chunks.append(chunk)
    }

    /// Copies up to `max` bytes into `buffer`; returns how many.
    mutating func take(into buffer: UnsafeMutableRawPointer, max: Int) -> Int {
        var copied = 0
        while copied < max && head < chunks.count {
            let take = Swift.min(max - copied, chunks[head].count - offset)
            chunks[head].withUnsafeBytes { source in
                (buffer + copied).copyMemory(from: source.baseAddress! + offset, byteCount: take)
            }
            copied += take
            offset += take
            if offset == chunks[head].count {
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
        count -= copied
        return copied
    }
}
