#define _GNU_SOURCE
#include "CSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "CAgentboxSys.h"

// The order of the checklist, for a reviewer:
//   supervisor: compile the seccomp filter (libseccomp), an empty capability set, a pidfd of
//     itself -> clone3 straight into the new user, pid, mount, ipc, uts and net namespaces
//   init (pid 1): die with the supervisor -> the agent's stdio onto 0, 1, 2 -> signals reset ->
//     id maps -> mounts (private, new root, ordered plan, pivot_root, root read-only) ->
//     hostname -> loopback -> setsid -> close fds -> bounding set -> switch user (and die with
//     the supervisor again) -> capabilities -> no_new_privs -> seccomp -> process limit -> vfork
//     agent -> report
//     running -> reap until the agent exits -> kill and reap the rest -> report finished -> exit
//   agent: signals default -> setsid -> controlling terminal (when asked) -> chdir -> execve

static const char *const step_names[AB_STEP_COUNT] = {
    [AB_STEP_STARTED] = "start",
    [AB_STEP_SIGNALS] = "reset signals",
    [AB_STEP_USER_NAMESPACE] = "user namespace (clone CLONE_NEWUSER)",
    [AB_STEP_SETGROUPS_DENY] = "user namespace: setgroups deny",
    [AB_STEP_UID_MAP] = "user namespace: uid_map",
    [AB_STEP_GID_MAP] = "user namespace: gid_map",
    [AB_STEP_NAMESPACES] = "clone the init into new pid/mount/ipc/uts/net namespaces",
    [AB_STEP_MOUNT_PRIVATE] = "make every mount private",
    [AB_STEP_NEW_ROOT] = "tmpfs for the new root",
    [AB_STEP_MOUNT_OP] = "mount operation",
    [AB_STEP_PIVOT_ROOT] = "pivot_root",
    [AB_STEP_ROOT_READONLY] = "make the new root read-only",
    [AB_STEP_HOSTNAME] = "sethostname",
    [AB_STEP_LOOPBACK] = "bring up loopback",
    [AB_STEP_SETSID] = "setsid",
    [AB_STEP_CLOSE_FDS] = "close inherited descriptors",
    [AB_STEP_DROP_BOUNDING] = "drop the capability bounding set",
    [AB_STEP_SWITCH_USER] = "switch to the runAs account",
    [AB_STEP_DROP_CAPABILITIES] = "drop all capabilities",
    [AB_STEP_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
    [AB_STEP_SECCOMP] = "load the seccomp filter",
    [AB_STEP_FORK_AGENT] = "vfork the agent",
    [AB_STEP_CHDIR] = "chdir to the working directory",
    [AB_STEP_EXEC] = "execve the command",
    [AB_STEP_STDIO] = "install the agent's stdin/stdout/stderr",
    [AB_STEP_CONTROLLING_TTY] = "make the terminal the agent's controlling terminal (TIOCSCTTY)",
    [AB_STEP_PROCESS_LIMIT] = "limit the session's processes (RLIMIT_NPROC)",
};

const char *ab_sandbox_step_name(int step) {
    if (step < 0 || step >= AB_STEP_COUNT || step_names[step] == NULL) return "unknown step";
    return step_names[step];
}

// ---- reporting -------------------------------------------------------------------------------

static int report_fd = -1;

static void report(int step, int error, int detail) {
    ab_sandbox_report record = {step, error, detail};
    ssize_t ignored = write(report_fd, &record, sizeof(record));
    (void)ignored;
}

/// Reports a failed step with the current errno and exits; the only way a step fails.
static _Noreturn void fail(int step, int detail) {
    report(step, errno ? errno : EINVAL, detail);
    _exit(125);
}

#define CHECK(step, detail, expression) \
    do { \
        if ((expression) < 0) fail((step), (detail)); \
    } while (0)

// ---- small helpers ---------------------------------------------------------------------------

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    int saved = errno;
    close(fd);
    errno = saved;
    return written == (ssize_t)length ? 0 : -1;
}

static int open_beneath(int root, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW);
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (root == AT_FDCWD ? 0 : RESOLVE_IN_ROOT);
    while (*path == '/' && root != AT_FDCWD) path++;
    if (*path == '\0') path = ".";
    return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/// Opens (creating when missing) every component of `path` under `root` without following a
/// symbolic link, and returns an O_PATH descriptor of the last, which must be a directory, or
/// a non-directory when `file` is set. Existing files are never opened for writing.
static int make_path(int root, const char *path, int file, mode_t mode) {
    char copy[4096];
    if (strlen(path) >= sizeof(copy)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(copy, path);
    int dir = dup(root);
    if (dir < 0) return -1;
    char *save = NULL;
    char *component = strtok_r(copy, "/", &save);
    while (component != NULL) {
        char *next = strtok_r(NULL, "/", &save);
        int last_is_file = next == NULL && file;
        int child = openat(dir, component, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0 && errno == ENOENT) {
            if (last_is_file) {
                int fd = openat(dir, component, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0) close(fd);
            } else {
                mkdirat(dir, component, next == NULL ? mode : 0755);
            }
            child = openat(dir, component, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        close(dir);
        if (child < 0) return -1;
        struct stat info;
        if (fstat(child, &info) != 0) {
            close(child);
            return -1;
        }
        if (S_ISLNK(info.st_mode) || (last_is_file ? S_ISDIR(info.st_mode) : !S_ISDIR(info.st_mode))) {
            close(child);
            errno = S_ISLNK(info.st_mode) ? ELOOP : (last_is_file ? EISDIR : ENOTDIR);
            return -1;
        }
        dir = child;
        component = next;
    }
    return dir;
}

/// fsopen + fsconfig for each "key=value" or "flag" option + fsmount, attached at `target_fd`.
static int mount_filesystem(const char *fstype, const char *options, unsigned attributes, int target_fd) {
    int fs = fsopen(fstype, FSOPEN_CLOEXEC);
    if (fs < 0) return -1;
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", options ? options : "");
    char *save = NULL;
    for (char *option = strtok_r(copy, ",", &save); option; option = strtok_r(NULL, ",", &save)) {
        char *equals = strchr(option, '=');
        int result;
        if (equals) {
            *equals = '\0';
            result = fsconfig(fs, FSCONFIG_SET_STRING, option, equals + 1, 0);
        } else {
            result = fsconfig(fs, FSCONFIG_SET_FLAG, option, NULL, 0);
        }
        if (result < 0) {
            int saved = errno;
            close(fs);
            errno = saved;
            return -1;
        }
    }
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int saved = errno;
        close(fs);
        errno = saved;
        return -1;
    }
    int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attributes);
    int saved = errno;
    close(fs);
    if (mnt < 0) {
        errno = saved;
        return -1;
    }
    int moved = move_mount(mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    saved = errno;
    close(mnt);
    errno = saved;
    return moved;
}

static unsigned mount_attributes(unsigned flags) {
    unsigned attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (flags & AB_MOUNT_READONLY) attributes |= MOUNT_ATTR_RDONLY;
    if (flags & AB_MOUNT_NOEXEC) attributes |= MOUNT_ATTR_NOEXEC;
    return attributes;
}

static int apply_mount(int root, const ab_mount_op *op) {
    switch (op->kind) {
    case AB_OP_DIRECTORY: {
        int fd = make_path(root, op->target, 0, op->mode);
        if (fd < 0) return -1;
        close(fd);
        return 0;
    }
    case AB_OP_SYMLINK: {
        const char *slash = strrchr(op->target, '/');
        if (slash == NULL || slash[1] == '\0') {
            errno = EINVAL;
            return -1;
        }
        char parent[4096];
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - op->target), op->target);
        int dir = make_path(root, parent[0] ? parent : "/", 0, 0755);
        if (dir < 0) return -1;
        int fd = openat(dir, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);  // symlinkat needs a real dirfd
        close(dir);
        if (fd < 0) return -1;
        int result = symlinkat(op->source, fd, slash + 1);
        int saved = errno;
        close(fd);
        errno = saved;
        return result;
    }
    case AB_OP_FILESYSTEM: {
        int target = make_path(root, op->target, 0, 0755);
        if (target < 0) return -1;
        unsigned attributes = mount_attributes(op->flags);
        if (strcmp(op->fstype, "devpts") == 0) attributes &= ~MOUNT_ATTR_NODEV;  // ptmx and the ptys live there
        int result = mount_filesystem(op->fstype, op->options, attributes, target);
        int saved = errno;
        close(target);
        errno = saved;
        return result;
    }
    case AB_OP_BIND: {
        int source = open_beneath((op->flags & AB_MOUNT_SOURCE_IN_ROOT) ? root : AT_FDCWD, op->source, O_PATH);
        if (source < 0) return -1;
        struct stat info;
        if (fstat(source, &info) != 0) {
            close(source);
            return -1;
        }
        int is_dir = S_ISDIR(info.st_mode);
        int want_file = (op->flags & AB_MOUNT_FILE) != 0;
        if ((want_file && !(S_ISREG(info.st_mode) || S_ISCHR(info.st_mode))) || (!want_file && !is_dir)) {
            close(source);
            errno = want_file ? EISDIR : ENOTDIR;
            return -1;
        }
        int tree = open_tree(source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        close(source);
        if (tree < 0) return -1;
        struct mount_attr attr;
        memset(&attr, 0, sizeof(attr));
        attr.attr_set = mount_attributes(op->flags);
        if (S_ISCHR(info.st_mode)) attr.attr_set &= ~MOUNT_ATTR_NODEV;  // a bound device (/dev/null) must work
        attr.propagation = MS_PRIVATE;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
            int saved = errno;
            close(tree);
            errno = saved;
            return -1;
        }
        int target = make_path(root, op->target, want_file, 0755);
        if (target < 0) {
            int saved = errno;
            close(tree);
            errno = saved;
            return -1;
        }
        int moved = move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        int saved = errno;
        close(tree);
        close(target);
        errno = saved;
        return moved;
    }
    default:
        errno = EINVAL;
        return -1;
    }
}

static void build_filesystem(const ab_sandbox_plan *plan) {
    CHECK(AB_STEP_MOUNT_PRIVATE, -1, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
    int new_root = open(plan->new_root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    CHECK(AB_STEP_NEW_ROOT, -1, new_root);
    CHECK(AB_STEP_NEW_ROOT, -1, mount_filesystem("tmpfs", "mode=0755,size=16m", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, new_root));
    close(new_root);
    int root = open(plan->new_root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    CHECK(AB_STEP_NEW_ROOT, -1, root);
    for (size_t index = 0; index < plan->mount_count; index++) {
        CHECK(AB_STEP_MOUNT_OP, (int)index, apply_mount(root, &plan->mounts[index]));
    }
    CHECK(AB_STEP_PIVOT_ROOT, -1, fchdir(root));
    close(root);
    CHECK(AB_STEP_PIVOT_ROOT, -1, (int)syscall(SYS_pivot_root, ".", "."));
    CHECK(AB_STEP_PIVOT_ROOT, -1, umount2(".", MNT_DETACH));
    CHECK(AB_STEP_PIVOT_ROOT, -1, chdir("/"));
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    CHECK(AB_STEP_ROOT_READONLY, -1, mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)));
}

static int loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    strcpy(request.ifr_name, "lo");
    int result = ioctl(fd, SIOCGIFFLAGS, &request);
    if (result == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        result = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

/// Listens on each requested loopback port inside the new network namespace and hands the
/// descriptors to the supervisor, which relays them to the credential proxy.
static int send_listeners(const ab_sandbox_plan *plan) {
    int fds[16];
    size_t count = plan->listen_port_count < 16 ? plan->listen_port_count : 16;
    for (size_t i = 0; i < count; i++) {
        fds[i] = ab_listen_loopback(plan->listen_ports[i], NULL);
        if (fds[i] < 0) return -1;
    }
    char control[CMSG_SPACE(sizeof(fds))];
    memset(control, 0, sizeof(control));
    char byte = 'L';
    struct iovec vector = {&byte, 1};
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(count * sizeof(int));
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(count * sizeof(int));
    memcpy(CMSG_DATA(header), fds, count * sizeof(int));
    ssize_t sent = sendmsg(plan->listen_channel, &message, MSG_NOSIGNAL);
    for (size_t i = 0; i < count; i++) close(fds[i]);
    close(plan->listen_channel);
    return sent == 1 ? 0 : -1;
}

int ab_receive_descriptors(int channel, int *fds, size_t count) {
    if (count > 16) count = 16;
    char control[CMSG_SPACE(16 * sizeof(int))];
    char byte;
    struct iovec vector = {&byte, 1};
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t got;
    do got = recvmsg(channel, &message, MSG_CMSG_CLOEXEC); while (got < 0 && errno == EINTR);
    if (got <= 0) return -1;
    size_t received = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *data = (int *)CMSG_DATA(header);
        for (size_t i = 0; i < n; i++) {
            if (received < count) fds[received++] = data[i];
            else close(data[i]);
        }
    }
    return (int)received;
}

static void close_descriptors(const ab_sandbox_plan *plan, const int *also_keep, size_t also_count) {
    // Close 3..max except the kept ones: walk the ranges between sorted kept descriptors.
    int keep[64];
    size_t count = 0;
    for (size_t i = 0; i < plan->keep_fd_count && count < 60; i++) keep[count++] = plan->keep_fds[i];
    for (size_t i = 0; i < also_count && i < 4; i++) {
        if (also_keep[i] >= 0) keep[count++] = also_keep[i];
    }
    for (size_t i = 1; i < count; i++) {
        for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    }
    unsigned low = 3;
    for (size_t i = 0; i < count; i++) {
        if (keep[i] < 3) continue;
        if ((unsigned)keep[i] > low) CHECK(AB_STEP_CLOSE_FDS, -1, (int)syscall(SYS_close_range, low, (unsigned)keep[i] - 1, 0));
        low = (unsigned)keep[i] + 1;
    }
    CHECK(AB_STEP_CLOSE_FDS, -1, (int)syscall(SYS_close_range, low, ~0U, 0));
}

/// What the supervisor prepares before the clone, so that the init never allocates: it is a
/// copy of a possibly multithreaded process, where a lock (malloc's) may be held by a thread
/// that does not exist in the copy.
typedef struct {
    struct sock_fprog seccomp;
    cap_t no_capabilities;
    /// The supervisor, to tell whether it died before PR_SET_PDEATHSIG took effect.
    int supervisor_pidfd;
} launch_resources;

/// PR_SET_PDEATHSIG, then fail if the supervisor is already gone (it may have died before the
/// prctl, and then no signal would ever come). Needed again after a change of user, which
/// clears the parent-death signal.
static void die_with_supervisor(const launch_resources *resources, int step, int detail) {
    CHECK(step, detail, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
    struct pollfd supervisor = {resources->supervisor_pidfd, POLLIN, 0};
    if (poll(&supervisor, 1, 0) != 0) _exit(125);
}

static void drop_privileges(const ab_sandbox_plan *plan, const launch_resources *resources) {
    // Bounding set first: it needs CAP_SETPCAP, which the last steps take away.
    for (cap_value_t cap = 0; cap < 64 && CAP_IS_SUPPORTED(cap); cap++) {
        CHECK(AB_STEP_DROP_BOUNDING, (int)cap, cap_drop_bound(cap));
    }
    if (plan->switch_user) {
        gid_t groups[1] = {plan->gid};
        CHECK(AB_STEP_SWITCH_USER, 0, setgroups(1, groups));
        CHECK(AB_STEP_SWITCH_USER, 1, setresgid(plan->gid, plan->gid, plan->gid));
        CHECK(AB_STEP_SWITCH_USER, 2, setresuid(plan->uid, plan->uid, plan->uid));
        if (setuid(0) == 0) {
            errno = EPERM;
            fail(AB_STEP_SWITCH_USER, 3);
        }
        die_with_supervisor(resources, AB_STEP_SWITCH_USER, 4);
    }
    CHECK(AB_STEP_DROP_CAPABILITIES, 0, cap_reset_ambient());
    CHECK(AB_STEP_DROP_CAPABILITIES, 1, cap_set_proc(resources->no_capabilities));
    CHECK(AB_STEP_NO_NEW_PRIVS, -1, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

/// seccomp_export_bpf writes to a descriptor: a memfd, read back into `program`.
static int export_seccomp(scmp_filter_ctx filter, struct sock_fprog *program) {
    int fd = memfd_create("agentbox-seccomp", MFD_CLOEXEC);
    if (fd < 0) return -1;
    int exported = seccomp_export_bpf(filter, fd);
    off_t size = exported == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (exported != 0) errno = -exported;
    size_t count = size > 0 ? (size_t)size / sizeof(struct sock_filter) : 0;
    struct sock_filter *instructions = NULL;
    if (count > 0 && count <= BPF_MAXINSNS) instructions = malloc(count * sizeof(struct sock_filter));
    if (instructions == NULL || pread(fd, instructions, count * sizeof(struct sock_filter), 0) != size) {
        int saved = exported != 0 ? errno : (instructions == NULL ? E2BIG : EIO);
        free(instructions);
        close(fd);
        errno = saved;
        return -1;
    }
    close(fd);
    program->len = (unsigned short)count;
    program->filter = instructions;
    return 0;
}

/// Builds the filter with libseccomp in the supervisor and exports its BPF program. On failure
/// returns -1 with errno and the index of the rule that failed (-1: none in particular).
static int compile_seccomp(const ab_sandbox_plan *plan, struct sock_fprog *program, int *failed_rule) {
    *failed_rule = -1;
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int result = 0;
    // Any other ABI (i386 int 0x80, x32) is killed: the filter names only the native one.
    if (seccomp_attr_set(filter, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0) {
        errno = EINVAL;
        result = -1;
    }
    for (size_t index = 0; result == 0 && index < plan->seccomp_count; index++) {
        const ab_seccomp_rule *rule = &plan->seccomp[index];
        *failed_rule = (int)index;
        int number = seccomp_syscall_resolve_name(rule->syscall);
        if (number == __NR_SCMP_ERROR) {
            errno = ENOSYS;
            result = -1;
            break;
        }
        uint32_t action = rule->action == AB_SECCOMP_KILL_PROCESS ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(rule->errno_value);
        int added;
        if (rule->arg_index >= 0) {
            struct scmp_arg_cmp compare = {(unsigned)rule->arg_index, SCMP_CMP_MASKED_EQ, rule->mask, rule->value};
            added = seccomp_rule_add_exact_array(filter, action, number, 1, &compare);
        } else {
            added = seccomp_rule_add_exact_array(filter, action, number, 0, NULL);
        }
        if (added != 0) {
            errno = -added;
            result = -1;
        }
    }
    if (result == 0) {
        *failed_rule = -1;
        result = export_seccomp(filter, program);
    }
    int saved = errno;
    seccomp_release(filter);
    errno = saved;
    return result;
}

/// The filter libseccomp compiled in the supervisor (PR_SET_NO_NEW_PRIVS is already set).
static void load_seccomp(const launch_resources *resources) {
    CHECK(AB_STEP_SECCOMP, -1, (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &resources->seccomp));
}

// ---- the two processes -----------------------------------------------------------------------

static volatile sig_atomic_t forward_to = 0;

static void forward_signal(int signal) {
    int saved = errno;
    if (forward_to != 0) kill(forward_to, signal);
    errno = saved;
}

/// Until the agent runs, SIGTERM, SIGINT and SIGHUP end the init (pid 1 ignores a signal it has
/// no handler for, even from the supervisor).
static void end_setup(int signal) {
    _exit(128 + signal);
}

static void handle_session_signals(void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = handler;
    sigfillset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
}

static int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

/// Runs in a vfork child: it shares the init's memory until execve, so it only writes its own
/// stack and the kernel's per-process state, and leaves by execve or _exit.
static _Noreturn void run_agent(const ab_sandbox_plan *plan) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    CHECK(AB_STEP_SETSID, 1, setsid());
    if (plan->controlling_tty) CHECK(AB_STEP_CONTROLLING_TTY, -1, ioctl(0, TIOCSCTTY, 0));
    CHECK(AB_STEP_CHDIR, -1, chdir(plan->workdir));
    ab_execve_search(plan->argv[0], plan->argv, plan->envp, plan->search_path);
    int saved = errno;
    report(AB_STEP_EXEC, saved, -1);
    _exit(saved == ENOENT ? 127 : 126);
}

/// The plan's stdio descriptors onto 0, 1, 2 (dup2 clears CLOEXEC on the copies).
static void install_stdio(const ab_sandbox_plan *plan) {
    const int fds[3] = {plan->stdin_fd, plan->stdout_fd, plan->stderr_fd};
    for (int target = 0; target < 3; target++) {
        if (fds[target] > 2) CHECK(AB_STEP_STDIO, target, dup2(fds[target], target));
    }
}

/// Every signal back to its default and unblocked: the supervisor ignores some (SIGPIPE), and
/// an ignored signal stays ignored across execve.
static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    CHECK(AB_STEP_SIGNALS, -1, sigprocmask(SIG_SETMASK, &none, NULL));
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; signal++) sigaction(signal, &action, NULL);
}

/// Maps the supervisor's ids into the user namespace the clone created (the init's own maps).
static void map_user_ids(const ab_sandbox_plan *plan) {
    char map[64];
    CHECK(AB_STEP_SETGROUPS_DENY, -1, write_file("/proc/self/setgroups", "deny"));
    snprintf(map, sizeof(map), "%u %u 1\n", plan->map_inside_uid, plan->map_outside_uid);
    CHECK(AB_STEP_UID_MAP, -1, write_file("/proc/self/uid_map", map));
    snprintf(map, sizeof(map), "%u %u 1\n", plan->map_inside_gid, plan->map_outside_gid);
    CHECK(AB_STEP_GID_MAP, -1, write_file("/proc/self/gid_map", map));
}

/// Starts the agent and returns its pid. vfork: the init's memory (a copy of the supervisor's)
/// is not copied once more. Session signals stay blocked until the agent has its own handlers.
static pid_t start_agent(const ab_sandbox_plan *plan) {
    sigset_t session_signals, previous;
    sigemptyset(&session_signals);
    sigaddset(&session_signals, SIGTERM);
    sigaddset(&session_signals, SIGINT);
    sigaddset(&session_signals, SIGHUP);
    sigprocmask(SIG_BLOCK, &session_signals, &previous);
    forward_to = -1;
    handle_session_signals(forward_signal);
    pid_t agent = vfork();
    if (agent == 0) run_agent(plan);
    int saved = errno;
    sigprocmask(SIG_SETMASK, &previous, NULL);
    errno = saved;
    return agent;
}

static int end_session(pid_t agent);

/// pid 1 of the new namespaces, cloned straight into them by the supervisor.
static _Noreturn void run_init(const ab_sandbox_plan *plan, const launch_resources *resources) {
    die_with_supervisor(resources, AB_STEP_STARTED, -1);
    install_stdio(plan);
    reset_signals();
    handle_session_signals(end_setup);
    if (plan->namespaces & AB_NS_USER) map_user_ids(plan);
    // Not before the maps: a non-dumpable process cannot write its own /proc/self/uid_map.
    // Nothing inside may read the init's memory or environment.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    // The new root's directories get their modes from the plan, not from whatever umask the
    // caller happened to have (077 would leave /home untraversable for a --run-as account).
    mode_t inherited_umask = umask(022);
    if (plan->namespaces & AB_NS_MOUNT) build_filesystem(plan);
    umask(inherited_umask);
    if (plan->namespaces & AB_NS_UTS) CHECK(AB_STEP_HOSTNAME, -1, sethostname(plan->hostname, strlen(plan->hostname)));
    if (plan->namespaces & AB_NS_NET) CHECK(AB_STEP_LOOPBACK, -1, loopback_up());
    if ((plan->namespaces & AB_NS_NET) && plan->listen_port_count > 0 && plan->listen_channel >= 0)
        CHECK(AB_STEP_LOOPBACK, -2, send_listeners(plan));
    CHECK(AB_STEP_SETSID, 0, setsid());
    const int keep[2] = {report_fd, resources->supervisor_pidfd};
    close_descriptors(plan, keep, 2);
    drop_privileges(plan, resources);
    close(resources->supervisor_pidfd);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // setresuid may have reset it
    load_seccomp(resources);
    if (plan->max_processes > 0) {
        struct rlimit limit = {plan->max_processes, plan->max_processes};
        CHECK(AB_STEP_PROCESS_LIMIT, -1, setrlimit(RLIMIT_NPROC, &limit));
    }

    pid_t agent = start_agent(plan);
    if (agent < 0) fail(AB_STEP_FORK_AGENT, -1);
    // vfork returned: the agent was exec'd (or reported why not, first).
    report(AB_REPORT_RUNNING, 0, 0);
    // The agent's stdio is the agent's: without the init's copies, the supervisor's relay sees
    // the end of the output as soon as the session's last writer is gone.
    for (int fd = 0; fd < 3; fd++) close(fd);
    _exit(end_session(agent));
}

/// Reaps until the agent exits, then kills and reaps every other process of the pid namespace,
/// reports the agent's code, and returns it. The supervisor goes on with its teardown from that
/// report while the init's own exit (its namespaces' teardown) runs, rather than after it.
///
/// One kill(-1, SIGKILL) from pid 1 reaches every other process of the namespace, and none can
/// appear after it: the kernel sends it under the task list lock, and a fork that attaches its
/// child after that finds SIGKILL pending in the parent and fails. (Killing again after each
/// reap walked the whole system's task list once per process: a fork bomb of thousands took
/// minutes to end.) The loop ends at ECHILD: nothing of the session is left to reap.
static int end_session(pid_t agent) {
    int code = 125;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == agent) {
            code = exit_code(status);
            break;
        }
        if (pid < 0 && errno == ECHILD) break;
    }
    kill(-1, SIGKILL);
    for (;;) {
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid < 0 && errno != EINTR) break;
    }
    report(AB_REPORT_FINISHED, 0, code);
    return code;
}

static int clone_flags(const ab_sandbox_plan *plan) {
    int flags = 0;
    if (plan->namespaces & AB_NS_USER) flags |= CLONE_NEWUSER;
    if (plan->namespaces & AB_NS_PID) flags |= CLONE_NEWPID;
    if (plan->namespaces & AB_NS_MOUNT) flags |= CLONE_NEWNS;
    if (plan->namespaces & AB_NS_IPC) flags |= CLONE_NEWIPC;
    if (plan->namespaces & AB_NS_UTS) flags |= CLONE_NEWUTS;
    if (plan->namespaces & AB_NS_NET) flags |= CLONE_NEWNET;
    return flags;
}

/// Everything the init needs that allocates, made in the supervisor; on failure fills `failure`.
static int prepare_resources(const ab_sandbox_plan *plan, launch_resources *resources, ab_sandbox_report *failure) {
    memset(resources, 0, sizeof(*resources));
    resources->supervisor_pidfd = -1;
    int failed_rule;
    if (compile_seccomp(plan, &resources->seccomp, &failed_rule) != 0) {
        *failure = (ab_sandbox_report){AB_STEP_SECCOMP, errno ? errno : EINVAL, failed_rule};
        return -1;
    }
    resources->no_capabilities = cap_init();
    if (resources->no_capabilities == NULL) {
        *failure = (ab_sandbox_report){AB_STEP_DROP_CAPABILITIES, errno ? errno : ENOMEM, 1};
        return -1;
    }
    resources->supervisor_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (resources->supervisor_pidfd < 0) {
        *failure = (ab_sandbox_report){AB_STEP_STARTED, errno, -1};
        return -1;
    }
    return 0;
}

static void release_resources(launch_resources *resources) {
    free(resources->seccomp.filter);
    if (resources->no_capabilities != NULL) cap_free(resources->no_capabilities);
    if (resources->supervisor_pidfd >= 0) close(resources->supervisor_pidfd);
}

/// Like fork (no CLONE_VM, no new stack: the child runs on a copy of this stack and returns 0
/// here), but the child is created inside new namespaces (`flags`), as pid 1 when one of them
/// is a pid namespace. clone3, or clone where a seccomp policy (a container's) hides clone3.
/// The raw system call leaves glibc's cached thread id of the parent in the child: the child
/// must not use raise, abort or pthread functions (and, a copy of a multithreaded process, nothing
/// that takes a lock: no malloc).
static pid_t clone_into_namespaces(uint64_t flags) {
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    pid_t child = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
    if (child < 0 && errno == ENOSYS) child = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0UL);
    return child;
}

/// After a failed clone: whether a user namespace alone is refused too (then it is the one the
/// box cannot give), by cloning a child into one that exits at once.
static int user_namespace_refused(void) {
    pid_t child = clone_into_namespaces(CLONE_NEWUSER);
    if (child == 0) _exit(0);
    if (child < 0) return 1;
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    return 0;
}

int ab_sandbox_spawn(const ab_sandbox_plan *plan, pid_t *pid, int *status_fd, ab_sandbox_report *failure) {
    launch_resources resources;
    if (prepare_resources(plan, &resources, failure) != 0) {
        int saved = errno;
        release_resources(&resources);
        errno = saved;
        return -1;
    }
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        *failure = (ab_sandbox_report){AB_STEP_STARTED, errno, -1};
        release_resources(&resources);
        return -1;
    }
    pid_t child = clone_into_namespaces((uint64_t)clone_flags(plan));
    if (child == 0) {
        close(pipe_fds[0]);
        report_fd = pipe_fds[1];
        run_init(plan, &resources);
    }
    int saved = errno;
    close(pipe_fds[1]);
    release_resources(&resources);
    if (child < 0) {
        close(pipe_fds[0]);
        int user_refused = (plan->namespaces & AB_NS_USER) && user_namespace_refused();
        *failure = (ab_sandbox_report){user_refused ? AB_STEP_USER_NAMESPACE : AB_STEP_NAMESPACES, saved, -1};
        errno = saved;
        return -1;
    }
    *pid = child;
    *status_fd = pipe_fds[0];
    return 0;
}

// ---- probes for doctor and the refusal checks ---------------------------------------------------

int ab_mountinfo_has_hidepid(const char *path, const char *mount_point) {
    FILE *file = fopen(path, "re");
    if (file == NULL) return -1;
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof(line), file)) {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        char root[1024], point[1024];
        if (sscanf(line, "%*d %*d %*s %1023s %1023s", root, point) != 2) continue;
        if (strcmp(point, mount_point) != 0) continue;
        char *dash = strstr(line, " - ");
        if (dash == NULL || strncmp(dash + 3, "proc ", 5) != 0) continue;
        found = strstr(dash, "hidepid=invisible") != NULL || strstr(dash, "hidepid=2") != NULL;
    }
    fclose(file);
    return found;
}

int ab_seccomp_available(void) {
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) return 0;
    return seccomp_api_get() >= 3 ? 1 : 0;
}

const char *ab_seccomp_native_arch(void) {
    switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: return "x86_64";
    case SCMP_ARCH_AARCH64: return "aarch64";
    default: return "other";
    }
}

int ab_seccomp_knows(const char *name) {
    return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

int ab_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int ab_cgroup_version(void) {
    struct statfs info;
    if (statfs("/sys/fs/cgroup", &info) != 0) return 0;
    return info.f_type == 0x63677270 ? 2 : 1;
}

int ab_is_main_thread(void) {
    return syscall(SYS_gettid) == getpid();
}
