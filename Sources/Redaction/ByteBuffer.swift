#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A growable byte buffer that can drop bytes from its front cheaply and zeroes its storage when
/// it grows or goes away (it holds secret bytes in flight).
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes in use, starting at `base`.
    private(set) var count = 0
    /// How far from `base` bytes may ever have been written (everything handed out by
    /// `reserveTail`): only these are wiped, so a large buffer that saw little traffic is not
    /// paged in just to be zeroed.
    private var written = 0

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        wipe(base, max(written, count))
        base.deallocate()
    }

    /// Makes room for `extra` more bytes and returns where they go (call `didAppend` after).
    @inline(__always)
    func reserveTail(_ extra: Int) -> UnsafeMutablePointer<UInt8> {
        if count + extra > capacity { grow(to: count + extra) }
        // The caller may write all `extra` bytes, even those it does not keep.
        if count + extra > written { written = count + extra }
        return base + count
    }

    @inline(__always)
    func didAppend(_ n: Int) {
        count += n
        if count > written { written = count }
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let tail = reserveTail(bytes.count)
        memcpy(tail, source, bytes.count)
        didAppend(bytes.count)
    }

    /// Drops the first `n` bytes, moving the rest to the front.
    func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count)
        if n == 0 { return }
        let rest = count - n
        if rest > 0 { memmove(base, base + n, rest) }
        count = rest  // the bytes past `count` are overwritten by the next append and wiped on deinit
    }

    func removeAll() {
        wipe(base, count)
        count = 0
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        if count > 0 { memcpy(fresh, base, count) }
        wipe(base, max(written, count))
        base.deallocate()
        base = fresh
        capacity = newCapacity
        written = count
    }
}

/// Zeroes memory that held secret bytes; kept out of line so the store is not dropped as dead
/// before `deallocate`.
@inline(never)
func wipe(_ pointer: UnsafeMutablePointer<UInt8>, _ count: Int) {
    if count > 0 { memset(pointer, 0, count) }
}
