/* vfork three times; each child sleeps 600 ms before _exit(i), so a
 * tracer that detaches meanwhile finds the parent waiting, unable to stop,
 * for its vfork child. Prints "ready" first, then the children's codes. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	printf("ready\n");
	fflush(stdout);
	usleep(200000);
	int codes = 0;
	for (int i = 0; i < 3; i++) {
		pid_t p = vfork();
		if (p == 0) {
			usleep(600000);
			_exit(i + 1);
		}
		if (p < 0)
			return 2;
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
			return 3;
		codes = codes * 10 + WEXITSTATUS(st);
	}
	printf("vforks=3 codes=%d\n", codes);
	return 0;
}
