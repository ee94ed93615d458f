/* A child process creates 16 threads that each loop on getuid() (strace's
 * looping_threads test): prints how long until all 16 had started. A fair
 * tracer serves the creating thread while the others keep stopping. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 16
static atomic_int started;

static void *loop(void *arg) {
    (void)arg;
    atomic_fetch_add(&started, 1);
    for (;;)
        getuid();
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    pid_t pid = fork();
    if (pid == 0) {
        alarm(60);
        double t0 = now();
        for (int i = 0; i < N; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, loop, NULL) != 0)
                _exit(2);
        }
        while (atomic_load(&started) < N)
            usleep(1000);
        printf("%d threads started in %.3f s\n", N, now() - t0);
        fflush(stdout);
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    return 0;
}
