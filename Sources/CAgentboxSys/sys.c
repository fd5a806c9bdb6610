#define _GNU_SOURCE
#include "CAgentboxSys.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

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
    mode_t previous = umask(077);
    int bound = bind(fd, (struct sockaddr *)&address, sizeof(address));
    umask(previous);
    if (bound != 0 || chmod(path, 0600) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
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
