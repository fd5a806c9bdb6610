/// The scrubbed body bytes libcurl delivered and the client has not taken yet: one buffer,
/// allocated once per transfer and reused (a chunk is copied in, then out). An array per chunk
/// cost a fresh allocation of ~128 KiB at every chunk, which glibc served from new pages: a page
/// fault per 4 KiB of the stream. One thread only: the client connection's.
final class BodyQueue {
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    /// The queued bytes are `storage[start..<end]`.
    private var start = 0
    private var end = 0

    var count: Int { end - start }
    var isEmpty: Bool { start == end }

    deinit {
        storage?.deallocate()
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        makeRoom(for: bytes.count)
        guard let storage else { return }
        (storage + end).copyMemory(from: source, byteCount: bytes.count)
        end += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Copies up to `max` bytes into `buffer`; returns how many.
    func take(into buffer: UnsafeMutableRawPointer, max: Int) -> Int {
        let taken = Swift.min(max, count)
        guard taken > 0, let storage else { return 0 }
        buffer.copyMemory(from: storage + start, byteCount: taken)
        start += taken
        if start == end { (start, end) = (0, 0) }
        return taken
    }

    /// Room for `more` bytes after `end`: the queued bytes moved to the front when that is
    /// enough, else a buffer twice as large (the transfer pauses at `UpstreamCall.bufferedLimit`,
    /// so it stays under that plus a chunk or two).
    private func makeRoom(for more: Int) {
        if end + more <= capacity { return }
        let queued = count
        if queued + more <= capacity, let storage {
            if queued > 0 { storage.copyMemory(from: storage + start, byteCount: queued) }
            (start, end) = (0, queued)
            return
        }
        var grown = Swift.max(capacity * 2, 64 * 1024)
        while grown < queued + more { grown *= 2 }
        let larger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        if queued > 0, let storage { larger.copyMemory(from: storage + start, byteCount: queued) }
        storage?.deallocate()
        storage = larger
        capacity = grown
        (start, end) = (0, queued)
    }
}
