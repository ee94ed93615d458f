/* PID reuse in a pid namespace (run as its pid 2, with its own /proc, as
 * root: ns_last_pid says which pid the next fork gets). Pid 100 is created
 * twice: first by this process (3 getppid calls, exit 3), then, after it
 * died, by pid 200 (5 getppid calls, exit 5). Prints each child's pid. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void next_pid(int pid) {
	char b[16];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	if (fd < 0) {
		perror("ns_last_pid");
		exit(90);
	}
	int n = snprintf(b, sizeof b, "%d", pid - 1);
	if (write(fd, b, n) != n) {
		perror("ns_last_pid");
		exit(91);
	}
	close(fd);
}

/* Forks a child with pid `pid` that calls getppid `calls` times and exits
 * with that count; returns its exit code. */
static int child(int pid, int calls) {
	next_pid(pid);
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < calls; i++)
			getppid();
		_exit(calls);
	}
	if (c != pid) {
		fprintf(stderr, "fork gave %d, not %d\n", c, pid);
		exit(92);
	}
	printf("%d\n", c);
	fflush(stdout);
	int st;
	waitpid(c, &st, 0);
	return WEXITSTATUS(st);
}

int main(void) {
	if (child(100, 3) != 3)
		return 93;
	next_pid(200);
	pid_t mid = fork();
	if (mid == 0)
		_exit(child(100, 5));
	if (mid != 200) {
		fprintf(stderr, "fork gave %d, not 200\n", mid);
		return 94;
	}
	int st;
	waitpid(mid, &st, 0);
	return WEXITSTATUS(st) == 5 ? 0 : 95;
}
