/* SPDX-License-Identifier: ISC */
/*
 * What send-fd, recv-fd and attach share on the command side: reading an
 * address operand, --mode and --allow-uid, waiting on a socket, getting one
 * peer by connecting or by listening (and refusing a unix peer of a uid
 * not allowed), and removing a listening path on exit, even when a signal
 * ends ipcrun.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <time.h>
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

/*
 * --allow-uid: a uid number or a user name, added to a. Returns 0, or the
 * exit status after reporting (a usage error).
 */
int
sock_allow_add(const struct cmd_entry *ce, struct sock_allow *a,
    const char *s)
{
	struct passwd	*pw;
	const char	*p, *errstr = NULL;
	uid_t		 uid = 0;

	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	if (*s != '\0' && *p == '\0') {
		/* (uid_t)-1 is "no uid" to the kernel: never a peer's. */
		uid = (uid_t)strtonum(s, 0, (long long)(uid_t)-2, &errstr);
	} else if (*s != '\0' && (pw = getpwnam(s)) != NULL)
		uid = pw->pw_uid;
	else
		errstr = "unknown";
	if (errstr != NULL)
		return cmd_usage_error(ce, "--allow-uid '%s': not a uid or a "
		    "user name", s);
	if (a->n == SOCK_ALLOW_MAX)
		return cmd_usage_error(ce, "--allow-uid given more than %d "
		    "times", SOCK_ALLOW_MAX);
	a->uids[a->n++] = uid;
	return 0;
}

/*
 * May the peer on fd be served? Our own uid, root and a's uids may; a
 * peer refused, or whose credentials cannot be had, is reported in one
 * line (its uid and pid say who it was). TCP peers have no uid and pass:
 * the rule is for unix sockets, where --mode is no guard on an abstract
 * name. Returns 1 or 0.
 */
int
sock_peer_allowed(const struct cmd_entry *ce, int fd, const char *name,
    const struct sock_allow *a)
{
	struct addr_peer	p;

	if (addr_peer(fd, &p) == -1) {
		cmd_warn(ce, "%s: refused a peer whose uid cannot be known",
		    name);
		return 0;
	}
	if (addr_peer_allowed(&p, a->uids, a->n))
		return 1;
	cmd_warnx(ce, "%s: refused a peer of uid %lu (pid %ld); --allow-uid "
	    "%lu would admit it", name, (unsigned long)p.uid, (long)p.pid,
	    (unsigned long)p.uid);
	return 0;
}

/* The forms of ADDR, after the options in --help. */
const char sock_addr_notes[] =
    "ADDR is one of:\n"
    "  unix:PATH, PATH           a unix socket\n"
    "  unix:@NAME                an abstract unix socket\n"
    "  tcp:HOST:PORT             TCP; an IPv6 HOST in brackets: tcp:[::1]:80\n"
    "  fd:N                      a socket ipcrun inherited as descriptor N\n";

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
 * Accept peers on lfd until one that a allows: the others are reported
 * and closed, so a stranger can neither be served nor end the wait.
 * Returns the socket, or -1 after reporting.
 */
int
sock_accept_allowed(const struct cmd_entry *ce, int lfd, const char *name,
    const struct sock_allow *a)
{
	int	fd;

	for (;;) {
		if ((fd = sock_accept(ce, lfd, name)) == -1)
			return -1;
		if (sock_peer_allowed(ce, fd, name, a))
			return fd;
		close(fd);
	}
}

/*
 * --ready-fd N: a descriptor open for writing, above 2 (0 to 2 are the
 * data's and the terminal's). It is made CLOEXEC, so that no CMD started
 * later holds it open and keeps the reader waiting. Returns 0, or the exit
 * status after reporting (a usage error).
 */
int
sock_parse_ready_fd(const struct cmd_entry *ce, const char *s, int *fd)
{
	const char	*errstr = NULL;
	int		 v, fl;

	v = (int)strtonum(s, 3, INT_MAX, &errstr);
	if (errstr != NULL)
		return cmd_usage_error(ce, "--ready-fd '%s': not a descriptor "
		    "number from 3 up", s);
	if ((fl = fcntl(v, F_GETFL)) == -1 || (fl & O_ACCMODE) == O_RDONLY)
		return cmd_usage_error(ce, "--ready-fd %d: not a descriptor "
		    "open for writing", v);
	(void)fcntl(v, F_SETFD, FD_CLOEXEC);
	*fd = v;
	return 0;
}

/*
 * Say that ADDR is listened on, as line (the address, with the real port
 * of a port 0; serve gives one per line): line and a newline on *fd,
 * which is closed then and set to -1 (s6's notification-fd), for a
 * script to wait on instead of guessing. Returns 0, or -1 with errno
 * when the line could not be written; the descriptor is closed all the
 * same. serve calls this too.
 */
int
sock_ready_write(int *fd, const char *line)
{
	struct iovec	 iov[2];
	ssize_t		 r;
	int		 saved = 0, i = 0;

	if (*fd == -1)
		return 0;
	iov[0].iov_base = (void *)(uintptr_t)line;
	iov[0].iov_len = strlen(line);
	iov[1].iov_base = (void *)(uintptr_t)"\n";
	iov[1].iov_len = 1;
	while (i < 2) {
		if ((r = writev(*fd, iov + i, 2 - i)) == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			break;
		}
		for (; i < 2 && (size_t)r >= iov[i].iov_len; i++)
			r -= (ssize_t)iov[i].iov_len;
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + r;
			iov[i].iov_len -= (size_t)r;
		}
	}
	close(*fd);
	*fd = -1;
	errno = saved;
	return saved != 0 ? -1 : 0;
}

/*
 * lfd listens on a: under -v, "listening on ADDR" on stderr, and with
 * --ready-fd, ADDR on that descriptor. A reader of --ready-fd that went
 * away is reported, and the listener goes on.
 */
void
sock_ready(const struct cmd_entry *ce, const struct addr *a, int lfd,
    const char *name, int verbose, int *readyfd)
{
	char	bound[300];

	if (!verbose && *readyfd == -1)
		return;
	if (addr_name(a, lfd, bound, sizeof bound) == -1)
		strlcpy(bound, name, sizeof bound);
	if (verbose)
		cmd_warnx(ce, "listening on %s", bound);
	if (sock_ready_write(readyfd, bound) == -1)
		cmd_warn(ce, "--ready-fd: write");
}

static int64_t
sock_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Connect to a; with retry_ns above 0 (-w DUR), go on trying for that
 * long while there is nobody there yet (no file, refused, a full
 * backlog), waiting 10 ms and then twice as long each time, up to 250 ms,
 * as a peer that is starting comes up. Returns the socket, or -1 after
 * reporting with *status set: 1 when there was no peer, 125 for an fd:
 * that is no socket.
 */
int
sock_connect(const struct cmd_entry *ce, const struct addr *a,
    const char *name, int64_t retry_ns, int *status)
{
	struct timespec	 ts;
	char		 err[256];
	int64_t		 end = sock_now() + retry_ns, left, pause = 10000000;
	int		 fd, tried = 0;

	for (;;) {
		if ((fd = addr_connect(a, err, sizeof err)) != -1)
			return fd;
		if (a->kind == ADDR_FD || retry_ns <= 0 ||
		    (errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EAGAIN && errno != ETIMEDOUT))
			break;
		if ((left = end - sock_now()) <= 0)
			break;
		if (pause > left)
			pause = left;
		ts.tv_sec = (time_t)(pause / 1000000000);
		ts.tv_nsec = (long)(pause % 1000000000);
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		tried = 1;
		if ((pause *= 2) > 250000000)
			pause = 250000000;
	}
	if (tried)
		cmd_warnx(ce, "%s: %s (still, after -w %" PRId64 ".%03d s)",
		    name, err, retry_ns / 1000000000,
		    (int)(retry_ns / 1000000 % 1000));
	else
		cmd_warnx(ce, "%s: %s", name, err);
	*status = a->kind == ADDR_FD ? EXIT_FAIL : 1;
	return -1;
}

/*
 * One peer for a one-shot command: connect to a (trying for sc's retry),
 * or with listen, listen on it, say so as sc asks, accept one peer and
 * stop listening (the path is removed). Returns the socket, or -1 after
 * reporting with *status set: 1 when there was no peer to connect to, 125
 * when the set-up failed. With allow, only a peer it allows is taken: a
 * listener waits for one, a connection to a peer of another uid fails (1).
 */
int
sock_one_peer(const struct cmd_entry *ce, struct addr *a, const char *name,
    int listen, mode_t mode, const struct sock_allow *allow,
    struct sock_conf *sc, int *status)
{
	socklen_t	len = sizeof(int);
	int		lfd, fd, acc;

	/* An inherited descriptor is used as it is: a listener or a peer. */
	if (a->kind == ADDR_FD && getsockopt(a->fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &acc, &len) == 0)
		listen = acc;
	if (!listen) {
		if ((fd = sock_connect(ce, a, name, sc->retry_ns,
		    status)) == -1)
			return -1;
		if (allow != NULL && !sock_peer_allowed(ce, fd, name, allow)) {
			close(fd);
			fd = -1;
			*status = 1;
		}
		return fd;
	}
	*status = EXIT_FAIL;
	if ((lfd = sock_listen(ce, a, name, mode)) == -1)
		return -1;
	sock_ready(ce, a, lfd, name, sc->verbose, &sc->ready_fd);
	fd = allow != NULL ? sock_accept_allowed(ce, lfd, name, allow) :
	    sock_accept(ce, lfd, name);
	close(lfd);
	addr_unlink(a);
	return fd;
}
