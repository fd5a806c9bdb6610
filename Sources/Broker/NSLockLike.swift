import Foundation

/// A plain mutex with a scoped helper.
final class NSLockLike: @unchecked Sendable {
    private let lock = NSLock()

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
