/* A TCP connection over loopback: socket options, addresses the kernel
 * fills in, send/recv flags, poll and shutdown, for replay against strace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, type = 0;
	socklen_t len = sizeof type, alen;
	struct sockaddr_in a;
	char buf[8];

	if (s < 0)
		return 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (void *)&a, sizeof a) < 0 || listen(s, 5) < 0)
		return 2;
	alen = sizeof a;
	getsockname(s, (void *)&a, &alen);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(c, (void *)&a, sizeof a) < 0)
		return 3;
	int d = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	send(c, "hi", 2, MSG_NOSIGNAL);
	struct pollfd p = { d, POLLIN, 0 };
	poll(&p, 1, 1000);
	recv(d, buf, sizeof buf, 0);
	p.revents = 0;
	poll(&p, 1, 0);
	shutdown(c, SHUT_WR);
	return 0;
}
