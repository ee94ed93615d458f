/* exit_group from a non-leader thread while 40 threads block. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int p[2];

static void *block(void *arg) {
	char b;
	(void)arg;
	read(p[0], &b, 1);
	return NULL;
}

static void *ender(void *arg) {
	(void)arg;
	usleep(50000);
	exit(4);
}

int main(void) {
	pipe(p);
	pthread_t t;
	for (int i = 0; i < 40; i++)
		pthread_create(&t, NULL, block, NULL);
	pthread_create(&t, NULL, ender, NULL);
	char b;
	read(p[0], &b, 1);
	return 1;
}
