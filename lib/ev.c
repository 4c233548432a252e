/* SPDX-License-Identifier: ISC */
/*
 * A small fd-indexed poll loop with signals delivered through a self-pipe,
 * in the manner of redis's ae.c and skalibs' selfpipe. One thread: the
 * handlers run from ev_run_once, never from signal context.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"

static int	ev_selfpipe[2] = { -1, -1 };

/*
 * One pending flag per signal: the self-pipe only wakes the loop. Its
 * bytes may be dropped when a storm of signals fills it while the loop
 * is blocked elsewhere (a write to a slow terminal); a flag never is,
 * so a SIGCHLD among 64K others is still seen.
 */
static volatile sig_atomic_t ev_pending[NSIG];

/* Signal context: only write(2), and keep errno as it was. */
static void
ev_sighandler(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	if (sig > 0 && sig < NSIG)
		ev_pending[sig] = 1;
	/*
	 * A full pipe already holds a wakeup: the write may fail. (Not a
	 * (void) cast, which glibc's warn_unused_result ignores under
	 * _FORTIFY_SOURCE.)
	 */
	if (ev_selfpipe[1] != -1 && write(ev_selfpipe[1], &c, 1) == -1)
		errno = saved;
	errno = saved;
}

int
ev_init(struct ev *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->sigfd = -1;
	return 0;
}

void
ev_release(struct ev *ev)
{
	free(ev->io);
	free(ev->pfd);
	free(ev->slot);
	memset(ev, 0, sizeof *ev);
	ev->sigfd = -1;
}

/* The watch of fd, or NULL: one lookup, however many fds are watched. */
static struct ev_io *
ev_find(struct ev *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nslot || ev->slot[fd] == 0)
		return NULL;
	return &ev->io[ev->slot[fd] - 1];
}

/* Watch fd for events (POLLIN, POLLOUT); cb runs with what poll saw. */
int
ev_add(struct ev *ev, int fd, short events, ev_cb cb, void *arg)
{
	struct ev_io	*io;
	struct pollfd	*pfd;
	size_t		*slot, cap;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (ev_find(ev, fd) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if ((size_t)fd >= ev->nslot) {
		cap = ev->nslot ? ev->nslot : 16;
		while (cap <= (size_t)fd)
			cap *= 2;
		if ((slot = reallocarray(ev->slot, cap, sizeof *slot)) == NULL)
			return -1;
		memset(slot + ev->nslot, 0, (cap - ev->nslot) * sizeof *slot);
		ev->slot = slot;
		ev->nslot = cap;
	}
	if (ev->nio == ev->capio) {
		cap = ev->capio ? ev->capio * 2 : 8;
		if ((io = reallocarray(ev->io, cap, sizeof *io)) == NULL)
			return -1;
		ev->io = io;
		if ((pfd = reallocarray(ev->pfd, cap, sizeof *pfd)) == NULL)
			return -1;
		ev->pfd = pfd;
		ev->capio = cap;
	}
	io = &ev->io[ev->nio++];
	ev->slot[fd] = ev->nio;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->arg = arg;
	return 0;
}

/* Change what fd is watched for; 0 keeps it registered but quiet. */
void
ev_set(struct ev *ev, int fd, short events)
{
	struct ev_io	*io;

	if ((io = ev_find(ev, fd)) != NULL)
		io->events = events;
}

void
ev_del(struct ev *ev, int fd)
{
	struct ev_io	*io;
	size_t		 i;

	if ((io = ev_find(ev, fd)) == NULL)
		return;
	/* The order of the watches is the order of the callbacks: keep it. */
	i = (size_t)(io - ev->io);
	memmove(io, io + 1, (ev->nio - i - 1) * sizeof *io);
	ev->nio--;
	ev->slot[fd] = 0;
	for (; i < ev->nio; i++)
		ev->slot[ev->io[i].fd] = i + 1;
}

/*
 * Route sigs (a 0-terminated list) to the self-pipe; the returned fd is
 * readable when one is pending, and ev_signal_next says which.
 */
int
ev_signals(struct ev *ev, const int *sigs)
{
	struct sigaction	sa;
	int			i;

	if (ev_selfpipe[0] == -1 &&
	    pipe2(ev_selfpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ev_sighandler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; sigs[i] != 0; i++) {
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	}
	ev->sigfd = ev_selfpipe[0];
	return ev->sigfd;
}

/*
 * The next pending signal, or 0 when there is none. The wake-up bytes
 * are drained first, so that a signal arriving later wakes the loop again;
 * the flags say which signals came, each once however often it came.
 */
int
ev_signal_next(struct ev *ev)
{
	unsigned char	c[256];
	ssize_t		r;
	int		sig;

	if (ev->sigfd == -1)
		return 0;
	do
		r = read(ev->sigfd, c, sizeof c);
	while (r > 0 || (r == -1 && errno == EINTR));
	for (sig = 1; sig < NSIG; sig++) {
		if (ev_pending[sig]) {
			ev_pending[sig] = 0;
			return sig;
		}
	}
	return 0;
}

/*
 * Poll once, waiting at most timeout_ms (-1: no limit), and run the
 * callbacks of the fds that are ready. Callbacks may add, change or
 * remove watches; a removed fd is not called in the same round.
 * Returns the number of ready fds, or -1 on error.
 */
int
ev_run_once(struct ev *ev, int timeout_ms)
{
	size_t	i, n = ev->nio;
	int	r, fd;
	short	re;

	for (i = 0; i < n; i++) {
		ev->pfd[i].fd = ev->io[i].events ? ev->io[i].fd : -1;
		ev->pfd[i].events = ev->io[i].events;
		ev->pfd[i].revents = 0;
	}
	r = poll(ev->pfd, n, timeout_ms);
	if (r == -1)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n && r > 0; i++) {
		struct ev_io	*io;

		if ((re = ev->pfd[i].revents) == 0)
			continue;
		fd = ev->pfd[i].fd;
		/* The table may have changed under an earlier callback. */
		io = ev_find(ev, fd);
		if (io == NULL || io->events == 0)
			continue;
		io->cb(ev, fd, re, io->arg);
	}
	return r;
}

/* Monotonic clock in nanoseconds. */
int64_t
ev_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The earlier of two deadlines, where 0 is none. */
int64_t
ev_deadline_min(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* Milliseconds from now until deadline (ns), for ev_run_once; -1 if none. */
int
ev_timeout_ms(int64_t deadline)
{
	int64_t	d;

	if (deadline <= 0)
		return -1;
	d = deadline - ev_now();
	if (d <= 0)
		return 0;
	d = (d + 999999) / 1000000;
	return d > 1000000 ? 1000000 : (int)d;
}
