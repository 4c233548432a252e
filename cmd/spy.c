/* SPDX-License-Identifier: ISC */
/*
 * ipcrun spy: stand between a Node parent and its child, as the execPath
 * of the parent's fork(), and pass every frame on unchanged both ways,
 * fds included, while saying each one in a trace. The process the
 * parent started execs the real child, so that its pid, its signals and
 * its exit status are the child's own; the relay runs in a process of
 * its own, forked before the exec. Here: the options, the set-up and the
 * loop; what is said of the frames is in spy_trace.c.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "ev.h"
#include "fdpass.h"
#include "fwd.h"
#include "nodechan.h"
#include "spy.h"

/* One side's end passed on, or its writes failed: what is queued goes. */
static void
spy_dead(struct spy *s, int to_child)
{
	struct fwd	*f = to_child ? &s->down : &s->up;
	size_t		 fds = f->nmarks;

	if (to_child)
		s->kid_dead = 1;
	else
		s->par_dead = 1;
	spy_trace_lost(s, to_child ? &s->ddown : &s->dup, fwd_drop(f), fds);
}

/*
 * Read once from one side. A read error other than the peer's reset is
 * an end as well, said: nothing more can come from that side.
 */
static void
spy_read(struct spy *s, int from_parent)
{
	struct fwd	*f = from_parent ? &s->down : &s->up;
	const char	*p;
	ssize_t		 got;
	size_t		 nfds;
	unsigned	 flags;
	int		 fds[FWD_MAXFDS];

	got = fwd_read(f, from_parent ? s->par : s->kid, SPY_READ, &p, fds,
	    &nfds, &flags);
	if (got == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (flags != 0)
		cmd_warnx(s->ce, "fds from the %s lost: %s", from_parent ?
		    "parent" : "child", flags & FDPASS_CTRUNC ?
		    "the kernel dropped some" : "more than one with a read");
	if (got > 0) {
		spy_trace_feed(s, from_parent ? &s->ddown : &s->dup, p,
		    (size_t)got, fds, nfds);
		if (from_parent ? s->kid_dead : s->par_dead)
			spy_dead(s, from_parent);
		return;
	}
	if (got == -1 && errno != ECONNRESET)
		cmd_warn(s->ce, "read from the %s", from_parent ? "parent" :
		    "child");
	if (from_parent)
		s->par_eof = 1;
	else
		s->kid_eof = 1;
	spy_trace_note(s, from_parent ? "parent closed" : "child closed");
}

static void
spy_on_par(struct ev *ev, int fd, short revents, void *arg)
{
	struct spy	*s = arg;

	(void)ev;
	(void)fd;
	if (revents & (POLLOUT | POLLERR | POLLHUP))
		fwd_writable(&s->up);
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && !s->par_eof)
		spy_read(s, 1);
}

static void
spy_on_kid(struct ev *ev, int fd, short revents, void *arg)
{
	struct spy	*s = arg;

	(void)ev;
	(void)fd;
	if (revents & (POLLOUT | POLLERR | POLLHUP))
		fwd_writable(&s->down);
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && !s->kid_eof)
		spy_read(s, 0);
}

/* Write one direction on; a side that cannot take it any more is dead. */
static void
spy_flush_one(struct spy *s, int to_child)
{
	struct fwd	*f = to_child ? &s->down : &s->up;
	int		 rc;

	if (to_child ? s->kid_dead : s->par_dead)
		return;
	if ((rc = fwd_flush(f, to_child ? s->kid : s->par)) == 0)
		return;
	if (rc == -1)
		cmd_warn(s->ce, "write to the %s", to_child ? "child" :
		    "parent");
	spy_dead(s, to_child);
}

/*
 * A side's end goes on to the other once all it sent is there: a Node
 * peer reads the end of file as the other's disconnect, as it would
 * have without spy, and closes.
 */
static void
spy_ends(struct spy *s)
{
	if (s->par_eof && !s->kid_shut && (fwd_queued(&s->down) == 0 ||
	    s->kid_dead)) {
		(void)shutdown(s->kid, SHUT_WR);
		s->kid_shut = 1;
	}
	if (s->kid_eof && !s->par_shut && (fwd_queued(&s->up) == 0 ||
	    s->par_dead)) {
		(void)shutdown(s->par, SHUT_WR);
		s->par_shut = 1;
	}
}

static void
spy_interest(struct spy *s)
{
	short	pe = 0, ke = 0;

	if (!s->par_eof && fwd_queued(&s->down) < SPY_QSIZE)
		pe |= POLLIN;
	if (!s->kid_eof && fwd_queued(&s->up) < SPY_QSIZE)
		ke |= POLLIN;
	if (fwd_queued(&s->up) > 0 && !s->par_dead)
		pe |= POLLOUT;
	if (fwd_queued(&s->down) > 0 && !s->kid_dead)
		ke |= POLLOUT;
	ev_set(&s->ev, s->par, pe);
	ev_set(&s->ev, s->kid, ke);
}

/* The relay's process: both channels, until both have ended. */
static int
spy_relay(struct spy *s)
{
	static const int	 ign[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM,
	    SIGPIPE, 0 };
	const int		*sig;
	int			 fd;

	/*
	 * Signals to the process group (a ^C, a kill of the group) are the
	 * child's to take or not: the relay ends with the channels, so that
	 * what a child says on its way out still gets through.
	 */
	for (sig = ign; *sig != 0; sig++)
		signal(*sig, SIG_IGN);
	/* The child's stdin and stdout are the child's, not held open here. */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		close(fd);
	}
	if (fcntl(s->par, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(s->par, F_SETFL, fcntl(s->par, F_GETFL) | O_NONBLOCK) == -1 ||
	    fcntl(s->kid, F_SETFL, fcntl(s->kid, F_GETFL) | O_NONBLOCK) == -1 ||
	    ev_add(&s->ev, s->par, 0, spy_on_par, s) == -1 ||
	    ev_add(&s->ev, s->kid, 0, spy_on_kid, s) == -1) {
		cmd_warn(s->ce, "set-up");
		return EXIT_FAIL;
	}
	spy_trace_start(s);
	spy_ctl_start(s);
	for (;;) {
		/* The trace has each frame before the peer can see it. */
		(void)spy_trace_flush(s);
		spy_flush_one(s, 1);
		spy_flush_one(s, 0);
		spy_ends(s);
		spy_ctl_pass(s);
		if (s->par_eof && s->kid_eof && s->par_shut && s->kid_shut)
			break;
		spy_interest(s);
		spy_ctl_interest(s);
		if (ev_run_once(&s->ev, -1) == -1) {
			cmd_warn(s->ce, "poll");
			s->fail = 1;
			break;
		}
	}
	spy_trace_end(s);
	spy_ctl_end(s);
	return s->fail ? EXIT_FAIL : 0;
}

/*
 * The process the parent started becomes the child: NODE, on a channel
 * of spy's at the same fd, with the same variables, as the parent would
 * have started it. Returns only on failure, with the exit status.
 */
static int
spy_exec(struct spy *s, int chfd, int kid, const char *fdtext,
    const char *mode)
{
	if (dup2(kid, chfd) == -1) {
		cmd_warn(s->ce, "channel");
		return EXIT_FAIL;
	}
	close(kid);
	if (setenv("NODE_CHANNEL_FD", fdtext, 1) == -1 ||
	    (mode != NULL &&
	    setenv("NODE_CHANNEL_SERIALIZATION_MODE", mode, 1) == -1)) {
		cmd_warn(s->ce, "setenv");
		return EXIT_FAIL;
	}
	execvp(s->argv[0], s->argv);
	cmd_warn(s->ce, "'%s'", s->argv[0]);
	return errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

static int
spy_main(struct spy *s)
{
	struct nodechan_chan	 ch;
	const char		*m, *base;
	char			 err[256], mode[64];
	int			 sp[2], have_mode;
	pid_t			 pid;

	m = getenv("NODE_CHANNEL_SERIALIZATION_MODE");
	have_mode = m != NULL;
	snprintf(mode, sizeof mode, "%s", m != NULL ? m : "");
	switch (nodechan_channel(&ch, err, sizeof err)) {
	case 1:
		cmd_warnx(s->ce, "NODE_CHANNEL_FD is not set: ipcrun spy is "
		    "the execPath of a Node parent's fork()");
		return EXIT_FAIL;
	case -1:
		cmd_warnx(s->ce, "%s", err);
		return EXIT_FAIL;
	}
	s->advanced = ch.advanced;
	if (s->trace_path != NULL &&
	    (s->tf = fopen(s->trace_path, "we")) == NULL) {
		cmd_warn(s->ce, "--trace-file '%s'", s->trace_path);
		return EXIT_FAIL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		cmd_warn(s->ce, "socketpair");
		return EXIT_FAIL;
	}
	s->pid = getpid();
	base = strrchr(s->argv[0], '/');
	snprintf(s->name, sizeof s->name, "%s[%ld]", base != NULL ? base + 1 :
	    s->argv[0], (long)s->pid);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		cmd_warn(s->ce, "fork");
		return EXIT_FAIL;
	}
	if (pid != 0) {
		/* No buffered trace may be written twice: nothing is yet. */
		close(sp[0]);
		return spy_exec(s, ch.fd, sp[1], ch.text, have_mode ? mode :
		    NULL);
	}
	close(sp[1]);
	s->par = ch.fd;
	s->kid = sp[0];
	s->t0 = ev_now();
	return spy_relay(s);
}

enum { O_STATS = 256, O_TAP, O_TRACE, O_TRACE_FILE };

static const struct cmd_opt spy_opts[] = {
	{ NULL, 's', 's', "N", NULL,
	    "-v and the trace: bytes of a frame shown, 0: all" },
	{ "stats", 0, O_STATS, NULL, NULL,
	    "counts of frames, bytes and fds on stderr at the end" },
	{ "tap", 0, O_TAP, NULL, NULL,
	    "a control socket: ipcrun ctl spy.PID tap" },
	{ "trace", 0, O_TRACE, NULL, NULL,
	    "log each frame's direction and size on stderr" },
	{ "trace-file", 0, O_TRACE_FILE, "FILE", NULL,
	    "write each frame to FILE as a line of NDJSON" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "show frames (first 64 bytes, or -s) on stderr" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static int
cmd_spy_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct spy	 s;
	const char	*cause;
	int		 ch, rc;

	memset(&s, 0, sizeof s);
	s.ce = ce;
	s.par = s.kid = -1;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case 's':
			s.show = (size_t)strtonum(optarg, 0, INT_MAX, &cause);
			if (cause != NULL)
				return cmd_usage_error(ce, "-s '%s': %s", optarg,
				    cause);
			s.show_set = 1;
			break;
		case 'v':
			s.verbose = 1;
			break;
		case O_STATS:
			s.stats = 1;
			break;
		case O_TAP:
			s.tap = 1;
			break;
		case O_TRACE:
			s.trace = 1;
			break;
		case O_TRACE_FILE:
			s.trace_path = optarg;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return cmd_usage_error(ce, "missing NODE: the command that "
		    "the parent's fork() would have run");
	s.argv = argv;
	if (ev_init(&s.ev) == -1 || fwd_init(&s.down, SPY_QSIZE) == -1 ||
	    fwd_init(&s.up, SPY_QSIZE) == -1 || spy_trace_init(&s) == -1) {
		cmd_warn(ce, "malloc");
		rc = EXIT_FAIL;
	} else
		rc = spy_main(&s);
	if (s.par != -1)
		close(s.par);
	if (s.kid != -1)
		close(s.kid);
	spy_trace_release(&s);
	fwd_release(&s.down);
	fwd_release(&s.up);
	ev_release(&s.ev);
	return rc;
}

const struct cmd_entry cmd_spy_entry = {
	.name = "spy",
	.usage = "-- CMD [ARG ...]",
	.summary = "stand between a Node parent and its child (fork()'s "
	    "execPath) and trace every frame",
	.exec = cmd_spy_exec,
	.opts = spy_opts
};
