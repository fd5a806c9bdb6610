#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Something one thread finishes and another waits for, with a deadline: set once, never reset.
/// On pthread's mutex and condition variable (timed against the monotonic clock), so that the
/// remote binaries need no Dispatch: linking libdispatch cost every `agentbox` and `secrets`
/// start its initialisation and the relocations of its tables.
public final class CompletionEvent: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var isComplete = false

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func complete() {
        pthread_mutex_lock(mutex)
        isComplete = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits for as long as it takes.
    public func wait() {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !isComplete { pthread_cond_wait(condition, mutex) }
    }

    /// Whether it completed within `timeout`.
    public func wait(timeout: Duration) -> Bool {
        var deadline = Self.deadline(after: timeout)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !isComplete {
            #if canImport(Glibc)
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { return isComplete }
            #else
            var relative = Self.remaining(until: deadline)
            if pthread_cond_timedwait_relative_np(condition, mutex, &relative) == ETIMEDOUT { return isComplete }
            #endif
        }
        return true
    }

    private static func deadline(after timeout: Duration) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = timeout.components
        var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var wholeSeconds = Int(now.tv_sec) + Int(seconds) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        if wholeSeconds < Int(now.tv_sec) { wholeSeconds = Int.max }
        return timespec(tv_sec: wholeSeconds, tv_nsec: nanoseconds)
    }

    #if !canImport(Glibc)
    private static func remaining(until deadline: timespec) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        var nanoseconds = (Int(deadline.tv_sec) - Int(now.tv_sec)) * 1_000_000_000 + Int(deadline.tv_nsec) - Int(now.tv_nsec)
        nanoseconds = max(0, nanoseconds)
        return timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
    }
    #endif
}
