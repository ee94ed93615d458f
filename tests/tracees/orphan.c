/* An orphan: its parent exits first; it goes on and exits 2. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	pid_t c = fork();
	if (c == 0) {
		if (fork() == 0) {
			usleep(100000);
			printf("orphan done\n");
			fflush(stdout);
			_exit(2);
		}
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("root done, child %d\n", WEXITSTATUS(st));
	return 0;
}
