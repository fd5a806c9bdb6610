/// A growable list of `Int` without copy-on-write, for the normalizer's breakpoints and escape
/// spans: appended to once per escape sequence in the hot path, where `Array`'s uniqueness checks
/// cost more than the work itself.
final class IntList {
    private var base: UnsafeMutablePointer<Int>
    private var capacity: Int
    private(set) var count = 0

    init(_ elements: [Int] = [], capacity: Int = 256) {
        self.capacity = max(capacity, elements.count + 2, 4)
        base = .allocate(capacity: self.capacity)
        for element in elements { append(element) }
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var last: Int? { count > 0 ? base[count - 1] : nil }

    @inline(__always)
    subscript(index: Int) -> Int {
        get {
            precondition(index >= 0 && index < count)
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count)
            base[index] = newValue
        }
    }

    @inline(__always)
    func append(_ element: Int) {
        if count == capacity { grow() }
        base[count] = element
        count += 1
    }

    @inline(__always)
    func append(_ first: Int, _ second: Int) {
        if count + 2 > capacity { grow() }
        base[count] = first
        base[count + 1] = second
        count += 2
    }

    /// Drops the first `n` elements, moving the rest to the front.
    func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count)
        if n == 0 { return }
        UnsafeMutableRawPointer(base).copyMemory(from: base + n, byteCount: (count - n) * MemoryLayout<Int>.stride)
        count -= n
    }

    private func grow() {
        let fresh = UnsafeMutablePointer<Int>.allocate(capacity: capacity * 2)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity *= 2
    }
}
