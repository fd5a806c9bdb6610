#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Namespaces the sandbox creates (`ab_sandbox_plan.namespaces`).
enum {
    AB_NS_USER = 1 << 0,
    AB_NS_PID = 1 << 1,
    AB_NS_MOUNT = 1 << 2,
    AB_NS_IPC = 1 << 3,
    AB_NS_UTS = 1 << 4,
    AB_NS_NET = 1 << 5,
};

/// Kinds of mount operations, applied in order inside the new mount namespace.
enum {
    /// A filesystem (`fstype`: tmpfs, proc, devpts) with `options` ("key=value,flag") at `target`.
    AB_OP_FILESYSTEM = 1,
    /// `source` bound at `target` (recursively). The source is opened without following any
    /// symbolic link (openat2 RESOLVE_NO_SYMLINKS) and must be a directory, or a file with AB_MOUNT_FILE.
    AB_OP_BIND = 2,
    /// A symbolic link `target` -> `source`.
    AB_OP_SYMLINK = 3,
    /// A directory `target` with `mode`.
    AB_OP_DIRECTORY = 4,
};

/// Flags of a mount operation.
enum {
    AB_MOUNT_READONLY = 1 << 0,
    AB_MOUNT_NOEXEC = 1 << 1,
    /// `source` is a path inside the new root (resolved beneath it), not a host path.
    AB_MOUNT_SOURCE_IN_ROOT = 1 << 2,
    /// The source is a regular or character-special file, not a directory.
    AB_MOUNT_FILE = 1 << 3,
};

typedef struct {
    int kind;
    const char *source;
    /// Absolute path inside the new root.
    const char *target;
    const char *fstype;
    const char *options;
    unsigned flags;
    unsigned mode;
} ab_mount_op;

/// Actions of a seccomp rule.
enum {
    AB_SECCOMP_ERRNO = 1,
    AB_SECCOMP_KILL_PROCESS = 2,
};

/// One seccomp rule: `syscall` (a name libseccomp resolves for the native ABI) gets `action`,
/// always, or when `arg_index` >= 0 and (arg & mask) == value.
typedef struct {
    const char *syscall;
    int action;
    int errno_value;
    int arg_index;
    uint64_t mask;
    uint64_t value;
} ab_seccomp_rule;

typedef struct {
    unsigned namespaces;
    /// User namespace mapping (AB_NS_USER): inside id -> outside id, one id each.
    uid_t map_inside_uid, map_outside_uid;
    gid_t map_inside_gid, map_outside_gid;
    /// Without a user namespace, as root: the account to become (setgroups/setresgid/setresuid).
    int switch_user;
    uid_t uid;
    gid_t gid;
    /// An empty host directory the caller made; the new root's tmpfs is mounted on it.
    const char *new_root;
    const ab_mount_op *mounts;
    size_t mount_count;
    const ab_seccomp_rule *seccomp;
    size_t seccomp_count;
    const char *hostname;
    const char *workdir;
    char *const *argv;
    char *const *envp;
    /// PATH used to find argv[0] when it has no slash.
    const char *search_path;
    /// Descriptors besides 0, 1, 2 the agent keeps.
    const int *keep_fds;
    size_t keep_fd_count;
    /// With AB_NS_NET: TCP ports the init listens on at 127.0.0.1 inside the new network
    /// namespace before anything else runs there; the listening descriptors are sent (SCM_RIGHTS,
    /// one message, in order) over `listen_channel`, a Unix socket the caller made (-1: none).
    const uint16_t *listen_ports;
    size_t listen_port_count;
    int listen_channel;
    /// Descriptors (each > 2) installed as the agent's stdin, stdout and stderr (dup2 in the init,
    /// so the agent inherits them); 0, the zero value, keeps the inherited one.
    int stdin_fd, stdout_fd, stderr_fd;
    /// Make stdin, a terminal, the agent's controlling terminal (ioctl TIOCSCTTY after its setsid).
    int controlling_tty;
    /// RLIMIT_NPROC for everything inside (0: none). In a user namespace the kernel counts it per
    /// namespace and id: a cap on the session's own processes, which a fork bomb hits instead of
    /// the host's pid space. Root's own id (a root agentbox without runAs) is exempt.
    unsigned long max_processes;
} ab_sandbox_plan;

/// Steps that can fail, reported through the status descriptor.
enum {
    AB_STEP_STARTED = 0,
    AB_STEP_SIGNALS,
    AB_STEP_USER_NAMESPACE,
    AB_STEP_SETGROUPS_DENY,
    AB_STEP_UID_MAP,
    AB_STEP_GID_MAP,
    AB_STEP_NAMESPACES,
    AB_STEP_MOUNT_PRIVATE,
    AB_STEP_NEW_ROOT,
    AB_STEP_MOUNT_OP,
    AB_STEP_PIVOT_ROOT,
    AB_STEP_ROOT_READONLY,
    AB_STEP_HOSTNAME,
    AB_STEP_LOOPBACK,
    AB_STEP_SETSID,
    AB_STEP_CLOSE_FDS,
    AB_STEP_DROP_BOUNDING,
    AB_STEP_SWITCH_USER,
    AB_STEP_DROP_CAPABILITIES,
    AB_STEP_NO_NEW_PRIVS,
    AB_STEP_SECCOMP,
    AB_STEP_FORK_AGENT,
    AB_STEP_CHDIR,
    AB_STEP_EXEC,
    AB_STEP_STDIO,
    AB_STEP_CONTROLLING_TTY,
    AB_STEP_PROCESS_LIMIT,
    AB_STEP_COUNT
};

/// Records of the status descriptor that are no failure (negative, unlike the steps).
enum {
    /// The agent was exec'd; the session runs.
    AB_REPORT_RUNNING = -1,
    /// The agent has exited and every other process of the session has been killed and reaped;
    /// `detail` is the agent's exit code (128+signal when it was killed). The init exits next.
    AB_REPORT_FINISHED = -2,
};

/// What the status descriptor carries: AB_REPORT_RUNNING once the agent was exec'd, then
/// AB_REPORT_FINISHED when the session is over; or one failure record instead (end of file
/// before any record: the init died, e.g. killed from outside). `ab_sandbox_spawn` fills one too
/// when it fails before the clone.
typedef struct {
    int32_t step;
    int32_t error;
    int32_t detail;
} ab_sandbox_report;

/// A short name of a step, for messages.
const char *ab_sandbox_step_name(int step);

/// Clones the sandbox's init (pid 1) straight into its new namespaces; it maps the ids, builds
/// the mounts, drops every privilege, loads seccomp and starts the agent. The seccomp filter
/// is compiled here, before the clone, so nothing in the init allocates. On success returns 0
/// with the init's pid and the read end of the status pipe (CLOEXEC). When the agent exits the
/// init kills and reaps every other process of its pid namespace, reports AB_REPORT_FINISHED
/// and exits with the agent's status (128+signal if killed); SIGTERM to it reaches every
/// process of the session; SIGKILL to it ends the whole session (the kernel ends every process
/// of a pid namespace whose init dies); it dies with the thread that called this function. On failure
/// returns -1 and fills `failure` (the step, errno, and for AB_STEP_SECCOMP the rule's index).
int ab_sandbox_spawn(const ab_sandbox_plan *plan, pid_t *pid, int *status_fd, ab_sandbox_report *failure);

/// Receives up to `count` descriptors sent with SCM_RIGHTS in one message on `channel`
/// (CLOEXEC); returns how many, or -1.
int ab_receive_descriptors(int channel, int *fds, size_t count);

/// 1 when `path` (a mountinfo file) lists a proc mount whose options include hidepid=invisible
/// or hidepid=2 at `mount_point`, 0 when not, -1 when it cannot be read.
int ab_mountinfo_has_hidepid(const char *path, const char *mount_point);

/// The kernel's seccomp support: 1 when a filter can be installed (PR_GET_SECCOMP works and
/// the kernel knows SECCOMP_RET_KILL_PROCESS), 0 when not.
int ab_seccomp_available(void);

/// The native architecture's name as libseccomp knows it ("x86_64"), for messages.
const char *ab_seccomp_native_arch(void);

/// Whether `name` is a syscall libseccomp knows for the native architecture.
int ab_seccomp_knows(const char *name);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of our descendants are reparented to us.
int ab_become_subreaper(void);

/// 2 when /sys/fs/cgroup is a cgroup2 filesystem, 1 when it is something else (v1 or hybrid),
/// 0 when it is absent.
int ab_cgroup_version(void);

/// 1 when the calling thread is the process's main thread (its thread id is the process id).
int ab_is_main_thread(void);

#endif
