import AgentboxCore
import CAgentboxSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A session's supervisor as its record names it: a pid and the time that process started. A
/// pid alone is not an identity: once the supervisor is gone (SIGKILL, a crash) the kernel hands
/// the pid out again, and `agentbox stop` must never signal that other process, nor `list` call
/// its session live.
public struct SupervisorIdentity: Equatable, Sendable {
    public var pid: Int32
    /// When the process started, in clock ticks after boot (`/proc/PID/stat`, field 22); 0 when
    /// unknown, which no running process matches.
    public var startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// This process.
    public static var current: SupervisorIdentity {
        let pid = getpid()
        return SupervisorIdentity(pid: pid, startTime: startTime(of: pid) ?? 0)
    }

    /// Whether the process with this pid is the one that started at `startTime`, and runs (a
    /// zombie, killed and not yet reaped, does not).
    public var isRunning: Bool {
        guard startTime != 0, let status = Self.status(of: pid) else { return false }
        return status.running && status.startTime == startTime
    }

    /// Sends `signal` to the supervisor if it still runs: through a pidfd opened first and the
    /// start time checked after, so the signal reaches this process or nobody. Returns whether
    /// it was sent.
    public func send(_ signal: Int32) -> Bool {
        guard startTime != 0 else { return false }
        let pidfd = ab_pidfd_open(pid)
        guard pidfd >= 0 else { return false }
        defer { close(pidfd) }
        guard isRunning else { return false }
        return ab_pidfd_send_signal(pidfd, signal) == 0
    }

    /// Field 22 of `/proc/PID/stat` (zombies included).
    public static func startTime(of pid: Int32) -> UInt64? {
        status(of: pid)?.startTime
    }

    /// The state (field 3: not running when Z or X) and start time (field 22) in
    /// `/proc/PID/stat`. The fields are counted after the command name, which is in parentheses
    /// and may itself hold spaces and parentheses.
    static func status(of pid: Int32) -> (running: Bool, startTime: UInt64)? {
        guard pid > 0, let bytes = try? FileBytes.read("/proc/\(pid)/stat") else { return nil }
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state).
        guard fields.count > 19, let state = fields[0].first,
            let start = UInt64(String(decoding: fields[19], as: UTF8.self))
        else { return nil }
        return (state != UInt8(ascii: "Z") && state != UInt8(ascii: "X"), start)
    }
}
