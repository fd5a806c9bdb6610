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
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        let vault = try directory.write("vault.env", Array("TOKEN=ab3x5\n".utf8))
        let policy = try LocalBroker.writeAgentPolicy(
            in: directory, allowedCommand: "/bin/true", reference: "file://\(vault)#TOKEN")
        let broker = try LocalBroker(policy: policy, in: directory)
        defer { broker.stop() }
        let output = try broker.startAgent(workdir: workdir, ["/bin/true"])
        #expect(output.status == .exited(0), "\(output.standardErrorText)")
        let warnings = output.standardErrorText.split(separator: "\n").filter { $0.contains("warning") }
        #expect(
            warnings == ["agentbox: warning: TOKEN is 5 bytes, shorter than the minimum of 6: it will not be redacted"],
            "\(output.standardErrorText)")
    }
}
