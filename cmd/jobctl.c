/* SPDX-License-Identifier: ISC */
/*
 * Job control for a command whose children run in process groups of
 * their own (child's CMD): the terminal's ^Z (SIGTSTP), and SIGTTIN and
 * SIGTTOU for a background job that uses the terminal, reach ipcrun's
 * group but never theirs, so a stopped job would leave them running.
 * Each of the three stops them (SIGSTOP, which no child can catch), then
 * ipcrun itself by the signal's default action, from the handler: a read
 * of the terminal in the background would be restarted, and raise the
 * signal again, before a loop could act. The shell's SIGCONT (fg, bg)
 * resumes ipcrun in the handler, which resumes them. run's relay does the
 * same for its many children in run_loop.c.
 */
#include "compat.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* Sends a signal to each child's group: async-signal-safe calls only. */
static void (*volatile jobctl_each)(int);

static void
jobctl_on_signal(int sig)
{
	struct sigaction	 dfl, old;
	sigset_t		 set, prev;
	int			 saved = errno;

	if (jobctl_each != NULL)
		jobctl_each(SIGSTOP);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(sig, &dfl, &old);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, &prev);
	(void)kill(getpid(), sig);
	/* Continued (or never stopped: an orphaned group ignores it). */
	(void)sigprocmask(SIG_SETMASK, &prev, NULL);
	(void)sigaction(sig, &old, NULL);
	if (jobctl_each != NULL)
		jobctl_each(SIGCONT);
	errno = saved;
}

/*
 * Catch ^Z and its kin for the children's sake, each with every signal
 * blocked while it runs; one a shell without job control ignores stays
 * ignored, so that nothing stops a job nobody could resume.
 */
int
jobctl_install(void (*each)(int))
{
	static const int	 sigs[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction	 sa, old;
	size_t			 i;

	jobctl_each = each;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = jobctl_on_signal;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (sigaction(sigs[i], NULL, &old) == -1)
			return -1;
		if (old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	}
	return 0;
}
