/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child: be a Node IPC child. The channel a Node parent passed in
 * NODE_CHANNEL_FD is bridged to CMD's stdin and stdout as NDJSON (to
 * ipcrun's own without CMD), in json or advanced serialization. What CMD
 * prints is validated before it can reach, and crash, the parent.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ipcrun.h"

#define CH_QSIZE	(256 * 1024)	/* queue size and high-water mark */
#define CH_READ		(256 * 1024)	/* largest read */
#define CH_MAXMSG	((size_t)64 * 1024 * 1024)	/* longest message */
#define CH_MAXFDS	16		/* received fds not yet claimed */
#define SEC		INT64_C(1000000000)
#define KILL_DEFAULT	(5 * SEC)

struct child {
	const struct cmd_entry	*ce;

	/* Options. */
	int64_t		 disc_timeout;	/* -1: wait for CMD for ever */
	int64_t		 kill_timeout;
	char		**argv;		/* NULL: no CMD */
	const char	*name;		/* CMD, or "-" (stdin) in reports */
	int		 advanced;

	struct ev	 ev;
	int		 watch_fd;	/* the watchdog's pipe, or -1 */
	pid_t		 watch_pid;

	/* The parent's channel. */
	int		 chan;		/* -1 once closed */
	int		 chan_eof;	/* read 0 (or an error) */
	int		 disconnected;	/* EOF handled: nothing more goes out */
	struct frame	 fpar;		/* json: frames from the parent */
	int		 fpar_ok;
	int		 par_k[3];	/* jscan keys: cmd, key, msg */
	struct v8frame	 vin;		/* advanced: frames from the parent */
	struct jscan	 js;		/* advanced: decoded frames, for cmd */
	int		 js_k[3];
	uint64_t	 par_frames;
	int		 fds[CH_MAXFDS];	/* received, not yet claimed */
	size_t		 nfds;
	struct buf	 pq;		/* to the parent, whole frames */

	/* CMD (or, without CMD, ipcrun's own stdout and stdin). */
	pid_t		 pid;
	int		 alive;
	int		 status;
	int		 cin;		/* CMD's stdin (our write end), -1 closed */
	int		 cin_sock;
	int		 cin_dead;	/* writes failed: CMD closed its stdin */
	int		 cout;		/* CMD's stdout (our read end), -1 closed */
	int		 cout_eof;
	struct frame	 fcmd;
	int		 fcmd_ok;
	int		 cmd_cmd;
	struct buf	 cq;		/* to CMD, NDJSON lines */
	uint64_t	 lost_lines;	/* printed after the disconnect */
	uint64_t	 undelivered;	/* messages CMD will never read */
	int64_t		 exit_deadline;	/* reading CMD's stdout after its exit */
	int		 kill_stage;	/* 0, 1 (TERM next), 2 (KILL next), 3 */
	int64_t		 kill_at;

	int		 again;		/* more to pump: poll without waiting */
	int		 fail;
	int		 epipe;
	int		 exec_err;	/* EXIT_NOTFOUND, EXIT_NOEXEC */
};

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
	c->chan = fd;
	return 0;
}

/* fds 0-2 must be open, so that nothing of ipcrun's lands on them. */
static int
child_std_fds(void)
{
	int	fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

/* Kill escalation and signals */

static void
child_kill(struct child *c, int sig)
{
	if (c->pid <= 0)
		return;
	if (kill(-c->pid, sig) == -1 && errno == ESRCH && c->alive)
		(void)kill(c->pid, sig);
	/* A stopped process acts on nothing but SIGCONT. */
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
		(void)kill(-c->pid, SIGCONT);
}

static void
child_kill_step(struct child *c)
{
	if (!c->alive)
		return;
	if (c->kill_stage == 1) {
		cmd_warnx(c->ce, "'%s' (pid %ld) is still running after the "
		    "parent disconnected; sending SIGTERM", c->name,
		    (long)c->pid);
		child_kill(c, SIGTERM);
		c->kill_stage = 2;
		c->kill_at = ev_now() + c->kill_timeout;
	} else if (c->kill_stage == 2) {
		cmd_warnx(c->ce, "'%s' (pid %ld) ignored SIGTERM; sending "
		    "SIGKILL", c->name, (long)c->pid);
		child_kill(c, SIGKILL);
		c->kill_stage = 3;
	}
}

/* Lines still queued for CMD: never to be delivered now. */
static uint64_t
child_cq_lines(const struct child *c)
{
	const char	*p = c->cq.p + c->cq.off, *e = p + c->cq.len, *nl;
	uint64_t	 n = 0;

	for (; p < e && (nl = memchr(p, '\n', (size_t)(e - p))) != NULL;
	    p = nl + 1)
		n++;
	return n;
}

static void
child_close_cin(struct child *c)
{
	if (c->cin == -1)
		return;
	ev_del(&c->ev, c->cin);
	if (c->cin != STDOUT_FILENO)
		close(c->cin);
	c->cin = -1;
}

static void
child_exited(struct child *c, int status)
{
	c->alive = 0;
	c->status = status;
	c->kill_stage = 0;
	c->undelivered += child_cq_lines(c);
	buf_consume(&c->cq, c->cq.len);
	child_close_cin(c);
	/* Read what it printed before it went, but not for ever. */
	if (c->cout != -1)
		c->exit_deadline = ev_now() + c->kill_timeout;
}

static void
child_on_signal(struct ev *ev, int fd, short revents, void *arg)
{
	struct child	*c = arg;
	int		 sig, status;

	(void)fd;
	(void)revents;
	while ((sig = ev_signal_next(ev)) != 0) {
		if (sig == SIGCHLD) {
			if (c->alive && spawn_reap(c->pid, &status) == 1)
				child_exited(c, status);
			continue;
		}
		/* Once, to CMD's process group (child.kill() reaches CMD). */
		if (c->alive)
			child_kill(c, sig);
	}
}

/* The parent's side */

/* One frame to the parent: the JSON text as it is, or V8-encoded. */
static int
child_to_parent(struct child *c, const char *json, size_t n, int nl,
    struct v8ser_err *e)
{
	if (c->advanced)
		return v8frame_encode(&c->pq, json, n, e);
	if (buf_append(&c->pq, json, n) == -1 ||
	    (!nl && buf_append(&c->pq, "\n", 1) == -1)) {
		e->what = "out of memory";
		return -1;
	}
	return 0;
}

/* ipcrun's own answers to the parent's internal messages. */
static void
child_answer(struct child *c, const char *json, size_t n)
{
	struct v8ser_err	e;

	if (c->disconnected)
		return;
	if (child_to_parent(c, json, n, 0, &e) == -1) {
		cmd_warnx(c->ce, "answer to the parent: %s", e.what);
		c->fail = 1;
	}
}

/*
 * An internal message from the parent (cmd "NODE_..."): Node's rules for
 * handles (NODE-IPC.md §5), and the socket bookkeeping a server's owner
 * waits on. CMD never sees these.
 */
static void	child_from_parent(struct child *, const char *, size_t, int,
		    const struct jscan *, const int *);

/*
 * The message that came with a handle still goes to CMD, as a Node
 * child's 'message' listener would get it (unless it is internal too).
 */
static void
child_handle_msg(struct child *c, const char *p, size_t n)
{
	struct jscan	js;
	char		*line;
	int		 k;

	if (n == 0 || (line = malloc(n + 1)) == NULL)
		return;
	memcpy(line, p, n);
	line[n] = '\n';
	jscan_init(&js);
	k = jscan_want(&js, "cmd", 3);
	if (jscan_line(&js, line, n) == JSCAN_GOOD &&
	    (js.span[k].len == 0 || !jscan_node_internal(line +
	    js.span[k].off, js.span[k].len)))
		child_from_parent(c, line, n + 1, 1, &js, NULL);
	free(line);
}

static void
child_internal(struct child *c, const char *line, const struct jscan *js,
    const int *k)
{
	const char	*span = line + js->span[k[0]].off;
	size_t		 n = js->span[k[0]].len;
	int		 kkey = k[1], kmsg = k[2];
	char		 reply[512];
	int		 fd;

	if (nodechan_cmd_is(span, n, "NODE_HANDLE")) {
		/*
		 * The fd that came with the frame's first bytes, if any.
		 * One ACK per fd, a NACK without one: an unsolicited or a
		 * missing answer would crash or stall the parent.
		 */
		if (c->nfds == 0) {
			child_answer(c, NODECHAN_NACK, sizeof NODECHAN_NACK - 1);
			cmd_warnx(c->ce, "the parent sent a handle without a "
			    "descriptor: refused");
			return;
		}
		fd = c->fds[0];
		memmove(c->fds, c->fds + 1, --c->nfds * sizeof *c->fds);
		close(fd);
		child_answer(c, NODECHAN_ACK, sizeof NODECHAN_ACK - 1);
		cmd_warnx(c->ce, "the parent sent a handle: acknowledged and "
		    "closed, not passed on to '%s' (not supported yet)",
		    c->name);
		if (kmsg >= 0)
			child_handle_msg(c, line + js->span[kmsg].off,
			    js->span[kmsg].len);
		return;
	}
	/* ipcrun keeps no sockets of the parent's: none are open. */
	if (kkey >= 0 && (n = nodechan_answer(span, n, line +
	    js->span[kkey].off, js->span[kkey].len, reply, sizeof reply)) > 0)
		child_answer(c, reply, n);
}

/* A good line from the parent: internal, or queued for CMD. */
/* k: the jscan indexes of cmd, key and msg; NULL when not wanted. */
static void
child_from_parent(struct child *c, const char *line, size_t n, int nl,
    const struct jscan *js, const int *k)
{
	if (k != NULL && js->span[k[0]].len != 0 &&
	    jscan_node_internal(line + js->span[k[0]].off,
	    js->span[k[0]].len)) {
		child_internal(c, line, js, k);
		return;
	}
	if (c->cin == -1 || c->cin_dead || !c->alive) {
		c->undelivered++;
		return;
	}
	if (buf_append(&c->cq, line, n) == -1 ||
	    (!nl && buf_append(&c->cq, "\n", 1) == -1)) {
		cmd_warn(c->ce, "queue");
		c->fail = 1;
	}
}

static void
child_pump_json(struct child *c)
{
	struct frame_line	l;
	char			why[256];
	int			k;

	while (c->cq.len < CH_QSIZE && !c->fail) {
		k = frame_next(&c->fpar, &l);
		if (k == FRAME_NONE)
			break;
		if (k == FRAME_BLANK)
			continue;
		c->par_frames++;
		if (k == FRAME_BAD) {
			frame_reason(&c->fpar, &l, why, sizeof why);
			cmd_warnx(c->ce, "parent message %" PRIu64 ":%zu: %s "
			    "(not delivered)", c->par_frames, l.err_off + 1,
			    why);
			continue;
		}
		if (!l.nl) {
			/* Node never sends one: the channel ended mid-frame. */
			cmd_warnx(c->ce, "parent message %" PRIu64 ": cut short "
			    "by the end of the channel (not delivered)",
			    c->par_frames);
			continue;
		}
		child_from_parent(c, l.p, l.len, l.nl, &c->fpar.js, c->par_k);
	}
}

static void
child_v8_refused(struct child *c, const struct v8ser_err *e)
{
	if (e->what != NULL && strcmp(e->what, "unknown tag") == 0)
		cmd_warnx(c->ce, "parent message %" PRIu64 ": byte %zu: unknown "
		    "tag 0x%02x (not delivered)", c->par_frames, e->off,
		    e->tag & 0xff);
	else if (e->type)
		cmd_warnx(c->ce, "parent message %" PRIu64 ": %s is outside "
		    "the JSON subset (not delivered)", c->par_frames, e->what);
	else
		cmd_warnx(c->ce, "parent message %" PRIu64 ": byte %zu: %s "
		    "(not delivered)", c->par_frames, e->off, e->what);
}

/* advanced: 4-byte big-endian length, then a V8 payload. */
static void
child_pump_advanced(struct child *c)
{
	struct v8ser_err	 e;
	const char		*p;
	size_t			 mark;
	uint32_t		 len;
	int			 r;

	while (c->cq.len < CH_QSIZE && !c->fail) {
		if ((r = v8frame_next(&c->vin, &p, &len)) == V8FRAME_NONE)
			break;
		c->par_frames++;
		if (r == V8FRAME_LONG) {
			cmd_warnx(c->ce, "parent message %" PRIu64 ": %" PRIu32
			    " bytes, longer than %zu (not delivered)",
			    c->par_frames, len, CH_MAXMSG);
			continue;
		}
		/* Decoded straight onto CMD's queue, then checked there. */
		mark = c->cq.len;
		r = v8ser_decode(p, len, &c->cq, CH_MAXMSG, &e);
		v8frame_drop(&c->vin);
		if (r == -1) {
			child_v8_refused(c, &e);
			continue;
		}
		r = jscan_line(&c->js, c->cq.p + c->cq.off + mark,
		    c->cq.len - mark);
		if (r != JSCAN_GOOD) {
			/* Cannot happen: the decoder writes only JSON. */
			c->cq.len = mark;
			cmd_warnx(c->ce, "parent message %" PRIu64 ": decoded to "
			    "invalid JSON (not delivered)", c->par_frames);
			continue;
		}
		if ((c->js.span[c->js_k[0]].len != 0 &&
		    jscan_node_internal(c->cq.p + c->cq.off + mark +
		    c->js.span[c->js_k[0]].off, c->js.span[c->js_k[0]].len)) ||
		    c->cin == -1 || c->cin_dead || !c->alive) {
			/* Take it off the queue; an internal one is answered. */
			struct buf	line;

			if (buf_init(&line, c->cq.len - mark + 1) == -1 ||
			    buf_append(&line, c->cq.p + c->cq.off + mark,
			    c->cq.len - mark) == -1) {
				buf_release(&line);
				cmd_warn(c->ce, "queue");
				c->fail = 1;
				return;
			}
			c->cq.len = mark;
			child_from_parent(c, line.p, line.len, 1, &c->js,
			    c->js_k);
			buf_release(&line);
			continue;
		}
		if (buf_append(&c->cq, "\n", 1) == -1) {
			cmd_warn(c->ce, "queue");
			c->fail = 1;
		}
	}
}

/* Received descriptors: kept in order until a NODE_HANDLE claims one. */
static void
child_take_fds(struct child *c, struct msghdr *mh)
{
	if (fdpass_take(mh, c->fds, &c->nfds, CH_MAXFDS) & FDPASS_CTRUNC)
		cmd_warnx(c->ce, "descriptors from the parent were cut short "
		    "(MSG_CTRUNC)");
}

static void
child_on_chan(struct ev *ev, int fd, short revents, void *arg)
{
	struct child	*c = arg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;
	char		*p;
	size_t		 n;
	ssize_t		 got;

	(void)ev;
	if (!(revents & (POLLIN | POLLHUP | POLLERR)) || c->chan_eof)
		return;
	p = c->advanced ? v8frame_space(&c->vin, &n) :
	    frame_space(&c->fpar, &n);
	if (p == NULL) {
		cmd_warn(c->ce, "channel buffer");
		c->fail = 1;
		return;
	}
	if (n > CH_READ)
		n = CH_READ;
	iov.iov_base = p;
	iov.iov_len = n;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof cmsg.buf;
	/* recvmsg with room for fds: a plain read would drop passed fds. */
	do
		got = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (got == -1 && errno == EINTR);
	if (got == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno != ECONNRESET) {
			cmd_warn(c->ce, "read from the parent");
			c->fail = 1;
		}
		got = 0;
	}
	if (mh.msg_controllen > 0)
		child_take_fds(c, &mh);
	if (got == 0) {
		c->chan_eof = 1;
		if (!c->advanced)
			frame_set_eof(&c->fpar);
		return;
	}
	if (c->advanced)
		v8frame_filled(&c->vin, (size_t)got);
	else
		frame_filled(&c->fpar, (size_t)got);
}

/* CMD's side */

static void
child_bad_line(struct child *c, uint64_t lineno, size_t off, const char *why)
{
	cmd_warnx(c->ce, "%s:%" PRIu64 ":%zu: %s (not sent)", c->name, lineno,
	    off + 1, why);
}

static void
child_pump_cmd(struct child *c)
{
	struct frame_line	 l;
	struct v8ser_err	 e;
	char			 why[256], txt[200];
	const char		*span;
	size_t			 n;
	int			 k;

	while ((c->disconnected || c->pq.len < CH_QSIZE) && !c->fail) {
		k = frame_next(&c->fcmd, &l);
		if (k == FRAME_NONE) {
			if (c->cout_eof && c->cout != -1) {
				ev_del(&c->ev, c->cout);
				if (c->cout != STDIN_FILENO)
					close(c->cout);
				c->cout = -1;
				c->exit_deadline = 0;
				/* Without CMD, the end of stdin is its exit. */
				if (c->argv == NULL)
					c->alive = 0;
			}
			break;
		}
		if (c->disconnected) {
			/* Nothing reaches the parent now: count, never block. */
			if (k != FRAME_BLANK)
				c->lost_lines++;
			continue;
		}
		/* A Node parent crashes on a blank line, so say so too. */
		if (k == FRAME_BLANK) {
			child_bad_line(c, l.lineno, 0, l.len == 0 ||
			    (l.len == 1 && l.nl) ? "empty line" :
			    "blank line");
			continue;
		}
		if (k == FRAME_BAD) {
			frame_reason(&c->fcmd, &l, why, sizeof why);
			child_bad_line(c, l.lineno, l.err_off, why);
			continue;
		}
		if (c->cmd_cmd >= 0 && c->fcmd.js.span[c->cmd_cmd].len != 0) {
			span = l.p + c->fcmd.js.span[c->cmd_cmd].off;
			n = c->fcmd.js.span[c->cmd_cmd].len;
			if (jscan_node_internal(span, n)) {
				jscan_printable(span, n, txt, sizeof txt);
				snprintf(why, sizeof why,
				    "internal Node message (cmd \"%s\")", txt);
				child_bad_line(c, l.lineno,
				    c->fcmd.js.span[c->cmd_cmd].off, why);
				continue;
			}
		}
		if (child_to_parent(c, l.p, l.len, l.nl, &e) == -1) {
			if (strcmp(e.what, "out of memory") == 0) {
				cmd_warnx(c->ce, "queue: %s", e.what);
				c->fail = 1;
				break;
			}
			child_bad_line(c, l.lineno, e.off, e.what);
		}
	}
}

static void
child_on_cout(struct ev *ev, int fd, short revents, void *arg)
{
	struct child	*c = arg;
	char		*p;
	size_t		 n;
	ssize_t		 got;

	(void)ev;
	if (c->cout_eof)
		return;
	if ((p = frame_space(&c->fcmd, &n)) == NULL) {
		cmd_warn(c->ce, "input buffer");
		c->fail = 1;
		return;
	}
	if (n > CH_READ)
		n = CH_READ;
	if ((got = read(fd, p, n)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		cmd_warn(c->ce, "read from '%s'", c->name);
		got = 0;
	}
	if (got == 0) {
		c->cout_eof = 1;
		frame_set_eof(&c->fcmd);
	} else
		frame_filled(&c->fcmd, (size_t)got);
}

static void
child_on_write(struct ev *ev, int fd, short revents, void *arg)
{
	/* The flush pass after poll does the writing. */
	(void)ev;
	(void)fd;
	(void)revents;
	(void)arg;
}

/* The parent went away: what CMD says from now on cannot reach it. */
static void
child_disconnect(struct child *c)
{
	size_t	i;

	if (c->disconnected)
		return;
	c->disconnected = 1;
	buf_consume(&c->pq, c->pq.len);
	if (c->chan != -1) {
		ev_del(&c->ev, c->chan);
		close(c->chan);
		c->chan = -1;
	}
	for (i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	if (c->alive && c->disc_timeout >= 0 && c->kill_stage == 0) {
		c->kill_stage = 1;
		c->kill_at = ev_now() + c->disc_timeout;
	}
}

static void
child_flush(struct child *c)
{
	int	w;

	while (c->chan != -1 && c->pq.len > 0) {
		if ((w = buf_write(&c->pq, c->chan, 1)) == -1) {
			if (errno != EPIPE && errno != ECONNRESET) {
				cmd_warn(c->ce, "write to the parent");
				c->fail = 1;
			}
			child_disconnect(c);
			break;
		}
		if (w == 0)
			break;
	}
	while (c->cin != -1 && !c->cin_dead && c->cq.len > 0) {
		if ((w = buf_write(&c->cq, c->cin, c->cin_sock)) == -1) {
			if (errno == EPIPE) {
				/* CMD closed its stdin; it may still print. */
				if (c->argv == NULL)
					c->epipe = 1;
				else
					c->undelivered += child_cq_lines(c);
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

/* One pass after poll: input, output, end-of-life steps, flush. */
static void
child_step(struct child *c)
{
	int64_t	now = ev_now();
	size_t	sig[5];
	int	i;

	if (c->kill_stage > 0 && c->kill_stage < 3 && now >= c->kill_at)
		child_kill_step(c);
	if (c->exit_deadline != 0 && now >= c->exit_deadline &&
	    c->cout != -1) {
		cmd_warnx(c->ce, "the stdout of '%s' stayed open after it "
		    "exited (a descendant may hold it); not read further",
		    c->name);
		ev_del(&c->ev, c->cout);
		close(c->cout);
		c->cout = -1;
		c->exit_deadline = 0;
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
		sig[1] = c->pq.len;
		sig[2] = c->advanced ? v8frame_pending(&c->vin) :
		    frame_pending(&c->fpar);
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
		if (sig[0] == c->cq.len && sig[1] == c->pq.len &&
		    sig[2] == (c->advanced ? v8frame_pending(&c->vin) :
		    frame_pending(&c->fpar)) &&
		    sig[3] == frame_pending(&c->fcmd) &&
		    sig[4] == (size_t)c->cout)
			break;
	}
	if (i == 32)
		c->again = 1;
	/*
	 * EOF from the parent, and every whole frame before it handled
	 * (an unfinished one is dropped, as Node drops it): the parent
	 * disconnected. CMD's stdin closes once its queue is written.
	 */
	if (c->chan_eof && !c->disconnected && (c->advanced ?
	    !v8frame_ready(&c->vin) : frame_pending(&c->fpar) == 0))
		child_disconnect(c);
	if (c->disconnected && c->cin != -1 && (c->cq.len == 0 ||
	    c->cin_dead || !c->alive))
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
		return c->cout == -1 && c->pq.len == 0 &&
		    (c->cq.len == 0 || c->cin_dead);
	}
	return !c->alive && c->cout == -1 &&
	    (c->chan == -1 || c->pq.len == 0);
}

static void
child_update(struct child *c)
{
	short	ev;

	if (c->chan != -1) {
		ev = 0;
		if (!c->chan_eof && c->cq.len < CH_QSIZE && c->alive &&
		    (!c->advanced || !v8frame_ready(&c->vin)))
			ev |= POLLIN;
		if (c->pq.len > 0)
			ev |= POLLOUT;
		ev_set(&c->ev, c->chan, ev);
	}
	if (c->cin != -1)
		ev_set(&c->ev, c->cin, c->cq.len > 0 && !c->cin_dead ?
		    POLLOUT : 0);
	if (c->cout != -1)
		ev_set(&c->ev, c->cout, !c->cout_eof && (c->disconnected ||
		    c->pq.len < CH_QSIZE) ? POLLIN : 0);
}

static int64_t
child_deadline(struct child *c)
{
	int64_t	d = 0;

	if (c->kill_stage > 0 && c->kill_stage < 3)
		d = c->kill_at;
	if (c->exit_deadline != 0 && (d == 0 || c->exit_deadline < d))
		d = c->exit_deadline;
	return d;
}

/* Setup */

static int
child_spawn(struct child *c)
{
	struct spawn_opts	 so;
	char			**env;
	int			 in[2], out[2], err, saved;
	pid_t			 pid;

	if (pipe2(in, O_CLOEXEC) == -1)
		goto fail0;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		goto fail0;
	}
	/* Larger pipes: fewer wake-ups per message (a hint only). */
	(void)fcntl(in[1], F_SETPIPE_SZ, 1024 * 1024);
	(void)fcntl(out[0], F_SETPIPE_SZ, 1024 * 1024);
	if (fcntl(in[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	if ((env = nodechan_env(-1, NULL, 0)) == NULL)
		goto fail;
	memset(&so, 0, sizeof so);
	so.argv = c->argv;
	so.envp = env;
	so.fd[0] = in[0];
	so.fd[1] = out[1];
	so.fd[2] = STDERR_FILENO;
	so.chan_fd = -1;
	so.pgroup = 1;
	so.pdeathsig = SIGKILL;
	pid = spawn_start(&so, &err);
	saved = errno;
	nodechan_env_free(env);
	close(in[0]);
	close(out[1]);
	if (pid == -1) {
		errno = saved;
		cmd_warn(c->ce, "fork");
		close(in[1]);
		close(out[0]);
		return EXIT_FAIL;
	}
	if (err != 0) {
		errno = err;
		cmd_warn(c->ce, "'%s'", c->argv[0]);
		close(in[1]);
		close(out[0]);
		return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	}
	/* No process of CMD's group may outlive ipcrun, even by kill -9. */
	if (spawn_watch(c->watch_fd, pid) == -1)
		cmd_warn(c->ce, "watchdog");
	c->pid = pid;
	c->alive = 1;
	c->cin = in[1];
	c->cout = out[0];
	return 0;
fail:
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
fail0:
	cmd_warn(c->ce, "pipe");
	return EXIT_FAIL;
}

/*
 * Without CMD: ipcrun's stdin and stdout are the two ends. A pipe on
 * stdout gets a description of its own, made non-blocking (as in run); a
 * socket is written with MSG_DONTWAIT.
 */
static void
child_own_stdio(struct child *c)
{
	struct stat	st;
	int		fd;

	c->cin = STDOUT_FILENO;
	c->cout = STDIN_FILENO;
	c->alive = 1;	/* "CMD" lives as long as the bridge */
	if (fstat(STDOUT_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode))
		c->cin_sock = 1;
	else if (S_ISFIFO(st.st_mode) &&
	    (fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC))
	    != -1)
		c->cin = fd;
}

/* At the end, what is left of CMD's process group would outlive ipcrun. */
static void
child_end_group(struct child *c)
{
	if (c->pid <= 0 || kill(-c->pid, 0) == -1)
		return;
	cmd_warnx(c->ce, "sending SIGTERM to what is left of the process "
	    "group of '%s' (%ld)", c->name, (long)c->pid);
	(void)kill(-c->pid, SIGTERM);
	(void)kill(-c->pid, SIGCONT);
}

static int
child_main(struct child *c)
{
	static const int	 sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP,
	    SIGUSR1, SIGUSR2, 0 };
	int			 rc, sfd;

	if (frame_init(&c->fcmd, CH_MAXMSG, 1) == -1 ||
	    (c->fcmd_ok = 1, frame_init(&c->fpar, CH_MAXMSG, 1) == -1) ||
	    (c->fpar_ok = 1, buf_init(&c->pq, CH_QSIZE) == -1) ||
	    buf_init(&c->cq, CH_QSIZE) == -1 ||
	    v8frame_init(&c->vin, CH_MAXMSG, CH_READ) == -1) {
		cmd_warn(c->ce, "malloc");
		return EXIT_FAIL;
	}
	c->cmd_cmd = jscan_want(&c->fcmd.js, "cmd", 3);
	c->par_k[0] = jscan_want(&c->fpar.js, "cmd", 3);
	c->par_k[1] = jscan_want(&c->fpar.js, "key", 3);
	c->par_k[2] = jscan_want(&c->fpar.js, "msg", 3);
	jscan_init(&c->js);
	c->js_k[0] = jscan_want(&c->js, "cmd", 3);
	c->js_k[1] = jscan_want(&c->js, "key", 3);
	c->js_k[2] = jscan_want(&c->js, "msg", 3);

	if (c->argv != NULL) {
		/* Handlers before the fork: a signal in between is not lost. */
		if ((sfd = ev_signals(&c->ev, sigs)) == -1 ||
		    ev_add(&c->ev, sfd, POLLIN, child_on_signal, c) == -1) {
			cmd_warn(c->ce, "signals");
			return EXIT_FAIL;
		}
		if ((c->watch_fd = spawn_watch_start(&c->watch_pid)) == -1) {
			cmd_warn(c->ce, "watchdog");
			return EXIT_FAIL;
		}
		if ((rc = child_spawn(c)) != 0) {
			c->exec_err = rc;
			return rc;
		}
	} else
		child_own_stdio(c);
	if (ev_add(&c->ev, c->chan, 0, child_on_chan, c) == -1 ||
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
	if (c->fail && c->alive && c->argv != NULL) {
		child_kill(c, SIGKILL);
		while (c->alive) {
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
	return spawn_exit_code(c->status);
}

static void
child_release(struct child *c)
{
	size_t	i;

	if (c->chan != -1)
		close(c->chan);
	if (c->watch_fd != -1)
		spawn_watch_end(c->watch_fd, c->watch_pid);
	if (c->cin != -1 && c->cin > 2)
		close(c->cin);
	if (c->cout != -1 && c->cout > 2)
		close(c->cout);
	for (i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	if (c->fcmd_ok)
		frame_release(&c->fcmd);
	if (c->fpar_ok)
		frame_release(&c->fpar);
	buf_release(&c->pq);
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

enum { O_DISCONNECT_TIMEOUT = 256, O_KILL_TIMEOUT };

static const struct cmd_opt child_opts[] = {
	{ "disconnect-timeout", 0, O_DISCONNECT_TIMEOUT, "DUR", NULL,
	    "end CMD this long after a disconnect (default: no)" },
	{ "kill-timeout", 0, O_KILL_TIMEOUT, "DUR", NULL,
	    "wait before SIGKILL after SIGTERM (default: 5s)" },
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
	c.chan = c.cin = c.cout = c.watch_fd = -1;
	c.disc_timeout = -1;
	c.kill_timeout = KILL_DEFAULT;
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
		case O_KILL_TIMEOUT:
			if (cmd_parse_duration(optarg, &c.kill_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--kill-timeout '%s': %s",
				    optarg, cause);
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
	if (c.argv == NULL && c.disc_timeout >= 0)
		return cmd_usage_error(ce, "--disconnect-timeout needs a CMD");
	if (child_std_fds() == -1) {
		cmd_warn(ce, "/dev/null");
		return EXIT_FAIL;
	}
	ev_init(&c.ev);
	if (child_channel_env(&c) == -1) {
		ev_release(&c.ev);
		return EXIT_FAIL;
	}
	rc = child_main(&c);
	child_release(&c);
	if (rc != EXIT_FAIL && c.exec_err == 0 && c.argv != NULL &&
	    WIFSIGNALED(c.status) && !c.alive) {
		fflush(stderr);
		child_reraise(WTERMSIG(c.status));
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
