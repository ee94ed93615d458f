/* 3 child processes of 4 threads each (the main thread and 3 more), every
 * thread calling chdir("."): 4 processes and 13 threads in all. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *work(void *arg) {
    (void)arg;
    if (chdir(".") != 0)
        exit(3);
    return NULL;
}

int main(void) {
    for (int p = 0; p < 3; p++) {
        if (fork() == 0) {
            pthread_t t[3];
            for (int i = 0; i < 3; i++)
                if (pthread_create(&t[i], NULL, work, NULL) != 0)
                    _exit(2);
            work(NULL);
            for (int i = 0; i < 3; i++)
                pthread_join(t[i], NULL);
            _exit(0);
        }
    }
    int st, bad = 0;
    while (wait(&st) > 0)
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    return bad;
}
