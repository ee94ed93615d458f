/* A fork tree: root -> 2 children -> 1 grandchild each. Every process exits
 * with its own code; parents print what waitpid told them. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(const char *who) {
	int st;
	pid_t p;
	while ((p = wait(&st)) > 0)
		printf("%s: child exited %d\n", who, WEXITSTATUS(st));
	fflush(stdout);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < 2; i++) {
		pid_t c = fork();
		if (c == 0) {
			pid_t g = fork();
			if (g == 0)
				_exit(20 + i);
			reap(i ? "child1" : "child0");
			_exit(10 + i);
		}
		int st;
		waitpid(c, &st, 0);
		printf("root: child%d exited %d\n", i, WEXITSTATUS(st));
	}
	return 0;
}
