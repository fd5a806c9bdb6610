import AgentboxCore
import CAgentboxSys
import Redaction
import Sandbox

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The options of `agentbox start`/`sandbox` about the agent's terminal and its record.
struct SessionOutputOptions {
    /// `--transcript PATH`: written there (and left there) instead of the session directory.
    var transcriptPath: String?
    /// `--no-masking`: the developer's terminal shows the agent's output unredacted; the
    /// transcript is redacted all the same.
    var masking = true
    /// `--keep-file FILE`: the kept set (default: the installed `sandbox/keep.txt`).
    var keepFile: String?

    static func parse(_ args: inout CommandLineArguments) throws -> SessionOutputOptions {
        var options = SessionOutputOptions()
        options.transcriptPath = try args.option("--transcript")
        options.masking = !args.flag("--no-masking")
        options.keepFile = try args.option("--keep-file")
        return options
    }
}

/// Everything about one session's output, from the pty to the kept transcript:
/// `prepare` (before the plan is applied) → `configure(plan)` → spawn → `start()` →
/// the agent exits → `finish()` (before the session directory is removed). `abandon()` on any
/// failure in between restores the terminal and closes what was opened.
final class SessionOutput {
    /// Every value the session received, until the redactor is built from them.
    private var secrets: [RedactionSecret]
    private var builtRedactor: Redactor?
    /// Built on first use, in `start()`: after the spawn, while the agent starts, and not on the
    /// way to it. The agent's first bytes wait in its pipe or pty meanwhile.
    var redactor: Redactor {
        if let builtRedactor { return builtRedactor }
        let made = Redactor(secrets: secrets)
        for warning in made.warnings { progress("\(warning)") }  // "warning: …" already
        for index in secrets.indices { secrets[index].value.withUnsafeMutableBytes { ab_zero($0) } }
        secrets = []
        builtRedactor = made
        return made
    }
    let options: SessionOutputOptions
    /// Where the transcript is written while the session runs, and where it is kept after.
    let transcriptPath: String?
    let keptTranscriptPath: String?
    /// The directory kept files go to (next to the kept transcript).
    let keptFilesDirectory: String?
    let keep: KeepSet
    let sessionHome: String
    private let terminal: RawTerminal?
    private var master: Int32 = -1
    private var slave: Int32 = -1
    private var slavePath = ""
    private var outputPipe: (read: Int32, write: Int32) = (-1, -1)
    private var errorPipe: (read: Int32, write: Int32) = (-1, -1)
    private var relay: TerminalRelay?
    private var transcript: TranscriptWriter?
    private let progress: @Sendable (String) -> Void
    private var control: SessionControlServer?

    /// - Parameters:
    ///   - secrets: every value the session received (the lease's environment).
    ///   - record: whether a transcript is written without `--transcript` (`start`: yes).
    init(
        options: SessionOutputOptions, secrets: [RedactionSecret], id: String, sessionDirectory: String,
        sessionHome: String, record: Bool, environment: [String: String],
        progress: @escaping @Sendable (String) -> Void
    ) throws {
        self.options = options
        self.progress = progress
        self.sessionHome = sessionHome
        self.secrets = secrets
        let (keep, keepSource) = try KeepSet.load(options.keepFile, environment: environment)
        self.keep = keep
        if keepSource == nil && record { progress("no keep.txt found: no file the agent writes is kept") }
        let transcripts = StandardLocations(environment: environment).stateHome + "/agentbox/transcripts"
        if let path = options.transcriptPath {
            transcriptPath = path
            keptTranscriptPath = path
            keptFilesDirectory = (path.hasSuffix(".cast") ? String(path.dropLast(5)) : path) + ".files"
        } else if record {
            transcriptPath = sessionDirectory + "/transcript.cast"
            keptTranscriptPath = transcripts + "/\(id).cast"
            keptFilesDirectory = transcripts + "/\(id).files"
        } else {
            transcriptPath = nil
            keptTranscriptPath = nil
            keptFilesDirectory = nil
        }
        ignoreBrokenPipeSignal()  // a closed stdout must end the relay's writes, not agentbox
        terminal = RawTerminal(descriptor: 0)
        do {
            if !secrets.isEmpty {
                control = try SessionControlServer(sessionDirectory: sessionDirectory, secrets: secrets)
            }
            var rows: UInt16 = 24
            var columns: UInt16 = 80
            if let terminal {
                var name = [CChar](repeating: 0, count: 128)
                try valueOrErrno("open a pseudo-terminal") { ab_pty_open(&master, &slave, &name, name.count) }
                slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                var settings = terminal.saved
                try valueOrErrno("tcsetattr \(slavePath)") { tcsetattr(slave, TCSANOW, &settings) }
                if ab_terminal_size(0, &rows, &columns) == 0, rows > 0, columns > 0 {
                    _ = ab_set_terminal_size(master, rows, columns)
                }
            } else {
                outputPipe = try Self.pipe()
                errorPipe = try Self.pipe()
                if ab_terminal_size(1, &rows, &columns) != 0 || rows == 0 || columns == 0 { (rows, columns) = (24, 80) }
            }
            if let transcriptPath {
                if options.transcriptPath == nil, let keptTranscriptPath {
                    try FileSafety.makePrivateDirectory(FileSafety.parent(of: keptTranscriptPath))
                }
                transcript = try TranscriptWriter(
                    path: transcriptPath, width: Int(columns), height: Int(rows), term: environment["TERM"],
                    shell: environment["SHELL"])
            }
        } catch {
            abandon()
            throw AgentboxError.system("cannot set up the agent's terminal: \(error)")
        }
    }

    /// Whether the agent runs on a pty of ours (agentbox's stdin is a terminal).
    var usesTerminal: Bool { terminal != nil }

    /// The agent's stdio in the plan; in terminal mode, the pty slave as its controlling terminal,
    /// also bound at `/dev/console` inside.
    func configure(_ plan: inout SandboxPlan) {
        if terminal != nil {
            // A separate account (--run-as) owns its terminal, as login would make it.
            if case .account(_, let uid, let gid) = plan.identity { _ = fchown(slave, uid, gid) }
            plan.stdio = SandboxStdio(input: slave, output: slave, error: slave, controllingTerminal: true)
            if plan.namespaces.contains(.mount) {
                plan.mounts.append(SandboxPlanner.terminalMount(hostPath: slavePath))
            }
        } else {
            plan.stdio = SandboxStdio(input: nil, output: outputPipe.write, error: errorPipe.write)
        }
    }

    /// After the spawn: closes the agent's ends here, puts the developer's terminal in raw mode,
    /// follows SIGWINCH and starts relaying.
    func start() throws {
        closeChildEnds()
        if let transcriptPath, let keptTranscriptPath {
            progress(
                transcriptPath == keptTranscriptPath
                    ? "transcript: \(transcriptPath)"
                    : "transcript: \(keptTranscriptPath) (written to \(transcriptPath) until the session ends)")
        }
        let mode: TerminalRelay.Mode
        if terminal != nil {
            mode = .terminal(master: master)
            master = -1
        } else {
            mode = .pipes(output: outputPipe.read, error: errorPipe.read)
            outputPipe.read = -1
            errorPipe.read = -1
        }
        let relay = try TerminalRelay(mode: mode, redactor: redactor, masking: options.masking, transcript: transcript)
        self.relay = relay
        if let terminal {
            try terminal.enter()
            relay.followWindowSize(onContinue: terminal.reenter)
        }
        relay.start()
        control?.start()
    }

    /// After the agent exited: drains the output, restores the terminal, keeps the transcript and
    /// the kept files (redacted) out of the session directory, and scans them once more. Returns
    /// the number of findings of that last scan (0 when clean).
    func finish() -> Int {
        control?.stop()
        control = nil
        relay?.stopFollowingWindowSize()
        relay?.finish()
        relay = nil
        terminal?.restore()
        if let failure = transcript?.failure { progress("transcript incomplete: \(failure)") }
        transcript = nil
        var kept: [String] = []
        if let transcriptPath, let keptTranscriptPath {
            do {
                if transcriptPath != keptTranscriptPath {
                    try TeardownScrub.move(transcriptPath, to: keptTranscriptPath)
                }
                kept.append(keptTranscriptPath)
            } catch {
                progress("cannot keep the transcript: \(error)")
            }
        }
        if let keptFilesDirectory {
            let result = TeardownScrub.keepFiles(
                home: sessionHome, keep: keep, into: keptFilesDirectory, redactor: redactor)
            kept += result.kept
            for problem in result.problems { progress("teardown scrub: \(problem)") }
            if !result.kept.isEmpty {
                progress("kept \(result.kept.count) file(s) of the agent in \(keptFilesDirectory)")
            }
        }
        let (findings, files) = TeardownScrub.verify(kept, redactor: redactor)
        if findings > 0 {
            writeStandardError(
                "agentbox: SCRUB FAILED: \(findings) secret(s) still found after redaction in \(files.joined(separator: ", ")); redacted again, reported to the broker's audit log\n"
            )
        }
        if let keptTranscriptPath, kept.contains(keptTranscriptPath) { progress("transcript: \(keptTranscriptPath)") }
        return findings
    }

    /// On a failure before or instead of `finish`: the terminal back, descriptors closed.
    func abandon() {
        control?.stop()
        control = nil
        relay?.stopFollowingWindowSize()
        relay = nil
        terminal?.restore()
        closeChildEnds()
        for fd in [master, outputPipe.read, errorPipe.read] where fd >= 0 { close(fd) }
        master = -1
        outputPipe.read = -1
        errorPipe.read = -1
        transcript = nil
        if let transcriptPath, options.transcriptPath == nil { unlink(transcriptPath) }
    }

    private func closeChildEnds() {
        for fd in [slave, outputPipe.write, errorPipe.write] where fd >= 0 { close(fd) }
        slave = -1
        outputPipe.write = -1
        errorPipe.write = -1
    }

    private static func pipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try valueOrErrno("pipe2") { ab_pipe(&fds, 0) }
        return (fds[0], fds[1])
    }
}
