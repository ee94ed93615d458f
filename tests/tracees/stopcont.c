/* SIGSTOP/SIGCONT of a child: the parent sees WIFSTOPPED through
 * waitpid(WUNTRACED), then WIFCONTINUED, then the child goes on. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(p[1]);
		while (read(p[0], &b, 1) < 0)
			;
		printf("child continued\n");
		fflush(stdout);
		_exit(3);
	}
	close(p[0]);
	int st;
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	printf("stopped=%d sig=%d\n", WIFSTOPPED(st), WSTOPSIG(st));
	fflush(stdout);
	kill(c, SIGCONT);
	waitpid(c, &st, WCONTINUED);
	printf("continued=%d\n", WIFCONTINUED(st));
	fflush(stdout);
	write(p[1], "x", 1);
	waitpid(c, &st, 0);
	printf("exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
	return 0;
}
