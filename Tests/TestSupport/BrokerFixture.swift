import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A real `secret-broker serve --no-prompt` as a child process: its policy (0600) in a private
/// temporary directory, its own XDG directories there, the caller's extra environment (a
/// `PassStoreFixture`'s `brokerEnvironment()`), standard output and error in `logPath`.
/// `init` returns once the control socket answers; `stop()` (or deinit) ends it and removes the
/// directory.
public final class BrokerFixture: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let policyPath: String
    public let controlSocket: String
    public let auditLogPath: String
    /// The broker's standard output and error.
    public let logPath: String
    /// The environment for clients on the laptop side (`devssh`, the `secret-broker` CLI):
    /// `PATH`, `HOME`, `SECRET_BROKER_SOCKET` and the same XDG directories as the broker.
    public let clientEnvironment: [String: String]
    public let brokerExecutable: String
    private var server: RunningChild?
    private var stopped = false

    /// - Parameters:
    ///   - policy: the policy file's text.
    ///   - environment: extra variables for the broker (vault settings such as `PASSWORD_STORE_DIR`).
    public init(policy: String, environment: [String: String] = [:]) throws {
        brokerExecutable = try BuiltProducts.path("secret-broker")
        directory = try TemporaryDirectory(prefix: "abb")
        policyPath = directory.file("policy.yaml")
        controlSocket = directory.file("r/control.sock")
        auditLogPath = directory.file("state/audit.log")
        logPath = directory.file("broker.log")
        let xdg = [
            "XDG_RUNTIME_DIR": directory.file("x"),
            "XDG_STATE_HOME": directory.file("state"),
            "XDG_CONFIG_HOME": directory.file("config"),
        ]
        var client = toolEnvironment
        client["HOME"] = directory.path
        client.merge(xdg) { $1 }
        client["SECRET_BROKER_SOCKET"] = controlSocket
        clientEnvironment = client
        var brokerEnvironment = toolEnvironment
        brokerEnvironment["HOME"] = directory.path
        brokerEnvironment.merge(environment) { $1 }
        brokerEnvironment.merge(xdg) { $1 }
        do {
            for path in xdg.values {
                try FileSafety.makePrivateDirectory(path)
            }
            try writePolicy(policy)
            try FileIO.write(logPath, "")
            let child = try ChildProcess.launch(
                executable: brokerExecutable,
                arguments: [
                    "serve", "--policy", policyPath, "--socket", controlSocket, "--audit-log", auditLogPath,
                    "--no-prompt",
                ],
                environment: brokerEnvironment, logPath: logPath)
            server = child
            try waitForControlSocket(child)
        } catch {
            stop()
            throw error
        }
    }

    /// The broker's process id.
    public var pid: pid_t { server?.pid ?? -1 }

    /// What the broker has written to its standard output and error so far.
    public var log: String { FileIO.readText(logPath) }

    /// The audit log's bytes so far.
    public var auditLog: [UInt8] { FileIO.read(auditLogPath) ?? [] }

    /// The audit log's events, one JSON line each, as text.
    public var auditLines: [String] { FileIO.readText(auditLogPath).split(separator: "\n").map(String.init) }

    /// Replaces the policy file's content (mode 0600 unless told otherwise).
    public func writePolicy(_ text: String, mode: mode_t = 0o600) throws {
        do {
            try FileIO.write(policyPath, text, mode: mode)
        } catch {
            throw FixtureError("cannot write \(policyPath): \(error)")
        }
    }

    /// Runs `secret-broker ARGS...` as a client of this broker and returns what it printed.
    @discardableResult
    public func cli(_ arguments: [String], timeout: Duration = .seconds(30)) throws -> ChildProcess.Output {
        try ChildProcess.run(
            executable: brokerExecutable, arguments: arguments, environment: clientEnvironment, timeout: timeout)
    }

    /// Sends SIGHUP (reload the policy).
    public func sendHangup() {
        server?.send(SIGHUP)
    }

    /// Whether the broker process is still running.
    public var isRunning: Bool { server?.isRunning ?? false }

    /// Stops the broker (SIGTERM, then SIGKILL) and removes its directory.
    public func stop() {
        if stopped { return }
        stopped = true
        server?.terminate(grace: .seconds(5))
        directory.remove()
    }

    deinit { stop() }

    private func waitForControlSocket(_ child: RunningChild) throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let status = child.poll() {
                throw FixtureError("secret-broker serve exited (\(status)): \(log)")
            }
            var info = stat()
            if stat(controlSocket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK,
                let output = try? cli(["sessions", "--json"], timeout: .seconds(5)), output.status.isSuccess
            {
                return
            }
            usleep(20_000)
        }
        throw FixtureError("secret-broker did not open \(controlSocket) within 20s: \(log)")
    }
}
