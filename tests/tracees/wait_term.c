/* Says "ready", then waits for SIGTERM (handled: exit 5) or, with an
 * argument, sleeps that many ms doing nothing and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_term(int sig) {
	char msg[] = "got TERM\n";
	(void)sig;
	write(1, msg, strlen(msg));
	_exit(5);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "handle") == 0)
		signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	if (argc > 2) {
		usleep(atoi(argv[2]) * 1000);
		return 0;
	}
	for (;;)
		pause();
}
