import AgentboxCore
import BrokerProtocol
import Sandbox
import SecretsRun
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// How a session ended.
public enum SessionEnd: String, Sendable {
    case exit, expired, revoked, disconnected, stopped
}

/// Watches a running sandbox from outside: the lease (broker watch long-poll and the expiry
/// time), `agentbox stop` (SIGTERM to the supervisor), SIGINT/SIGHUP. At the first of these it
/// ends the session: SIGTERM to every process, `grace`, then SIGKILL to what is left.
final class SessionSupervisor: @unchecked Sendable {
    let process: SandboxProcess
    let grace: Duration
    private let reason = Mutex<SessionEnd?>(nil)

    init(process: SandboxProcess, grace: Duration) {
        self.process = process
        self.grace = grace
    }

    /// The first reason given wins; later calls do nothing.
    func end(_ why: SessionEnd) {
        let first = reason.withLock { current -> Bool in
            if current != nil { return false }
            current = why
            return true
        }
        guard first else { return }
        startDetachedThread { [process, grace] in process.terminate(grace: grace) }
    }

    var endReason: SessionEnd { reason.withLock { $0 } ?? .exit }

    /// Ends the session at `expiresAt` (seconds since the epoch) even if the broker is silent.
    func endAtExpiry(_ expiresAt: Int64) {
        runAtWallClockTime(Double(expiresAt)) { [weak self] in self?.end(.expired) }
    }

    /// Long-polls the broker's watch call until the lease stops being active.
    func watchLease(client: LeaseClient, leaseId: String, onDisconnect: String, expiresAt: Int64) {
        startDetachedThread { [weak self] in
            var failures = 0
            while let self, !self.process.hasExited, self.reason.withLock({ $0 == nil }) {
                do {
                    let status = try client.watch(leaseId, timeoutSeconds: 25)
                    failures = 0
                    switch status.state {
                    case .active: continue
                    case .expired: self.end(.expired)
                    case .revoked: self.end(.revoked)
                    case .released: self.end(.stopped)
                    case .disconnected: self.disconnected(onDisconnect, expiresAt: expiresAt)
                    }
                    return
                } catch {
                    failures += 1
                    if failures >= 3 {
                        self.disconnected(onDisconnect, expiresAt: expiresAt)
                        return
                    }
                    sleep(1)
                }
            }
        }
    }

    /// The profile's `onDisconnect`: `continue` (to the lease's end), `kill`, or `grace SECONDS`.
    private func disconnected(_ behavior: String, expiresAt: Int64) {
        let words = behavior.split(separator: " ")
        switch words.first {
        case "continue": return  // the expiry timer still ends it
        case "grace":
            let seconds = words.count > 1 ? Int(words[1]) ?? 0 : 0
            runAfter(.seconds(seconds)) { [weak self] in self?.end(.disconnected) }
        default:
            end(.disconnected)
        }
    }
}
