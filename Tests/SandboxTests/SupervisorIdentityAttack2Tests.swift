import Agentbox
import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SupervisorIdentityAttack2Tests {
    /// A supervisor killed with SIGKILL whose parent has not reaped it yet (a parent that does not
    /// wait: `nohup … &` from a script that then execs something else) is a zombie: it no longer
    /// runs, its sandbox is gone (the init watches the supervisor's pidfd), but `/proc/PID/stat`
    /// still carries its start time. It must not count as running: else `list` calls the session
    /// live, the stale cleanup never removes its directory, and `agentbox stop` signals a zombie
    /// and fails after 10 s ("did not end").
    @Test func zombieSupervisorIsNotRunning() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { for a in argv { free(a) } }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, argv, nil) == 0)
        defer { var status: Int32 = 0; waitpid(pid, &status, 0) }
        // Wait until it is a zombie (state Z), without reaping it.
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0)
        let start = try #require(SupervisorIdentity.startTime(of: pid), "a zombie's stat is still readable")
        let identity = SupervisorIdentity(pid: pid, startTime: start)
        #expect(!identity.isRunning, "a dead (zombie) supervisor counts as running")
    }
}

@Suite(.serialized) struct SessionRecordWriteAttack2Tests {
    /// When the store's filesystem is full (the session directories share a tmpfs, /dev/shm or
    /// /run/user/UID, with every agent's home and /tmp, which another agent can fill), a record
    /// write fails. It must not leave an empty record (which reads as none: the live session
    /// missing from `list` and `stop`, and after ten minutes, the session directory's mtime
    /// untouched by the agent's writes under home/, removed by the next start's cleanup while it
    /// runs): records are replaced whole, and the first one is written as the directory is made.
    ///
    /// The full filesystem is stood in for by RLIMIT_FSIZE (write(2) fails the same way, EFBIG
    /// instead of ENOSPC, after open(O_CREAT) succeeded).
    @Test func failedRecordWriteNeverLeavesALiveSessionToTheStaleCleanup() throws {
        let base = try TemporaryDirectory(prefix: "abrw")
        defer { base.remove() }
        #expect(chmod(base.path, 0o700) == 0)
        let store = SessionStore(directory: base.path + "/run/sessions")
        let id = "live00000001"
        _ = try store.create(id)
        try FileIO.write(store.sessionDirectory(id) + "/home/work.txt", "the agent's work", mode: 0o600)

        // This process is the live supervisor. The record write fails (disk full).
        let me = SupervisorIdentity.current
        let record = SessionRecord(id: id, profile: "p", command: ["sleep", "600"], leaseExpiry: 0, leaseId: "",
                                   supervisorPid: me.pid, supervisorStart: me.startTime, workdir: "/tmp")
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let previous = signal(SIGXFSZ, SIG_IGN)
        var tiny = rlimit(rlim_cur: 0, rlim_max: old.rlim_max)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &tiny)
        var thrown = false
        do { try store.write(record) } catch { thrown = true }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        signal(SIGXFSZ, previous)

        let readable = store.read(id) != nil
        #expect(thrown || readable, "the record write failed silently: the live session has no readable record")

        // Ten minutes later another start clears "stale" sessions.
        var times = [timespec(tv_sec: time(nil) - 700, tv_nsec: 0), timespec(tv_sec: time(nil) - 700, tv_nsec: 0)]
        utimensat(AT_FDCWD, store.sessionDirectory(id), &times, 0)
        store.removeStale()
        #expect(hostFileExists(store.sessionDirectory(id) + "/home/work.txt"),
                "the live session's home was removed by the stale cleanup while its supervisor (pid \(me.pid)) runs")
    }
}
