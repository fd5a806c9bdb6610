import AgentboxCore
import BrokerControl
import BrokerProtocol
import SecretsRun

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// One `devssh HOST` run, step by step: register the session with the broker, open a shared ssh
/// connection, prepare the remote runtime directory, forward the session's socket, run the
/// developer's ssh session with the nonce in its environment, then tear everything down.
public final class DevSSHSession {
    let arguments: SSHArguments
    let ssh: String
    let broker: ControlClient
    let environment: [String: String]
    let progress: (String) -> Void
    private var created: SessionCreated?
    private var controlDirectory: String?
    private var masterStarted = false
    private var remoteSocket: String?

    public init(arguments: SSHArguments, sshExecutable: String, broker: ControlClient,
                environment: [String: String], progress: @escaping (String) -> Void) {
        self.arguments = arguments
        self.ssh = sshExecutable
        self.broker = broker
        self.environment = environment
        self.progress = progress
    }

    /// Runs the whole session and returns ssh's exit status.
    public func run() throws(DevSSHError) -> Int32 {
        defer { tearDown() }
        let remoteUser = try loginUser()
        let session = try register(remoteUser: remoteUser)
        try openSharedConnection(sessionId: session.sessionId)
        let report = try prepareRemote()
        let remoteSocket = report.directory + "/" + session.sessionId + ".sock"
        self.remoteSocket = remoteSocket
        try forward(remote: remoteSocket, local: session.socketPath)
        try forward(remote: report.directory + "/" + RemoteRuntimeDirectory.socketName, local: session.socketPath)
        // The credential proxy, on its own socket: what reaches it cannot reach the session API.
        // Leases name it `<session>.proxy.sock`, beside the session socket.
        if let proxySocket = session.proxySocketPath {
            try forward(remote: report.directory + "/" + session.sessionId + ".proxy.sock", local: proxySocket)
        }
        if !report.environmentAccepted {
            progress("""
                warning: the remote sshd did not accept AGENTBOX_SESSION_NONCE; 'secrets run' will be refused there.
                  Add to the remote /etc/ssh/sshd_config: AcceptEnv AGENTBOX_SESSION_NONCE SECRETS_SOCKET
                """)
        }
        return try interactive(nonce: session.nonce, remoteSocket: remoteSocket)
    }

    // MARK: - Steps

    private func loginUser() throws(DevSSHError) -> String {
        let output = try runSSH(arguments.options + ["-G", arguments.destination], what: "ssh -G")
        for line in output.split(separator: "\n") where line.hasPrefix("user ") {
            return String(line.dropFirst(5))
        }
        throw .ssh("ssh -G \(arguments.destination) did not name a login user")
    }

    private func register(remoteUser: String) throws(DevSSHError) -> SessionCreated {
        do {
            let session = try broker.registerSession(
                SessionRegistration(host: arguments.hostAlias, remoteUser: remoteUser, ownerPid: getpid()))
            created = session
            return session
        } catch {
            throw .broker("cannot register the session with secret-broker: \(error)")
        }
    }

    private var controlPath: String { (controlDirectory ?? "/nonexistent") + "/c" }

    private func openSharedConnection(sessionId: String) throws(DevSSHError) {
        let directory = StandardLocations(environment: environment).runtimeDirectory + "/devssh/" + sessionId
        do {
            try FileSafety.makePrivateDirectory(directory)
        } catch {
            throw .ssh("cannot create \(directory): \(error)")
        }
        controlDirectory = directory
        // The master, not the mux client, sends a session's environment, and it passes on only
        // the names in its own SendEnv: without these, the nonce never reaches the remote shell.
        let status = try spawnInteractive(
            ["-M", "-S", controlPath, "-f", "-N", "-o", "ExitOnForwardFailure=yes", "-o", "ControlPersist=no",
             "-o", "SendEnv=\(RemoteRuntimeDirectory.nonceEnvironmentName)",
             "-o", "SendEnv=\(RemoteRuntimeDirectory.socketEnvironmentName)"]
                + arguments.options + [arguments.destination], extraEnvironment: [:])
        guard status == 0 else { throw .ssh("ssh could not connect to \(arguments.destination) (exit \(status))") }
        masterStarted = true
    }

    private func prepareRemote() throws(DevSSHError) -> RemotePreparation.Report {
        let output = try runSSH(
            ["-S", controlPath, "-o", "SendEnv=\(RemoteRuntimeDirectory.nonceEnvironmentName)", arguments.destination,
             RemotePreparation.command],
            what: "remote preparation",
            extraEnvironment: [RemoteRuntimeDirectory.nonceEnvironmentName: RemotePreparation.probeValue])
        guard let report = RemotePreparation.parse(output) else {
            throw .remoteSetup("could not prepare the remote runtime directory; the remote said: \(output.prefix(300))")
        }
        return report
    }

    private func forward(remote: String, local: String) throws(DevSSHError) {
        _ = try runSSH(["-S", controlPath, "-O", "forward", "-R", "\(remote):\(local)", arguments.destination],
                       what: "forwarding \(remote)")
    }

    private func interactive(nonce: String, remoteSocket: String) throws(DevSSHError) -> Int32 {
        let sessionArguments = ["-S", controlPath,
                                "-o", "SendEnv=\(RemoteRuntimeDirectory.nonceEnvironmentName)",
                                "-o", "SendEnv=\(RemoteRuntimeDirectory.socketEnvironmentName)"]
            + arguments.sessionOptions + [arguments.destination] + arguments.remoteCommand
        return try spawnInteractive(sessionArguments, extraEnvironment: [
            RemoteRuntimeDirectory.nonceEnvironmentName: nonce,
            RemoteRuntimeDirectory.socketEnvironmentName: remoteSocket,
        ])
    }

    private func tearDown() {
        if masterStarted {
            removeRemoteSocket()
            _ = try? runSSH(["-S", controlPath, "-O", "exit", arguments.destination], what: "closing the connection")
        }
        if let created {
            try? broker.endSession(created.sessionId)
        }
        if let controlDirectory {
            unlink(controlPath)
            rmdir(controlDirectory)
        }
    }

    /// Removes this session's socket file on the remote, through the shared connection only
    /// (never a new connection that could prompt). The default `broker.sock` is left alone: a
    /// newer connection may own it; the next preparation step replaces it.
    private func removeRemoteSocket() {
        guard let remoteSocket, !remoteSocket.contains("'"),
            (try? runSSH(["-S", controlPath, "-O", "check", arguments.destination], what: "checking the connection")) != nil
        else { return }
        _ = try? runSSH(["-S", controlPath, "-o", "BatchMode=yes", arguments.destination, "rm -f '\(remoteSocket)'"],
                        what: "removing the remote socket")
    }

    // MARK: - Running ssh

    private func runSSH(_ sshArguments: [String], what: String, extraEnvironment: [String: String] = [:])
        throws(DevSSHError) -> String
    {
        let output: ChildProcess.Output
        do {
            output = try ChildProcess.run(executable: ssh, arguments: sshArguments,
                                          environment: environment.merging(extraEnvironment) { _, new in new },
                                          timeout: .seconds(60))
        } catch {
            throw .ssh("\(what) failed: \(error)")
        }
        guard output.status.isSuccess else {
            let detail = output.standardErrorText.split(separator: "\n").last.map(String.init) ?? "\(output.status)"
            throw .ssh("\(what) failed: \(detail)")
        }
        return output.standardOutputText
    }

    private func spawnInteractive(_ sshArguments: [String], extraEnvironment: [String: String]) throws(DevSSHError)
        -> Int32
    {
        do {
            let status = try ChildProcess.runInheritingStandardIO(
                executable: ssh, arguments: sshArguments,
                environment: environment.merging(extraEnvironment) { _, new in new })
            switch status {
            case .exited(let code): return code
            case .signaled(let signal): return 128 + signal
            }
        } catch {
            throw .ssh("cannot run \(ssh): \(error)")
        }
    }
}
