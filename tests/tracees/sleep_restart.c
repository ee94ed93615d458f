/* Sleeps interrupted by a signal with a handler: the kernel ends each with
 * ERESTART_RESTARTBLOCK and writes the time left into the second timespec,
 * which strace shows (replay must too); an absolute clock_nanosleep has no
 * time left to write. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static void on_alarm(int s) { (void)s; }

static void arm(void) {
	struct itimerval it;
	memset(&it, 0, sizeof it);
	it.it_value.tv_usec = 100000;
	setitimer(ITIMER_REAL, &it, 0);
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, 0);
	struct timespec t = {3, 0}, left = {0, 0};
	arm();
	clock_nanosleep(CLOCK_MONOTONIC, 0, &t, &left);
	arm();
	nanosleep(&t, &left);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_sec += 3;
	arm();
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, &left);
	return 0;
}
