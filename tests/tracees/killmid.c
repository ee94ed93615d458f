/* SIGKILL of a thread group while all its threads are inside read(2). */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static int p[2];

static void *run(void *arg) {
	char b;
	(void)arg;
	read(p[0], &b, 1);
	return NULL;
}

int main(void) {
	pipe(p);
	pthread_t t;
	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, run, NULL);
	if (fork() == 0) {
		usleep(100000);
		kill(getppid(), SIGKILL);
		_exit(0);
	}
	char b;
	read(p[0], &b, 1);
	return 1;
}
