import AgentboxCore
import CAgentboxSys
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A child process on a pseudo-terminal this fixture owns, as if a developer ran it in a
/// terminal: the child leads a new session (`setsid`) whose controlling terminal is the pty's
/// slave, which is also its stdin, stdout and stderr. The test types with `send`, resizes with
/// `resize` (the kernel sends SIGWINCH to the foreground process group) and reads everything
/// the child wrote with `output`.
public final class PseudoTerminalProcess: @unchecked Sendable {
    public let pid: pid_t
    private let master: Int32
    private let collected = Mutex<[UInt8]>([])
    private let readerDone = DispatchSemaphore(value: 0)
    private var exitStatus: ChildProcess.ExitStatus?

    /// Starts `executable` with `arguments` and exactly `environment` on a new pty of
    /// `rows` x `columns`.
    public init(
        executable: String, arguments: [String], environment: [String: String], rows: UInt16 = 24,
        columns: UInt16 = 80
    ) throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        guard ab_pty_open(&master, &slave, &name, name.count) == 0 else {
            throw FixtureError("openpty: \(SystemError("openpty"))")
        }
        close(slave)  // the child opens it by name, after its setsid, to make it its controlling terminal
        _ = ab_set_terminal_size(master, rows, columns)
        self.master = master

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        let setsid: Int16 = 0x80  // POSIX_SPAWN_SETSID (glibc, __USE_GNU)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, setsid | Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            close(master)
            throw FixtureError("posix_spawn \(executable): \(SystemError("posix_spawn", code: result))")
        }
        pid = child
        DispatchQueue.global().async { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(self.master, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected.withLock { $0 += buffer[0..<count] }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break  // EIO: every slave descriptor is closed
                }
            }
            readerDone.signal()
        }
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: .seconds(5))
        }
        close(master)
    }

    /// Everything the child wrote to its terminal so far.
    public var output: [UInt8] { collected.withLock { $0 } }
    public var outputText: String { String(decoding: output, as: UTF8.self) }

    /// Types `text` into the terminal.
    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Resizes the terminal (TIOCSWINSZ on the master): its foreground process group gets SIGWINCH.
    public func resize(rows: UInt16, columns: UInt16) {
        _ = ab_set_terminal_size(master, rows, columns)
    }

    /// Waits until the output contains `text`; false after `timeout`.
    @discardableResult
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        let needle = Array(text.utf8)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if collected.withLock({ contains($0, needle) }) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Waits for the child to exit (and the terminal's output to be read to its end).
    public func waitForExit(timeout: Duration) -> ChildProcess.ExitStatus? {
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { return nil }
            if ContinuousClock.now >= deadline { return nil }
            usleep(10_000)
        }
        _ = readerDone.wait(timeout: .now() + 2)
        let outcome: ChildProcess.ExitStatus =
            status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        exitStatus = outcome
        return outcome
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
