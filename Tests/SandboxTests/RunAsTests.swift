import Agentbox
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

    /// Switching to the account clears the parent-death signal; a SIGKILL to the supervisor
    /// must still take every process of the session along.
    @Test func sessionDoesNotOutliveAKilledSupervisorAfterTheSwitchToTheAccount() throws {
        let harness = try SandboxHarness()
        let marker = "1000.\(getpid())\(Int.random(in: 1000...9999))"
        let supervisor = try ChildProcess.launch(
            executable: SandboxHarness.agentbox,
            arguments: ["sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir",
                        harness.workdir.path, "--network", "none", "--run-as", harness.account.name, "--",
                        "/bin/sleep", marker],
            environment: ["PATH": SandboxHarness.path], logPath: harness.workdir.path + "/session.log")
        var running: [pid_t] = []
        for _ in 0..<200 where running.isEmpty {
            running = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
            usleep(25_000)
        }
        #expect(!running.isEmpty, "\(FileIO.readText(harness.workdir.path + "/session.log"))")
        kill(supervisor.pid, SIGKILL)
        _ = supervisor.waitForExit(timeout: .seconds(10))
        let start = ContinuousClock.now
        var left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        while !left.isEmpty && ContinuousClock.now - start < .seconds(1) {
            usleep(10_000)
            left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        }
        #expect(left.isEmpty, "still running 1 s after the supervisor was killed: \(left)")
        for pid in left { kill(pid, SIGKILL) }
        // The killed supervisor could not remove its session directory.
        let store = SessionStore(uid: getuid(), home: String(cString: getpwuid(getuid()).pointee.pw_dir))
        for record in store.all() where record.command.contains(marker) { store.remove(record.id) }
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
