/// The namespaces a sandbox creates.
public struct Namespaces: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let user = Namespaces(rawValue: 1 << 0)
    public static let pid = Namespaces(rawValue: 1 << 1)
    public static let mount = Namespaces(rawValue: 1 << 2)
    public static let ipc = Namespaces(rawValue: 1 << 3)
    public static let uts = Namespaces(rawValue: 1 << 4)
    public static let network = Namespaces(rawValue: 1 << 5)

    public var names: [String] {
        [(Namespaces.user, "user"), (.pid, "pid"), (.mount, "mount"), (.ipc, "ipc"), (.uts, "uts"), (.network, "net")]
            .filter { contains($0.0) }.map(\.1)
    }
}

/// One step of building the sandbox's filesystem, applied in order after the new root (an
/// empty tmpfs) is mounted. Targets are absolute paths inside the new root.
public enum MountOperation: Sendable, Equatable, CustomStringConvertible {
    /// A new filesystem: `tmpfs`, `proc` or `devpts`, with `key=value` options.
    case filesystem(type: String, target: String, options: String, readOnly: Bool, noExec: Bool)
    /// A recursive bind of a host path (or, with `sourceInRoot`, a path already inside the new
    /// root); the source is opened without following any symbolic link.
    case bind(source: String, target: String, readOnly: Bool, isFile: Bool, sourceInRoot: Bool)
    /// A symbolic link at `target` pointing to `destination`.
    case symlink(target: String, destination: String)
    /// A directory.
    case directory(target: String, mode: UInt32)

    public var target: String {
        switch self {
        case .filesystem(_, let target, _, _, _), .bind(_, let target, _, _, _), .symlink(let target, _),
            .directory(let target, _):
            return target
        }
    }

    public var description: String {
        switch self {
        case .filesystem(let type, let target, let options, let readOnly, let noExec):
            return "\(type) \(target) (\(options))\(readOnly ? " ro" : " rw")\(noExec ? " noexec" : "")"
        case .bind(let source, let target, let readOnly, let isFile, let inRoot):
            let from = inRoot ? "itself" : source
            return "bind \(target) <- \(from)\(readOnly ? " ro" : " rw")\(isFile ? " file" : "")"
        case .symlink(let target, let destination):
            return "symlink \(target) -> \(destination)"
        case .directory(let target, let mode):
            return "dir \(target) 0\(String(mode, radix: 8))"
        }
    }
}

/// Who the agent runs as.
public enum SandboxIdentity: Sendable, Equatable, CustomStringConvertible {
    /// Rootless: a user namespace mapping one id inside to the caller's id outside.
    case userNamespace(insideUID: UInt32, outsideUID: UInt32, insideGID: UInt32, outsideGID: UInt32)
    /// As root, without a user namespace: become this separate account.
    case account(name: String, uid: UInt32, gid: UInt32)

    public var description: String {
        switch self {
        case .userNamespace(let iu, let ou, let ig, let og):
            return "user namespace, uid \(iu) -> \(ou), gid \(ig) -> \(og), setgroups deny"
        case .account(let name, let uid, let gid):
            return "runAs \(name) (uid \(uid), gid \(gid)), no user namespace"
        }
    }
}

/// Everything the sandbox will do, as a value: built by `SandboxPlanner`, printed by
/// `agentbox start --print-plan`, applied by `SandboxLauncher`.
public struct SandboxPlan: Sendable, CustomStringConvertible {
    public var namespaces: Namespaces
    public var identity: SandboxIdentity
    /// The empty host directory the new root is mounted on.
    public var newRoot: String
    public var mounts: [MountOperation]
    public var seccomp: [SeccompRule]
    public var hostname: String
    public var workdir: String
    public var argv: [String]
    /// The agent's whole environment (names and values); `description` prints names only.
    public var environment: [(name: String, value: [UInt8])]
    /// Ports the sandbox listens on at 127.0.0.1 inside its network namespace; the listening
    /// sockets are handed to the supervisor (`SandboxProcess.listeners`), which relays them to the
    /// credential proxy. Empty without a network namespace.
    public var loopbackListeners: [UInt16] = []
    /// The agent's stdin, stdout and stderr (default: agentbox's own).
    public var stdio = SandboxStdio()
    /// At most this many processes of the session at once (RLIMIT_NPROC, counted in the
    /// session's user namespace; 0: no limit). Builds and test runners stay far below it; a fork
    /// bomb stops at it instead of filling the host's pid space.
    public var maxProcesses = SandboxPlan.defaultMaxProcesses
    public static let defaultMaxProcesses = 8192
    /// Steps that always happen, listed for the printed plan.
    public static let fixedSteps = [
        "make every mount private", "tmpfs new root", "mount operations (below)", "pivot_root, detach the old root",
        "new root read-only", "hostname", "loopback up (net namespace)", "setsid", "close every fd but 0, 1, 2",
        "drop the capability bounding set", "switch account (runAs)", "drop all capabilities and ambient",
        "PR_SET_NO_NEW_PRIVS", "seccomp (bad arch: kill process)", "process limit",
        "fork the agent under our init (pid 1)", "execve",
    ]

    public init(
        namespaces: Namespaces, identity: SandboxIdentity, newRoot: String, mounts: [MountOperation],
        seccomp: [SeccompRule], hostname: String, workdir: String, argv: [String],
        environment: [(name: String, value: [UInt8])]
    ) {
        self.namespaces = namespaces
        self.identity = identity
        self.newRoot = newRoot
        self.mounts = mounts
        self.seccomp = seccomp
        self.hostname = hostname
        self.workdir = workdir
        self.argv = argv
        self.environment = environment
    }

    public var description: String {
        var lines = ["namespaces: \(namespaces.names.joined(separator: " "))", "identity: \(identity)",
                     "new root: tmpfs on \(newRoot)", "hostname: \(hostname)", "workdir: \(workdir)",
                     "argv: \(argv.joined(separator: " "))", "stdio: \(stdio)",
                     "processes: at most \(maxProcesses == 0 ? "unlimited" : String(maxProcesses)) (RLIMIT_NPROC)",
                     "environment: \(environment.map(\.name).joined(separator: " "))", "mounts:"]
        if !loopbackListeners.isEmpty {
            lines.insert("loopback listeners (relayed to the credential proxy): \(loopbackListeners.map(String.init).joined(separator: " "))", at: 8)
        }
        lines += mounts.map { "  " + $0.description }
        lines.append("seccomp (default allow; non-native ABI: kill process):")
        lines += seccomp.map { "  " + $0.description }
        lines.append("steps: " + SandboxPlan.fixedSteps.joined(separator: " -> "))
        return lines.joined(separator: "\n")
    }
}
