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
}
