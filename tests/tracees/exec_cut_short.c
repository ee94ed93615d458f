/* execve from a non-leader thread while the leader sleeps in
 * clock_nanosleep and another thread waits in futex (pthread_join): the
 * exec cuts both calls short. With the argument `leader-exits` the leader
 * calls pthread_exit instead and there is no other thread: the exec finds
 * a zombie leader. The execing thread waits until the others are asleep in
 * their calls (state S in /proc), or the leader a zombie (Z), so what the
 * trace holds from its execve on does not depend on scheduling. The new
 * image is this program with an argument; it prints and exits 3. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char *self;
static volatile pid_t waiter_tid;
static pthread_t execer;

static int leader_exits;

/* The state letter of thread `tid` of this process (0 if unknown). */
static char state(pid_t tid) {
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static void *wait_execer(void *arg) {
	(void)arg;
	waiter_tid = syscall(SYS_gettid);
	pthread_join(execer, NULL);
	return NULL;
}

static void *exec_self(void *arg) {
	(void)arg;
	struct timespec ms = {0, 1000000};
	if (leader_exits)
		while (state(getpid()) != 'Z')
			nanosleep(&ms, NULL);
	else
		while (waiter_tid == 0 || state(getpid()) != 'S' || state(waiter_tid) != 'S')
			nanosleep(&ms, NULL);
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
	leader_exits = argc > 1 && strcmp(argv[1], "leader-exits") == 0;
	pthread_create(&execer, NULL, exec_self, NULL);
	if (leader_exits)
		pthread_exit(NULL);
	pthread_t w;
	pthread_create(&w, NULL, wait_execer, NULL);
	sleep(10);
	return 1;
}
