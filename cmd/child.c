/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child: be a Node IPC child. The channel a Node parent passed in
 * NODE_CHANNEL_FD is bridged to CMD's stdin and stdout as NDJSON (to
 * ipcrun's own without CMD), in json or advanced serialization. What CMD
 * prints is validated before it can reach, and crash, the parent. Here:
 * the options, the set-up and the loop; the parent's side is in
 * child_parent.c, CMD's in child_cmd.c.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

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
#include "chan.h"
#include "ev.h"
#include "frame.h"
#include "jscan.h"
#include "nodechan.h"
#include "spawn.h"
#include "super.h"
#include "v8frame.h"
#include "child.h"

static void	child_parent_gone(struct child *);


/*
 * Under ipcrun run, whose variables name this very channel (the inode of
 * the socket at fd), ipcrun child speaks the drain protocol as run's
 * preload does for Node: it announces itself, and run then ends its
 * input with a notice rather than a half-close after its settling time.
 * NODE_OPTIONS goes back as the user had it, as the preload puts it
 * back, so that a Node CMD does not load the preload for nothing.
 */
static void
child_ipcrun_parent(struct child *c, int fd)
{
	const char		*want = getenv(NODECHAN_ENV_CHANNEL);
	const char		*user = getenv(NODECHAN_ENV_OPTIONS);
	struct stat		 st;
	char			*end;
	unsigned long long	 ino;

	if (want == NULL)
		return;
	if (user != NULL)
		(void)setenv("NODE_OPTIONS", user, 1);
	else
		(void)unsetenv("NODE_OPTIONS");
	errno = 0;
	ino = strtoull(want, &end, 10);
	c->announce = errno == 0 && *end == '\0' && !c->advanced &&
	    fstat(fd, &st) == 0 && (unsigned long long)st.st_ino == ino;
	(void)unsetenv(NODECHAN_ENV_OPTIONS);
	(void)unsetenv(NODECHAN_ENV_CHANNEL);
}

/*
 * The parent's channel, read (and removed) from the environment before
 * anything else is started.
 */
static int
child_channel_env(struct child *c)
{
	struct nodechan_chan	ch;
	char			err[256];
	int			fd, nfd;

	switch (nodechan_channel(&ch, err, sizeof err)) {
	case 1:
		cmd_warnx(c->ce, "NODE_CHANNEL_FD is not set: start ipcrun "
		    "child from a Node parent with an 'ipc' stdio entry");
		return -1;
	case -1:
		cmd_warnx(c->ce, "%s", err);
		return -1;
	}
	fd = ch.fd;
	c->advanced = ch.advanced;
	/* The channel is ipcrun's alone: CMD gets none of it. */
	if (fd <= 2) {
		if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
			cmd_warn(c->ce, "channel");
			return -1;
		}
		if (c->argv == NULL) {
			cmd_warnx(c->ce, "NODE_CHANNEL_FD '%s': ipcrun child "
			    "without CMD needs fds 0-2 for itself", ch.text);
			close(nfd);
			return -1;
		}
		close(fd);
		if (open("/dev/null", O_RDWR) != fd) {
			cmd_warn(c->ce, "/dev/null");
			close(nfd);
			return -1;
		}
		fd = nfd;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		cmd_warn(c->ce, "channel");
		return -1;
	}
	chan_open(&c->par, fd, -1);
	child_ipcrun_parent(c, fd);
	return 0;
}

/* The loop: both sides pumped and flushed until nothing moves */

static void
child_flush(struct child *c)
{
	int	w;

	if ((w = chan_flush(&c->par)) != 0) {
		/* 1: the parent has gone; -1: another error, said so. */
		if (w == -1) {
			cmd_warn(c->ce, "write to the parent");
			c->fail = 1;
		}
		child_parent_gone(c);
	}
	while (c->cin != -1 && !c->cin_dead && c->cq.len > 0) {
		if ((w = buf_write(&c->cq, c->cin, c->cin_sock)) == -1) {
			if (errno == EPIPE) {
				/* CMD closed its stdin; it may still print. */
				if (c->argv == NULL)
					c->epipe = 1;
				else
					c->undelivered += child_cq_lines(c) +
					    child_cin_unread(c);
				c->cin_dead = 1;
				buf_consume(&c->cq, c->cq.len);
				child_close_cin(c);
			} else {
				cmd_warn(c->ce, "write to '%s'", c->name);
				c->fail = 1;
			}
			break;
		}
		if (w == 0)
			break;
	}
}

/*
 * The parent is gone: the channel goes (child_parent.c), and with
 * --disconnect-timeout CMD gets SIGTERM after it, SIGKILL later, unless
 * CMD ended the channel itself: it means to run on.
 */
static void
child_parent_gone(struct child *c)
{
	if (c->disconnected)
		return;
	child_disconnect(c);
	if (c->disc_timeout >= 0 && !c->cmd_ended)
		child_stop_step(c, SUPER_EV_CLOSED);
}

/*
 * CMD closed its stdout and runs on: once all it printed has gone, the
 * channel is shut for writing. A Node parent takes that end of file as a
 * Node child's process.disconnect(): 'disconnect', then it closes, and
 * that end of file is the parent's disconnect here. Until then what the
 * parent sent still reaches CMD, which nothing is lost to that way.
 */
static void
child_cmd_ended(struct child *c)
{
	if (c->argv == NULL || c->cout != -1 || c->cmd_ended ||
	    c->disconnected || c->par.tq.len > 0 || !child_alive(c))
		return;
	c->cmd_ended = 1;
	if (chan_half_close(&c->par) == -1) {
		cmd_warn(c->ce, "end of the channel");
		c->fail = 1;
	}
}

/*
 * The parent shut only its writing side: poll says POLLHUP once both
 * sides are shut (a close), not for a shutdown(SHUT_WR).
 */
static int
child_half_closed(struct child *c)
{
	struct pollfd	pfd;

	if (c->par.fd == -1)
		return 0;
	pfd.fd = c->par.fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & (POLLHUP | POLLERR));
}

/* One pass after poll: input, output, end-of-life steps, flush. */
static void
child_step(struct child *c)
{
	int64_t	now = ev_now();
	size_t	sig[5];
	int	i;

	if (super_deadline(&c->sv) != 0 && now >= super_deadline(&c->sv))
		child_stop_step(c, SUPER_EV_TIMEOUT);
	if (c->exit_deadline != 0 && now >= c->exit_deadline &&
	    c->cout != -1) {
		cmd_warnx(c->ce, "the stdout of '%s' stayed open after it "
		    "exited (a descendant may hold it); not read further",
		    c->name);
		child_close_cout(c);
	}
	/*
	 * Pump and flush until nothing moves: a queue that drained may
	 * let lines already read go on, and no fd would wake the loop for
	 * them. Bounded, so the other fds get their turn (poll then does
	 * not wait).
	 */
	c->again = 0;
	for (i = 0; i < 32; i++) {
		sig[0] = c->cq.len;
		sig[1] = c->par.tq.len;
		sig[2] = c->advanced ? v8frame_pending(&c->vin) :
		    frame_pending(&c->par.rd);
		sig[3] = frame_pending(&c->fcmd);
		sig[4] = (size_t)c->cout;
		if (!c->disconnected) {
			if (c->advanced)
				child_pump_advanced(c);
			else
				child_pump_json(c);
		}
		if (c->cout != -1)
			child_pump_cmd(c);
		child_flush(c);
		if (sig[0] == c->cq.len && sig[1] == c->par.tq.len &&
		    sig[2] == (c->advanced ? v8frame_pending(&c->vin) :
		    frame_pending(&c->par.rd)) &&
		    sig[3] == frame_pending(&c->fcmd) &&
		    sig[4] == (size_t)c->cout)
			break;
	}
	if (i == 32)
		c->again = 1;
	child_cmd_ended(c);
	/*
	 * EOF from the parent, and every whole frame before it handled
	 * (an unfinished one is dropped, as Node drops it): the parent
	 * disconnected. CMD's stdin closes once its queue is written.
	 */
	if (chan_ended(&c->par) && !c->disconnected && !c->input_ended &&
	    (c->advanced ? !v8frame_ready(&c->vin) :
	    frame_pending(&c->par.rd) == 0)) {
		/*
		 * A half-close (ipcrun run ending the input of a program
		 * that did not announce itself) means no more input, never
		 * "stop talking": CMD's replies still go. A Node parent
		 * never half-closes: its close is the end both ways.
		 */
		if (child_half_closed(c))
			c->input_ended = 1;
		else
			child_parent_gone(c);
	}
	if ((c->disconnected || c->input_ended) && c->cin != -1 &&
	    (c->cq.len == 0 || c->cin_dead || !child_alive(c)))
		child_close_cin(c);
	child_flush(c);
}

static int
child_done(struct child *c)
{
	if (c->fail)
		return 1;
	if (c->argv == NULL) {
		if (c->epipe)
			return 1;
		if (c->disconnected)
			return c->cin == -1;
		return c->cout == -1 && c->par.tq.len == 0 &&
		    (c->cq.len == 0 || c->cin_dead);
	}
	return c->sv.state == SUPER_DONE &&
	    (c->par.fd == -1 || c->par.tq.len == 0);
}

static void
child_update(struct child *c)
{
	short	ev;

	if (c->par.fd != -1) {
		ev = 0;
		if (!chan_ended(&c->par) && c->cq.len < CH_QSIZE &&
		    child_alive(c) &&
		    (!c->advanced || !v8frame_ready(&c->vin)))
			ev |= POLLIN;
		if (c->par.tq.len > 0)
			ev |= POLLOUT;
		ev_set(&c->ev, c->par.fd, ev);
	}
	if (c->cin != -1)
		ev_set(&c->ev, c->cin, c->cq.len > 0 && !c->cin_dead ?
		    POLLOUT : 0);
	if (c->cout != -1)
		ev_set(&c->ev, c->cout, !c->cout_eof && (c->disconnected ||
		    c->par.tq.len < CH_QSIZE) ? POLLIN : 0);
}

static int64_t
child_deadline(struct child *c)
{
	int64_t	d = super_deadline(&c->sv);

	if (c->exit_deadline != 0 && (d == 0 || c->exit_deadline < d))
		d = c->exit_deadline;
	return d;
}

/* The run, and the end */

static int
child_main(struct child *c)
{
	static const int	 sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP,
	    SIGUSR1, SIGUSR2, 0 };
	int			 rc, sfd;

	if (frame_init(&c->fcmd, CH_MAXMSG, 1) == -1 ||
	    (c->fcmd_ok = 1, buf_init(&c->cq, CH_QSIZE) == -1) ||
	    v8frame_init(&c->vin, CH_MAXMSG, CH_READ) == -1) {
		cmd_warn(c->ce, "malloc");
		return EXIT_FAIL;
	}
	c->cmd_cmd = jscan_want(&c->fcmd.js, "cmd", 3);
	c->par_k[0] = jscan_want(&c->par.rd.js, "cmd", 3);
	c->par_k[1] = jscan_want(&c->par.rd.js, "key", 3);
	c->par_k[2] = jscan_want(&c->par.rd.js, "msg", 3);
	c->par_k[3] = jscan_want(&c->par.rd.js, "type", 4);
	jscan_init(&c->js);
	c->js_k[0] = jscan_want(&c->js, "cmd", 3);
	c->js_k[1] = jscan_want(&c->js, "key", 3);
	c->js_k[2] = jscan_want(&c->js, "msg", 3);
	c->js_k[3] = jscan_want(&c->js, "type", 4);

	if (c->argv != NULL) {
		/* Handlers before the fork: a signal in between is not lost. */
		if ((sfd = ev_signals(&c->ev, sigs)) == -1 ||
		    ev_add(&c->ev, sfd, POLLIN, child_on_signal, c) == -1) {
			cmd_warn(c->ce, "signals");
			return EXIT_FAIL;
		}
		if (child_job_control() == -1) {
			cmd_warn(c->ce, "job control signals");
			return EXIT_FAIL;
		}
		if ((c->watch_fd = spawn_watch_start(&c->watch_pid)) == -1) {
			cmd_warn(c->ce, "watchdog");
			return EXIT_FAIL;
		}
		/* CMD's handles for the parent: json frames carry the fd. */
		if (!c->advanced && child_handle_start(c) == -1)
			return EXIT_FAIL;
		if (c->fd_as != -1 && (rc = child_await_handle(c)) != 0)
			return rc;
		rc = child_spawn(c);
		c->await = CH_STARTED;
		if (rc != 0) {
			c->exec_err = rc;
			return rc;
		}
	} else
		child_own_stdio(c);
	if (ev_add(&c->ev, c->par.fd, 0, child_on_chan, c) == -1 ||
	    ev_add(&c->ev, c->cin, 0, child_on_write, c) == -1 ||
	    ev_add(&c->ev, c->cout, 0, child_on_cout, c) == -1) {
		cmd_warn(c->ce, "poll set");
		return EXIT_FAIL;
	}
	for (;;) {
		child_step(c);
		if (child_done(c))
			break;
		child_update(c);
		if (ev_run_once(&c->ev, c->again ? 0 :
		    ev_timeout_ms(child_deadline(c))) == -1) {
			cmd_warn(c->ce, "poll");
			c->fail = 1;
			break;
		}
	}
	if (c->undelivered > 0 && c->argv != NULL)
		cmd_warnx(c->ce, "%" PRIu64 " message%s from the parent %s not "
		    "delivered: '%s' stopped reading its stdin", c->undelivered,
		    c->undelivered == 1 ? "" : "s", c->undelivered == 1 ?
		    "was" : "were", c->name);
	if (c->lost_lines > 0)
		cmd_warnx(c->ce, "%" PRIu64 " line%s that '%s' printed after "
		    "the parent disconnected %s not sent", c->lost_lines,
		    c->lost_lines == 1 ? "" : "s", c->name,
		    c->lost_lines == 1 ? "was" : "were");
	if (c->fail && child_alive(c) && c->argv != NULL) {
		child_kill(c, SIGKILL);
		while (child_alive(c)) {
			int status;

			if (waitpid(c->pid, &status, 0) == c->pid)
				child_exited(c, status);
			else if (errno != EINTR)
				break;
		}
	}
	child_end_group(c);
	spawn_watch_end(c->watch_fd, c->watch_pid);
	c->watch_fd = -1;
	if (c->fail)
		return EXIT_FAIL;
	if (c->argv == NULL)
		return c->epipe ? EXIT_PIPE : 0;
	return spawn_exit_code(c->sv.status);
}

static void
child_release(struct child *c)
{
	child_handle_end(c);
	if (c->hfd != -1)
		close(c->hfd);
	if (c->par_ok)
		chan_release(&c->par);
	super_release(&c->sv);
	if (c->watch_fd != -1)
		spawn_watch_end(c->watch_fd, c->watch_pid);
	if (c->cin != -1 && c->cin > 2)
		close(c->cin);
	if (c->cout != -1 && c->cout > 2)
		close(c->cout);
	if (c->cin_peek != -1)
		close(c->cin_peek);
	if (c->fcmd_ok)
		frame_release(&c->fcmd);
	buf_release(&c->cq);
	v8frame_release(&c->vin);
	ev_release(&c->ev);
}

/*
 * CMD was killed by a signal: ipcrun ends by the same one, so that a Node
 * parent's 'exit' event names it, as it would for a Node child. A shell
 * sees 128+N either way. No core file of ipcrun's own.
 */
static void
child_reraise(int sig)
{
	struct rlimit	rl = { 0, 0 };
	sigset_t	set;

	(void)setrlimit(RLIMIT_CORE, &rl);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

enum { O_DISCONNECT_TIMEOUT = 256, O_FD_AS, O_KILL_TIMEOUT, O_TYPES };

static const struct cmd_opt child_opts[] = {
	{ "disconnect-timeout", 0, O_DISCONNECT_TIMEOUT, "DUR", NULL,
	    "end CMD this long after a disconnect (default: no)" },
	{ "fd-as", 0, O_FD_AS, "N", NULL,
	    "run CMD with the parent's first handle at fd N" },
	{ "kill-timeout", 0, O_KILL_TIMEOUT, "DUR", NULL,
	    "wait before SIGKILL after SIGTERM (default: 5s)" },
	{ NULL, 's', 's', "N", NULL,
	    "-v: bytes of a frame shown (default: 64, 0: all)" },
	{ "stats", 0, 'S', NULL, NULL,
	    "counts of frames and bytes on stderr at the end" },
	{ "trace", 0, 'T', NULL, NULL,
	    "log each frame's direction and size on stderr" },
	{ "trace-file", 0, 'F', "FILE", NULL,
	    "write every frame to FILE as NDJSON (spy's trace)" },
	{ "types", 0, O_TYPES, "json|tagged", "json|tagged",
	    "advanced: JSON only or all V8 types (default: json)" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "show frames (first 64 bytes, or -s) on stderr" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static int
cmd_child_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct child	 c;
	const char	*cause;
	int		 ch, rc;

	memset(&c, 0, sizeof c);
	c.ce = ce;
	c.cin = c.cout = c.cin_peek = c.watch_fd = c.hs_lfd = -1;
	c.fd_as = c.hfd = -1;
	c.disc_timeout = -1;
	c.kill_timeout = KILL_DEFAULT;
	show_init(&c.sh, ce);
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case O_DISCONNECT_TIMEOUT:
			if (cmd_parse_duration(optarg, &c.disc_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--disconnect-timeout "
				    "'%s': %s", optarg, cause);
			break;
		case O_FD_AS:
			c.fd_as = (int)strtonum(optarg, 3, 1023, &cause);
			if (cause != NULL)
				return cmd_usage_error(ce, "--fd-as '%s': %s "
				    "(3 to 1023)", optarg, cause);
			break;
		case O_KILL_TIMEOUT:
			if (cmd_parse_duration(optarg, &c.kill_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--kill-timeout '%s': %s",
				    optarg, cause);
			break;
		case 's':
		case 'v':
		case 'S':
		case 'T':
		case 'F':
			if ((rc = show_option(&c.sh, ch, optarg)) != 1)
				return rc;
			break;
		case O_TYPES:
			if (strcmp(optarg, "tagged") != 0 &&
			    strcmp(optarg, "json") != 0)
				return cmd_usage_error(ce, "--types '%s': not "
				    "json or tagged", optarg);
			c.tagged = optarg[0] == 't';
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0) {
		c.argv = argv;
		c.name = argv[0];
	} else
		c.name = "-";
	c.sh.who = c.name;
	if (c.argv == NULL && c.disc_timeout >= 0)
		return cmd_usage_error(ce, "--disconnect-timeout needs a CMD");
	if (c.argv == NULL && c.fd_as != -1)
		return cmd_usage_error(ce, "--fd-as needs a CMD");
	if (spawn_std_fds(NULL) == -1) {
		cmd_warn(ce, "/dev/null");
		return EXIT_FAIL;
	}
	ev_init(&c.ev);
	c.par_ok = 1;
	if (chan_init(&c.par, CH_MAXMSG, 1, CH_QSIZE) == -1 ||
	    child_super_init(&c) == -1) {
		cmd_warn(ce, "malloc");
		child_release(&c);
		return EXIT_FAIL;
	}
	if (child_channel_env(&c) == -1) {
		child_release(&c);
		return EXIT_FAIL;
	}
	if (c.tagged && !c.advanced) {
		cmd_warnx(ce, "--types tagged needs the parent's advanced "
		    "serialization (NODE_CHANNEL_SERIALIZATION_MODE is json)");
		child_release(&c);
		return EXIT_FAIL;
	}
	if (c.announce && chan_send(&c.par, NODECHAN_READY_LINE,
	    sizeof NODECHAN_READY_LINE - 1) == -1) {
		cmd_warn(ce, "malloc");
		child_release(&c);
		return EXIT_FAIL;
	}
	/* The trace's "from": frames towards CMD come from the parent. */
	c.sh.sent_to = "parent";
	c.sh.sent_from = "child";
	if (show_start(&c.sh) == -1) {
		child_release(&c);
		return EXIT_FAIL;
	}
	rc = child_main(&c);
	if (c.undelivered > 0) {
		char	more[64];

		snprintf(more, sizeof more, "%" PRIu64 " messages %s never "
		    "read", c.undelivered, c.name);
		show_stats(&c.sh, more);
	} else
		show_stats(&c.sh, NULL);
	show_end(&c.sh);
	child_release(&c);
	/* --fd-as: signalled before CMD was started, ended by the signal. */
	if (c.await_sig != 0) {
		fflush(stderr);
		child_reraise(c.await_sig);
	}
	if (rc != EXIT_FAIL && c.exec_err == 0 && c.argv != NULL &&
	    WIFSIGNALED(c.sv.status) && !child_alive(&c)) {
		fflush(stderr);
		child_reraise(WTERMSIG(c.sv.status));
	}
	return rc;
}

const struct cmd_entry cmd_child_entry = {
	.name = "child",
	.usage = "[--] [CMD [ARG ...]]",
	.summary = "be a Node IPC child: bridge the parent's channel to CMD's "
	    "stdin and stdout",
	.exec = cmd_child_exec,
	.opts = child_opts
};
