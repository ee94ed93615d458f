/* The parent forks a child that outlives it: once rec -p has attached, the
 * parent waits 300 ms, forks, and exits; the child sleeps 1.5 s, then
 * writes "child end" to the file named by argv[1] and exits. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	printf("ready\n");
	fflush(stdout);
	usleep(300000);
	if (fork() == 0) {
		usleep(1500000);
		int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "child end\n", 10) != 10)
			_exit(1);
		_exit(0);
	}
	return 0;
}
