/// What kind of file a path is on the host, as far as planning needs to know (`lstat`).
public enum HostFileKind: Sendable, Equatable {
    case missing
    case directory
    case file
    case characterDevice
    case symlink(destination: String)
}

/// What the network of a sandbox is.
public enum SandboxNetwork: String, Sendable, Equatable, CaseIterable {
    /// The host's network namespace.
    case host
    /// A private network namespace; the proxy endpoints are wired into it (loopback only for now).
    case proxyOnly = "proxy-only"
    /// A private network namespace with loopback only.
    case none
}

/// The inputs of a plan.
public struct SandboxRequest: Sendable {
    /// The working tree, an absolute path with no symbolic link in it (realpath).
    public var workdir: String
    public var network: SandboxNetwork
    public var identity: SandboxIdentity
    /// The host's private (0700) session directory: the agent's `$HOME` and `/tmp`.
    public var sessionDirectory: String
    /// An empty host directory for the new root.
    public var newRoot: String
    /// The invoking user's real home, which must not become visible through the workdir.
    public var userHome: String
    public var argv: [String]
    public var environment: [(name: String, value: [UInt8])]
    public var seccomp: [SeccompRule]

    public init(
        workdir: String, network: SandboxNetwork, identity: SandboxIdentity, sessionDirectory: String,
        newRoot: String, userHome: String, argv: [String], environment: [(name: String, value: [UInt8])],
        seccomp: [SeccompRule]
    ) {
        self.workdir = workdir
        self.network = network
        self.identity = identity
        self.sessionDirectory = sessionDirectory
        self.newRoot = newRoot
        self.userHome = userHome
        self.argv = argv
        self.environment = environment
        self.seccomp = seccomp
    }
}

/// Builds a `SandboxPlan` from a request and what the host's filesystem looks like. Pure: the
/// filesystem is a function argument, so tests can plan against any layout.
public enum SandboxPlanner {
    /// The agent's home inside the sandbox.
    public static let home = "/home/agent"
    /// System directories bound read-only (or recreated as the same symbolic link).
    public static let systemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
    /// Devices bound from the host's `/dev`.
    public static let devices = ["null", "zero", "full", "random", "urandom", "tty"]
    /// Paths a working directory may not be, nor be inside of.
    static let forbiddenRoots = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc",
                                 "/dev", "/sys", "/boot", "/run", "/home/agent"]

    public static func plan(_ request: SandboxRequest, kind: (String) -> HostFileKind) throws(SandboxError)
        -> SandboxPlan
    {
        let workdir = request.workdir
        guard workdir.hasPrefix("/"), workdir != "/", !workdir.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
        else {
            throw .invalidRequest("the working directory \(workdir) must be an absolute path other than /")
        }
        if forbiddenRoots.contains(where: { workdir == $0 || workdir.hasPrefix($0 + "/") }) {
            throw .invalidRequest("the working directory \(workdir) is a system directory or inside one")
        }
        if isSameOrAncestor(workdir, of: request.userHome) {
            throw .invalidRequest("the working directory \(workdir) would expose your home \(request.userHome); use a project directory")
        }
        guard kind(workdir) == .directory else {
            throw .invalidRequest("the working directory \(workdir) is not a directory (or is a symbolic link)")
        }

        var mounts: [MountOperation] = []
        for directory in systemDirectories {
            switch kind(directory) {
            case .directory:
                mounts.append(.bind(source: directory, target: directory, readOnly: true, isFile: false, sourceInRoot: false))
            case .symlink(let destination):
                mounts.append(.symlink(target: directory, destination: destination))
            default:
                continue
            }
        }
        mounts.append(.filesystem(type: "proc", target: "/proc", options: "hidepid=invisible", readOnly: false, noExec: true))
        mounts.append(.bind(source: "/proc/sys", target: "/proc/sys", readOnly: true, isFile: false, sourceInRoot: true))
        mounts.append(.filesystem(type: "tmpfs", target: "/dev", options: "mode=0755,size=64k", readOnly: false, noExec: true))
        for device in devices where kind("/dev/" + device) == .characterDevice {
            mounts.append(.bind(source: "/dev/" + device, target: "/dev/" + device, readOnly: false, isFile: true, sourceInRoot: false))
        }
        mounts.append(.filesystem(type: "devpts", target: "/dev/pts", options: "newinstance,ptmxmode=0666,mode=0620", readOnly: false, noExec: true))
        mounts.append(.symlink(target: "/dev/ptmx", destination: "pts/ptmx"))
        mounts.append(.filesystem(type: "tmpfs", target: "/dev/shm", options: "mode=1777,size=64m", readOnly: false, noExec: true))
        mounts.append(.symlink(target: "/dev/fd", destination: "/proc/self/fd"))
        mounts.append(.symlink(target: "/dev/stdin", destination: "/proc/self/fd/0"))
        mounts.append(.symlink(target: "/dev/stdout", destination: "/proc/self/fd/1"))
        mounts.append(.symlink(target: "/dev/stderr", destination: "/proc/self/fd/2"))
        mounts.append(.bind(source: request.sessionDirectory, target: home, readOnly: false, isFile: false, sourceInRoot: false))
        mounts.append(.bind(source: request.sessionDirectory, target: "/tmp", readOnly: false, isFile: false, sourceInRoot: false))
        mounts.append(.bind(source: workdir, target: workdir, readOnly: false, isFile: false, sourceInRoot: false))
        mounts += try gitProtections(workdir: workdir, kind: kind)

        var namespaces: Namespaces = [.pid, .mount, .ipc, .uts]
        if case .userNamespace = request.identity { namespaces.insert(.user) }
        if request.network != .host { namespaces.insert(.network) }

        var environment = request.environment.filter { !["HOME", "TMPDIR", "PWD"].contains($0.name) }
        environment.append((name: "HOME", value: Array(home.utf8)))
        environment.append((name: "TMPDIR", value: Array("/tmp".utf8)))
        environment.append((name: "PWD", value: Array(workdir.utf8)))

        return SandboxPlan(
            namespaces: namespaces, identity: request.identity, newRoot: request.newRoot, mounts: mounts,
            seccomp: request.seccomp, hostname: "agentbox", workdir: workdir, argv: request.argv,
            environment: environment)
    }

    /// `.git` pinned (bound onto itself, so it cannot be renamed away and replaced), and
    /// `.git/hooks` and `.git/config` read-only: an agent must not plant code that runs later on
    /// the host. A symbolic link there, or a missing one, is refused (the caller creates missing
    /// ones before planning).
    static func gitProtections(workdir: String, kind: (String) -> HostFileKind) throws(SandboxError) -> [MountOperation] {
        let git = workdir + "/.git"
        switch kind(git) {
        case .directory: break
        case .symlink: throw .invalidRequest("\(git) is a symbolic link; refusing to guess which hooks run on the host")
        default: return []  // no repository here, or a worktree whose git directory is outside (and absent)
        }
        var result: [MountOperation] = [.bind(source: git, target: git, readOnly: false, isFile: false, sourceInRoot: true)]
        for (name, isFile) in [("hooks", false), ("config", true)] {
            let path = git + "/" + name
            switch kind(path) {
            case .directory where !isFile, .file where isFile:
                result.append(.bind(source: path, target: path, readOnly: true, isFile: isFile, sourceInRoot: true))
            case .missing:
                throw .invalidRequest("\(path) is missing; it must exist so it can be made read-only")
            default:
                throw .invalidRequest("\(path) is not a plain \(isFile ? "file" : "directory")")
            }
        }
        return result
    }

    static func isSameOrAncestor(_ path: String, of other: String) -> Bool {
        let trimmed = other.count > 1 && other.hasSuffix("/") ? String(other.dropLast()) : other
        return trimmed == path || trimmed.hasPrefix(path + "/")
    }
}
