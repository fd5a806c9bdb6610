import CAgentboxSys

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Runs programs with `posix_spawn`: never a shell, an explicit argv and an explicit environment.
///
/// Every descriptor this module creates is `CLOEXEC`, and the child additionally closes every
/// descriptor above 2 before exec (`posix_spawn_file_actions_addclosefrom_np` on glibc,
/// `POSIX_SPAWN_CLOEXEC_DEFAULT` on Darwin), so nothing another thread opened leaks into it.
/// Signal dispositions and the signal mask are reset to defaults in the child (an ignored
/// SIGPIPE in this process is not inherited).
public enum ChildProcess {
    /// How a child ended.
    public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var isSuccess: Bool { self == .exited(0) }

        public var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signaled(let signal): return "killed by signal \(signal)"
            }
        }

        init(waitStatus status: Int32) {
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros, spelled out here.
            if status & 0x7f == 0 {
                self = .exited((status >> 8) & 0xff)
            } else {
                self = .signaled(status & 0x7f)
            }
        }
    }

    /// What the child reads on its standard input.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// These bytes, then end of file.
        case bytes([UInt8])
        /// A secret's bytes, then end of file; the bytes are written from the secret's own buffer.
        case secret(SecretBytes)
    }

    /// What a finished child wrote, and how it ended.
    public struct Output: Sendable {
        public let status: ExitStatus
        /// Standard output, held as a secret because it often is one (`pass show`).
        public let standardOutput: SecretBytes
        public let standardError: [UInt8]

        /// Standard output decoded as UTF-8, for callers whose child does not print secrets.
        public var standardOutputText: String {
            standardOutput.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }

        public var standardErrorText: String { String(decoding: standardError, as: UTF8.self) }
    }

    /// Runs `executable` to completion, capturing its standard output and error.
    ///
    /// - Parameters:
    ///   - executable: a path containing a slash (use `find(executable:inPath:)` for a bare name).
    ///   - arguments: argv[1...]; argv[0] is `executable`.
    ///   - environment: the child's entire environment.
    ///   - input: standard input; `/dev/null` by default.
    ///   - timeout: after this the child's process group gets SIGTERM, then SIGKILL after
    ///     `killGracePeriod`, and `ChildProcessError.timedOut` is thrown.
    ///
    /// The child runs in a new process group so a timeout reaches its helpers too. Output is read
    /// from both pipes with `poll`, so a child filling either pipe cannot deadlock. The call
    /// returns once the child has exited and what it wrote has been drained, even when a
    /// grandchild (a daemonised `gpg-agent`) keeps the pipes open.
    public static func run(
        executable: String,
        arguments: [String],
        environment: [String: String],
        input: Input = .null,
        timeout: Duration? = nil,
        killGracePeriod: Duration = .seconds(2)
    ) throws(ChildProcessError) -> Output {
        ignoreBrokenPipeSignal()
        var pipes = PipeSet()
        defer { pipes.closeAll() }
        do {
            try pipes.open(withInput: { if case .null = input { false } else { true } }())
        } catch {
            throw .system(error)
        }

        var plan = SpawnPlan(newProcessGroup: true)
        if pipes.inputRead >= 0 {
            plan.redirections.append(.duplicate(pipes.inputRead, 0))
        } else {
            plan.redirections.append(.open(0, "/dev/null", O_RDONLY, 0))
        }
        plan.redirections.append(.duplicate(pipes.outputWrite, 1))
        plan.redirections.append(.duplicate(pipes.errorWrite, 2))
        let pid = try spawn(executable: executable, arguments: arguments, environment: environment, plan: plan)
        pipes.closeChildEnds()

        var collector = Collector(pid: pid, pipes: pipes, input: input)
        pipes.forget()  // the collector owns the parent ends from here
        defer { collector.closeAll() }
        let deadline = timeout.map { MonotonicInstant.now + $0 }
        let status: ExitStatus
        do {
            status = try collector.collect(until: deadline)
        } catch {
            switch error {
            case .timedOut:
                terminateGroup(pid, grace: killGracePeriod)
                throw .timedOut(executable: executable, seconds: seconds(of: timeout ?? .zero))
            case .system(let systemError):
                terminateGroup(pid, grace: .zero)
                throw .system(systemError)
            }
        }
        return Output(
            status: status,
            standardOutput: SecretBytes(collector.output.bytes),
            standardError: Array(collector.error.bytes))
    }

    /// Runs `executable` with this process's standard input, output and error, and returns how it
    /// ended. For interactive children (`ssh`): the child stays in this process's process group,
    /// so the terminal's job control and signals reach it as they would from a shell.
    public static func runInheritingStandardIO(
        executable: String,
        arguments: [String],
        environment: [String: String]
    ) throws(ChildProcessError) -> ExitStatus {
        let plan = SpawnPlan(newProcessGroup: false)
        let pid = try spawn(executable: executable, arguments: arguments, environment: environment, plan: plan)
        do {
            return try waitForExit(pid)
        } catch {
            throw .system(error)
        }
    }

    /// Starts `executable` in the background with standard input from `/dev/null` and standard
    /// output and error appended to `logPath` (created 0600 if missing), in a new process group.
    /// For long-running test peers (sshd) and servers; the caller stops it with `RunningChild`.
    public static func launch(
        executable: String,
        arguments: [String],
        environment: [String: String],
        logPath: String
    ) throws(ChildProcessError) -> RunningChild {
        var plan = SpawnPlan(newProcessGroup: true)
        plan.redirections.append(.open(0, "/dev/null", O_RDONLY, 0))
        plan.redirections.append(.open(1, logPath, O_WRONLY | O_APPEND | O_CREAT, 0o600))
        plan.redirections.append(.duplicate(1, 2))
        let pid = try spawn(executable: executable, arguments: arguments, environment: environment, plan: plan)
        return RunningChild(pid: pid, executable: executable)
    }

    /// The first `directory/executable` in `path` (a `PATH` value) that is a regular executable
    /// file, or nil. A name containing a slash is returned as is when it is executable. Empty
    /// components are skipped (they would mean the current directory).
    public static func find(executable: String, inPath path: String?) -> String? {
        if executable.isEmpty { return nil }
        if executable.contains("/") { return isExecutableFile(executable) ? executable : nil }
        guard let path else { return nil }
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(executable)" : "\(directory)/\(executable)"
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}

/// A child started by `ChildProcess.launch`, in its own process group.
public final class RunningChild: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    private var status: ChildProcess.ExitStatus?

    init(pid: pid_t, executable: String) {
        self.pid = pid
        self.executable = executable
    }

    /// Whether the child has not exited yet (reaps it if it has).
    public var isRunning: Bool {
        poll() == nil
    }

    /// Its exit status if it has exited (non-blocking `waitpid`).
    public func poll() -> ChildProcess.ExitStatus? {
        if let status { return status }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid { status = ChildProcess.ExitStatus(waitStatus: raw) }
        return status
    }

    /// Sends `signal` to the child (not its group).
    public func send(_ signal: Int32) {
        if status == nil { _ = kill(pid, signal) }
    }

    /// Waits up to `timeout` for the child to exit; nil if it is still running.
    public func waitForExit(timeout: Duration) -> ChildProcess.ExitStatus? {
        let deadline = MonotonicInstant.now + timeout
        while true {
            if let status = poll() { return status }
            if MonotonicInstant.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// SIGTERM to the process group, then SIGKILL after `grace`; waits for the child.
    @discardableResult
    public func terminate(grace: Duration = .seconds(5)) -> ChildProcess.ExitStatus {
        if let status = poll() { return status }
        _ = kill(-pid, SIGTERM)
        if let status = waitForExit(timeout: grace) { return status }
        _ = kill(-pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        status = ChildProcess.ExitStatus(waitStatus: raw)
        return status!
    }

    deinit {
        if status == nil { terminate(grace: .seconds(1)) }
    }
}

// MARK: - Spawning

/// What the child's descriptors 0–2 become, applied in order before exec.
struct SpawnPlan {
    enum Redirection {
        case duplicate(Int32, Int32)
        case open(Int32, String, Int32, mode_t)
    }

    var newProcessGroup: Bool
    var redirections: [Redirection] = []

    init(newProcessGroup: Bool) {
        self.newProcessGroup = newProcessGroup
    }
}

extension ChildProcess {
    static func spawn(
        executable: String, arguments: [String], environment: [String: String], plan: SpawnPlan
    ) throws(ChildProcessError) -> pid_t {
        guard executable.contains("/") else { throw .executableNotFound(name: executable) }
        if executable.utf8.contains(0) || arguments.contains(where: { $0.utf8.contains(0) }) {
            throw .invalidArgument(executable: executable, reason: "an argument contains a NUL byte")
        }
        for (name, value) in environment {
            if name.isEmpty || name.contains("=") || name.utf8.contains(0) || value.utf8.contains(0) {
                throw .invalidArgument(executable: executable, reason: "invalid environment variable name or value")
            }
        }
        let argv = CStringArray([executable] + arguments)
        let envp = CStringArray(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        defer {
            argv.free()
            envp.free()
        }

        #if os(Linux)
            var actions = posix_spawn_file_actions_t()
            var attributes = posix_spawnattr_t()
        #else
            var actions: posix_spawn_file_actions_t? = nil
            var attributes: posix_spawnattr_t? = nil
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }

        var code: Int32 = 0
        for redirection in plan.redirections where code == 0 {
            switch redirection {
            case .duplicate(let from, let to):
                code = posix_spawn_file_actions_adddup2(&actions, from, to)
            case .open(let fd, let path, let flags, let mode):
                code = posix_spawn_file_actions_addopen(&actions, fd, path, flags, mode)
            }
        }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if plan.newProcessGroup { flags |= Int32(POSIX_SPAWN_SETPGROUP) }
        #if os(Linux)
            if code == 0 { code = ab_spawn_add_close_from(&actions, 3) }
        #else
            flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        if code == 0 { code = posix_spawnattr_setsigmask(&attributes, &noSignals) }
        if code == 0 { code = posix_spawnattr_setsigdefault(&attributes, &allSignals) }
        if code == 0 && plan.newProcessGroup { code = posix_spawnattr_setpgroup(&attributes, 0) }
        if code == 0 { code = posix_spawnattr_setflags(&attributes, Int16(flags)) }
        guard code == 0 else { throw .spawnFailed(executable: executable, code: code) }

        var pid: pid_t = 0
        code = posix_spawn(&pid, executable, &actions, &attributes, argv.pointer, envp.pointer)
        guard code == 0 else {
            if code == ENOENT { throw .executableNotFound(name: executable) }
            throw .spawnFailed(executable: executable, code: code)
        }
        return pid
    }

    static func waitForExit(_ pid: pid_t) throws(SystemError) -> ExitStatus {
        var raw: Int32 = 0
        try valueOrErrno("waitpid") { waitpid(pid, &raw, 0) }
        return ExitStatus(waitStatus: raw)
    }

    /// SIGTERM to the child's process group, SIGKILL after `grace`, then reaps the child.
    static func terminateGroup(_ pid: pid_t, grace: Duration) {
        var raw: Int32 = 0
        _ = kill(-pid, SIGTERM)
        let deadline = MonotonicInstant.now + grace
        while MonotonicInstant.now < deadline {
            if waitpid(pid, &raw, WNOHANG) == pid { return }
            usleep(5_000)
        }
        _ = kill(-pid, SIGKILL)
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
    }

    static func seconds(of duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// A NULL-terminated `char *[]` of strdup'd strings; `free()` zeroes and releases them (an
/// environment may carry values a caller wants gone).
private struct CStringArray {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() {
            pointer[index] = strdup(string)
        }
        pointer[strings.count] = nil
    }

    func free() {
        for index in 0..<count {
            if let string = pointer[index] {
                ab_secure_zero(string, strlen(string))
                releaseCString(string)
            }
        }
        pointer.deallocate()
    }
}

// MARK: - Pipes and collection

/// The three pipes of a captured child. -1 marks a closed end.
private struct PipeSet {
    var inputRead: Int32 = -1
    var inputWrite: Int32 = -1
    var outputRead: Int32 = -1
    var outputWrite: Int32 = -1
    var errorRead: Int32 = -1
    var errorWrite: Int32 = -1

    mutating func open(withInput: Bool) throws(SystemError) {
        if withInput { (inputRead, inputWrite) = try makePipe() }
        (outputRead, outputWrite) = try makePipe()
        (errorRead, errorWrite) = try makePipe()
        for fd in [inputWrite, outputRead, errorRead] where fd >= 0 {
            let flags = fcntl(fd, F_GETFL)
            try valueOrErrno("fcntl O_NONBLOCK") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        }
    }

    mutating func closeChildEnds() {
        closeIfOpen(&inputRead)
        closeIfOpen(&outputWrite)
        closeIfOpen(&errorWrite)
    }

    mutating func closeAll() {
        for keyPath in [\PipeSet.inputRead, \.inputWrite, \.outputRead, \.outputWrite, \.errorRead, \.errorWrite] {
            closeIfOpen(&self[keyPath: keyPath])
        }
    }

    /// Hands the parent ends to someone else: `closeAll` will not close them.
    mutating func forget() {
        inputWrite = -1
        outputRead = -1
        errorRead = -1
    }

    private func makePipe() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try valueOrErrno("pipe2") { ab_pipe(&fds, 0) }
        return (fds[0], fds[1])
    }
}

private func releaseCString(_ string: UnsafeMutablePointer<CChar>) { free(string) }
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }

private func closeIfOpen(_ fd: inout Int32) {
    if fd >= 0 {
        _ = close(fd)
        fd = -1
    }
}

/// A growable byte buffer that zeroes every allocation it gives up.
final class ZeroingBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(capacity: Int = 4096) {
        storage = .allocate(byteCount: capacity, alignment: 1)
    }

    deinit {
        ab_secure_zero(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }

    /// Reads once from `fd` into the buffer; returns what `read` returned.
    func read(from fd: Int32) -> Int {
        if storage.count - count < 4096 {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 1)
            larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<count]))
            ab_secure_zero(storage.baseAddress, storage.count)
            storage.deallocate()
            storage = larger
        }
        return systemRead(fd, storage.baseAddress! + count, storage.count - count)
    }

    func didRead(_ length: Int) { count += length }
}

private enum CollectError: Error {
    case timedOut
    case system(SystemError)
}

/// Feeds the child's input and drains its output and error until it exits.
private struct Collector {
    let pid: pid_t
    var inputFD: Int32
    var outputFD: Int32
    var errorFD: Int32
    let input: ChildProcess.Input
    var inputOffset = 0
    let output = ZeroingBuffer()
    let error = ZeroingBuffer()

    init(pid: pid_t, pipes: PipeSet, input: ChildProcess.Input) {
        self.pid = pid
        self.inputFD = pipes.inputWrite
        self.outputFD = pipes.outputRead
        self.errorFD = pipes.errorRead
        self.input = input
    }

    mutating func closeAll() {
        closeIfOpen(&inputFD)
        closeIfOpen(&outputFD)
        closeIfOpen(&errorFD)
    }

    mutating func collect(until deadline: MonotonicInstant?) throws(CollectError) -> ChildProcess.ExitStatus {
        if inputFD >= 0 && inputLength == 0 { closeIfOpen(&inputFD) }
        while true {
            var fds: [pollfd] = []
            if outputFD >= 0 { fds.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
            if errorFD >= 0 { fds.append(pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)) }
            if inputFD >= 0 { fds.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            // While the pipes are open, EOF wakes us; once they are closed (or held open by a
            // grandchild), waitpid is polled at a short interval.
            var waitMilliseconds: Int32 = fds.isEmpty ? 2 : 50
            if let deadline {
                let left = ChildProcess.seconds(of: deadline - MonotonicInstant.now)
                if left <= 0 { throw .timedOut }
                waitMilliseconds = min(waitMilliseconds, Int32(left * 1000) + 1)
            }
            if fds.isEmpty {
                usleep(UInt32(waitMilliseconds) * 1000)
            } else {
                let ready = poll(&fds, nfds_t(fds.count), waitMilliseconds)
                if ready == -1 && errno != EINTR { throw .system(SystemError("poll")) }
                for entry in fds where entry.revents != 0 {
                    if entry.fd == inputFD {
                        writeInput()
                    } else if entry.fd == outputFD {
                        try drain(&outputFD, into: output, untilBlocked: false)
                    } else if entry.fd == errorFD {
                        try drain(&errorFD, into: error, untilBlocked: false)
                    }
                }
            }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                // Everything the child wrote is in the pipes now; take it without waiting for EOF.
                closeIfOpen(&inputFD)
                try drain(&outputFD, into: output, untilBlocked: true)
                try drain(&errorFD, into: error, untilBlocked: true)
                return ChildProcess.ExitStatus(waitStatus: raw)
            }
            if reaped == -1 && errno != EINTR { throw .system(SystemError("waitpid")) }
        }
    }

    private var inputLength: Int {
        switch input {
        case .null: return 0
        case .bytes(let bytes): return bytes.count
        case .secret(let secret): return secret.count
        }
    }

    private mutating func writeInput() {
        let offset = inputOffset
        let fd = inputFD
        let written: Int
        switch input {
        case .null:
            written = 0
        case .bytes(let bytes):
            written = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
        case .secret(let secret):
            written = secret.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
        }
        if written > 0 { inputOffset += written }
        if written == -1 && (errno == EAGAIN || errno == EINTR) { return }
        // EPIPE (the child closed its input) or everything written: the child gets EOF.
        if written == -1 || inputOffset >= inputLength { closeIfOpen(&inputFD) }
    }

    private func drain(_ fd: inout Int32, into buffer: ZeroingBuffer, untilBlocked: Bool) throws(CollectError) {
        while fd >= 0 {
            let length = buffer.read(from: fd)
            if length > 0 {
                buffer.didRead(length)
                continue
            }
            if length == 0 {
                closeIfOpen(&fd)
                return
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                if untilBlocked { closeIfOpen(&fd) }
                return
            }
            throw .system(SystemError("read"))
        }
    }
}
