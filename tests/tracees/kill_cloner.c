/* ROUNDS times: fork a child that creates threads in a loop, SIGKILL it
 * after a few ms and time how long waitpid takes to reap it. Prints the
 * slowest reap in ms. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *brief(void *arg) {
    (void)arg;
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    double worst = 0;
    for (int r = 0; r < rounds; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) {
                pthread_t t;
                if (pthread_create(&t, NULL, brief, NULL) == 0)
                    pthread_detach(t);
            }
        }
        usleep(5000 + (r % 5) * 2000);
        kill(pid, SIGKILL);
        double t0 = now();
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st))
            return 1;
        double dt = now() - t0;
        if (dt > worst)
            worst = dt;
    }
    printf("slowest reap %.0f ms\n", worst * 1000);
    return 0;
}
