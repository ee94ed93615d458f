/* The leader calls pthread_exit while its threads go on; the last thread
 * ends the process with exit(7). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *run(void *arg) {
	(void)arg;
	usleep(50000);
	printf("thread after leader exit\n");
	fflush(stdout);
	exit(7);
}

int main(void) {
	pthread_t t;
	pthread_create(&t, NULL, run, NULL);
	pthread_exit(NULL);
}
