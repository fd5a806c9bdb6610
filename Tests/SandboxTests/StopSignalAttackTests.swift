import Agentbox
import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Attacks on agentbox start's handling of SIGINT/SIGTERM/SIGHUP (StopSignals, SessionSupervisor).
@Suite(.serialized)
struct StopSignalAttackTests {
    /// ^C (SIGINT) while `agentbox start` waits for approval gives the request up; SIGKILL ends
    /// agentbox without a word. Either way the broker sees the connection close: it withdraws the
    /// pending approval (the developer's prompt goes away), and an approval that comes anyway
    /// grants nothing: no lease that no supervisor would ever watch or release, no vault read, no
    /// "grant" in the audit log.
    @Test(arguments: [SIGINT, SIGKILL])
    func requesterLeavingWhileWaitingForApprovalLeavesNoLeaseBehind(_ signal: Int32) throws {
        let directory = try TemporaryDirectory(prefix: "absa")
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        let vault = try directory.write("vault.env", Array("TOKEN=approval-value-42\n".utf8))
        let policy = try directory.write("policy.yaml", Array("""
            version: 1
            profiles:
              approved-agent:
                agent: true
                allowedHosts: [testhost]
                allowedCommands: ["/bin/sleep *"]
                ttl: 1h
                requireApproval: true
                network: none
                secrets:
                  TOKEN: { from: "file://\(vault)#TOKEN", class: inject }
            """.utf8))
        let broker = try LocalBroker(policy: policy, in: directory)
        defer { broker.stop() }

        // The developer's remote shell: agentbox in the foreground, the shell (and the SSH
        // session) carries on after it.
        let marker = "4000.\(getpid())\(Int.random(in: 1000...9999))"
        let log = directory.path + "/session.log"
        let session = try ChildProcess.launch(
            executable: LocalBroker.binaries + "/devssh",
            arguments: ["--broker", broker.control, "--local", "testhost", "--", "/bin/sh", "-c",
                        "\"$0\" start approved-agent --seccomp-profile \"$1\" --workdir \"$2\" --network none -- /bin/sleep \"$3\"; sleep 30",
                        SandboxHarness.agentbox, SandboxHarness.seccompProfile, workdir, marker],
            environment: broker.environment, logPath: log)
        defer { _ = session.terminate(grace: .seconds(2)) }
        var approval = ""
        for _ in 0..<400 where approval.isEmpty {
            let text = FileIO.readText(log)
            if let range = text.firstRange(of: "(ap-") {
                approval = String(text[text.index(after: range.lowerBound)...].prefix { $0 != "," && $0 != ")" })
            }
            usleep(25_000)
        }
        try #require(!approval.isEmpty, "no approval request: \(FileIO.readText(log)) \(FileIO.readText(broker.log))")
        let agentbox = try #require(
            ProcessScan.commandLines().first {
                $0.commandLine.firstRange(of: Array(marker.utf8)) != nil
                    && FileIO.readText("/proc/\($0.pid)/comm") == "agentbox\n"
            }?.pid, "agentbox is not running")
        kill(agentbox, signal)
        for _ in 0..<200 where kill(agentbox, 0) == 0 { usleep(25_000) }
        #expect(kill(agentbox, 0) != 0, "agentbox did not end on signal \(signal)")
        if signal == SIGINT {
            #expect(FileIO.readText(log).contains("stopped"), "\(FileIO.readText(log))")
        }

        let pending = try broker.run(["pending"])
        let approve = try broker.run(["approve", approval])
        usleep(300_000)
        let leases = try broker.run(["leases"])
        let active = leases.standardOutputText.split(separator: "\n").filter { $0.contains("  active  ") }
        #expect(active.isEmpty,
                """
                agentbox ended on ^C before the grant, yet the broker holds an active lease nobody watches:
                \(leases.standardOutputText)
                pending before the approval: \(pending.standardOutputText)
                approve: \(approve.standardOutputText)\(approve.standardErrorText)
                """)
        let audit = FileIO.readText(broker.auditLog)
        #expect(!audit.contains("\"event\":\"grant\""), "\(audit)")
    }
}

/// Exit status after `agentbox stop`.
@Suite(.serialized)
struct StopExitStatusAttackTests {
    /// An agent that catches SIGTERM and exits 0 within the grace period must not make a stopped
    /// session look like a success to whatever ran `agentbox start … && next-step`: agentbox
    /// exits 143 (128+SIGTERM), and says the session was stopped.
    @Test func agentThatTrapsTermCannotMakeAStoppedSessionExitZero() throws {
        let harness = try SandboxHarness()
        let marker = "5000.\(getpid())\(Int.random(in: 1000...9999))"
        let log = harness.workdir.path + "/session.log"
        let child = try ChildProcess.launch(
            executable: "/usr/bin/setpriv",
            arguments: ["--reuid=\(harness.account.uid)", "--regid=\(harness.account.gid)", "--clear-groups", "--",
                        SandboxHarness.agentbox, "sandbox", "--seccomp-profile", SandboxHarness.seccompProfile,
                        "--workdir", harness.workdir.path, "--network", "none", "--grace", "2", "--",
                        "/bin/sh", "-c", "trap 'exit 0' TERM; sleep \(marker) & wait"],
            environment: ["HOME": harness.account.home, "PATH": SandboxHarness.path], logPath: log)
        defer { child.terminate(grace: .seconds(1)) }
        let store = SessionStore(uid: harness.account.uid, home: harness.account.home)
        var id = ""
        for _ in 0..<400 where id.isEmpty {
            id = FileIO.directoryEntries(store.directory).first { hostFileExists(store.sessionDirectory($0) + "/record") } ?? ""
            usleep(25_000)
        }
        try #require(!id.isEmpty, "\(FileIO.readText(log))")
        usleep(300_000)  // the agent's trap is set
        let stop = try harness.asAccount(SandboxHarness.agentbox, ["stop", id])
        #expect(stop.status == .exited(0), "\(stop.text)")
        let status = child.waitForExit(timeout: .seconds(10))
        #expect(FileIO.readText(log).contains("(stopped)"), "\(FileIO.readText(log))")
        #expect(status == .exited(143), "agentbox after it was stopped: \(String(describing: status)) \(FileIO.readText(log))")
    }
}
