/* An HTTP request with an Authorization header over loopback: the child
 * connects and sends it, the parent accepts, reads it and answers. The
 * bearer token is read from stdin, so that it is only ever in buffers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	char token[128];
	ssize_t t = read(0, token, sizeof token - 1);
	if (t <= 0)
		return 2;
	token[t] = 0;
	token[strcspn(token, "\n")] = 0;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1) ||
	    getsockname(s, (struct sockaddr *)&a, &l))
		return 3;
	pid_t p = fork();
	if (p == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a))
			_exit(4);
		char req[512];
		int n = snprintf(req, sizeof req,
				 "GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n",
				 token);
		char resp[256];
		_exit(write(c, req, n) == n && read(c, resp, sizeof resp) > 0 ? 0 : 5);
	}
	int c = accept(s, 0, 0);
	char buf[512];
	ssize_t n = read(c, buf, sizeof buf);
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	if (n <= 0 || write(c, ok, sizeof ok - 1) < 0)
		return 6;
	int st;
	waitpid(p, &st, 0);
	printf("served %zd bytes\n", n);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 7;
}
