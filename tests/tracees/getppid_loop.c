/* Makes argv[1] (default 20000) getppid calls: a syscall-bound tracee. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 20000;
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}
