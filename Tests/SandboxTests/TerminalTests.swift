import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Without a terminal on stdin: no pty, the pipes pass through (stdin untouched, stdout and
/// stderr relayed separately and redacted), and the agent's status is agentbox's.
@Suite(.serialized)
struct TerminalTests {
    /// A GitHub-format token nobody was given: redacted by its format.
    static let fakeToken = "ghp_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7d"

    private func run(_ harness: SandboxHarness, _ extra: [String], _ script: String, input: String) throws
        -> ChildProcess.Output
    {
        try ChildProcess.run(
            executable: "/usr/bin/setpriv",
            arguments: [
                "--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                SandboxHarness.agentbox, "sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile,
                "--workdir", harness.workdir.path,
            ] + extra + ["--", "/bin/sh", "-c", script],
            environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path, "LC_ALL": "C"],
            input: .bytes(Array(input.utf8)), timeout: .seconds(60))
    }

    @Test func pipedStdinPassesThroughAndOutputIsRedacted() throws {
        let harness = try SandboxHarness()
        let output = try run(
            harness, [],
            """
            cat
            [ -t 0 ] || echo stdin-not-a-tty
            [ -t 1 ] || echo stdout-not-a-tty
            echo to-stderr >&2
            echo "token \(Self.fakeToken) end"
            exit 3
            """, input: "hello from the pipe\n")
        #expect(output.status == .exited(3), "\(output.text)")
        let stdout = output.standardOutputText
        #expect(stdout.contains("hello from the pipe"), "\(output.text)")
        #expect(stdout.contains("stdin-not-a-tty") && stdout.contains("stdout-not-a-tty"), "\(output.text)")
        #expect(stdout.contains("token [REDACTED:github-token] end"), "\(output.text)")
        #expect(!stdout.contains(Self.fakeToken))
        #expect(!stdout.contains("to-stderr") && output.standardErrorText.contains("to-stderr"), "\(output.text)")
    }

    /// `--no-masking`: the terminal shows the output as it is; the transcript is redacted anyway.
    /// `agentbox sandbox -- /bin/sh -c SCRIPT` as the account, inside a shell line that gives it
    /// its stdio (`wrapper` refers to the agentbox command line as `"$0" "$@"`).
    private func runWrapped(_ harness: SandboxHarness, _ wrapper: String, _ script: String) throws -> ChildProcess.Output {
        try ChildProcess.run(
            executable: "/usr/bin/setpriv",
            arguments: [
                "--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                "/bin/sh", "-c", wrapper,
                SandboxHarness.agentbox, "sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile,
                "--workdir", harness.workdir.path, "--", "/bin/sh", "-c", script,
            ],
            environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path, "LC_ALL": "C"],
            timeout: .seconds(60))
    }

    /// agentbox started with stdin and stdout closed (`<&- >&-`): the agent's output must not
    /// land in a descriptor of agentbox's own that took the number 1 (the stop-signal pipe did,
    /// and the agent's first line ended its session); stderr still reaches its file.
    @Test func closedStdioCannotBeTurnedAgainstTheSession() throws {
        let harness = try SandboxHarness()
        let errors = harness.workdir.path + "/stderr.txt"
        let output = try runWrapped(
            harness, "exec \"$0\" \"$@\" <&- >&- 2>\(errors)",
            "echo OUT; echo ERR >&2; sleep 0.3; [ -r /dev/stdin ] && echo stdin-open >&2; exit 4")
        let errorText = FileIO.readText(errors)
        #expect(output.status == .exited(4), "\(output.text) \(errorText)")
        #expect(errorText.contains("ERR") && errorText.contains("stdin-open"), "\(errorText)")
    }

    /// A reader that takes its time (`| less`, a stopped terminal): agentbox waits for it and
    /// drops nothing (it gave up after 4 s and lost what the pipes still held).
    @Test func slowReaderGetsAllTheOutput() throws {
        let harness = try SandboxHarness()
        let output = try runWrapped(harness, "\"$0\" \"$@\" | (sleep 5; wc -c)", "head -c 1000000 /dev/zero")
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(output.standardOutputText.trimmingCharacters(in: .whitespacesAndNewlines) == "1000000", "\(output.text)")
    }

    @Test func noMaskingStillRedactsTheTranscript() throws {
        let harness = try SandboxHarness()
        let transcript = harness.account.home + "/session.cast"
        let output = try run(
            harness, ["--transcript", transcript, "--no-masking"],
            """
            printf 'bad utf-8: \\377\\376 then %s\\n' \(Self.fakeToken)
            """, input: "")
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(output.standardOutputText.contains(Self.fakeToken))
        let cast = FileIO.readText(transcript)
        #expect(cast.hasPrefix("{\"version\": 2,"), "\(cast)")
        #expect(cast.contains("[REDACTED:github-token]") && !cast.contains(Self.fakeToken), "\(cast)")
        #expect(cast.contains("bad utf-8: \u{FFFD}\u{FFFD} then"), "\(cast)")
    }

    /// `agentbox sandbox ARGS` as a shell command line for tests that run under a pty of their own.
    private func sandboxCommand(_ directory: TemporaryDirectory, _ command: String) -> String {
        "\(SandboxHarness.agentbox) sandbox --quiet --seccomp-profile \(SandboxHarness.seccompProfile) "
            + "--workdir \(directory.path)/work -- \(command)"
    }

    private func shellOnTerminal(_ directory: TemporaryDirectory, _ script: String) throws -> PseudoTerminalProcess {
        mkdir(directory.path + "/work", 0o755)
        return try PseudoTerminalProcess(
            executable: "/bin/sh", arguments: ["-c", script],
            environment: [
                "HOME": directory.path, "XDG_RUNTIME_DIR": directory.path, "PATH": SandboxHarness.path,
                "TERM": "xterm",
            ])
    }

    /// The developer's terminal is raw during the session and restored after it, also when the
    /// session is ended by a signal to agentbox.
    @Test func terminalIsRawDuringTheSessionAndRestoredAfter() throws {
        let directory = try TemporaryDirectory(prefix: "abr")
        let shell = try shellOnTerminal(
            directory,
            """
            \(sandboxCommand(directory, "/bin/sh -c 'exit 3'"))
            echo "status=$?"
            stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo
            \(sandboxCommand(directory, "/bin/sleep 100")) </dev/tty &
            for i in $(seq 100); do stty -a | tr ' ' '\\n' | grep -qx -- -icanon && break; sleep 0.1; done
            stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon | sed 's/^/during:/'
            kill -TERM $!
            wait $!
            echo "stopped=$?"
            stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon | sed 's/^/after:/'
            """)
        #expect(shell.waitForExit(timeout: .seconds(30)) == .exited(0), "\(shell.outputText.debugDescription)")
        let text = shell.outputText
        #expect(text.contains("status=3"), "\(text.debugDescription)")
        #expect(text.contains("icanon echo"), "\(text.debugDescription)")
        #expect(text.contains("during:-icanon"), "\(text.debugDescription)")
        #expect(text.contains("stopped=143"), "\(text.debugDescription)")
        #expect(text.contains("after:icanon"), "\(text.debugDescription)")
    }

    /// Stopped from outside (SIGTSTP), agentbox gives the shell its terminal settings back; when it
    /// is continued, the terminal is raw again (a shell with job control restores its own settings
    /// when a job stops, so raw mode cannot be assumed to survive a stop).
    @Test func terminalIsRestoredWhileStoppedAndRawAgainWhenContinued() throws {
        let directory = try TemporaryDirectory(prefix: "abc")
        let mode = "stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon"
        let waitFor = { (setting: String) in
            "for i in $(seq 100); do stty -a | tr ' ' '\\n' | grep -qx -- \(setting) && break; sleep 0.1; done"
        }
        let shell = try shellOnTerminal(
            directory,
            """
            \(sandboxCommand(directory, "/bin/sleep 100")) </dev/tty &
            \(waitFor("-icanon"))
            \(mode) | sed 's/^/running:/'
            kill -TSTP $!
            \(waitFor("icanon"))
            \(mode) | sed 's/^/stopped:/'
            grep '^State:' /proc/$!/status
            stty sane
            kill -CONT $!
            \(waitFor("-icanon"))
            \(mode) | sed 's/^/continued:/'
            kill -TERM $!
            wait $!
            echo "ended=$?"
            \(mode) | sed 's/^/after:/'
            """)
        #expect(shell.waitForExit(timeout: .seconds(40)) == .exited(0), "\(shell.outputText.debugDescription)")
        let text = shell.outputText
        #expect(text.contains("running:-icanon"), "\(text.debugDescription)")
        #expect(text.contains("stopped:icanon"), "\(text.debugDescription)")
        #expect(text.contains("State:\tT (stopped)"), "\(text.debugDescription)")
        #expect(text.contains("continued:-icanon"), "\(text.debugDescription)")
        #expect(text.contains("ended=143"), "\(text.debugDescription)")
        #expect(text.contains("after:icanon"), "\(text.debugDescription)")
    }

    /// Typing the start of a token (which the redactor must hold back, as it may be a secret)
    /// shows up within the idle flush, not when the line ends.
    @Test func redactorDoesNotDelayInteractiveEcho() throws {
        let directory = try TemporaryDirectory(prefix: "abe")
        let shell = try shellOnTerminal(directory, sandboxCommand(directory, "/bin/sh -c 'echo ready; cat; exit 3'"))
        #expect(shell.waitForOutput("ready"), "\(shell.outputText.debugDescription)")
        usleep(200_000)
        let start = ContinuousClock.now
        shell.send("ghp_")
        #expect(shell.waitForOutput("ghp_", timeout: .seconds(5)), "\(shell.outputText.debugDescription)")
        let delay = ContinuousClock.now - start
        // The idle flush is 20 ms; the bound leaves room for a loaded 2-core machine.
        #expect(delay < .milliseconds(500), "echo took \(delay)")
        shell.send("\r\u{4}")
        #expect(shell.waitForExit(timeout: .seconds(20)) == .exited(3), "\(shell.outputText.debugDescription)")
    }

    /// Run as root with `--run-as`, the agent's pty belongs to the agent's account.
    @Test func runAsAccountOwnsItsTerminal() throws {
        let harness = try SandboxHarness()
        let session = try PseudoTerminalProcess(
            executable: SandboxHarness.agentbox,
            arguments: [
                "sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir",
                harness.workdir.path, "--run-as", harness.account.name, "--", "/bin/sh", "-c",
                "echo \"tty=$(tty) owner=$(stat -c %u /dev/console)\"; exec 3<>/dev/tty && echo tty-opened; exit 3",
            ],
            environment: ["PATH": SandboxHarness.path, "HOME": "/root", "TERM": "xterm"])
        #expect(session.waitForExit(timeout: .seconds(30)) == .exited(3), "\(session.outputText.debugDescription)")
        #expect(
            session.outputText.contains("tty=/dev/console owner=\(harness.account.uid)"),
            "\(session.outputText.debugDescription)")
        #expect(session.outputText.contains("tty-opened"), "\(session.outputText.debugDescription)")
    }
}
