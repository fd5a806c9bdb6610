import AgentboxCore
import CAgentboxSys
import Redaction
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Moves the agent's bytes between the sandbox and the developer, on one thread with `poll`:
/// - terminal mode: the developer's stdin to the pty master (non-blocking, buffered, so a full
///   pty never stalls output), and the master's output to stdout;
/// - pipe mode: the agent's stdout and stderr pipes to agentbox's stdout and stderr (the agent's
///   stdin is agentbox's own, passed through untouched).
///
/// Every output passes through a `StreamingRedactor` (one per output) before it reaches the
/// transcript, and before it reaches the terminal unless masking is off. When a redactor holds
/// bytes back and no output arrives for `idleFlush`, it is flushed, so interactive echo and
/// prompts are never held (a secret split across such a pause is not matched: see
/// docs/transcripts.md).
final class TerminalRelay: @unchecked Sendable {
    enum Mode {
        case terminal(master: Int32)
        case pipes(output: Int32, error: Int32)
    }

    static let idleFlush: Int32 = 20  // milliseconds

    private final class Output {
        let source: Int32
        let target: Int32
        let index: Int
        let stream: StreamingRedactor
        var open = true
        /// The reader of `target` has gone (EPIPE, EIO): the transcript goes on without it.
        var targetBroken = false
        init(source: Int32, target: Int32, index: Int, stream: StreamingRedactor) {
            self.source = source
            self.target = target
            self.index = index
            self.stream = stream
        }
    }

    private let mode: Mode
    private let outputs: [Output]
    private let masking: Bool
    private let transcript: TranscriptWriter?
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var pendingInput: [UInt8] = []
    private var inputOpen: Bool
    /// The session is over: what the outputs hold now is read and delivered, then the relay ends.
    private var ending = false
    /// Set before the relay thread starts, called on it.
    private var onContinue: (() -> Void)?
    private let done = CompletionEvent()

    init(mode: Mode, redactor: Redactor, masking: Bool, transcript: TranscriptWriter?) throws(SystemError) {
        self.mode = mode
        self.masking = masking
        self.transcript = transcript
        switch mode {
        case .terminal(let master):
            outputs = [Output(source: master, target: 1, index: 0, stream: redactor.makeStream())]
            inputOpen = true
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        case .pipes(let output, let error):
            outputs = [
                Output(source: output, target: 1, index: 0, stream: redactor.makeStream()),
                Output(source: error, target: 2, index: 1, stream: redactor.makeStream()),
            ]
            inputOpen = false
        }
        var fds: [Int32] = [-1, -1]
        try valueOrErrno("pipe2") { ab_pipe(&fds, 1) }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        if resizeWakeDescriptor == wakeWrite { stopFollowingWindowSize() }
        close(wakeRead)
        close(wakeWrite)
        for output in outputs { close(output.source) }
    }

    /// Runs the relay on its own thread until every output has ended (or `finish` gives up).
    func start() {
        startDetachedThread { [self] in
            run()
            done.complete()
        }
    }

    /// Follows SIGWINCH: a plain signal handler (async-signal-safe: one `write` to the wake
    /// pipe) tells the relay thread to copy agentbox's terminal size to the pty. A handler rather
    /// than a dispatch source: with the signal ignored, a dispatch source (signalfd) misses the
    /// signals the kernel delivers to threads that do not block it.
    ///
    /// SIGCONT the same way: after agentbox was stopped (SIGSTOP, or SIGTSTP from outside) and
    /// continued, `onContinue` puts the terminal back in raw mode and the size is copied again (it
    /// may have changed meanwhile).
    func followWindowSize(onContinue: (() -> Void)? = nil) {
        self.onContinue = onContinue
        resizeWakeDescriptor = wakeWrite
        signal(SIGWINCH) { _ in
            let saved = errno
            var byte = UInt8(ascii: "w")
            _ = write(resizeWakeDescriptor, &byte, 1)
            errno = saved
        }
        signal(SIGCONT) { _ in
            let saved = errno
            var byte = UInt8(ascii: "c")
            _ = write(resizeWakeDescriptor, &byte, 1)
            errno = saved
        }
    }

    /// Stops following SIGWINCH and SIGCONT (before the wake pipe is closed).
    func stopFollowingWindowSize() {
        signal(SIGWINCH, SIG_DFL)
        signal(SIGCONT, SIG_DFL)
        resizeWakeDescriptor = -1
    }

    /// After the session ended: the relay reads what the agent's pipes or pty still hold (every
    /// process that could write more is gone; a descriptor passed to a process outside the
    /// session is not waited for) and delivers it, then ends. Waits for that as long as the
    /// reader of agentbox's output takes, as any command's output would: output is never dropped
    /// because the reader is slow (`| less`, a stopped terminal).
    func finish() {
        wake(UInt8(ascii: "e"))
        done.wait()
    }

    private func wake(_ byte: UInt8) {
        var value = byte
        _ = write(wakeWrite, &value, 1)
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var released: [UInt8] = []
        released.reserveCapacity(1 << 17)
        let master: Int32? = if case .terminal(let master) = mode { master } else { nil }
        while outputs.contains(where: \.open) {
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            for output in outputs {
                var events = Int16(POLLIN)
                if output.source == master && !pendingInput.isEmpty { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: output.open ? output.source : -1, events: events, revents: 0))
            }
            let readInput = inputOpen && pendingInput.count < 1 << 16
            fds.append(pollfd(fd: readInput ? 0 : -1, events: Int16(POLLIN), revents: 0))
            let holding = outputs.contains { $0.open && $0.stream.heldBackCount > 0 }
            let ready = poll(&fds, nfds_t(fds.count), ending ? 0 : holding ? Self.idleFlush : -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 && !ending {
                for output in outputs where output.stream.heldBackCount > 0 {
                    released.removeAll(keepingCapacity: true)
                    output.stream.flush(into: &released)
                    deliver(released, from: output)
                }
                continue
            }
            if fds[0].revents != 0 {
                var bytes = [UInt8](repeating: 0, count: 16)
                let count = read(wakeRead, &bytes, bytes.count)
                for byte in bytes.prefix(max(count, 0)) {
                    if byte == UInt8(ascii: "e") { ending = true }
                    if byte == UInt8(ascii: "w") { resize() }
                    if byte == UInt8(ascii: "c") {
                        onContinue?()
                        resize()
                    }
                }
            }
            for (slot, output) in outputs.enumerated() where output.open {
                let revents = fds[slot + 1].revents
                if revents & Int16(POLLOUT) != 0 { sendInput(to: output.source) }
                guard revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else {
                    if ending {  // nothing more buffered, and nobody of the session left to write it
                        output.open = false
                        released.removeAll(keepingCapacity: true)
                        output.stream.flush(into: &released)
                        deliver(released, from: output)
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(output.source, $0.baseAddress, $0.count) }
                if count > 0 {
                    released.removeAll(keepingCapacity: true)
                    if masking {
                        buffer.withUnsafeBytes {
                            output.stream.write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &released)
                        }
                        deliver(released, from: output)
                    } else {
                        showTerminal(Array(buffer[0..<count]), on: output)
                        buffer.withUnsafeBytes {
                            output.stream.write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &released)
                        }
                        transcript?.output(released, source: output.index)
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    // EOF, or EIO from a pty master once every slave descriptor is closed.
                    output.open = false
                    released.removeAll(keepingCapacity: true)
                    output.stream.flush(into: &released)
                    deliver(released, from: output)
                }
            }
            if fds[fds.count - 1].revents != 0, let master {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count > 0 {
                    pendingInput += buffer[0..<count]
                    sendInput(to: master)
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    inputOpen = false
                }
            }
        }
        for output in outputs where output.stream.heldBackCount > 0 {
            released.removeAll(keepingCapacity: true)
            output.stream.flush(into: &released)
            deliver(released, from: output)
        }
        transcript?.finish()
    }

    /// Redacted bytes to the transcript, and to the terminal when masking.
    private func deliver(_ bytes: [UInt8], from output: Output) {
        guard !bytes.isEmpty else { return }
        transcript?.output(bytes, source: output.index)
        if masking { showTerminal(bytes, on: output) }
    }

    private func showTerminal(_ bytes: [UInt8], on output: Output) {
        guard !output.targetBroken else { return }
        let target = output.target
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(target, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var pending = pollfd(fd: target, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pending, 1, 100)
                    continue
                }
                output.targetBroken = true  // its reader is gone; the transcript goes on
                return
            }
            offset += written
        }
    }

    private func sendInput(to master: Int32) {
        guard !pendingInput.isEmpty else { return }
        let written = pendingInput.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
        if written > 0 {
            pendingInput.removeFirst(written)
        } else if written < 0 && errno != EAGAIN && errno != EINTR {
            pendingInput.removeAll()
        }
    }

    private func resize() {
        guard case .terminal(let master) = mode else { return }
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard ab_terminal_size(0, &rows, &columns) == 0, rows > 0, columns > 0 else { return }
        _ = ab_set_terminal_size(master, rows, columns)
        transcript?.resize(columns: Int(columns), rows: Int(rows))
    }
}

/// The wake pipe of the relay that follows SIGWINCH (one at a time), for the signal handler.
nonisolated(unsafe) private var resizeWakeDescriptor: Int32 = -1
