/* Calls whose arguments or results strace decodes as structs or flag
 * names: pipe2's fds, wait4's status, uname, close_range, faccessat2. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int fds[2], st;
	struct utsname u;
	siginfo_t si;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	/* Waited for first without reaping, so that wait4 returns at once
	 * and its line is not split by other processes' lines. */
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	wait4(c, &st, WNOHANG, NULL);
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	kill(c, SIGTERM);
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	wait4(c, &st, WNOHANG, NULL);
	uname(&u);
	syscall(SYS_close_range, fds[0], fds[1], 0);
	syscall(SYS_faccessat2, AT_FDCWD, "/", X_OK, AT_EACCESS);
	return 0;
}
