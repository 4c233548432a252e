/* SPDX-License-Identifier: ISC */
/*
 * What send-fd, recv-fd and attach share on the command side: reading an
 * address operand and --mode, waiting on a socket, getting one peer by
 * connecting or by listening, and removing a listening path on exit, even
 * when a signal ends ipcrun.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "addr.h"

static struct addr *volatile sock_cleanup_addr;

static void
sock_on_signal(int sig)
{
	struct addr	*a = sock_cleanup_addr;

	if (a != NULL)
		addr_unlink(a);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Remove a's listening path when ipcrun is ended by SIGINT, SIGTERM or
 * SIGHUP (the normal exit paths call addr_unlink themselves).
 */
void
sock_unlink_on_signal(struct addr *a)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction	 sa;
	size_t			 i;

	sock_cleanup_addr = a;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sock_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;

		/* A signal the shell made us ignore stays ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		(void)sigaction(sigs[i], &sa, NULL);
	}
}

/* --mode: octal permissions for a listening unix socket. */
int
sock_parse_mode(const char *s, mode_t *mode)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '7')
		return -1;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || v > 0777)
		return -1;
	*mode = (mode_t)v;
	return 0;
}

/* Parse an ADDR operand; a usage error (125) is reported when it is bad. */
int
sock_parse_addr(const struct cmd_entry *ce, struct addr *a, const char *s)
{
	char	err[256];

	if (addr_parse(a, s, err, sizeof err) == -1) {
		cmd_usage_error(ce, "address '%s': %s", s, err);
		return -1;
	}
	return 0;
}

/* Wait until fd is ready for events; -1 ms waits for ever. */
int
sock_wait(int fd, short events, int ms)
{
	struct pollfd	pfd;
	int		r;

	pfd.fd = fd;
	pfd.events = events;
	do
		r = poll(&pfd, 1, ms);
	while (r == -1 && errno == EINTR);
	return r;
}

/*
 * Listen on a and report what went wrong. Returns the listening socket,
 * or -1 after reporting (the set-up failed: 125).
 */
int
sock_listen(const struct cmd_entry *ce, struct addr *a, const char *name,
    mode_t mode)
{
	char	err[256];
	int	lfd;

	if ((lfd = addr_listen(a, mode, err, sizeof err)) == -1) {
		cmd_warnx(ce, "%s: %s", name, err);
		return -1;
	}
	if (a->created)
		sock_unlink_on_signal(a);
	return lfd;
}

/*
 * Wait for and accept one peer on lfd. Returns the socket, or -1 after
 * reporting.
 */
int
sock_accept(const struct cmd_entry *ce, int lfd, const char *name)
{
	int	fd;

	for (;;) {
		if (sock_wait(lfd, POLLIN, -1) == -1) {
			cmd_warn(ce, "%s: poll", name);
			return -1;
		}
		if ((fd = addr_accept(lfd)) != -1)
			return fd;
		/* The peer may have gone before we took it: wait again. */
		if (errno != EAGAIN && errno != ECONNABORTED &&
		    errno != EPROTO) {
			cmd_warn(ce, "%s: accept", name);
			return -1;
		}
	}
}

/*
 * One peer for a one-shot command: connect to a, or with listen, listen
 * on it, accept one peer and stop listening (the path is removed). Returns
 * the socket, or -1 after reporting with *status set: 1 when there was no
 * peer to connect to, 125 when the set-up failed.
 */
int
sock_one_peer(const struct cmd_entry *ce, struct addr *a, const char *name,
    int listen, mode_t mode, int *status)
{
	char		err[256];
	socklen_t	len = sizeof(int);
	int		lfd, fd, acc;

	/* An inherited descriptor is used as it is: a listener or a peer. */
	if (a->kind == ADDR_FD && getsockopt(a->fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &acc, &len) == 0)
		listen = acc;
	if (!listen) {
		if ((fd = addr_connect(a, err, sizeof err)) == -1) {
			cmd_warnx(ce, "%s: %s", name, err);
			*status = a->kind == ADDR_FD ? EXIT_FAIL : 1;
		}
		return fd;
	}
	*status = EXIT_FAIL;
	if ((lfd = sock_listen(ce, a, name, mode)) == -1)
		return -1;
	fd = sock_accept(ce, lfd, name);
	close(lfd);
	addr_unlink(a);
	return fd;
}
