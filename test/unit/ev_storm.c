/* SPDX-License-Identifier: ISC */
/*
 * A storm of signals must not lose one: raise SIGUSR1 far more often than
 * the self-pipe holds wake-up bytes (64 KiB) without letting the loop
 * read them, as happens while ipcrun is blocked writing to a slow
 * terminal, then raise SIGCHLD: ev_signal_next must still report it.
 * Exits 0 when it does, 1 (with a reason) when it does not.
 */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ev.h"

int
main(void)
{
	static const int	sigs[] = { SIGUSR1, SIGCHLD, 0 };
	struct ev		ev;
	struct pollfd		pfd;
	int			i, sig, usr1 = 0, chld = 0;

	ev_init(&ev);
	if (ev_signals(&ev, sigs) == -1) {
		perror("ev_signals");
		return 1;
	}
	for (i = 0; i < 200000; i++)
		raise(SIGUSR1);
	raise(SIGCHLD);
	/* The loop wakes up: the pipe is readable. */
	pfd.fd = ev.sigfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 1) {
		fprintf(stderr, "the self-pipe did not wake the loop\n");
		return 1;
	}
	while ((sig = ev_signal_next(&ev)) != 0) {
		usr1 += sig == SIGUSR1;
		chld += sig == SIGCHLD;
	}
	if (!chld || !usr1) {
		fprintf(stderr, "lost: SIGCHLD %d, SIGUSR1 %d\n", chld, usr1);
		return 1;
	}
	printf("SIGCHLD and SIGUSR1 seen after 200000 signals\n");
	ev_release(&ev);
	return 0;
}
