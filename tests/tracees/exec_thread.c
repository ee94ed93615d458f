/* execve from a non-leader thread while the leader sleeps. The new image is
 * this program with an argument; it prints and exits 3. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *self;

static void *run(void *arg) {
	(void)arg;
	char *argv[] = {self, "after-exec", NULL};
	execv(self, argv);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		printf("after exec\n");
		return 3;
	}
	self = argv[0];
	pthread_t t;
	pthread_create(&t, NULL, run, NULL);
	sleep(10);
	return 1;
}
