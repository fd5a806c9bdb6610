import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// agentbox run by root with a `runAs` account: the agent is that unprivileged account, with
/// every protection of the rootless path, and cannot get root back.
@Suite struct RunAsTests {
    @Test func agentRunsAsTheSeparateAccountWithoutAnyWayBackToRoot() throws {
        let harness = try SandboxHarness()
        let agent = harness.account
        let output = try ChildProcess.run(
            executable: SandboxHarness.agentbox,
            arguments: ["sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir",
                        harness.workdir.path, "--network", "none", "--run-as", agent.name, "--",
                        "/bin/sh", "-c", "id -u; id -g; grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd|CapPrm|CapAmb):' /proc/self/status; "
                            + "echo x > $HOME/written && echo home-writable; "
                            + "ls /proc | grep -cE '^[0-9]+$'"],
            environment: ["PATH": SandboxHarness.path, "HOME": "/root"], timeout: .seconds(120))
        let text = output.standardOutputText
        #expect(output.status == .exited(0), "\(output.text)")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == String(agent.uid), "\(text)")
        #expect(lines.dropFirst().first == String(agent.gid), "\(text)")
        #expect(text.contains("NoNewPrivs:\t1"))
        #expect(text.contains("Seccomp:\t2"))
        #expect(text.contains("CapEff:\t0000000000000000"))
        #expect(text.contains("CapBnd:\t0000000000000000"))
        #expect(text.contains("CapAmb:\t0000000000000000"))
        #expect(text.contains("home-writable"), "\(output.text)")
        // Its /proc shows only the session's own few processes.
        let visible = Int(lines.last ?? "") ?? 99
        #expect(visible <= 4, "\(text)")
    }

    /// A restrictive umask inherited from the caller must not leave the sandbox's own directories
    /// (/home above the agent's home) untraversable for the account.
    @Test func callersUmaskDoesNotLockTheAccountOutOfItsHome() throws {
        let harness = try SandboxHarness()
        let output = try ChildProcess.run(
            executable: "/bin/sh",
            arguments: ["-c", "umask 077; exec \"$0\" \"$@\"", SandboxHarness.agentbox, "sandbox", "--quiet",
                        "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", harness.workdir.path,
                        "--network", "none", "--run-as", harness.account.name, "--",
                        "/bin/sh", "-c", "echo x > $HOME/written && echo home-writable"],
            environment: ["PATH": SandboxHarness.path], timeout: .seconds(120))
        #expect(output.standardOutputText.contains("home-writable"), "\(output.text)")
    }

    @Test func unknownRunAsAccountIsRefusedBeforeAnythingStarts() throws {
        let directory = try TemporaryDirectory(prefix: "abr")
        let output = try ChildProcess.run(
            executable: SandboxHarness.agentbox,
            arguments: ["sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir",
                        directory.path, "--run-as", "no-such-account-\(getpid())", "--", "/bin/true"],
            environment: ["PATH": SandboxHarness.path], timeout: .seconds(30))
        #expect(output.status == .exited(78), "\(output.text)")
        #expect(output.standardErrorText.contains("no such account"))
    }
}
