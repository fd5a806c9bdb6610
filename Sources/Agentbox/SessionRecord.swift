import AgentboxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// One live session as `agentbox list` shows it, stored as `key=value` lines in
/// `RUNTIME/sessions/ID/record` (RUNTIME, 0700, is `SessionStore.runtimeDirectory(uid:home:)`).
public struct SessionRecord: Equatable, Sendable {
    public var id: String
    public var profile: String
    public var command: [String]
    /// Seconds since the epoch; 0 when the session has no lease.
    public var leaseExpiry: Int64
    public var leaseId: String
    public var supervisorPid: Int32
    /// The supervisor's start time (`SupervisorIdentity`); 0 in a record without one, which
    /// then never counts as live.
    public var supervisorStart: UInt64
    public var workdir: String

    public init(id: String, profile: String, command: [String], leaseExpiry: Int64, leaseId: String,
                supervisorPid: Int32, supervisorStart: UInt64 = 0, workdir: String) {
        self.id = id
        self.profile = profile
        self.command = command
        self.leaseExpiry = leaseExpiry
        self.leaseId = leaseId
        self.supervisorPid = supervisorPid
        self.supervisorStart = supervisorStart
        self.workdir = workdir
    }

    public var supervisor: SupervisorIdentity { SupervisorIdentity(pid: supervisorPid, startTime: supervisorStart) }

    public var text: String {
        let fields: [(String, String)] = [
            ("id", id), ("profile", profile), ("command", command.joined(separator: " ")),
            ("leaseExpiry", String(leaseExpiry)), ("leaseId", leaseId), ("supervisorPid", String(supervisorPid)),
            ("supervisorStart", String(supervisorStart)), ("workdir", workdir),
        ]
        // Built on bytes: every newline byte is dropped from the values (a "\r\n" too, which a
        // filter on Characters would keep as one grapheme).
        var bytes: [UInt8] = []
        for (key, value) in fields {
            bytes += key.utf8
            bytes.append(UInt8(ascii: "="))
            bytes += value.utf8.lazy.filter { $0 != UInt8(ascii: "\n") }
            bytes.append(UInt8(ascii: "\n"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func parse(_ text: String) -> SessionRecord? {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let id = values["id"], let pidText = values["supervisorPid"], let pid = Int32(pidText) else { return nil }
        return SessionRecord(
            id: id, profile: values["profile"] ?? "", command: (values["command"] ?? "").split(separator: " ").map(String.init),
            leaseExpiry: Int64(values["leaseExpiry"] ?? "") ?? 0, leaseId: values["leaseId"] ?? "", supervisorPid: pid,
            supervisorStart: UInt64(values["supervisorStart"] ?? "") ?? 0, workdir: values["workdir"] ?? "")
    }
}

/// The per-user directory of session records and session directories.
public struct SessionStore {
    public let directory: String

    public init(environment: [String: String]) {
        self.init(uid: getuid(), home: StandardLocations(environment: environment).home)
    }

    public init(directory: String) {
        self.directory = directory
    }

    public func sessionDirectory(_ id: String) -> String { directory + "/" + id }

    /// The new root's mount point, `RUNTIME/newroot`, shared by every session: each mounts its
    /// root tmpfs on it inside its own private mount namespace, so nothing is ever mounted on it
    /// on the host and it stays empty. One persistent directory spares each session a mkdir and
    /// an rmdir (on ext4 mounted with `discard`, the rmdir waits for a discard).
    public var rootMountPoint: String { FileSafety.parent(of: directory) + "/newroot" }

    /// Creates `sessions/ID` (0700) with `home` (0700: the agent's $HOME and /tmp) and a first
    /// record naming `supervisor` (so that no cleanup ever takes the session for an abandoned
    /// one), and returns it with the (shared) new root's mount point.
    public func create(_ id: String, supervisor: SupervisorIdentity = .current) throws(SystemError)
        -> (home: String, root: String)
    {
        // The runtime directory itself is checked too: in /dev/shm someone else could have made it.
        try FileSafety.makePrivateDirectory(FileSafety.parent(of: directory))
        try FileSafety.makePrivateDirectory(directory)
        try FileSafety.makePrivateDirectory(rootMountPoint)
        let session = sessionDirectory(id)
        try valueOrErrno("mkdir \(session)") { mkdir(session, 0o700) }
        do {
            try valueOrErrno("mkdir \(session)/home") { mkdir(session + "/home", 0o700) }
            try write(SessionRecord(id: id, profile: "", command: [], leaseExpiry: 0, leaseId: "",
                                    supervisorPid: supervisor.pid, supervisorStart: supervisor.startTime, workdir: ""))
        } catch {
            remove(id)
            throw error
        }
        return (session + "/home", rootMountPoint)
    }

    /// Writes the record whole or not at all: into `record.new`, then renamed over `record`. A
    /// write that fails (a full tmpfs) leaves the record that was there.
    public func write(_ record: SessionRecord) throws(SystemError) {
        let path = sessionDirectory(record.id) + "/record"
        let temporary = path + ".new"
        let fd = try valueOrErrno("open \(temporary)") {
            open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        let bytes = Array(record.text.utf8)
        var written = 0
        var failure: SystemError?
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                failure = SystemError("write \(temporary)")
                break
            }
            written += count
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        try valueOrErrno("rename \(temporary)") { rename(temporary, path) }
    }

    public func read(_ id: String) -> SessionRecord? {
        guard !id.contains("/"), !id.hasPrefix(".") else { return nil }
        guard let bytes = try? FileBytes.read(sessionDirectory(id) + "/record") else { return nil }
        return SessionRecord.parse(String(decoding: bytes, as: UTF8.self))
    }

    public func all() -> [SessionRecord] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var result: [SessionRecord] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            if let record = read(name) { result.append(record) }
        }
        return result.sorted { $0.id < $1.id }
    }

    /// Removes the directories of sessions whose supervisor is gone (killed with SIGKILL, or the
    /// machine's power): their agent's home and `/tmp` would otherwise stay, on a tmpfs in memory.
    /// A session gets its first record as its directory is made; a directory without one (a
    /// start that died between the two, or a session made by an older agentbox) is removed only
    /// once it is `abandonedAfter` seconds old.
    public func removeStale(abandonedAfter: Int = 600) {
        guard let dir = opendir(directory) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        closedir(dir)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        for name in names {
            if let record = read(name) {
                guard !record.supervisor.isRunning else { continue }
            } else {
                var info = stat()
                guard lstat(sessionDirectory(name), &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
                    Int(now.tv_sec) - Int(info.st_mtim.tv_sec) > abandonedAfter
                else { continue }
            }
            remove(name)
        }
    }

    /// Removes the session directory and everything in it, never following a symbolic link.
    public func remove(_ id: String) {
        removeTree(sessionDirectory(id))
    }
}

/// Removes `path` recursively with `unlinkat`, never following symbolic links.
func removeTree(_ path: String) {
    let parent = FileSafety.parent(of: path)
    let name = String(path[path.index(after: path.lastIndex(of: "/")!)...])
    let parentFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard parentFD >= 0 else { return }
    defer { close(parentFD) }
    removeEntry(parentFD, name)
}

private func removeEntry(_ parentFD: Int32, _ name: String) {
    if unlinkat(parentFD, name, 0) == 0 { return }
    guard errno == EISDIR || errno == EPERM else { return }
    let fd = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return }
    if let dir = fdopendir(fd) {
        var names: [String] = []
        while let entry = readdir(dir) {
            let child = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if child != "." && child != ".." { names.append(child) }
        }
        for child in names { removeEntry(fd, child) }
        closedir(dir)
    } else {
        close(fd)
    }
    unlinkat(parentFD, name, AT_REMOVEDIR)
}
