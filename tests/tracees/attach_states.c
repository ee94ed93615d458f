/* A process for rec -p to attach to and detach from, in a given state:
 * "spin" runs without system calls (state R), "sleep" sleeps in one
 * nanosleep (state S; the test may SIGSTOP it for state T). Prints "ready"
 * first; runs at most 20 s. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sleep";
	printf("ready\n");
	fflush(stdout);
	if (strcmp(mode, "spin") == 0) {
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0); /* vDSO: no system call */
		volatile unsigned long n = 0;
		do {
			for (int i = 0; i < 1000000; i++)
				n++;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (t.tv_sec - t0.tv_sec < 20);
	} else {
		struct timespec d = { 20, 0 };
		nanosleep(&d, NULL);
	}
	printf("end\n");
	return 0;
}
