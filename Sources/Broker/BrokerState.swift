import AgentboxCore
import BrokerProtocol
import Foundation

/// All mutable broker state behind one condition lock. Waiters (approval long-polls, lease
/// watches) sleep on the same condition and re-check after every change.
final class BrokerState: @unchecked Sendable {
    let condition = NSCondition()
    var sessions: [String: Session] = [:]
    var approvals: [String: ApprovalRecord] = [:]
    var leases: [String: LeaseRecord] = [:]
    /// Fingerprint of (host, user, profile, path, argv, names) → when a 1h/4h approval stops covering it.
    var approvedUntil: [String: Int64] = [:]

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// Wakes every waiter; call with the lock held after a change.
    func changed() {
        condition.broadcast()
    }

    /// Waits (lock held) for a change, at most `seconds`.
    func waitForChange(atMost seconds: Double) {
        _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
    }

    /// Waits (lock held) until `done()` or the deadline; returns whether `done()` became true.
    func wait(until deadline: Int64, _ done: () -> Bool) -> Bool {
        while !done() {
            let remaining = deadline - nowSeconds()
            if remaining <= 0 { return done() }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(min(remaining, 1))))
        }
        return true
    }
}

/// The identity of a request for approval purposes: what the developer saw and approved.
func approvalFingerprint(_ context: LeaseContext, _ terms: GrantTerms) -> String {
    var parts = [context.host, context.request.remoteUser, terms.profile, context.request.cwd]
    parts.append(String(context.request.argv.count))
    parts.append(contentsOf: context.request.argv)
    parts.append(String(context.request.agent))
    parts.append(contentsOf: terms.secretNames.sorted())
    return SHA256.hex(Array(parts.joined(separator: "\u{0}").utf8))
}
