/* Names and bytes that would drive a terminal if a view printed them raw:
 * sets its comm to an OSC window-title sequence, writes one (and a C1 CSI
 * byte) to stdout and opens a path that holds one. Given "sleep", it first
 * waits 1.5 s, time for rec -p to attach. */
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	prctl(PR_SET_NAME, "\033]0;comm\007", 0, 0, 0);
	if (argc > 1 && strcmp(argv[1], "sleep") == 0)
		usleep(1500000);
	static const char msg[] = "\033]0;buffer\007\233\n";
	if (write(1, msg, sizeof msg - 1) < 0)
		return 1;
	open("\033]0;path\007", O_RDONLY);
	return 0;
}
