import AgentboxCore
import CAgentboxSys
import CSandbox
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A running sandbox: its init (pid 1 inside, our child) and every process of its namespace.
public final class SandboxProcess: @unchecked Sendable {
    /// The sandbox's init as seen from outside: SIGTERM to it reaches every process of the
    /// session, SIGKILL ends all.
    public let pid: pid_t
    /// The listening sockets made inside the sandbox's network namespace, in the order of
    /// `SandboxPlan.loopbackListeners`; the caller owns them.
    public internal(set) var listeners: [Int32] = []
    /// A pidfd of the init (readable once it has exited), so that the waiting thread can also
    /// watch other descriptors; -1 where the kernel gives none (then `wait` blocks in waitid).
    private let exitDescriptor: Int32
    /// The init's status pipe: AB_REPORT_FINISHED once every process but the init is gone.
    private var reportDescriptor: Int32
    private var exitStatus: Int32?
    private var initStatus: Int32?
    /// Set, under the lock, once the init has exited but before it is reaped, so a signal is
    /// never sent to a pid that may have been reused.
    private let finished = Mutex(false)
    /// Set once every process of the session but the init is gone (the init's report, or its exit).
    private let over = Mutex(false)

    init(pid: pid_t, reportDescriptor: Int32 = -1) {
        self.pid = pid
        self.reportDescriptor = reportDescriptor
        exitDescriptor = ab_pidfd_open(pid)
    }

    deinit {
        if exitDescriptor >= 0 { close(exitDescriptor) }
        if reportDescriptor >= 0 { close(reportDescriptor) }
    }

    /// Waits until the session is over: the init reported that the agent exited and that it
    /// killed and reaped every other process of its pid namespace, or the init itself has exited
    /// (the kernel then ends every other process of the namespace). Returns the agent's exit code
    /// (128+signal when it was killed). The init may still be leaving: `reap()` waits for that.
    ///
    /// `onWake` runs on the waiting thread, once, when `wake` becomes readable (its byte is
    /// taken): one thread both waits for the session and acts on a stop signal.
    public func wait(wakingOn wake: Int32? = nil, onWake: () -> Void = {}) -> Int32 {
        if let exitStatus { return exitStatus }
        var watched = wake ?? -1
        if exitDescriptor >= 0 {
            while true {
                var fds = [pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: reportDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: watched, events: Int16(POLLIN), revents: 0)]
                guard poll(&fds, 3, -1) >= 0 || errno == EINTR else { break }
                if fds[1].revents != 0 {
                    if let code = finishedReport() {
                        exitStatus = code
                        over.withLock { $0 = true }
                        return code
                    }
                    close(reportDescriptor)
                    reportDescriptor = -1
                }
                if fds[0].revents != 0 { break }
                if fds[2].revents != 0 {
                    var byte: UInt8 = 0
                    _ = read(watched, &byte, 1)
                    watched = -1
                    onWake()
                }
            }
        }
        let result = reap()
        exitStatus = result
        return result
    }

    /// Waits until the init has exited and reaps it; returns its exit code. After `wait`, this
    /// is the init leaving (its namespaces torn down), every other process long gone.
    @discardableResult
    public func reap() -> Int32 {
        if let initStatus { return initStatus }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        finished.withLock { $0 = true }
        over.withLock { $0 = true }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR {
                status = 125 << 8
                break
            }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros, spelled out here.
        let code: Int32 = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        initStatus = code
        return code
    }

    /// The agent's code from the init's AB_REPORT_FINISHED record; nil at end of file or on
    /// any other record.
    private func finishedReport() -> Int32? {
        guard let record = SandboxLauncher.readReport(reportDescriptor), record.step == Int32(AB_REPORT_FINISHED) else {
            return nil
        }
        return record.detail
    }

    /// Sends `signal` to the init.
    public func send(_ signal: Int32) {
        finished.withLock { done in
            if !done { kill(pid, signal) }
        }
    }

    /// Whether the session is over (see `wait`).
    public var hasExited: Bool { over.withLock { $0 } }

    /// SIGTERM to every process of the session, up to `grace` for them to leave, then SIGKILL
    /// to the init, which takes every process of its namespace along.
    public func terminate(grace: Duration) {
        send(SIGTERM)
        let deadline = MonotonicInstant.now + grace
        while MonotonicInstant.now < deadline {
            if hasExited { return }
            usleep(5_000)
        }
        send(SIGKILL)
    }
}

/// Applies a `SandboxPlan` through CSandbox (`ab_sandbox_spawn`).
public enum SandboxLauncher {
    /// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER): nothing the session starts
    /// outlives it unseen (without a pid namespace, orphans come back here).
    public static func becomeSubreaper() {
        _ = ab_become_subreaper()
    }

    /// Starts the sandbox; returns once the command was exec'd inside, or throws the step that failed.
    ///
    /// Call it on the main thread: the init's parent-death signal (PR_SET_PDEATHSIG) fires when the
    /// *thread* that created it exits, so a worker thread that ends would take a healthy session
    /// with it.
    public static func spawn(_ plan: SandboxPlan) throws(SandboxError) -> SandboxProcess {
        guard ab_is_main_thread() == 1 else {
            throw .invalidRequest("the sandbox must be started from the main thread (PR_SET_PDEATHSIG is per thread)")
        }
        let arena = CArena()
        let mounts: [ab_mount_op] = plan.mounts.map { operation in
            var op = ab_mount_op()
            switch operation {
            case .filesystem(let type, let target, let options, let readOnly, let noExec):
                op.kind = Int32(AB_OP_FILESYSTEM)
                op.fstype = arena.string(type)
                op.target = arena.string(target)
                op.options = arena.string(options)
                op.flags = (readOnly ? UInt32(AB_MOUNT_READONLY) : 0) | (noExec ? UInt32(AB_MOUNT_NOEXEC) : 0)
            case .bind(let source, let target, let readOnly, let isFile, let inRoot):
                op.kind = Int32(AB_OP_BIND)
                op.source = arena.string(source)
                op.target = arena.string(target)
                op.flags = (readOnly ? UInt32(AB_MOUNT_READONLY) : 0) | (isFile ? UInt32(AB_MOUNT_FILE) : 0)
                    | (inRoot ? UInt32(AB_MOUNT_SOURCE_IN_ROOT) : 0)
            case .symlink(let target, let destination):
                op.kind = Int32(AB_OP_SYMLINK)
                op.source = arena.string(destination)
                op.target = arena.string(target)
            case .directory(let target, let mode):
                op.kind = Int32(AB_OP_DIRECTORY)
                op.target = arena.string(target)
                op.mode = mode
            }
            return op
        }
        let rules: [ab_seccomp_rule] = plan.seccomp.map { rule in
            var c = ab_seccomp_rule()
            c.syscall = arena.string(rule.syscall)
            switch rule.action {
            case .errno(let code):
                c.action = Int32(AB_SECCOMP_ERRNO)
                c.errno_value = code
            case .killProcess:
                c.action = Int32(AB_SECCOMP_KILL_PROCESS)
            }
            c.arg_index = Int32(rule.condition?.argument ?? -1)
            c.mask = rule.condition?.mask ?? 0
            c.value = rule.condition?.value ?? 0
            return c
        }
        let argv = arena.stringArray(plan.argv.map { Array($0.utf8) })
        let envp = arena.stringArray(plan.environment.map { Array($0.name.utf8) + [UInt8(ascii: "=")] + $0.value })
        let searchPath = plan.environment.last(where: { $0.name == "PATH" }).map { String(decoding: $0.value, as: UTF8.self) }
            ?? "/usr/local/bin:/usr/bin:/bin"

        var cPlan = ab_sandbox_plan()
        var namespaces: UInt32 = 0
        if plan.namespaces.contains(.user) { namespaces |= UInt32(AB_NS_USER) }
        if plan.namespaces.contains(.pid) { namespaces |= UInt32(AB_NS_PID) }
        if plan.namespaces.contains(.mount) { namespaces |= UInt32(AB_NS_MOUNT) }
        if plan.namespaces.contains(.ipc) { namespaces |= UInt32(AB_NS_IPC) }
        if plan.namespaces.contains(.uts) { namespaces |= UInt32(AB_NS_UTS) }
        if plan.namespaces.contains(.network) { namespaces |= UInt32(AB_NS_NET) }
        cPlan.namespaces = namespaces
        switch plan.identity {
        case .userNamespace(let insideUID, let outsideUID, let insideGID, let outsideGID):
            cPlan.map_inside_uid = insideUID
            cPlan.map_outside_uid = outsideUID
            cPlan.map_inside_gid = insideGID
            cPlan.map_outside_gid = outsideGID
        case .account(_, let uid, let gid):
            guard geteuid() == 0 else {
                throw .invalidRequest("runAs needs agentbox to run as root")
            }
            cPlan.switch_user = 1
            cPlan.uid = uid
            cPlan.gid = gid
        }
        cPlan.new_root = arena.string(plan.newRoot)
        cPlan.hostname = arena.string(plan.hostname)
        cPlan.workdir = arena.string(plan.workdir)
        cPlan.search_path = arena.string(searchPath)
        cPlan.argv = argv
        cPlan.envp = envp
        cPlan.listen_channel = -1
        var channel: [Int32] = [-1, -1]
        let wantsListeners = !plan.loopbackListeners.isEmpty && plan.namespaces.contains(.network)
        if wantsListeners {
            guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &channel) == 0 else {
                throw .system("cannot make the listener channel: \(SystemError("socketpair"))")
            }
            cPlan.listen_channel = channel[1]
        }
        defer { if wantsListeners { close(channel[0]) } }
        let ports = plan.loopbackListeners
        cPlan.stdin_fd = plan.stdio.input ?? 0
        cPlan.stdout_fd = plan.stdio.output ?? 0
        cPlan.stderr_fd = plan.stdio.error ?? 0
        cPlan.controlling_tty = plan.stdio.controllingTerminal ? 1 : 0
        cPlan.max_processes = UInt(max(0, plan.maxProcesses))

        var initPid: pid_t = 0
        var statusFD: Int32 = -1
        var launchFailure = ab_sandbox_report()
        let spawned = mounts.withUnsafeBufferPointer { mountBuffer in
            rules.withUnsafeBufferPointer { ruleBuffer in
                cPlan.mounts = mountBuffer.baseAddress
                cPlan.mount_count = mountBuffer.count
                cPlan.seccomp = ruleBuffer.baseAddress
                cPlan.seccomp_count = ruleBuffer.count
                return ports.withUnsafeBufferPointer { portBuffer in
                    cPlan.listen_ports = portBuffer.baseAddress
                    cPlan.listen_port_count = wantsListeners ? portBuffer.count : 0
                    return ab_sandbox_spawn(&cPlan, &initPid, &statusFD, &launchFailure)
                }
            }
        }
        if wantsListeners { close(channel[1]) }
        arena.scrub()
        guard spawned == 0 else { throw error(for: launchFailure, plan: plan) }

        let process = SandboxProcess(pid: initPid, reportDescriptor: statusFD)
        // AB_REPORT_RUNNING, or end of file (the init died before it could tell: `wait` gives
        // its status), or the failure of a step.
        let first = readReport(statusFD)
        guard let failure = first, failure.step != Int32(AB_REPORT_RUNNING) else {
            if wantsListeners {
                var fds = [Int32](repeating: -1, count: ports.count)
                let received = ab_receive_descriptors(channel[0], &fds, fds.count)
                guard received == ports.count else {
                    for fd in fds where fd >= 0 { close(fd) }
                    process.terminate(grace: .milliseconds(100))
                    throw .stepFailed(step: "listen on the proxy ports inside the sandbox", detail: nil, code: errno)
                }
                process.listeners = fds
            }
            return process
        }
        _ = process.wait()
        throw error(for: failure, plan: plan)
    }

    /// The error a failed step stands for: a protection the box cannot give (exit 78), an exec
    /// failure, or the step with the mount operation or seccomp rule it was at.
    private static func error(for failure: ab_sandbox_report, plan: SandboxPlan) -> SandboxError {
        if failure.step == Int32(AB_STEP_EXEC) {
            return .exec(command: plan.argv[0], code: failure.error)
        }
        var detail: String?
        if failure.step == Int32(AB_STEP_MOUNT_OP), failure.detail >= 0, Int(failure.detail) < plan.mounts.count {
            detail = plan.mounts[Int(failure.detail)].description
        } else if failure.step == Int32(AB_STEP_SECCOMP), failure.detail >= 0, Int(failure.detail) < plan.seccomp.count {
            detail = plan.seccomp[Int(failure.detail)].description
        }
        let stepName = String(cString: ab_sandbox_step_name(failure.step))
        let reason = String(cString: strerror(failure.error))
        if failure.step == Int32(AB_STEP_USER_NAMESPACE) {
            return .missingProtection(protection: "user namespaces", reason: "clone(CLONE_NEWUSER) failed: \(reason)")
        }
        if failure.step == Int32(AB_STEP_MOUNT_OP), let op = detail, op.hasPrefix("proc ") {
            return .missingProtection(protection: "a private /proc with hidepid=invisible", reason: "the kernel refused it: \(reason)")
        }
        return .stepFailed(step: stepName, detail: detail, code: failure.error)
    }

    static func readReport(_ fd: Int32) -> ab_sandbox_report? {
        var report = ab_sandbox_report()
        let size = MemoryLayout<ab_sandbox_report>.size
        while true {
            let count = withUnsafeMutableBytes(of: &report) { read(fd, $0.baseAddress, size) }
            if count == size { return report }
            if count < 0 && errno == EINTR { continue }
            return nil
        }
    }
}

/// C strings owned by Swift for the duration of a spawn, zeroed afterwards (they may hold secrets).
final class CArena {
    private var blocks: [UnsafeMutableRawBufferPointer] = []

    func string(_ text: String) -> UnsafePointer<CChar> {
        UnsafePointer(bytes(Array(text.utf8)))
    }

    func bytes(_ value: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: value.count + 1, alignment: 1)
        block.copyBytes(from: value)
        block[value.count] = 0
        blocks.append(block)
        return block.baseAddress!.assumingMemoryBound(to: CChar.self)
    }

    func stringArray(_ values: [[UInt8]]) -> UnsafePointer<UnsafeMutablePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: values.count + 1)
        for (index, value) in values.enumerated() { array[index] = bytes(value) }
        array[values.count] = nil
        blocks.append(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(array), count: (values.count + 1) * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride))
        return UnsafePointer(array)
    }

    func scrub() {
        for block in blocks { ab_secure_zero(block.baseAddress, block.count) }
    }

    deinit {
        scrub()
        for block in blocks { block.deallocate() }
    }
}
