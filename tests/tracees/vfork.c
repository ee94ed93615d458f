/* vfork: the child writes the parent's memory before _exit; the parent sees it. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int shared = 1;

int main(void) {
	pid_t c = vfork();
	if (c == 0) {
		shared = 42;
		_exit(9);
	}
	int st;
	waitpid(c, &st, 0);
	printf("shared=%d child=%d\n", shared, WEXITSTATUS(st));
	return 0;
}
