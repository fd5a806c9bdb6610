#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Runs `body` on a thread of its own once the wall clock reaches `secondsSinceEpoch` (a lease's
/// expiry is a time on the broker's clock). The thread sleeps at most a second at a time and
/// looks at the clock again, so a clock that is set forward, or a machine that was suspended,
/// does not push the call past its time.
public func runAtWallClockTime(_ secondsSinceEpoch: Double, _ body: @escaping @Sendable () -> Void) {
    startDetachedThread {
        while true {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let remaining = secondsSinceEpoch - (Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
            if remaining <= 0 { break }
            let step = min(remaining, 1)
            var pause = timespec(tv_sec: Int(step), tv_nsec: Int((step - step.rounded(.down)) * 1e9))
            var left = timespec()
            while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        }
        body()
    }
}

/// Runs `body` on a thread of its own after `delay`.
public func runAfter(_ delay: Duration, _ body: @escaping @Sendable () -> Void) {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let (seconds, attoseconds) = delay.components
    let target = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + Double(seconds) + Double(attoseconds) / 1e18
    runAtWallClockTime(target, body)
}
