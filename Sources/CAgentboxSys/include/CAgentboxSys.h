#ifndef CAGENTBOXSYS_H
#define CAGENTBOXSYS_H

#include <stddef.h>
#include <stdint.h>
#include <spawn.h>
#include <sys/types.h>

/// The uid and pid of the process at the other end of a connected Unix socket
/// (SO_PEERCRED on Linux, getpeereid/LOCAL_PEERPID on Darwin). Returns 0 or -1 with errno set.
int ab_peer_credentials(int fd, uid_t *uid, pid_t *pid);

/// A descriptor for process `pid` (pidfd_open): signals sent through it reach that process or
/// nobody, never a later process that got the same pid. -1 with errno set (ENOSYS off Linux).
int ab_pidfd_open(pid_t pid);

/// `signal` to the process of `pidfd` (pidfd_send_signal). 0, or -1 with errno set.
int ab_pidfd_send_signal(int pidfd, int signal);

/// Creates a Unix stream socket bound to `path` and listening, with CLOEXEC, the socket file
/// made mode 0600 before it listens. `path` must be in a private (0700) directory: between bind
/// and chmod the file has the umask's mode. Returns the fd or -1.
int ab_listen_unix(const char *path, int backlog);

/// A listening TCP socket on 127.0.0.1:`port` (0: any), CLOEXEC; the port bound in `bound_port`.
int ab_listen_loopback(uint16_t port, uint16_t *bound_port);

/// Accepts on `listen_fd` until it is shut down (returns 0) and relays each connection, on its
/// own thread, to a fresh connection to the Unix socket at `unix_path`, byte for byte.
int ab_relay_serve(int listen_fd, const char *unix_path);

/// Forks a relay process serving `listen_fd` to `unix_path` (ab_relay_serve) that dies with this
/// process (PR_SET_PDEATHSIG), even after this process execs another program: `secrets run`
/// wires proxy endpoints this way. The child keeps only the listening socket (stdio on
/// /dev/null). Returns the child's pid, or -1 with errno set. Call while single-threaded.
pid_t ab_spawn_relay(int listen_fd, const char *unix_path);

/// 1 when the `length` bytes at `a` and `b` are equal, else 0, in time that depends only on
/// `length` (every byte is compared; no early exit).
int ab_constant_time_equal(const void *a, const void *b, size_t length);

/// Zeroes `length` bytes at `buffer` in a way the compiler may not elide.
void ab_secure_zero(void *buffer, size_t length);

/// glibc's memmem (a _GNU_SOURCE function Swift cannot see).
const void *ab_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// Replaces the process image: execve(path, argv, envp); if `path` has no slash, searches
/// `search_path` (a PATH value, never the environment being passed) the way execvp does.
/// Returns only on failure, with errno set.
int ab_execve_search(const char *file, char *const argv[], char *const envp[], const char *search_path);

/// Closes every descriptor >= `lowest` (close_range when the kernel has it).
void ab_close_from(int lowest);

/// A new pseudo-terminal (pty.c): posix_openpt, grantpt, unlockpt, ptsname_r, then the slave
/// opened O_NOCTTY. Both descriptors are CLOEXEC; the slave's path goes to `name`. Returns 0 or
/// -1 with errno set (nothing left open).
int ab_pty_open(int *master, int *slave, char *name, size_t name_size);

/// ioctl(TIOCGWINSZ) on `fd`. Returns 0 or -1 with errno set.
int ab_terminal_size(int fd, unsigned short *rows, unsigned short *columns);

/// ioctl(TIOCSWINSZ) on `fd` (a pty master: the foreground process group gets SIGWINCH).
int ab_set_terminal_size(int fd, unsigned short rows, unsigned short columns);

/// pipe2(O_CLOEXEC), plus O_NONBLOCK on both ends when `nonblocking`. Returns 0 or -1 with errno.
int ab_pipe(int fds[2], int nonblocking);

/// Adds "close every descriptor >= `lowest`" to `actions` (glibc's
/// posix_spawn_file_actions_addclosefrom_np, a _GNU_SOURCE function Swift cannot see). Returns 0
/// or an error number (ENOSYS where the C library has no such action).
int ab_spawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// 1 when `path` is on a tmpfs (statfs f_type TMPFS_MAGIC), 0 when not or when it cannot be read.
int ab_is_tmpfs(const char *path);

#endif
