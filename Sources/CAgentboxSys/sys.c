#define _GNU_SOURCE
#include "CAgentboxSys.h"

#include <errno.h>
#include <spawn.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

int ab_pidfd_open(pid_t pid) {
#if defined(__linux__)
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int ab_pidfd_send_signal(int pidfd, int signal) {
#if defined(__linux__)
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int ab_peer_credentials(int fd, uid_t *uid, pid_t *pid) {
#if defined(__linux__)
    struct ucred cred;
    socklen_t length = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return -1;
    *uid = cred.uid;
    *pid = cred.pid;
    return 0;
#else
    gid_t gid;
    if (getpeereid(fd, uid, &gid) != 0) return -1;
    *pid = -1;
    return 0;
#endif
}

int ab_listen_unix(const char *path, int backlog) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(address.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(address.sun_path, path);
#if defined(__linux__)
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
    if (fd < 0) return -1;
    // No umask dance: umask is process-wide, and changing it in a threaded broker would leak
    // into files and children other threads create meanwhile. Our sockets live in 0700
    // directories, so nobody else can reach the socket before the chmod.
    int bound = bind(fd, (struct sockaddr *)&address, sizeof(address));
    if (bound != 0 || chmod(path, 0600) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int ab_constant_time_equal(const void *a, const void *b, size_t length) {
    const volatile unsigned char *left = (const volatile unsigned char *)a;
    const volatile unsigned char *right = (const volatile unsigned char *)b;
    unsigned char difference = 0;
    for (size_t index = 0; index < length; index++) difference |= left[index] ^ right[index];
    return ((difference - 1) >> 8) & 1;
}

void ab_secure_zero(void *buffer, size_t length) {
    if (buffer == NULL || length == 0) return;
    volatile unsigned char *bytes = (volatile unsigned char *)buffer;
    while (length--) *bytes++ = 0;
}

int ab_execve_search(const char *file, char *const argv[], char *const envp[], const char *search_path) {
    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        return -1;
    }
    const char *path = (search_path != NULL && *search_path) ? search_path : "/usr/local/bin:/usr/bin:/bin";
    size_t file_length = strlen(file);
    int saw_eacces = 0;
    const char *start = path;
    for (;;) {
        const char *end = strchr(start, ':');
        size_t dir_length = end ? (size_t)(end - start) : strlen(start);
        char candidate[4096];
        if (dir_length + 1 + file_length + 1 <= sizeof(candidate)) {
            if (dir_length == 0) {
                memcpy(candidate, file, file_length + 1);
            } else {
                memcpy(candidate, start, dir_length);
                candidate[dir_length] = '/';
                memcpy(candidate + dir_length + 1, file, file_length + 1);
            }
            execve(candidate, argv, envp);
            if (errno == EACCES) saw_eacces = 1;
            else if (errno != ENOENT && errno != ENOTDIR) return -1;
        }
        if (!end) break;
        start = end + 1;
    }
    errno = saw_eacces ? EACCES : ENOENT;
    return -1;
}

void ab_close_from(int lowest) {
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0) max = 65536;
    for (int fd = lowest; fd < max; fd++) close(fd);
}

const void *ab_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}

// ---- the loopback relay: 127.0.0.1:PORT -> a Unix socket (the forwarded proxy socket) ----------

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>

int ab_listen_loopback(uint16_t port, uint16_t *bound_port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(fd, 128) != 0
        || getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (bound_port) *bound_port = ntohs(address.sin_port);
    return fd;
}

struct relay_connection {
    int client;
    char path[108];
};

static int connect_unix(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un address;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    strncpy(address.sun_path, path, sizeof(address.sun_path) - 1);
    if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/// Copies bytes both ways until both directions are closed; half-closes are passed on.
static void *relay_connection_main(void *argument) {
    struct relay_connection *connection = argument;
    int client = connection->client;
    int upstream = connect_unix(connection->path);
    free(connection);
    if (upstream < 0) {
        static const char refusal[] =
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 93\r\n\r\n"
            "{\"error\":{\"message\":\"agentbox: the laptop's proxy is not reachable\",\"type\":\"agentbox_proxy\"}}";
        ssize_t ignored = write(client, refusal, sizeof(refusal) - 1);
        (void)ignored;
        close(client);
        return NULL;
    }
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char *buffer = malloc(65536);
    int open_in = 1, open_out = 1;  // client->upstream, upstream->client
    while (buffer && (open_in || open_out)) {
        struct pollfd fds[2] = {{client, open_in ? POLLIN : 0, 0}, {upstream, open_out ? POLLIN : 0, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int side = 0; side < 2; side++) {
            int *open_flag = side == 0 ? &open_in : &open_out;
            if (!*open_flag || !(fds[side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int from = side == 0 ? client : upstream;
            int to = side == 0 ? upstream : client;
            ssize_t got = read(from, buffer, 65536);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                *open_flag = 0;
                shutdown(to, SHUT_WR);
                continue;
            }
            ssize_t done = 0;
            while (done < got) {
                ssize_t put = write(to, buffer + done, (size_t)(got - done));
                if (put < 0 && errno == EINTR) continue;
                if (put <= 0) {
                    open_in = open_out = 0;
                    break;
                }
                done += put;
            }
        }
    }
    free(buffer);
    close(upstream);
    close(client);
    return NULL;
}

int ab_relay_serve(int listen_fd, const char *unix_path) {
    if (strlen(unix_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (;;) {
        int client = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return errno == EINVAL ? 0 : -1;  // EINVAL: the listener was shut down
        }
        struct relay_connection *connection = malloc(sizeof(*connection));
        if (connection == NULL) {
            close(client);
            continue;
        }
        connection->client = client;
        strcpy(connection->path, unix_path);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 256 * 1024);
        pthread_t thread;
        if (pthread_create(&thread, &attributes, relay_connection_main, connection) != 0) {
            close(client);
            free(connection);
        }
        pthread_attr_destroy(&attributes);
    }
}

int ab_is_tmpfs(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return 0;
    return info.f_type == 0x01021994;  // TMPFS_MAGIC
}

int ab_spawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
#else
    (void)actions;
    (void)lowest;
    return ENOSYS;
#endif
}
