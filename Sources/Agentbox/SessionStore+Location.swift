import AgentboxCore
import CAgentboxSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

extension SessionStore {
    /// The sessions of `uid` in the runtime directory `runtimeDirectory(uid:home:)` picks.
    public init(uid: uid_t, home: String) {
        self.init(directory: Self.runtimeDirectory(uid: uid, home: home) + "/sessions")
    }

    /// Where session directories (the agents' `$HOME` and `/tmp`) live, on a tmpfs when there is
    /// one of ours: `/run/user/UID/agentbox` when the login manager made `/run/user/UID`, else
    /// `/dev/shm/agentbox-UID` (0700, ours; never one someone else made), else
    /// `~/.agentbox/run`. On a disk filesystem mounted with `discard`, removing a session's
    /// directories waits for the discards of their blocks (1 to 30 ms a session).
    public static func runtimeDirectory(uid: uid_t, home: String) -> String {
        let runUser = "/run/user/\(uid)"
        if isDirectory(runUser, ownedBy: uid, privateOnly: false) { return runUser + "/agentbox" }
        let sharedMemory = "/dev/shm/agentbox-\(uid)"
        if ab_is_tmpfs("/dev/shm") == 1 {
            var info = stat()
            if lstat(sharedMemory, &info) != 0 && errno == ENOENT { return sharedMemory }
            if isDirectory(sharedMemory, ownedBy: uid, privateOnly: true) { return sharedMemory }
        }
        return home + "/.agentbox/run"
    }

    /// Every store a session of `uid` may be in, the one `runtimeDirectory` picks now first. A
    /// session stays where it started, and the pick can change meanwhile (`/run/user/UID` appears
    /// at login; someone else makes `/dev/shm/agentbox-UID`), so `list`, `stop` and `redact
    /// --from-session` look in all of them. Only stores that are ours: the runtime directory and
    /// its `sessions` real directories (no symbolic links), owned by `uid` and private. `$HOME`
    /// may be someone else's (`sudo -E`): records there would name pids to signal and directories
    /// to remove.
    public static func all(uid: uid_t, home: String) -> [SessionStore] {
        var directories = [runtimeDirectory(uid: uid, home: home)]
        let runUser = "/run/user/\(uid)"
        if isDirectory(runUser, ownedBy: uid, privateOnly: false) { directories.append(runUser + "/agentbox") }
        directories.append("/dev/shm/agentbox-\(uid)")
        directories.append(home + "/.agentbox/run")
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
            .filter { isDirectory($0, ownedBy: uid, privateOnly: true) && isDirectory($0 + "/sessions", ownedBy: uid, privateOnly: true) }
            .map { SessionStore(directory: $0 + "/sessions") }
    }

    public static func all(environment: [String: String]) -> [SessionStore] {
        all(uid: getuid(), home: StandardLocations(environment: environment).home)
    }

    /// The store that holds session `id`, if any.
    public static func holding(_ id: String, environment: [String: String]) -> SessionStore? {
        all(environment: environment).first { $0.read(id) != nil }
    }

    private static func isDirectory(_ path: String, ownedBy uid: uid_t, privateOnly: Bool) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == uid else { return false }
        return !privateOnly || info.st_mode & 0o077 == 0
    }
}
