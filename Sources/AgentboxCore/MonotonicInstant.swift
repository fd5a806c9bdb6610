#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A point in time on the monotonic clock, for deadlines and durations. `ContinuousClock` would
/// do the same, but it lives in the Concurrency runtime, and using it links that runtime and
/// libdispatch into every binary (their initialisation and relocations at every start).
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds on CLOCK_MONOTONIC.
    public let nanoseconds: Int64

    public static var now: MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let offset = overflow ? Int64.max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
        let (sum, sumOverflow) = instant.nanoseconds.addingReportingOverflow(offset)
        return MonotonicInstant(nanoseconds: sumOverflow ? Int64.max : sum)
    }

    public static func - (later: MonotonicInstant, earlier: MonotonicInstant) -> Duration {
        .nanoseconds(later.nanoseconds - earlier.nanoseconds)
    }
}
