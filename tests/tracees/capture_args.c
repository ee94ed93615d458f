/* Argument-capture tracee: each syscall below carries bytes the e2e test
 * looks for in the trace. Prints "ok" when every call behaved as expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int main(void) {
    int bad = 0;
    /* write: known bytes */
    const char msg[] = "capture-write-bytes\n";
    if (write(1, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) bad++;
    /* openat: known path (does not exist) */
    if (open("/nonexistent/capture/path-XYZ", O_RDONLY) != -1) bad++;
    /* writev: two buffers */
    char a[] = "iov-one|", b[] = "iov-two\n";
    struct iovec iov[2] = {{a, 8}, {b, 8}};
    if (writev(1, iov, 2) != 16) bad++;
    /* connect: AF_UNIX sockaddr to a path nobody listens on */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strcpy(un.sun_path, "/tmp/ptrec-capture-nosuch.sock");
    if (connect(s, (struct sockaddr *)&un, sizeof un) != -1) bad++;
    close(s);
    /* bind: 127.0.0.1 port 0 */
    s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = 0};
    in.sin_addr.s_addr = htonl(0x7f000001);
    if (bind(s, (struct sockaddr *)&in, sizeof in) != 0) bad++;
    close(s);
    /* read at exit: from a pipe with known bytes */
    int p[2];
    if (pipe(p) != 0) bad++;
    if (write(p[1], "pipe-data-42", 12) != 12) bad++;
    char rb[64];
    if (read(p[0], rb, sizeof rb) != 12) bad++;
    /* a bad pointer: EFAULT, tracee undisturbed */
    if (syscall(SYS_write, p[1], (void *)16, 10) != -1 || errno != EFAULT) bad++;
    /* a buffer ending at a mapping's end: write stops at the boundary */
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 'E', 4096);
    mprotect(m + 4096, 4096, PROT_NONE);
    /* a pipe copies the bytes (unlike /dev/null), so it sees the boundary */
    ssize_t r = syscall(SYS_write, p[1], m + 4000, 1000);
    if (r != 96 && !(r == -1 && errno == EFAULT)) bad++;
    printf("%s\n", bad ? "bad" : "ok");
    return bad;
}
