import Agentbox
import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Attacks on the session store: `agentbox list`, `agentbox stop ID`, and the stale-session
/// cleanup at start.
@Suite(.serialized)
struct SessionStoreAttackTests {
    /// A supervisor killed with SIGKILL (OOM killer, `kill -9`) leaves its record, and the
    /// kernel hands its pid out again. `agentbox stop ID` must not signal whatever process now has
    /// the pid (as root: any process of the box), `list` must show the session as stale, and the
    /// next start's cleanup must remove it: the record's supervisor is a pid *and* a start time.
    ///
    /// The pid is reused for real through `/proc/sys/kernel/ns_last_pid` when the box lets us;
    /// otherwise the record is pointed at the unrelated process, which is the same state.
    @Test func stopNeverSignalsAProcessThatReusedADeadSupervisorsPid() throws {
        let harness = try SandboxHarness()
        let store = SessionStore(uid: harness.account.uid, home: harness.account.home)
        let marker = "3000.\(getpid())\(Int.random(in: 1000...9999))"
        let supervisor = try ChildProcess.launch(
            executable: "/usr/bin/setpriv",
            arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                        SandboxHarness.agentbox, "sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile,
                        "--workdir", harness.workdir.path, "--network", "none", "--", "/bin/sleep", marker],
            environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path],
            logPath: harness.workdir.path + "/session.log")
        var id = ""
        for _ in 0..<400 where id.isEmpty {
            id = FileIO.directoryEntries(store.directory).first { hostFileExists(store.sessionDirectory($0) + "/record") } ?? ""
            usleep(25_000)
        }
        try #require(!id.isEmpty, "no session record: \(FileIO.readText(harness.workdir.path + "/session.log"))")
        // The supervisor dies without a teardown.
        kill(supervisor.pid, SIGKILL)
        _ = supervisor.waitForExit(timeout: .seconds(10))
        for _ in 0..<100 where !ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8)).isEmpty { usleep(20_000) }
        let record = try #require(store.read(id), "the record of the killed supervisor is gone")
        #expect(record.supervisorPid == supervisor.pid)

        // An unrelated process of the account gets the pid.
        var victim: RunningChild?
        for _ in 0..<20 {
            if let fd = Optional(open("/proc/sys/kernel/ns_last_pid", O_WRONLY)), fd >= 0 {
                let text = Array("\(supervisor.pid - 1)".utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            let candidate = try ChildProcess.launch(
                executable: "/usr/bin/setpriv",
                arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                            "/bin/sleep", "600"],
                environment: [:], logPath: "/dev/null")
            if candidate.pid == supervisor.pid { victim = candidate; break }
            candidate.terminate(grace: .seconds(1))
        }
        var reusedForReal = victim != nil
        if victim == nil {
            let unrelated = try ChildProcess.launch(
                executable: "/usr/bin/setpriv",
                arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                            "/bin/sleep", "600"],
                environment: [:], logPath: "/dev/null")
            var moved = record
            moved.supervisorPid = unrelated.pid
            try harness.asAccount("/bin/sh", ["-c", "printf '%s' \"$1\" > \"$2\"", "sh", moved.text,
                                              store.sessionDirectory(id) + "/record"])
            victim = unrelated
            reusedForReal = false
        }
        let unrelated = try #require(victim)
        defer { unrelated.terminate(grace: .seconds(1)) }
        usleep(200_000)  // setpriv has become sleep

        let list = try harness.asAccount(SandboxHarness.agentbox, ["list"])
        let line = list.standardOutputText.split(separator: "\n").first { $0.hasPrefix(id) } ?? ""
        #expect(line.contains("(stale)"), "pid reused for real: \(reusedForReal); list shows a dead session as live: \(line)")

        let stop = try harness.asAccount(SandboxHarness.agentbox, ["stop", id], timeout: .seconds(20))
        let survived = unrelated.waitForExit(timeout: .milliseconds(500)) == nil
        #expect(survived, "agentbox stop \(id) killed pid \(unrelated.pid), an unrelated `sleep 600` (pid reused for real: \(reusedForReal)): \(stop.text)")
        #expect(stop.status != .exited(0), "\(stop.text)")
        store.remove(id)
    }

    /// Root with someone else's `$HOME` (`sudo -E`, which `--run-as` and the session's variables
    /// invite): a store under that home is not root's. Its records would name any pid for `stop`
    /// to signal and directories for the stale cleanup to remove, so `list` does not show them and
    /// `stop` does not act on them.
    @Test func rootIgnoresSessionRecordsInAHomeThatIsNotItsOwn() throws {
        let harness = try SandboxHarness()
        let target = try ChildProcess.launch(executable: "/bin/sleep", arguments: ["30"], environment: [:], logPath: "/dev/null")
        defer { target.terminate(grace: .seconds(1)) }
        let start = try #require(SupervisorIdentity.startTime(of: target.pid))
        let sessions = harness.account.home + "/.agentbox/run/sessions"
        let id = "planted00001"
        try harness.asAccount("/bin/mkdir", ["-p", "-m", "0700", sessions + "/" + id])
        try harness.asAccount("/bin/chmod", ["0700", harness.account.home + "/.agentbox", harness.account.home + "/.agentbox/run"])
        try harness.asAccount("/bin/sh", ["-c", "printf 'id=\(id)\\nprofile=planted\\nsupervisorPid=\(target.pid)\\nsupervisorStart=\(start)\\n' > \(sessions)/\(id)/record"])
        let environment = ["HOME": harness.account.home, "PATH": SandboxHarness.path]
        let list = try ChildProcess.run(executable: SandboxHarness.agentbox, arguments: ["list"], environment: environment)
        #expect(!list.standardOutputText.contains(id), "\(list.standardOutputText)")
        let stop = try ChildProcess.run(executable: SandboxHarness.agentbox, arguments: ["stop", id], environment: environment)
        #expect(stop.status == .exited(1), "\(stop.text)")
        #expect(target.waitForExit(timeout: .milliseconds(300)) == nil, "agentbox stop signalled pid \(target.pid) from a planted record")
    }
}
