/* One call of every decoder class of analyze replay, single-threaded, so
 * that its replay can be compared line by line with strace -f. Runs in
 * the directory it is given (argv[1]); every call's result is fixed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <sys/xattr.h>
#include <utime.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A register value whose upper half is garbage, as a caller may leave it
 * for a 32-bit argument: the kernel, and strace, read the low half. */
#define GARBAGE(x) (0xdefaced00000000ULL | (unsigned int)(x))

static void handler(int sig) { (void)sig; }

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    /* Files. */
    int fd = syscall(SYS_openat, AT_FDCWD, "data", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    syscall(SYS_write, fd, "hello world\n", 12);
    syscall(SYS_close, fd);
    syscall(SYS_linkat, AT_FDCWD, "data", AT_FDCWD, "hard", 0);
    syscall(SYS_symlinkat, "data", AT_FDCWD, "soft");
    syscall(SYS_fchownat, AT_FDCWD, "data", -1, -1, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_mknodat, AT_FDCWD, "fifo", S_IFIFO | 0600, 0);
    syscall(SYS_mknod, "fifo2", S_IFIFO | 0640, 0);
    syscall(SYS_umask, 022);
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
    fd = syscall(SYS_openat2, AT_FDCWD, "data", &how, sizeof how);
    struct timespec ts[2] = {{.tv_sec = 1, .tv_nsec = 2}, {.tv_sec = 0, .tv_nsec = UTIME_OMIT}};
    syscall(SYS_utimensat, AT_FDCWD, "data", ts, 0);
    syscall(SYS_utimensat, AT_FDCWD, "data", NULL, AT_SYMLINK_NOFOLLOW);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    int wfd = syscall(SYS_openat, AT_FDCWD, "data", O_RDWR);
    syscall(SYS_fcntl, wfd, GARBAGE(F_SETLK), &fl);
    struct flock gl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    syscall(SYS_fcntl, wfd, F_GETLK, &gl);
    char buf[64];
    char buf2[64];
    struct iovec iov[2] = {{buf, 5}, {buf2, 64}};
    syscall(SYS_readv, fd, iov, 2);
    off_t off = 0;
    syscall(SYS_sendfile, wfd, fd, &off, 4);
    struct iovec iov2 = {buf, 4};
    syscall(SYS_preadv, fd, &iov2, 1, 1, 0);
    syscall(SYS_preadv2, fd, &iov2, 1, 0, 0, 0);
    syscall(SYS_pwritev2, wfd, &iov2, 1, 2, 0, RWF_DSYNC);
    loff_t o1 = 0, o2 = 0;
    int cfd = syscall(SYS_openat, AT_FDCWD, "copy", O_RDWR | O_CREAT, 0600);
    syscall(SYS_copy_file_range, wfd, &o1, cfd, &o2, 3, 0);
    syscall(SYS_close, cfd);
    char names[256];
    syscall(SYS_listxattr, "data", names, sizeof names);
    struct utimbuf ub = {1, 2};
    syscall(SYS_utime, "data", &ub);
    struct timeval utv[2] = {{1, 0}, {2, 5}};
    syscall(SYS_utimes, "data", utv);
    syscall(SYS_futimesat, AT_FDCWD, "data", utv);
    syscall(SYS_close, wfd);
    syscall(SYS_close, fd);
    syscall(SYS_unlinkat, AT_FDCWD, "hard", 0);
    /* Descriptors and sockets. */
    int sv[2];
    syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    char one[] = "ping";
    struct iovec siov = {one, 4};
    struct msghdr mh = {.msg_iov = &siov, .msg_iovlen = 1};
    syscall(SYS_sendmsg, sv[0], &mh, MSG_DONTWAIT);
    char in[16];
    struct iovec riov = {in, sizeof in};
    struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1};
    syscall(SYS_recvmsg, sv[1], &rh, 0);
    syscall(SYS_write, sv[0], "x", 1);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(sv[1], &rd);
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    syscall(SYS_select, sv[1] + 1, &rd, NULL, NULL, &tv);
    struct pollfd pfd = {.fd = sv[1], .events = POLLIN};
    struct timespec pt = {.tv_sec = 1, .tv_nsec = 0};
    syscall(SYS_ppoll, &pfd, 1, &pt, NULL, 8);
    int ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, sv[1], &ev);
    struct epoll_event got[4];
    syscall(SYS_epoll_wait, ep, got, 4, 1000);
    syscall(SYS_epoll_pwait, ep, got, 4, 0, NULL, 8);
    syscall(SYS_close, ep);
    fd_set wr;
    FD_ZERO(&wr);
    FD_SET(sv[0], &wr);
    struct timespec zero = {0, 0};
    unsigned long psmask = 1UL << (SIGINT - 1);
    struct {
        unsigned long *set;
        size_t len;
    } pair = {&psmask, 8};
    syscall(SYS_pselect6, sv[0] + 1, NULL, &wr, NULL, &zero, &pair);
    int ino = syscall(SYS_inotify_init1, IN_CLOEXEC);
    syscall(SYS_inotify_add_watch, ino, ".", IN_MODIFY | IN_CREATE);
    syscall(SYS_close, ino);
    int tfd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {{0, 0}, {100, 0}}, oldits;
    syscall(SYS_timerfd_settime, tfd, 0, &its, &oldits);
    syscall(SYS_close, tfd);
    syscall(SYS_close, sv[0]);
    syscall(SYS_close, sv[1]);
    /* Memory. */
    void *m = (void *)syscall(SYS_mmap, NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_madvise, m, 8192, MADV_DONTNEED);
    syscall(SYS_munmap, m, 8192);
    /* Processes and signals. */
    syscall(SYS_prctl, PR_SET_NAME, "decoders", 0, 0, 0);
    syscall(SYS_prctl, PR_GET_NAME, buf, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0);
    gid_t groups[64];
    syscall(SYS_getgroups, 64, groups);
    uid_t ru1, ru2, ru3;
    syscall(SYS_getresuid, &ru1, &ru2, &ru3);
    struct sched_param sp = {0};
    syscall(SYS_sched_getparam, 0, &sp);
    syscall(SYS_sched_setparam, 0, &sp);
    struct timespec res;
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res);
    struct itimerval git;
    syscall(SYS_getitimer, ITIMER_REAL, &git);
    int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
    syscall(SYS_close, pidfd);
    syscall(SYS_setpgid, 0, 0);
    syscall(SYS_getpgid, 0);
    syscall(SYS_alarm, 0);
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
    syscall(SYS_sigaltstack, &ss, NULL);
    struct itimerval it = {.it_interval = {0, 0}, .it_value = {0, 0}};
    syscall(SYS_setitimer, ITIMER_REAL, &it, NULL);
    struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGRTMIN, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, 32);
    sigaddset(&set, 33);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t qi;
    memset(&qi, 0, sizeof qi);
    qi.si_signo = SIGUSR2;
    qi.si_code = SI_QUEUE;
    qi.si_pid = getpid();
    qi.si_uid = getuid();
    qi.si_value.sival_int = 42;
    syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &qi);
    siginfo_t got_si;
    struct timespec wt = {.tv_sec = 1, .tv_nsec = 0};
    syscall(SYS_rt_sigtimedwait, &set, &got_si, &wt, 8);
    syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), SIGUSR2, &qi);
    syscall(SYS_rt_sigtimedwait, &set, NULL, &wt, 8);
    struct timespec ns = {.tv_sec = 0, .tv_nsec = 1000};
    syscall(SYS_nanosleep, &ns, NULL);
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ns, NULL);
    pid_t child = fork();
    if (child == 0)
        _exit(3);
    struct rusage ru;
    syscall(SYS_wait4, child, NULL, GARBAGE(__WALL), NULL);
    (void)ru;
    child = fork();
    if (child == 0)
        _exit(4);
    siginfo_t wi;
    memset(&wi, 0, sizeof wi);
    syscall(SYS_waitid, P_PID, child, &wi, WEXITED, NULL);
    /* The kernel's real-time signals 32 and 33 (glibc keeps them). */
    unsigned long rt = (1UL << 31) | (1UL << 32);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &rt, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &rt, NULL, 8);
    /* A call a signal interrupts: SIGUSR1 is pending while blocked, and
     * rt_sigsuspend unblocks it. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    syscall(SYS_kill, getpid(), SIGUSR1);
    unsigned long none = 0;
    syscall(SYS_rt_sigsuspend, &none, 8);
    return 0;
}
