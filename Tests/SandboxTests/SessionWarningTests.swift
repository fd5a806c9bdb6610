import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What agentbox warns about at the start of a session is said once: `agentbox: warning: …`.
@Suite(.serialized)
struct SessionWarningTests {
    @Test func tooShortSessionValueIsWarnedAboutOnce() throws {
        let directory = try TemporaryDirectory(prefix: "abw")
        let binaries = FileSafety.parent(of: SandboxHarness.agentbox)
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        let vault = try directory.write("vault.env", Array("TOKEN=ab3x5\n".utf8))
        let policy = try directory.write(
            "policy.yaml",
            Array(
                """
                version: 1
                profiles:
                  sandbox-agent:
                    agent: true
                    allowedHosts: [testhost]
                    allowedCommands: ["/bin/true"]
                    requireApproval: false
                    network: none
                    secrets:
                      TOKEN: { from: "file://\(vault)#TOKEN", class: inject }
                """.utf8))
        let broker = try LocalBroker(policy: policy, in: directory)
        defer { broker.stop() }
        let output = try ChildProcess.run(
            executable: binaries + "/devssh",
            arguments: [
                "--broker", broker.control, "--local", "testhost", "--", SandboxHarness.agentbox, "start",
                "sandbox-agent", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", workdir,
                "--network", "none", "--", "/bin/true",
            ],
            environment: broker.environment, timeout: .seconds(60))
        #expect(output.status == .exited(0), "\(output.standardErrorText)")
        let warnings = output.standardErrorText.split(separator: "\n").filter { $0.contains("warning") }
        #expect(
            warnings == ["agentbox: warning: TOKEN is 5 bytes, shorter than the minimum of 6: it will not be redacted"],
            "\(output.standardErrorText)")
    }
}
