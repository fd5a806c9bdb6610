#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Runs `body` on a thread of its own (pthread_create, detached).
///
/// For work that blocks for a long time — a long-poll, an accept loop, a relay — which must not
/// sit on Dispatch's global queue: its width is the number of cores, so on a 2-core box two
/// blocked tasks starve every timer and handler queued behind them (a lease-expiry timer fired
/// ~100 ms late that way).
public func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Work {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let work = Unmanaged.passRetained(Work(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { argument in
        #if canImport(Glibc)
        let work = Unmanaged<Work>.fromOpaque(argument!).takeRetainedValue()
        #else
        let work = Unmanaged<Work>.fromOpaque(argument).takeRetainedValue()
        #endif
        work.body()
        return nil
    }, work)
    precondition(status == 0, "pthread_create failed: \(status)")
    pthread_detach(thread)
}
