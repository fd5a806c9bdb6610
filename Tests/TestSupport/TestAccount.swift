import AgentboxCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A throwaway unprivileged Unix user for SSH tests (needs root): `abtest<hex>`, home in a
/// temporary directory, shell `/bin/sh`, and an ed25519 key pair on the local side whose public
/// half is in the user's `~/.ssh/authorized_keys`. `remove()` (or deinit) kills the user's
/// processes, `userdel`s it, and removes its home, its `/run/user/UID` if this fixture made it,
/// and the key.
public final class TestAccount: @unchecked Sendable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t
    public let home: String
    /// The private key for `ssh -i` / `IdentityFile`, in a root-owned 0700 directory.
    public let clientKeyPath: String
    /// The `authorized_keys` line of `clientKeyPath`.
    public let publicKey: String
    private let keyDirectory: TemporaryDirectory
    private var runtimeDirectory: String?
    private var removed = false

    public init() throws {
        guard getuid() == 0 else { throw FixtureError("TestAccount needs root (useradd)") }
        let name = "abtest" + Crypto.randomToken(byteCount: 4)
        self.name = name
        keyDirectory = try TemporaryDirectory(prefix: "abk")
        clientKeyPath = keyDirectory.file("id_ed25519")
        var template = Array("/tmp/abh.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FixtureError("mkdtemp for the home: \(SystemError("mkdtemp"))")
        }
        let home = String(cString: made)
        self.home = home
        var added = false
        do {
            try runTool("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", clientKeyPath])
            publicKey = FileIO.readText(clientKeyPath + ".pub")
            // '*' rather than useradd's locked '!': with UsePAM no, sshd refuses locked accounts.
            try accountsLock.withLock { _ in
                try runAccountTool(
                    "/usr/sbin/useradd",
                    ["-M", "-d", home, "-s", "/bin/sh", "-U", "-p", "*", "-c", "agentbox test account", name])
            }
            added = true
            guard let entry = getpwnam(name) else { throw FixtureError("getpwnam \(name) after useradd") }
            uid = entry.pointee.pw_uid
            gid = entry.pointee.pw_gid
            let sshDirectory = home + "/.ssh"
            guard mkdir(sshDirectory, 0o700) == 0 else { throw FixtureError("mkdir \(sshDirectory)") }
            try FileIO.write(sshDirectory + "/authorized_keys", publicKey, mode: 0o600)
            for path in [home, sshDirectory, sshDirectory + "/authorized_keys"] {
                guard chown(path, uid, gid) == 0 else { throw FixtureError("chown \(path): \(SystemError("chown"))") }
            }
        } catch {
            if added { try? deleteAccount(name) }
            FileIO.removeTree(home)
            keyDirectory.remove()
            throw error
        }
    }

    /// Creates `/run/user/UID` (0700, owned by the account) if it does not exist, and returns it;
    /// a directory made here is removed with the account.
    public func makeRuntimeDirectory() throws -> String {
        let path = "/run/user/\(uid)"
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == uid else {
                throw FixtureError("\(path) exists and is not a directory owned by \(name)")
            }
            return path
        }
        guard mkdir(path, 0o700) == 0 else { throw FixtureError("mkdir \(path): \(SystemError("mkdir"))") }
        runtimeDirectory = path
        guard chown(path, uid, gid) == 0, chmod(path, 0o700) == 0 else {
            throw FixtureError("chown/chmod \(path): \(SystemError("chown"))")
        }
        return path
    }

    /// Kills the account's processes, deletes it and removes every file this fixture made.
    public func remove() {
        if removed { return }
        removed = true
        for _ in 0..<50 {
            let processes = ProcessScan.processes(ownedBy: uid)
            if processes.isEmpty { break }
            for pid in processes { kill(pid, SIGKILL) }
            usleep(20_000)
        }
        try? deleteAccount(name)
        if let runtimeDirectory { FileIO.removeTree(runtimeDirectory) }
        // The session stores agentbox makes for the account where there is no /run/user/UID:
        // `/dev/shm/agentbox-UID`, and `agentbox-0` (or another id) when it ran in a user
        // namespace of the account's that mapped it to that id. Only directories the account owns.
        for entry in FileIO.directoryEntries("/dev/shm") where entry.hasPrefix("agentbox-") {
            var info = stat()
            let path = "/dev/shm/" + entry
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == uid { FileIO.removeTree(path) }
        }
        FileIO.removeTree(home)
        keyDirectory.remove()
    }

    deinit { remove() }
}

/// useradd/userdel take a lock on /etc/passwd and fail rather than wait when it is held.
private let accountsLock = Mutex<Void>(())

private func deleteAccount(_ name: String) throws {
    try accountsLock.withLock { _ in try runAccountTool("/usr/sbin/userdel", [name]) }
}

/// Runs useradd/userdel, retrying while another process holds the password file lock.
private func runAccountTool(_ tool: String, _ arguments: [String]) throws {
    var lastError: Error?
    for _ in 0..<20 {
        do {
            try runTool(tool, arguments)
            return
        } catch {
            lastError = error
            let text = "\(error)"
            guard text.contains("lock") || text.contains("try again") else { throw error }
            usleep(250_000)
        }
    }
    throw lastError ?? FixtureError("\(tool) failed")
}
