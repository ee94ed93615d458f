/* Execs /bin/true with 10,000 environment variables CAPENV_i=value-i. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    enum { N = 10000 };
    static char *envp[N + 1];
    for (int i = 0; i < N; i++) {
        char *s = malloc(32);
        snprintf(s, 32, "CAPENV_%d=value-%d", i, i);
        envp[i] = s;
    }
    envp[N] = NULL;
    char *argv[] = {"/bin/true", "arg-one", NULL};
    execve("/bin/true", argv, envp);
    perror("execve");
    return 1;
}
