/* Descriptors of every kind strace's -yy names beyond their path: a UNIX
 * socket pair, a bound UNIX listener and a client connected to it, a
 * connected UDP socket, a TCP listener with a connection accepted from
 * it, and a character device; each is written to or closed, so that
 * replay -yy can be compared with strace -yy line by line. argv[1]: the
 * UNIX socket's path. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int pair[2];
	struct sockaddr_un un;
	struct sockaddr_in in;
	socklen_t len = sizeof in;

	if (argc < 2 || socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		return 1;
	write(pair[0], "a", 1);
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	strncpy(un.sun_path, argv[1], sizeof un.sun_path - 1);
	unlink(argv[1]);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (void *)&un, sizeof un) < 0 || listen(l, 1) < 0)
		return 2;
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c, (void *)&un, sizeof un) < 0)
		return 3;
	int a = accept(l, NULL, NULL);
	write(c, "b", 1);
	write(a, "c", 1);
	unlink(argv[1]);

	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in.sin_port = htons(9);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(u, (void *)&in, sizeof in) < 0)
		return 4;
	write(u, "d", 1);

	in.sin_port = 0;
	int t = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(t, (void *)&in, sizeof in) < 0 || listen(t, 1) < 0)
		return 5;
	getsockname(t, (void *)&in, &len);
	int tc = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(tc, (void *)&in, sizeof in) < 0)
		return 6;
	int ta = accept(t, NULL, NULL);
	write(tc, "e", 1);
	write(ta, "f", 1);

	int n = open("/dev/null", O_WRONLY);
	write(n, "g", 1);
	int m = dup(n);
	write(m, "h", 1);
	/* Only what it made: a descriptor inherited from whoever runs the
	 * test would add a line to one machine's output. */
	int made[] = { pair[0], pair[1], l, c, a, u, t, tc, ta, n, m };
	for (unsigned i = 0; i < sizeof made / sizeof made[0]; i++)
		close(made[i]);
	return 0;
}
