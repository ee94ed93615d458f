/* A child creates a sibling with clone(CLONE_PARENT): the root reaps both. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	pid_t a = fork();
	if (a == 0) {
		long s = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (s == 0)
			_exit(6);
		_exit(s > 0 ? 5 : 1);
	}
	int codes = 0, n = 0, st;
	while (wait(&st) > 0) {
		codes += WEXITSTATUS(st);
		n++;
	}
	printf("reaped %d children, codes sum %d\n", n, codes);
	return 0;
}
