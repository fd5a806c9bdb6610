import CAgentboxSys

/// Secret material in a buffer this process owns: compared in constant time, never printed,
/// and zeroed when the last reference goes.
///
/// It deliberately has no `description` that shows the value; use `withUnsafeBytes` to hand the
/// bytes to the one place that needs them.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    private let storage: UnsafeMutableRawBufferPointer

    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        _ = storage.initializeMemory(as: UInt8.self, from: bytes)
        count = bytes.count
    }

    /// Takes the bytes of `array` and zeroes the array afterwards.
    public convenience init(consuming array: inout [UInt8]) {
        self.init(array)
        array.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) }
        array.removeAll()
    }

    deinit {
        ab_secure_zero(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    public let count: Int

    public var isEmpty: Bool { count == 0 }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// A copy as an array, for the few places (JSON encoding, execve) that need one; the caller
    /// zeroes it when done.
    public func copyBytes() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Whether the value contains `byte` (used to reject NUL before execve).
    public func contains(_ byte: UInt8) -> Bool {
        withUnsafeBytes { $0.contains(byte) }
    }

    /// Constant-time equality (`ab_constant_time_equal`); lengths are not secret.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        withUnsafeBytes { mine in other.withUnsafeBytes { theirs in constantTimeEqual(mine, theirs) } }
    }

    public var description: String { "<secret: \(count) bytes>" }
}

/// Compares two byte buffers in time that depends only on their length.
public func constantTimeEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    if lhs.count == 0 { return true }
    return ab_constant_time_equal(lhs.baseAddress, rhs.baseAddress, lhs.count) == 1
}

/// Compares two strings' UTF-8 bytes in constant time (for nonces and tokens).
public func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
    var left = Array(lhs.utf8)
    var right = Array(rhs.utf8)
    defer {
        left.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) }
        right.withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) }
    }
    return left.withUnsafeBytes { l in right.withUnsafeBytes { r in constantTimeEqual(l, r) } }
}
