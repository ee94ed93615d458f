/* Two handled signals: the first returns to an empty mask, the second to
 * one with SIGINT blocked. rt_sigreturn restores each from its frame. */
#include <signal.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	struct sigaction sa = { 0 };
	sigset_t m;

	sa.sa_handler = on_usr1;
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, 0);
	raise(SIGUSR1);
	sigemptyset(&m);
	sigaddset(&m, SIGINT);
	sigprocmask(SIG_BLOCK, &m, 0);
	raise(SIGUSR1);
	return 0;
}
