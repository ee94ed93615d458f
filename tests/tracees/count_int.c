/* Counts the SIGINTs it receives in 300 ms after saying "ready". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ints;

static void on_int(int sig) {
	(void)sig;
	ints++;
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	struct timespec t = {0, 300 * 1000 * 1000};
	while (nanosleep(&t, &t) != 0)
		;
	printf("ints=%d\n", (int)ints);
	return 0;
}
