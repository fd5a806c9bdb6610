import AgentboxCore
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `secret-broker serve` on a policy in a test's directory: its control socket, audit log
/// and log there, no prompt (approvals through `secret-broker approve`). `devssh --broker
/// control --local testhost -- agentbox start …` then runs a session against it.
struct LocalBroker {
    let directory: TemporaryDirectory
    let control: String
    let auditLog: String
    let log: String
    /// HOME and XDG_RUNTIME_DIR in the directory, the sandbox tests' PATH; callers may add to it.
    let environment: [String: String]
    let process: RunningChild

    static let binaries = FileSafety.parent(of: SandboxHarness.agentbox)

    init(policy: String, in directory: TemporaryDirectory, environment extra: [String: String] = [:]) throws {
        self.directory = directory
        control = directory.path + "/control.sock"
        auditLog = directory.path + "/audit.log"
        log = directory.path + "/broker.log"
        environment = ["HOME": directory.path, "XDG_RUNTIME_DIR": directory.path, "PATH": SandboxHarness.path]
            .merging(extra) { _, new in new }
        process = try ChildProcess.launch(
            executable: Self.binaries + "/secret-broker",
            arguments: ["serve", "--policy", policy, "--socket", control, "--audit-log", auditLog, "--no-prompt"],
            environment: environment, logPath: log)
        for _ in 0..<200 where !hostFileExists(control) { usleep(25_000) }
    }

    /// `secret-broker ARGS --socket control`.
    func run(_ arguments: [String]) throws -> ChildProcess.Output {
        try ChildProcess.run(executable: Self.binaries + "/secret-broker", arguments: arguments + ["--socket", control],
                             environment: environment)
    }

    func stop() { _ = process.terminate(grace: .seconds(2)) }

    /// Writes a policy with one agent profile, `sandbox-agent` (no approval, network none, one
    /// inject secret TOKEN from `reference`), and returns its path.
    static func writeAgentPolicy(in directory: TemporaryDirectory, allowedCommand: String, reference: String) throws
        -> String
    {
        try directory.write(
            "policy.yaml",
            Array(
                """
                version: 1
                profiles:
                  sandbox-agent:
                    agent: true
                    allowedHosts: [testhost]
                    allowedCommands: ["\(allowedCommand)"]
                    requireApproval: false
                    network: none
                    secrets:
                      TOKEN: { from: "\(reference)", class: inject }
                """.utf8))
    }

    /// `devssh --local testhost -- agentbox start sandbox-agent … -- COMMAND` against this broker.
    func startAgent(workdir: String, _ command: [String]) throws -> ChildProcess.Output {
        try ChildProcess.run(
            executable: Self.binaries + "/devssh",
            arguments: [
                "--broker", control, "--local", "testhost", "--", SandboxHarness.agentbox, "start",
                "sandbox-agent", "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", workdir,
                "--network", "none", "--",
            ] + command,
            environment: environment, timeout: .seconds(60))
    }
}
