/* A small process tree for -e trace=%process: the parent writes, forks a
 * child that execs /bin/true and a child that writes and exits 5, waits
 * for both and reports their statuses. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(9);
}

int main(void)
{
	say("parent start\n");
	pid_t a = fork();
	if (a == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	pid_t b = fork();
	if (b == 0) {
		say("child b\n");
		_exit(5);
	}
	int sa, sb;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	char buf[64];
	snprintf(buf, sizeof buf, "a=%d b=%d\n", WEXITSTATUS(sa), WEXITSTATUS(sb));
	say(buf);
	return 0;
}
