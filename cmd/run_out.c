/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: output. The channels' poll callback (it only writes out
 * a child's queue and reads its frames in), and the pass's gathering of
 * the children's frames, validated, their Node messages handed to
 * run_internal.c, wrapped when asked, onto stdout from a rotating start;
 * stdout itself.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "drain.h"
#include "ev.h"
#include "frame.h"
#include "jscan.h"
#include "nodechan.h"
#include "relay.h"

/*
 * The output moved on from n bytes queued: --tasklog's lines for the
 * replies now out can go.
 */
static void
run_flushed(struct run *r, size_t n)
{
	if (r->out_dead || r->oq.len >= n)
		return;
	r->out_pos += n - r->oq.len;
	if (r->tl_wait.n > 0)
		run_tasklog_sync(r);
}

void
run_flush_oq(struct run *r)
{
	size_t	before, n;
	int	w;

	if (r->out_dead)
		return;
	if (r->to.kind == END_REDIS) {
		n = r->oq.len;
		run_to_flush(r);
		run_flushed(r, n);
		return;
	}
	/* Replies on the meter's terminal: out of its way. */
	if (r->cf->out_tty && r->oq.len > 0)
		meter_erase(&r->meter);
	while (r->oq.len > 0) {
		n = r->oq.len;
		/* >&-: what would have been written is an error, as for check. */
		if (r->stdout_closed) {
			errno = EBADF;
			w = -1;
		} else {
			before = r->oq.len;
			w = buf_write(&r->oq, r->out_fd, r->out_sock);
			r->out_taken += before - r->oq.len;
		}
		if (w == -1) {
			if (errno == EPIPE)
				r->epipe = 1;
			else {
				cmd_warn(r->ce, "write error on stdout");
				r->fail = 1;
			}
			run_stop(r);
			return;
		}
		run_flushed(r, n);
		if (w == 0)
			break;
	}
}

/*
 * The wrapper's start, {"from":NAME,"pid":P,"msg": and with --seq
 * {"seq":LINE,"from":... (null for a reply that matched no task).
 */
static int
run_seq(struct run *r, struct worker *w, const struct task *t)
{
	char	num[32];
	int	n;

	if (!r->cf->seq)
		return buf_append(&r->oq, w->prefix, w->prefixlen);
	if (t != NULL)
		n = snprintf(num, sizeof num, "{\"seq\":%" PRIu64 ",", t->seq);
	else
		n = snprintf(num, sizeof num, "{\"seq\":null,");
	if (buf_append(&r->oq, num, (size_t)n) == -1)
		return -1;
	/* The prefix without its opening brace. */
	return buf_append(&r->oq, w->prefix + 1, w->prefixlen - 1);
}

/*
 * A run of good frames (n bytes, each with its newline), each wrapped as
 * {"from":NAME,"pid":P,"msg":FRAME}, into the output queue in one go:
 * the frames' bytes are copied once, with no frame_next per frame.
 */
static int
run_output_wrap(struct run *r, struct worker *w, const char *p, size_t n,
    uint64_t lines)
{
	const char	*e = p + n, *nl;
	char		*q;
	size_t		 k;

	if (buf_reserve(&r->oq, n + lines * (w->prefixlen + 1)) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	q = r->oq.p + r->oq.off + r->oq.len;
	for (; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		k = (size_t)(nl - p);
		memcpy(q, w->prefix, w->prefixlen);
		q += w->prefixlen;
		memcpy(q, p, k);
		q += k;
		*q++ = '}';
		*q++ = '\n';
	}
	r->oq.len = (size_t)(q - (r->oq.p + r->oq.off));
	return 1;
}

/*
 * The runs gathered (run_output_run) to stdout in one writev, the rest
 * into oq: before anything is queued after them, before a buffer they
 * point into goes, and each round. 0, or -1 (no memory: run stops).
 */
static int
run_flush_ov(struct run *r)
{
	ssize_t	n;

	if (r->nov == 0)
		return 0;
	n = buf_writev(&r->oq, r->out_fd, r->out_sock, r->ov, r->nov);
	r->nov = r->ovlen = 0;
	if (n == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	return 0;
}

/*
 * The hot path of output, when no frame needs a look of its own (no
 * Node messages, no trace): a run of good frames goes to stdout straight
 * from the frame's buffer while nothing is queued before it, gathered
 * with the other children's runs of the round for one writev; the rest
 * is queued in one piece. Returns as run_input_run.
 */
static int
run_output_run(struct run *r, struct worker *w)
{
	const char	*p;
	size_t		 n, max;
	uint64_t	 lines;

	/*
	 * Wrapped, a frame grows by its prefix and "}": at most that many
	 * times a 2-byte frame ("1\n"), so a run of max raw bytes keeps the
	 * queue within RUN_QSIZE (past it by one frame at most, as before).
	 */
	max = RUN_QSIZE - r->oq.len - r->ovlen;
	if (r->cf->wrap)
		max = max * 2 / (w->prefixlen + 3);
	if ((n = frame_run(&w->ch.rd, max, &p, &lines)) == 0)
		return 0;
	w->out_frames += lines;
	r->replies += lines;
	r->reply_bytes += n;
	if (r->cf->wrap)
		return run_output_wrap(r, w, p, n, lines);
	if (r->nov == RUN_OUT_IOV && run_flush_ov(r) == -1)
		return -1;
	/* An error writing is left to run_flush_oq, which reports it. */
	if (r->oq.len == 0 && !r->stdout_closed && !r->cf->out_tty &&
	    r->to.kind == END_STDIO) {
		r->ov[r->nov].iov_base = (void *)(uintptr_t)p;
		r->ov[r->nov++].iov_len = n;
		r->ovlen += n;
		return 1;
	}
	if (buf_append(&r->oq, p, n) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	return 1;
}

static void
run_pump_output(struct run *r, struct worker *w)
{
	struct frame_line	 l;
	struct task		*t;
	size_t			 from;
	char			 why[256];
	enum nodechan_msg	 msg;
	int			 k, fast;

	fast = w->outcmd < 0 && !r->cf->trace && !r->cf->verbose &&
	    r->ctl.ntap == 0 && !r->cf->tasks;
	while (!r->out_dead && r->oq.len + r->ovlen < RUN_QSIZE) {
		if (fast && (k = run_output_run(r, w)) != 0) {
			if (k == -1)
				break;
			continue;
		}
		k = frame_next(&w->ch.rd, &l);
		/* What is gathered goes first, and while its buffers last. */
		if ((k != FRAME_NONE || w->ch.eof) && run_flush_ov(r) == -1)
			break;
		if (k == FRAME_NONE) {
			/* All taken: the next read says when there is more. */
			w->has_frames = 0;
			if (chan_ended(&w->ch))
				run_close_chan(r, w, CLOSE_EOF);
			break;
		}
		if (k == FRAME_BLANK)
			continue;
		w->out_frames++;
		if (k == FRAME_BAD) {
			frame_reason(&w->ch.rd, &l, why, sizeof why);
			run_bad_frame(r, w, &l, l.err_off, why);
			r->refused++;
			continue;
		}
		if (!l.nl && w->node) {
			/* Node itself drops an unterminated last frame. */
			cmd_warnx(r->ce, "'%s' frame %" PRIu64 ": no newline "
			    "before the end of the channel (not forwarded)",
			    w->name, w->out_frames);
			r->refused++;
			continue;
		}
		if ((msg = nodechan_classify(&w->ch.rd, w->outcmd, &l)) !=
		    NODECHAN_MSG_DATA) {
			w->out_frames--;
			run_tap(r, w, 1, 1, l.p, l.len);
			run_internal_from_child(r, w, &l, msg);
			continue;
		}
		t = r->cf->tasks ?
		    run_task_answer(r, w, l.p, l.len - l.nl) : NULL;
		from = r->oq.len;
		if ((r->cf->wrap ? (run_seq(r, w, t) == -1 ||
		    buf_append(&r->oq, l.p,
		    l.len - l.nl) == -1 || buf_append(&r->oq, "}\n", 2) == -1) :
		    (buf_append(&r->oq, l.p, l.len) == -1 ||
		    (!l.nl && buf_append(&r->oq, "\n", 1) == -1))) ||
		    run_task_ordered(r, t, from) == -1) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
			run_stop(r);
			task_free(t);
			break;
		}
		if (t != NULL)
			run_task_done(r, w, t);
		run_trace(r, "<- child %zu bytes", l.len + !l.nl);
		run_show(r, w, "<", 0, l.p, l.len);
		run_tap(r, w, 1, 0, l.p, l.len);
		r->replies++;
		r->reply_bytes += l.len + !l.nl;
	}
	if (r->cf->tasks)
		run_tasks_maybe_end(r);
}

/* A child's channel: its queues written out, its frames read in. */
void
run_on_chan(struct ev *ev, int fd, short revents, void *arg)
{
	struct worker	*w = arg;
	struct run	*r = w->r;
	ssize_t		 got;
	unsigned	 fdflags = 0;

	(void)ev;
	/* Room again, or an error that the next write should report. */
	if (revents & (POLLOUT | POLLERR | POLLHUP))
		chan_writable(&w->ch);
	if (revents & POLLOUT) {
		run_flush_tq(r, w);
		if (w->ch.fd == -1)
			return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)) || chan_ended(&w->ch))
		return;
	/* A child that sends and never reads must not grow the answers. */
	if (r->oq.len >= RUN_QSIZE || w->ch.cq.len >= CQ_HIGH)
		return;
	/* recvmsg on the node channel: a handle's fd must not be lost. */
	if ((got = w->node ? chan_read_fds(&w->ch, RUN_READ, &fdflags) :
	    chan_read(&w->ch, RUN_READ)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		if (errno == ENOMEM) {
			cmd_warn(r->ce, "channel buffer");
			run_fail(r);
			return;
		}
		cmd_warn(r->ce, "read from '%s'", w->name);
		r->fail = 1;
		chan_set_eof(&w->ch);
		got = 0;
	}
	w->has_frames = 1;		/* frames (or the end) for the pass */
	if (got == 0)
		run_trace(r, "<- child end of file");
	else {
		/* After the exit, what still flows is not a stuck channel. */
		drain_step(&w->dr, run_dp(r, w), DRAIN_EV_RX, ev_now());
	}
}

void
run_on_stdout(struct ev *ev, int fd, short revents, void *arg)
{
	(void)ev;
	(void)fd;
	(void)revents;
	run_flush_oq(arg);
}

/*
 * The children's frames onto stdout, from a rotating start so that no
 * child's output always goes first; frames already read wait in the
 * children's frames while stdout is full, and go as it drains: one write
 * per round, and another round of frames if it made room.
 */
void
run_gather(struct run *r)
{
	unsigned	i, start = r->gather;
	int		full;

	do {
		for (i = 0; i < r->nw && r->oq.len + r->ovlen < RUN_QSIZE &&
		    !r->out_dead; i++) {
			/* Only a child with something read: O(busy), not O(n). */
			if (r->w[(start + i) % r->nw].has_frames)
				run_pump_output(r, &r->w[(start + i) % r->nw]);
		}
		full = !r->out_dead && r->oq.len + r->ovlen >= RUN_QSIZE;
		if (run_flush_ov(r) == -1)
			break;
		run_flush_oq(r);
	} while (full && !r->out_dead && r->oq.len < RUN_QSIZE);
	r->gather = (start + 1) % r->nw;
	if (r->cf->tasks && !outq_pending(&r->errq))
		/* The bytes taken as tasks so far, not those still framed. */
		meter_tasks(&r->meter, r->in_bytes - frame_pending(&r->fin),
		    r->t_done, r->t_given_up, r->t_retried, r->t_read,
		    r->in_eof && frame_pending(&r->fin) == 0);
}

/*
 * stdout as a pipe is made non-blocking (restored at exit), so a slow
 * reader never stalls the loop; a socket is written with MSG_DONTWAIT.
 */
void
run_setup_stdout(struct run *r)
{
	struct stat	st;
	int		fd;

	r->out_fd = STDOUT_FILENO;
	if (fstat(STDOUT_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode))
		r->out_sock = 1;	/* send(MSG_DONTWAIT): no flag to set */
	else if (S_ISFIFO(st.st_mode)) {
		/*
		 * O_NONBLOCK on fd 1 itself would change a description that
		 * others share (with 2>&1, the child's stderr): a child
		 * that writes to it would get EAGAIN. Reopening the pipe
		 * gives ipcrun a description of its own. Without /proc the
		 * writes simply block.
		 */
		fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd != -1)
			r->out_fd = fd;
	}
}

void
run_restore_stdout(struct run *r)
{
	if (r->out_fd != STDOUT_FILENO)
		close(r->out_fd);
	r->out_fd = STDOUT_FILENO;
}

/* At the end: what is still queued goes out, waiting for the reader. */
void
run_flush_oq_all(struct run *r)
{
	struct pollfd	pfd;

	while (!r->out_dead && r->oq.len > 0 && r->to.kind == END_STDIO) {
		run_flush_oq(r);
		if (r->out_dead || r->oq.len == 0)
			break;
		pfd.fd = r->out_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			break;
	}
}
