#define _GNU_SOURCE
#include "CAgentboxSys.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

pid_t ab_spawn_relay(int listen_fd, const char *unix_path) {
    pid_t parent = getpid();
    pid_t child = fork();
    if (child != 0) return child;

    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent) _exit(0);  // the parent is already gone
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) _exit(1);
    for (int fd = 0; fd < 3; fd++) dup2(null_fd, fd);
    if (listen_fd != 3 && dup2(listen_fd, 3) < 0) _exit(1);
    ab_close_from(4);
    _exit(ab_relay_serve(3, unix_path) == 0 ? 0 : 1);
}
