/* fcntl commands whose arguments and return values strace names (F_SETFD's
 * FD_CLOEXEC, F_SETFL's and F_GETFL's file status flags), then sysinfo. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/dev/null", O_RDWR);
	int p[2];
	struct sysinfo si;

	if (fd < 0 || pipe(p) < 0)
		return 1;
	fcntl(fd, F_GETFD);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_GETFD);
	fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND);
	fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, 0);
	fcntl(fd, F_DUPFD_CLOEXEC, 10);
	fcntl(fd, F_SETFD, 0);
	fcntl(p[1], F_GETFL);
	fcntl(p[0], F_SETPIPE_SZ, 65536);
	fcntl(-1, F_GETFL);
	return sysinfo(&si) == 0 ? 0 : 2;
}
