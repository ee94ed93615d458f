/* fork, then threads and raise(SIGFPE) in both processes. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void *idle(void *arg) {
	(void)arg;
	pause();
	return NULL;
}

static void threads_then_fpe(void) {
	pthread_t t;
	for (int i = 0; i < 2; i++)
		pthread_create(&t, NULL, idle, NULL);
	raise(SIGFPE);
}

int main(void) {
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	pid_t c = fork();
	if (c == 0) {
		threads_then_fpe();
		_exit(1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
	fflush(stdout);
	threads_then_fpe();
	return 1;
}
