/* A thread started with pthread_create (clone3 with CLONE_PARENT_SETTID,
 * the new thread's stack and signal mask) that tells the main thread
 * through a pipe that it runs, then waits to be ended by exit_group: the
 * main thread's calls are the same in every run, so its replay is
 * compared with strace's. */
#include <pthread.h>
#include <unistd.h>

static int fds[2];

static void *run(void *arg) {
    (void)arg;
    write(fds[1], "x", 1);
    for (;;)
        pause();
    return NULL;
}

int main(void) {
    pthread_t t;
    char c;
    if (pipe(fds) != 0 || pthread_create(&t, NULL, run, NULL) != 0)
        return 1;
    if (read(fds[0], &c, 1) != 1)
        return 1;
    write(1, "main\n", 5);
    return 0;
}
