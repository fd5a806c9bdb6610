import Synchronization
import Testing

@testable import AgentboxCore

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CompletionEventTests {
    @Test func waitTimesOutWhenNothingCompletes() {
        let event = CompletionEvent()
        let start = MonotonicInstant.now
        #expect(!event.wait(timeout: .milliseconds(50)))
        #expect(MonotonicInstant.now - start >= .milliseconds(50))
    }

    @Test func completionBeforeTheWaitIsKept() {
        let event = CompletionEvent()
        event.complete()
        #expect(event.wait(timeout: .zero))
        #expect(event.wait(timeout: .seconds(1)))
    }

    @Test func completionOnAnotherThreadWakesTheWaiter() {
        let event = CompletionEvent()
        startDetachedThread {
            usleep(20_000)
            event.complete()
        }
        let start = MonotonicInstant.now
        #expect(event.wait(timeout: .seconds(10)))
        #expect(MonotonicInstant.now - start < .seconds(5))
    }
}

@Suite struct MonotonicInstantTests {
    @Test func arithmeticAndOrder() {
        let base = MonotonicInstant(nanoseconds: 1_000)
        #expect((base + .seconds(2)) - base == .seconds(2))
        #expect((base + .milliseconds(1.5)) - base == .microseconds(1_500))
        #expect(base < base + .nanoseconds(1))
        #expect((base + .seconds(Int64.max)).nanoseconds == Int64.max)
        #expect(MonotonicInstant.now <= MonotonicInstant.now)
    }
}

@Suite struct WallClockDelayTests {
    @Test func runsOnceTheTimeHasCome() {
        let event = CompletionEvent()
        let ranAt = Mutex<Double>(0)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let target = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + 0.15
        runAtWallClockTime(target) {
            var then = timespec()
            clock_gettime(CLOCK_REALTIME, &then)
            ranAt.withLock { $0 = Double(then.tv_sec) + Double(then.tv_nsec) / 1e9 }
            event.complete()
        }
        #expect(event.wait(timeout: .seconds(10)))
        #expect(ranAt.withLock { $0 } >= target)
    }

    @Test func aTimeInThePastRunsAtOnce() {
        let event = CompletionEvent()
        runAtWallClockTime(0) { event.complete() }
        #expect(event.wait(timeout: .seconds(10)))
    }
}
