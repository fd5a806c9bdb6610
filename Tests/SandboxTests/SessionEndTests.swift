import Agentbox
import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Ending a session (agentbox stop, or the lease's end) leaves no process of it behind.
@Suite(.serialized)
struct SessionEndTests {
    /// A `setsid nohup sleep` daemon, a double-forked child and a process ignoring SIGTERM, all
    /// gone within a second of the stop.
    @Test func daemonsAndDoubleForkedChildrenDoNotSurviveStop() throws {
        let harness = try SandboxHarness()
        let marker = "1000.\(getpid())\(Int.random(in: 1000...9999))"
        let log = harness.workdir.path + "/session.log"
        let child = try ChildProcess.launch(
            executable: "/usr/bin/setpriv",
            arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                        SandboxHarness.agentbox, "sandbox", "--seccomp-profile", SandboxHarness.seccompProfile,
                        "--workdir", harness.workdir.path, "--grace", "0.3", "--", "/bin/sh", "-c", """
                setsid nohup sleep \(marker) >/dev/null 2>&1 &
                ( sleep \(marker) & ) 
                ( trap '' TERM; exec sleep \(marker) ) &
                echo started
                sleep \(marker)
                """],
            environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path], logPath: log)
        var running: [pid_t] = []
        for _ in 0..<200 {
            running = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
            if running.count >= 4 { break }
            usleep(25_000)
        }
        #expect(running.count >= 4, "\(FileIO.readText(log))")
        // agentbox stop ID: find the session's record and stop it as the account.
        let list = try harness.asAccount(SandboxHarness.agentbox, ["list"])
        let id = list.standardOutputText.split(separator: "\n").dropFirst().first.map { String($0.prefix { $0 != " " }) } ?? ""
        #expect(!id.isEmpty, "\(list.text)")
        let start = ContinuousClock.now
        let stop = try harness.asAccount(SandboxHarness.agentbox, ["stop", id])
        #expect(stop.status == .exited(0), "\(stop.text)")
        var left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        while !left.isEmpty && ContinuousClock.now - start < .seconds(1) {
            usleep(10_000)
            left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        }
        #expect(left.isEmpty, "still running after 1 s: \(left)")
        let status = child.waitForExit(timeout: .seconds(10))
        #expect(status == .exited(128 + SIGTERM) || status == .exited(128 + SIGKILL), "\(String(describing: status))")
        // The session directory is gone.
        let store = SessionStore(uid: harness.account.uid, home: harness.account.home)
        #expect(hostFileExists(store.directory), "the account's session store \(store.directory) was never made")
        let sessions = FileIO.directoryEntries(store.directory)
        #expect(sessions.isEmpty, "\(sessions)")
    }

    /// The agent exits and leaves a `setsid nohup` daemon, a double-forked child and a process
    /// ignoring SIGTERM behind: when agentbox returns (with the agent's status), none of them is
    /// left (the init kills and reaps them before it reports the session over).
    @Test func processesLeftBehindDoNotOutliveTheAgentsExit() throws {
        let harness = try SandboxHarness()
        let marker = "1000.\(getpid())\(Int.random(in: 1000...9999))"
        let output = try harness.sandbox(["/bin/sh", "-c", """
            exec >/dev/null 2>&1
            setsid nohup sleep \(marker) &
            ( sleep \(marker) & )
            ( trap '' TERM; exec sleep \(marker) ) &
            sleep 0.2
            exit 7
            """])
        let left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        #expect(output.status == .exited(7), "\(output.text)")
        #expect(left.isEmpty, "still there when agentbox returned: \(left)")
    }

    /// A fork bomb's aftermath: the agent leaves 4,000 processes behind. They are all gone, and
    /// agentbox has returned, within two seconds of the agent's exit (killing once more after
    /// each reap took six seconds for 4,000, minutes for a real fork bomb).
    @Test func thousandsOfProcessesLeftBehindEndPromptly() throws {
        let harness = try SandboxHarness()
        let marker = "1000.\(getpid())\(Int.random(in: 1000...9999))"
        let output = try harness.sandbox(["/bin/sh", "-c", """
            i=0
            while [ $i -lt 4000 ]; do sleep \(marker) </dev/null >/dev/null 2>&1 & i=$((i+1)); done
            date +%s.%N
            exit 5
            """], timeout: .seconds(120))
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let returned = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        let agentExited = Double(output.standardOutputText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(output.status == .exited(5), "\(output.text)")
        #expect(returned - agentExited < 2, "agentbox returned \(returned - agentExited) s after the agent's exit")
        #expect(ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8)).isEmpty)
    }

    /// A fork bomb stops at the session's process limit (RLIMIT_NPROC, counted in the session's
    /// user namespace) instead of filling the host's pid space: with `--max-processes 64`, the
    /// agent cannot raise its limit, a forking loop is refused (EAGAIN) before its 64th process,
    /// and the session ends cleanly.
    @Test func forkBombStopsAtTheSessionsProcessLimit() throws {
        let harness = try SandboxHarness()
        let output = try harness.asAccount(
            SandboxHarness.agentbox,
            ["sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", harness.workdir.path,
             "--network", "none", "--max-processes", "64", "--", "/usr/bin/python3", "-c", """
                import os, resource, time
                try:
                    resource.setrlimit(resource.RLIMIT_NPROC, (100000, 100000))
                    print("raised", end=" ")
                except (ValueError, OSError):
                    pass
                forked = 0
                for _ in range(500):
                    try:
                        pid = os.fork()
                    except OSError as error:
                        print("refused", error.errno, "after", forked)
                        break
                    if pid == 0:
                        time.sleep(30)
                        os._exit(0)
                    forked += 1
                else:
                    print("forked", forked)
                """])
        #expect(output.status == .exited(0), "\(output.text)")
        let words = output.standardOutputText.split(separator: " ")
        #expect(words.first == "refused" && words.dropFirst().first == "\(EAGAIN)", "\(output.text)")
        #expect((Int(words.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 999) < 64, "\(output.text)")
    }

    /// SIGTERM, SIGINT or SIGHUP at any moment of the start: agentbox always ends (the signal is
    /// never lost), with the signal's status (or SIGTERM's, the agent's, once it runs), and leaves
    /// no process and no session directory.
    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func stopSignalDuringTheStartIsNeverLostAndLeavesNothing(_ signalNumber: Int32) throws {
        let harness = try SandboxHarness()
        let store = SessionStore(uid: harness.account.uid, home: harness.account.home)
        for round in 0..<12 {
            let marker = "1000.\(getpid())\(round)\(signalNumber)"
            let child = try ChildProcess.launch(
                executable: "/usr/bin/setpriv",
                arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                            SandboxHarness.agentbox, "sandbox", "--quiet", "--seccomp-profile",
                            SandboxHarness.seccompProfile, "--workdir", harness.workdir.path, "--grace", "0.3", "--",
                            "/bin/sleep", marker],
                environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path],
                logPath: harness.workdir.path + "/start-\(round).log")
            // Once setpriv has become agentbox, a delay that moves through the whole start.
            for _ in 0..<400 where FileIO.readText("/proc/\(child.pid)/comm") != "agentbox\n" { usleep(500) }
            usleep(useconds_t(round * 1500))
            kill(child.pid, signalNumber)
            let status = child.waitForExit(timeout: .seconds(10))
            #expect(
                [.exited(128 + signalNumber), .exited(128 + SIGTERM), .exited(128 + SIGKILL), .signaled(signalNumber)]
                    .contains(status),
                "round \(round): \(String(describing: status)) \(FileIO.readText(harness.workdir.path + "/start-\(round).log"))")
            if status == nil { kill(child.pid, SIGKILL) }
            var left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
            for _ in 0..<100 where !left.isEmpty {
                usleep(10_000)
                left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
            }
            #expect(left.isEmpty, "round \(round): still running: \(left)")
            let sessions = FileIO.directoryEntries(store.directory)
            #expect(sessions.isEmpty, "round \(round): session directories left: \(sessions)")
        }
    }

    /// A session stays where it started: when the runtime directory agentbox would pick changes
    /// (here `/run/user/UID` appears, as at login), `list` still shows it and `stop` still ends it.
    @Test func sessionIsFoundAfterTheRuntimeDirectoryChanges() throws {
        let harness = try SandboxHarness()
        let marker = "1000.\(getpid())\(Int.random(in: 1000...9999))"
        let before = SessionStore(uid: harness.account.uid, home: harness.account.home)
        let child = try ChildProcess.launch(
            executable: "/usr/bin/setpriv",
            arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                        SandboxHarness.agentbox, "sandbox", "--quiet", "--seccomp-profile", SandboxHarness.seccompProfile,
                        "--workdir", harness.workdir.path, "--", "/bin/sleep", marker],
            environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path],
            logPath: harness.workdir.path + "/session.log")
        var id = ""
        for _ in 0..<200 where id.isEmpty {
            id = FileIO.directoryEntries(before.directory).first { hostFileExists(before.directory + "/\($0)/record") } ?? ""
            usleep(25_000)
        }
        try #require(!id.isEmpty, "no session record in \(before.directory): \(FileIO.readText(harness.workdir.path + "/session.log"))")
        _ = try harness.account.makeRuntimeDirectory()
        let now = SessionStore(uid: harness.account.uid, home: harness.account.home)
        #expect(now.directory != before.directory, "the pick did not change: \(now.directory)")
        let list = try harness.asAccount(SandboxHarness.agentbox, ["list"])
        #expect(list.standardOutputText.contains(id), "\(list.text)")
        let stop = try harness.asAccount(SandboxHarness.agentbox, ["stop", id])
        #expect(stop.status == .exited(0), "\(stop.text)")
        #expect(child.waitForExit(timeout: .seconds(10)) == .exited(128 + SIGTERM))
        #expect(ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8)).isEmpty)
        #expect(FileIO.directoryEntries(before.directory).isEmpty)
    }

    /// The directories of sessions whose supervisor is gone (SIGKILL) are removed by the next
    /// start, also when its pid now belongs to another process; a live session's and one being
    /// made (no record yet) are not.
    @Test func nextStartRemovesStaleSessionsOnly() throws {
        let harness = try SandboxHarness()
        let store = SessionStore(uid: harness.account.uid, home: harness.account.home)
        // A supervisor that is gone: the pid of a process that has exited.
        let gone = try ChildProcess.launch(executable: "/bin/true", arguments: [], environment: [:], logPath: "/dev/null")
        _ = gone.waitForExit(timeout: .seconds(5))
        let live = try ChildProcess.launch(executable: "/bin/sleep", arguments: ["30"], environment: [:], logPath: "/dev/null")
        defer { kill(live.pid, SIGKILL) }
        try harness.asAccount("/bin/mkdir", ["-m", "0700", FileSafety.parent(of: store.directory), store.directory])
        let liveStart = try #require(SupervisorIdentity.startTime(of: live.pid))
        // The live one's record names its start time; a record with the live pid and another
        // start time is a supervisor whose pid was handed out again: stale.
        for (id, pid, start) in [("stale0000001", gone.pid, UInt64(1)), ("live00000001", live.pid, liveStart),
                                 ("reused000001", live.pid, liveStart + 1)] {
            try harness.asAccount("/bin/mkdir", ["-p", store.sessionDirectory(id) + "/home/.cache"])
            try harness.asAccount("/bin/sh", ["-c", "echo secret-ish > \(store.sessionDirectory(id))/home/.cache/left"])
            try harness.asAccount("/bin/sh", ["-c", "printf 'id=\(id)\\nsupervisorPid=\(pid)\\nsupervisorStart=\(start)\\n' > \(store.sessionDirectory(id))/record"])
        }
        try harness.asAccount("/bin/mkdir", [store.sessionDirectory("starting0001")])
        let run = try harness.sandbox(["/bin/true"])
        #expect(run.status == .exited(0), "\(run.text)")
        let left = Set(FileIO.directoryEntries(store.directory))
        #expect(left == ["live00000001", "starting0001"], "\(left)")
    }
}
