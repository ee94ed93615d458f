/* exec_while_cloning N: threads create threads in a loop while a non-leader
 * thread execs this program again with N-1 (the kernel's de_thread waits
 * for every other thread to die, new ones included); 0 exits. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *self;
static int left;

static void *brief(void *arg) {
    (void)arg;
    return NULL;
}

static void *spawner(void *arg) {
    (void)arg;
    for (;;) {
        pthread_t t;
        if (pthread_create(&t, NULL, brief, NULL) == 0)
            pthread_detach(t);
    }
    return NULL;
}

static void *execer(void *arg) {
    (void)arg;
    usleep(10000);
    char n[16];
    snprintf(n, sizeof n, "%d", left - 1);
    char *argv[] = {self, n, NULL};
    execv(self, argv);
    _exit(2);
}

int main(int argc, char **argv) {
    left = argc > 1 ? atoi(argv[1]) : 0;
    if (left <= 0)
        return 0;
    self = argv[0];
    alarm(30);
    pthread_t t;
    for (int i = 0; i < 3; i++)
        pthread_create(&t, NULL, spawner, NULL);
    pthread_create(&t, NULL, execer, NULL);
    for (;;)
        pause();
}
