// A probe run as the sandboxed command: each mode tries one attack and prints what happened.
// Exit 0: the attack was stopped (with the errno printed); 1: the attack worked.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static int outcome(const char *what, long result) {
    if (result < 0) {
        printf("%s: blocked errno=%d (%s)\n", what, errno, strerror(errno));
        return 0;
    }
    printf("%s: ALLOWED\n", what);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "ptrace")) return outcome("ptrace", ptrace(PTRACE_ATTACH, atoi(argv[2]), 0, 0));
    if (!strcmp(mode, "ptrace32")) {
        // ptrace(PTRACE_ATTACH = 16, pid) through the i386 int 0x80 entry (syscall 26 there).
        long result;
        __asm__ volatile("int $0x80" : "=a"(result) : "a"(26L), "b"(16L), "c"((long)atoi(argv[2])), "d"(0L) : "memory");
        printf("int 0x80 ptrace returned %ld: ALLOWED\n", result);
        return 1;
    }
    if (!strcmp(mode, "x32")) {
        long result = syscall(0x40000000L | SYS_getpid);
        printf("x32 getpid returned %ld: ALLOWED\n", result);
        return 1;
    }
    if (!strcmp(mode, "vmread")) {
        char buffer[16];
        struct iovec local = {buffer, sizeof(buffer)}, remote = {(void *)0x400000, sizeof(buffer)};
        return outcome("process_vm_readv", syscall(SYS_process_vm_readv, atoi(argv[2]), &local, 1, &remote, 1, 0));
    }
    if (!strcmp(mode, "io_uring")) {
        struct io_uring_params params;
        memset(&params, 0, sizeof(params));
        return outcome("io_uring_setup", syscall(SYS_io_uring_setup, 8, &params));
    }
    if (!strcmp(mode, "keyctl")) return outcome("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    if (!strcmp(mode, "bpf")) {
        char attr[128];
        memset(attr, 0, sizeof(attr));
        return outcome("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)));
    }
    if (!strcmp(mode, "unshare")) return outcome("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
    if (!strcmp(mode, "clone-newuser")) {
        long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) _exit(0);
        return outcome("clone(CLONE_NEWUSER)", pid);
    }
    if (!strcmp(mode, "mount")) return outcome("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(mode, "tiocsti")) {
        // A new pty: opening its slave makes it our controlling terminal (we lead a session with none).
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) || unlockpt(master)) { perror("pty"); return 2; }
        int slave = open(ptsname(master), O_RDWR);
        if (slave < 0) { perror("slave"); return 2; }
        char c = 'x';
        unsigned long request = strtoul(argv[2], NULL, 0);
        return outcome("TIOCSTI", ioctl(slave, request, &c));
    }
    if (!strcmp(mode, "connect")) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un address = {.sun_family = AF_UNIX};
        snprintf(address.sun_path, sizeof(address.sun_path), "%s", argv[2]);
        return outcome("connect", connect(fd, (struct sockaddr *)&address, sizeof(address)));
    }
    if (!strcmp(mode, "read")) return outcome("open", open(argv[2], O_RDONLY));
    if (!strcmp(mode, "shm")) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        if (id < 0) { perror("shmget"); return 2; }
        char link[64] = {0};
        readlink("/proc/self/ns/ipc", link, sizeof(link) - 1);
        printf("shm %d in %s\n", id, link);
        return 0;
    }
    return 2;
}
