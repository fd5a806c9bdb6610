import CCurl
import Synchronization

/// What a stopping proxy tells the transfers still running on its connections' threads: each
/// checks `stopping` between waits, and `stop()` wakes the ones waiting on their upstream's
/// socket, so stopping never waits on an upstream that does not answer.
final class ProxyShutdown: Sendable {
    private let flag = Atomic<Bool>(false)
    /// The multi handles of running transfers (as addresses: curl_multi_wakeup may be called
    /// from any thread).
    private let running = Mutex<Set<UInt>>([])

    var stopping: Bool { flag.load(ordering: .acquiring) }

    func register(_ multi: UnsafeMutableRawPointer) {
        running.withLock { _ = $0.insert(UInt(bitPattern: multi)) }
    }

    func unregister(_ multi: UnsafeMutableRawPointer) {
        running.withLock { _ = $0.remove(UInt(bitPattern: multi)) }
    }

    func stop() {
        flag.store(true, ordering: .releasing)
        running.withLock { handles in
            for address in handles {
                if let multi = UnsafeMutableRawPointer(bitPattern: address) { _ = curl_multi_wakeup(multi) }
            }
        }
    }
}
