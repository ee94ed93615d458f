/* 200 threads created and joined. */
#include <pthread.h>
#include <stdio.h>

static int count;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *run(void *arg) {
	(void)arg;
	pthread_mutex_lock(&m);
	count++;
	pthread_mutex_unlock(&m);
	return NULL;
}

int main(void) {
	pthread_t t[200];
	for (int i = 0; i < 200; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (int i = 0; i < 200; i++)
		pthread_join(t[i], NULL);
	printf("count=%d\n", count);
	return 0;
}
