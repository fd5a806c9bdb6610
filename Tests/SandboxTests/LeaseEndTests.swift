import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// With a real broker: the lease's expiry ends the session, and every process of it is gone
/// within a second, daemons and double-forked children included.
@Suite(.serialized)
struct LeaseEndTests {
    @Test func sessionProcessesDoNotOutliveLeaseExpiry() throws {
        let directory = try TemporaryDirectory(prefix: "abl")
        let binaries = FileSafety.parent(of: SandboxHarness.agentbox)
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        let vault = try directory.write("vault.env", Array("TOKEN=lease-value-42\n".utf8))
        let policy = try directory.write("policy.yaml", Array("""
            version: 1
            profiles:
              sandbox-agent:
                agent: true
                allowedHosts: [testhost]
                allowedCommands: ["/bin/sh *"]
                ttl: 3s
                requireApproval: false
                network: none
                secrets:
                  TOKEN: { from: "file://\(vault)#TOKEN", class: inject }
            """.utf8))
        let broker = try LocalBroker(policy: policy, in: directory)
        defer { broker.stop() }
        let (control, environment) = (broker.control, broker.environment)

        let marker = "2000.\(getpid())\(Int.random(in: 1000...9999))"
        let log = directory.path + "/session.log"
        let session = try ChildProcess.launch(
            executable: binaries + "/devssh",
            arguments: ["--broker", control, "--local", "testhost", "--", SandboxHarness.agentbox, "start", "sandbox-agent",
                        "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", workdir, "--grace", "0.2", "--network", "none",
                        "--", "/bin/sh", "-c", """
                test "$TOKEN" = lease-value-42 && echo has-token
                setsid nohup sleep \(marker) >/dev/null 2>&1 &
                ( sleep \(marker) & )
                sleep \(marker)
                """],
            environment: environment, logPath: log)
        var running: [pid_t] = []
        for _ in 0..<200 {
            running = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
            if running.count >= 3 { break }
            usleep(20_000)
        }
        #expect(running.count >= 3, "\(FileIO.readText(log)) \(FileIO.readText(directory.path + "/broker.log"))")
        // The lease lasts 3 s from the grant; every process must be gone within a second after it.
        let deadline = ContinuousClock.now + .seconds(3) + .seconds(1)
        var left = running
        while !left.isEmpty && ContinuousClock.now < deadline + .milliseconds(500) {
            usleep(20_000)
            left = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
        }
        #expect(left.isEmpty, "still running after the lease ended: \(left)")
        let status = session.waitForExit(timeout: .seconds(10))
        #expect(status == .exited(128 + SIGTERM) || status == .exited(128 + SIGKILL), "\(String(describing: status)) \(FileIO.readText(log))")
        let text = FileIO.readText(log)
        #expect(text.contains("has-token"), "\(text)")
        #expect(text.contains("(expired)"), "\(text)")
        // The broker's audit log records how the session ended and its status.
        let audit = FileIO.readText(directory.path + "/audit.log")
        let ending = audit.split(separator: "\n").first { $0.contains("\"ended\":\"expired\"") }
        #expect(ending != nil, "\(audit)")
        #expect(ending?.contains("\"exitStatus\":\(128 + SIGTERM)") == true || ending?.contains("\"exitStatus\":\(128 + SIGKILL)") == true)
    }
}
