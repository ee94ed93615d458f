/* Known file I/O for `analyze files`: every count of its rows is known.
 * Run with the working directory to work in. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char buf[4096];
    memset(buf, 'a', sizeof buf);
    int fd = open("data", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    write(fd, buf, 100);
    write(fd, buf, 23);
    close(fd);
    fd = open("data", O_RDONLY);
    read(fd, buf, sizeof buf); /* 123 */
    read(fd, buf, sizeof buf); /* 0 */
    close(fd);
    struct stat st;
    stat("data", &st);
    stat("data", &st);
    for (int i = 0; i < 3; i++)
        open("missing", O_RDONLY); /* ENOENT */
    rename("data", "data2");
    unlink("data2");
    /* relative to a directory descriptor, through a dup and a fork */
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    int rel = openat(dir, "sub/../rel", O_CREAT | O_RDWR, 0600); /* ENOENT: no sub */
    rel = openat(dir, "rel", O_CREAT | O_RDWR, 0600);
    struct iovec iov[2] = {{buf, 3}, {buf, 4}};
    writev(rel, iov, 2);         /* 7 */
    pwrite(rel, buf, 5, 100);    /* 5 */
    dup2(rel, 9);
    write(9, buf, 2);            /* 2, through the dup */
    pid_t c = fork();
    if (c == 0) {
        write(rel, buf, 1);      /* 1, in the child */
        _exit(0);
    }
    waitpid(c, NULL, 0);
    return 0;
}
