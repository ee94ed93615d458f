/* Keeps creating threads for a few seconds (batches of 4 that each sleep
 * 2 ms and add to a shared sum), so that rec -p attaches while threads are
 * being created and detaches while they still are. Prints "ready" first,
 * then the deterministic total at the end. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_long sum;

static void *work(void *arg)
{
	usleep(2000);
	atomic_fetch_add(&sum, (long)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int batches = argc > 1 ? atoi(argv[1]) : 500;
	printf("ready\n");
	fflush(stdout);
	long want = 0;
	for (int b = 0; b < batches; b++) {
		pthread_t t[4];
		for (long i = 0; i < 4; i++) {
			if (pthread_create(&t[i], NULL, work, (void *)(b * 4 + i)) != 0)
				return 2;
			want += b * 4 + i;
		}
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	}
	printf("threads=%d sum=%ld ok=%d\n", batches * 4, (long)sum, sum == want);
	return 0;
}
