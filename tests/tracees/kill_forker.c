/* ROUNDS times: fork a child that forks grandchildren in a loop (each
 * exits at once), SIGKILL the child after a moment, reap it. Grandchildren
 * whose fork event the killed child never reported still have a parent. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    for (int r = 0; r < rounds; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) {
                pid_t g = fork();
                if (g == 0)
                    _exit(0);
            }
        }
        usleep(1000 + (r % 4) * 500);
        kill(pid, SIGKILL);
        int st;
        if (waitpid(pid, &st, 0) != pid)
            return 1;
    }
    /* The orphans were reparented to init or a subreaper; give them time. */
    usleep(100000);
    return 0;
}
