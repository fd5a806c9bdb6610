import AgentboxCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A real OpenSSH server on 127.0.0.1 with a free port, its own host key and config in a
/// temporary directory, logging to `logPath`. Run as root (sshd needs it to switch users).
///
/// The config: `UsePAM no`, public keys only, `AllowUsers abtest*` (the `TestAccount`s),
/// `AcceptEnv AGENTBOX_SESSION_NONCE SECRETS_SOCKET`, `StreamLocalBindUnlink yes`,
/// `AllowStreamLocalForwarding yes`. `init` returns once the log says sshd is listening.
///
/// sshd insists on its privilege-separation directory `/run/sshd`; if it is missing it is
/// created (0755, root) and removed again when the last fixture of this process stops.
public final class SSHServerFixture: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: UInt16
    public let configPath: String
    public let logPath: String
    public let hostKeyPath: String
    /// The host's public key line (`ssh-ed25519 AAAA…`).
    public let hostPublicKey: String
    private var server: RunningChild?
    private var stopped = false

    /// - Parameter extraConfig: more `sshd_config` lines, appended.
    public init(extraConfig: [String] = []) throws {
        guard getuid() == 0 else { throw FixtureError("SSHServerFixture needs root") }
        directory = try TemporaryDirectory(prefix: "abs")
        configPath = directory.file("sshd_config")
        logPath = directory.file("sshd.log")
        hostKeyPath = directory.file("ssh_host_ed25519_key")
        do {
            try privilegeSeparationDirectory.acquire()
            try runTool(
                "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "agentbox-test-host", "-f", hostKeyPath])
            hostPublicKey = FileIO.readText(hostKeyPath + ".pub").split(separator: " ").prefix(2).joined(separator: " ")
        } catch {
            directory.remove()
            throw error
        }
        var lastProblem = "not started"
        for _ in 0..<5 {
            let candidate: UInt16
            do {
                candidate = try Self.freePort()
                try FileIO.write(configPath, Self.config(port: candidate, directory: directory, extra: extraConfig))
                try FileIO.write(logPath, "")
                let child = try ChildProcess.launch(
                    executable: "/usr/sbin/sshd", arguments: ["-D", "-e", "-f", configPath],
                    environment: toolEnvironment, logPath: logPath)
                if try Self.waitUntilListening(child, log: logPath, port: candidate) {
                    server = child
                    port = candidate
                    return
                }
                child.terminate(grace: .seconds(2))
                lastProblem = FileIO.readText(logPath)
            } catch {
                lastProblem = "\(error)"
                break
            }
        }
        privilegeSeparationDirectory.release()
        directory.remove()
        throw FixtureError("sshd did not start: \(lastProblem)")
    }

    /// What sshd has logged so far.
    public var log: String { FileIO.readText(logPath) }

    /// Writes an `ssh_config` for `account` with `Host hostAlias` → this server, the account's
    /// key, and this server's host key pinned (`StrictHostKeyChecking yes`, `BatchMode yes`,
    /// `IdentitiesOnly yes`); returns its path. Use as `ssh -F PATH remote-devbox-1 CMD`.
    public func writeClientConfig(for account: TestAccount, hostAlias: String = "remote-devbox-1") throws -> String {
        let knownHosts = directory.file("known_hosts_\(account.name)")
        try FileIO.write(knownHosts, "[127.0.0.1]:\(port) \(hostPublicKey)\n")
        let path = directory.file("ssh_config_\(account.name)")
        let lines = [
            "Host \(hostAlias)",
            "    HostName 127.0.0.1",
            "    Port \(port)",
            "    User \(account.name)",
            "    IdentityFile \(account.clientKeyPath)",
            "    IdentitiesOnly yes",
            "    IdentityAgent none",
            "    StrictHostKeyChecking yes",
            "    UserKnownHostsFile \(knownHosts)",
            "    GlobalKnownHostsFile /dev/null",
            "    UpdateHostKeys no",
            "    BatchMode yes",
            "    ConnectTimeout 10",
            "    LogLevel ERROR",
        ]
        try FileIO.write(path, lines.joined(separator: "\n") + "\n")
        return path
    }

    /// Stops sshd and every connection process it forked, and removes the directory.
    public func stop() {
        if stopped { return }
        stopped = true
        if let server {
            let connections = ProcessScan.descendants(of: server.pid)
            server.terminate(grace: .seconds(5))
            for pid in connections { kill(pid, SIGKILL) }
        }
        privilegeSeparationDirectory.release()
        directory.remove()
    }

    deinit { stop() }

    static func config(port: UInt16, directory: TemporaryDirectory, extra: [String]) -> String {
        let lines = [
            "ListenAddress 127.0.0.1:\(port)",
            "HostKey \(directory.file("ssh_host_ed25519_key"))",
            "PidFile \(directory.file("sshd.pid"))",
            "AuthorizedKeysFile .ssh/authorized_keys",
            "UsePAM no",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin no",
            "AllowUsers abtest*",
            "StrictModes yes",
            "AcceptEnv AGENTBOX_SESSION_NONCE SECRETS_SOCKET",
            "AllowStreamLocalForwarding yes",
            "StreamLocalBindUnlink yes",
            "X11Forwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "LogLevel VERBOSE",
        ]
        return (lines + extra).joined(separator: "\n") + "\n"
    }

    /// A port the kernel just handed out on 127.0.0.1 (bound to port 0, then released).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(SystemError("socket"))") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw FixtureError("bind 127.0.0.1:0: \(SystemError("bind"))") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Waits (at most 15 s) for "Server listening" in the log and a successful TCP connect;
    /// false if sshd exited (port taken), throws if it neither listens nor exits.
    static func waitUntilListening(_ child: RunningChild, log: String, port: UInt16) throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if child.poll() != nil { return false }
            if FileIO.readText(log).contains("Server listening on 127.0.0.1 port \(port)") && canConnect(port) {
                return true
            }
            usleep(10_000)
        }
        child.terminate(grace: .seconds(2))
        throw FixtureError("sshd did not listen within 15s: \(FileIO.readText(log))")
    }

    static func canConnect(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}

/// `/run/sshd`, made if missing and removed when the last user in this process releases it.
private let privilegeSeparationDirectory = PrivilegeSeparationDirectory()

private final class PrivilegeSeparationDirectory: Sendable {
    private struct State {
        var users = 0
        var created = false
    }

    private let state = Mutex(State())
    private let path = "/run/sshd"

    func acquire() throws {
        try state.withLock { state in
            if state.users == 0 {
                var info = stat()
                if lstat(path, &info) != 0 {
                    guard mkdir(path, 0o755) == 0 else { throw FixtureError("mkdir \(path): \(SystemError("mkdir"))") }
                    state.created = true
                }
            }
            state.users += 1
        }
    }

    func release() {
        state.withLock { state in
            guard state.users > 0 else { return }
            state.users -= 1
            if state.users == 0 && state.created {
                rmdir(path)
                state.created = false
            }
        }
    }
}
