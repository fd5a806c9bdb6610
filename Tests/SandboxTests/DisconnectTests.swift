import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// When the connection to the laptop is lost (here: the process that opened the broker session
/// is killed, so the broker ends the session and removes its socket), the profile's
/// `onDisconnect` decides: `kill` ends the session, `continue` keeps it to the lease's end.
@Suite(.serialized)
struct DisconnectTests {
    private func startSession(onDisconnect: String, directory: TemporaryDirectory, marker: String)
        throws -> (broker: LocalBroker, session: RunningChild, log: String)
    {
        let binaries = FileSafety.parent(of: SandboxHarness.agentbox)
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        let vault = try directory.write("vault.env", Array("TOKEN=disconnect-value\n".utf8))
        let policy = try directory.write("policy.yaml", Array("""
            version: 1
            profiles:
              drop-agent:
                agent: true
                allowedHosts: [testhost]
                allowedCommands: ["/bin/sh *"]
                ttl: 1h
                requireApproval: false
                network: none
                onDisconnect: \(onDisconnect)
                secrets:
                  TOKEN: file://\(vault)#TOKEN
            """.utf8))
        let broker = try LocalBroker(policy: policy, in: directory)
        let (control, environment) = (broker.control, broker.environment)
        let log = directory.path + "/session.log"
        let session = try ChildProcess.launch(
            executable: binaries + "/devssh",
            arguments: ["--broker", control, "--local", "testhost", "--", SandboxHarness.agentbox, "start", "drop-agent",
                        "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", workdir, "--grace", "0.2", "--",
                        "/bin/sh", "-c", "sleep \(marker)"],
            environment: environment, logPath: log)
        for _ in 0..<200 where ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8)).count < 2 { usleep(20_000) }
        return (broker, session, log)
    }

    /// The pid of the agentbox supervisor (the devssh child running `agentbox start`).
    private func supervisor(of session: RunningChild) -> pid_t? {
        ProcessScan.descendants(of: session.pid).first { pid in
            guard let line = ProcessScan.commandLines().first(where: { $0.pid == pid })?.commandLine else { return false }
            return String(decoding: line, as: UTF8.self).contains("agentbox\u{0}start")
        }
    }

    @Test func killProfileEndsTheSessionWhenTheConnectionDrops() throws {
        let directory = try TemporaryDirectory(prefix: "abd")
        let marker = "3000.\(getpid())1"
        let (broker, session, log) = try startSession(onDisconnect: "kill", directory: directory, marker: marker)
        defer { broker.stop() }
        let agentbox = try #require(supervisor(of: session), "\(FileIO.readText(log))")
        session.send(SIGKILL)  // the "connection" goes: the broker ends the session and removes its socket
        _ = session.waitForExit(timeout: .seconds(5))
        var left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        let deadline = ContinuousClock.now + .seconds(10)
        while !left.isEmpty && ContinuousClock.now < deadline {
            usleep(50_000)
            left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        }
        #expect(left.isEmpty, "still running after the connection dropped: \(left) \(FileIO.readText(log))")
        #expect(FileIO.readText(log).contains("(disconnected)"), "\(FileIO.readText(log))")
        kill(agentbox, SIGKILL)
    }

    @Test func continueProfileKeepsTheSessionAfterTheConnectionDrops() throws {
        let directory = try TemporaryDirectory(prefix: "abd")
        let marker = "3000.\(getpid())2"
        let (broker, session, log) = try startSession(onDisconnect: "continue", directory: directory, marker: marker)
        defer { broker.stop() }
        let agentbox = try #require(supervisor(of: session), "\(FileIO.readText(log))")
        defer {
            kill(agentbox, SIGTERM)
            for _ in 0..<100 where !ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8)).isEmpty { usleep(50_000) }
        }
        session.send(SIGKILL)
        _ = session.waitForExit(timeout: .seconds(5))
        sleep(6)  // longer than the supervisor's three failed watch attempts
        #expect(!ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8)).isEmpty,
                "the session ended although the profile says continue: \(FileIO.readText(log))")
    }
}
