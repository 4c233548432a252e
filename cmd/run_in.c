/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: input. stdin's lines, validated, routed (round robin,
 * broadcast, key, envelope) into the children's channels, and what a
 * child that is gone left unread: sent to the others, kept for its
 * restart, or counted as not delivered.
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
#include "envelope.h"
#include "ev.h"
#include "frame.h"
#include "jscan.h"
#include "nodechan.h"
#include "route.h"
#include "relay.h"

static void
run_bad_input(struct run *r, uint64_t lineno, size_t off, const char *why)
{
	cmd_warnx(r->ce, "%s:%" PRIu64 ":%zu: %s", r->cf->label, lineno,
	    off + 1, why);
	r->refused++;
	if (r->cf->strict) {
		r->strict_hit = 1;
		run_input_ended(r);
	}
}

/*
 * Is there room for the next input line? Round robin needs one child with
 * room, from the one after the last served, skipping full queues so that
 * a slow child never holds up the others. The other routes may send a
 * line to any child (or all): every child still taking input needs room.
 * Returns a child with room, or NULL.
 *
 * For those, a look at every child per line cost more than the rest of
 * the relay with hundreds of children. One look finds the least room any
 * of them has; a line adds at most its own length to any queue, so until
 * the lines routed since have used that much up (run_route_spend), there
 * is room without another look. Only a queue that grows otherwise (a
 * child's unread lines kept for its restart) makes the next call look.
 */
struct worker *
run_route_room(struct run *r)
{
	struct worker	*w, *first = NULL;
	size_t		 least = RUN_QSIZE;
	unsigned	 i;

	/*
	 * --tasks to the child a route names: one new task at a time waits
	 * for its child's room (r->park), and the input behind it.
	 */
	if (r->back != NULL)
		return r->park == NULL && run_task_window(r) ? r->w : NULL;
	if (r->cf->route == ROUTE_RR && !r->cf->envelope) {
		for (i = 0; i < r->nw; i++) {
			w = &r->w[(r->rr + i) % r->nw];
			if (run_accepting(w) && w->ch.tq.len < RUN_QSIZE &&
			    !chan_fds_full(&w->ch) &&
			    (!r->cf->tasks || run_task_room(r, w)))
				return w;
		}
		return NULL;
	}
	/* --handles: a handle's line may fill a child's room in fds. */
	if (r->room > 0 && run_takes(r->room_first) && !r->cf->handles)
		return r->room_first;
	r->room = 0;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (!run_takes(w))
			continue;
		if (w->ch.tq.len >= RUN_QSIZE || chan_fds_full(&w->ch))
			return NULL;
		if (RUN_QSIZE - w->ch.tq.len < least)
			least = RUN_QSIZE - w->ch.tq.len;
		if (first == NULL)
			first = w;
	}
	if (first != NULL) {
		r->room = least;
		r->room_first = first;
	}
	return first;
}

/* A line of n bytes was routed: it took at most n + 1 of anyone's room. */
static void
run_route_spend(struct run *r, size_t n)
{
	r->room = r->room > n + 1 ? r->room - (n + 1) : 0;
}

/* Queue n bytes of a line for a child, with its newline. */
static int
run_queue(struct run *r, struct worker *w, const char *p, size_t n)
{
	if (chan_queue(&w->ch, p, n) == -1 ||
	    (p[n - 1] != '\n' && chan_queue(&w->ch, "\n", 1) == -1)) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	w->in_lines++;
	run_trace(r, "-> %s %zu bytes", r->nw > 1 ? w->name : "child",
	    n + (p[n - 1] != '\n'));
	run_show(r, w, ">", 0, p, n);
	run_tap(r, w, 0, 0, p, n);
	return 0;
}

/*
 * A line for the child w from elsewhere than stdin (the control socket's
 * send), queued and written as stdin's are. Returns 0, or -1 (the run
 * stops: no memory).
 */
int
run_send_line(struct run *r, struct worker *w, const char *p, size_t n)
{
	if (run_queue(r, w, p, n) == -1)
		return -1;
	run_flush_tq(r, w);
	return 0;
}

struct worker *
run_find(struct run *r, const char *name, size_t len)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->name != NULL && strlen(w->name) == len &&
		    memcmp(w->name, name, len) == 0)
			return w;
	}
	return NULL;
}

/*
 * A line for one child, which may ask for a handle (--handles): its
 * descriptor goes instead, or the line is refused with the reason.
 */
static int
run_deliver(struct run *r, struct worker *w, uint64_t lineno, size_t col,
    const char *p, size_t n)
{
	char	why[600];
	size_t	off = 0;

	if (r->cf->handles) {
		switch (run_handle_line(r, w, p, n, &off, why, sizeof why)) {
		case -1:
			cmd_warn(r->ce, "malloc");
			r->fail = 1;
			run_stop(r);
			return -1;
		case 1:
			return 0;
		case 2:
			run_bad_input(r, lineno, col + off, why);
			return 0;
		}
	}
	return run_queue(r, w, p, n);
}

/* A line for one child: refused, with its line number, if it is gone. */
static int
run_route_to(struct run *r, struct worker *w, uint64_t lineno, size_t col,
    size_t mcol, const char *p, size_t n)
{
	char	why[256];

	if (run_takes(w))
		return run_deliver(r, w, lineno, mcol, p, n);
	snprintf(why, sizeof why, "child '%s' %s (line not delivered)",
	    w->name, w->gone ? "has exited" : "takes no more input");
	run_bad_input(r, lineno, col, why);
	return 0;
}

/* Every child still taking input gets the line. */
static int
run_route_all(struct run *r, const char *p, size_t n)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_takes(w) && run_queue(r, w, p, n) == -1)
			return -1;
	}
	return 0;
}

/* {"to":NAME|[NAMES]|"*","msg":M}: M's own bytes go to each. */
static int
run_route_envelope(struct run *r, const struct frame_line *l)
{
	const struct envelope_to	*t;
	struct worker			*w;
	const char			*cause, *m;
	char				 why[256], txt[80];
	size_t				 i, n;

	if (envelope_parse(&r->env, l->p, l->len - l->nl, &cause) == -1) {
		snprintf(why, sizeof why, "not an envelope: %s", cause);
		run_bad_input(r, l->lineno, 0, why);
		return 0;
	}
	m = l->p + r->env.msg.off;
	n = r->env.msg.len;
	if (r->env.all)
		return run_route_all(r, m, n);
	for (i = 0; i < r->env.nto; i++) {
		t = &r->env.to[i];
		if ((w = run_find(r, t->name, t->len)) == NULL) {
			jscan_printable(l->p + t->span.off, t->span.len, txt,
			    sizeof txt);
			snprintf(why, sizeof why, "no child named '%s' (line "
			    "not delivered to it)", txt);
			run_bad_input(r, l->lineno, t->span.off, why);
			continue;
		}
		/* A name listed twice: the child gets the line once. */
		if (w->mark == l->lineno)
			continue;
		w->mark = l->lineno;
		if (run_route_to(r, w, l->lineno, t->span.off, r->env.msg.off,
		    m, n) == -1)
			return -1;
	}
	return 0;
}

/* One good input line, to the child or children the route names. */
static int
run_route(struct run *r, struct worker *w, const struct frame_line *l)
{
	uint64_t	 h;
	char		 why[300];

	if (r->cf->envelope)
		return run_route_envelope(r, l);
	switch (r->cf->route) {
	case ROUTE_RR:
		r->rr = (w->idx + 1) % r->nw;
		return run_deliver(r, w, l->lineno, 0, l->p, l->len);
	case ROUTE_BROADCAST:
		return run_route_all(r, l->p, l->len);
	case ROUTE_KEY:
		if (route_key(&r->cf->key, l->p, l->len - l->nl, &h) == 1)
			return run_route_to(r, &r->w[route_pick(h, r->nw)],
			    l->lineno, 0, 0, l->p, l->len);
		if (r->cf->route_default >= 0)
			return run_route_to(r, &r->w[r->cf->route_default],
			    l->lineno, 0, 0, l->p, l->len);
		snprintf(why, sizeof why, "no member %s to route by (line "
		    "not delivered)", r->cf->key_path);
		run_bad_input(r, l->lineno, 0, why);
		return 0;
	}
	return 0;
}

/*
 * Lines a gone child left unread go out again first, round robin, before
 * anything new from stdin: each is a whole line, already checked.
 */
static void
run_route_requeued(struct run *r)
{
	struct worker	*w;
	const char	*p, *nl;
	size_t		 n;

	while (r->rq.len > 0 && (w = run_route_room(r)) != NULL) {
		p = r->rq.p + r->rq.off;
		nl = memchr(p, '\n', r->rq.len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : r->rq.len;
		r->rr = (w->idx + 1) % r->nw;
		if (run_queue(r, w, p, n) == -1)
			return;
		buf_consume(&r->rq, n);
	}
}

/*
 * --tasks: is any child still of use, running, reading its last frames,
 * or waiting for its restart?
 */
static int
run_tasks_served(struct run *r)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_task_served_by(w))
			return 1;
	}
	return 0;
}

/*
 * --tasks: the end of input reaches the children only once every task is
 * answered or given up, so that until then a child that dies can hand
 * its tasks to another, or to its next incarnation. With no child left
 * at all, what waits is given up and the rest of the input is not read.
 */
void
run_tasks_maybe_end(struct run *r)
{
	uint64_t	n;

	if (!r->cf->tasks || r->tasks_over)
		return;
	if (!run_tasks_served(r)) {
		r->tasks_over = 1;
		n = run_task_orphaned(r);
		if (!r->in_eof || frame_pending(&r->fin)) {
			cmd_warnx(r->ce, "no child left to take tasks: %" PRIu64
			    " given up, and the rest of the input was not read",
			    n);
			r->tasks_cut = 1;
		} else if (n > 0)
			cmd_warnx(r->ce, "no child left to take tasks: %" PRIu64
			    " given up", n);
		if (!r->in_done)
			run_input_ended(r);
		return;
	}
	if (r->in_done)
		return;
	if (r->in_eof && !frame_pending(&r->fin) &&
	    run_task_outstanding(r) == 0) {
		run_trace(r, "end of input: every task answered or given up");
		run_input_ended(r);
	}
}

/* --resume-failed: the task of line l was answered before, as its log says. */
static int
run_task_skipped(struct run *r, const struct frame_line *l)
{
	if (!run_tasklog_skip(r, l->lineno))
		return 0;
	r->t_skipped++;
	run_trace(r, "task %" PRIu64 " skipped: ok in --tasklog", l->lineno);
	return 1;
}

/*
 * --tasks with --route key or --envelope: one line, a task for the child
 * its key or its envelope names (run_task_offer), or refused with the
 * reason. An envelope for a task names one child: a list or "*" would
 * have a reply from each.
 */
static int
run_task_routed(struct run *r, const struct frame_line *l)
{
	struct worker	*w;
	struct task	*t;
	const char	*cause;
	char		 why[300], txt[80];
	size_t		 n = l->len - l->nl, off = 0, len = 0;
	uint64_t	 h;

	if (run_task_skipped(r, l))
		return 0;
	if (r->cf->envelope) {
		if (envelope_parse(&r->env, l->p, n, &cause) == -1) {
			snprintf(why, sizeof why, "not an envelope: %s", cause);
			run_bad_input(r, l->lineno, 0, why);
			return 0;
		}
		if (r->env.all || r->env.nto != 1) {
			run_bad_input(r, l->lineno, 0, "a task has one reply: "
			    "the envelope must name one child (line not "
			    "delivered)");
			return 0;
		}
		if ((w = run_find(r, r->env.to[0].name, r->env.to[0].len)) ==
		    NULL) {
			jscan_printable(l->p + r->env.to[0].span.off,
			    r->env.to[0].span.len, txt, sizeof txt);
			snprintf(why, sizeof why, "no child named '%s' (line "
			    "not delivered to it)", txt);
			run_bad_input(r, l->lineno, r->env.to[0].span.off, why);
			return 0;
		}
		off = r->env.msg.off;
		len = r->env.msg.len;
	} else if (route_key(&r->cf->key, l->p, n, &h) == 1)
		w = &r->w[route_pick(h, r->nw)];
	else if (r->cf->route_default >= 0)
		w = &r->w[r->cf->route_default];
	else {
		snprintf(why, sizeof why, "no member %s to route by (line "
		    "not delivered)", r->cf->key_path);
		run_bad_input(r, l->lineno, 0, why);
		return 0;
	}
	t = r->cf->envelope ? run_task_new_part(r, l->lineno, l->p, l->len,
	    off, len) : run_task_new(r, l->lineno, l->p, l->len);
	if (t == NULL)
		return -1;
	t->to = (int)w->idx;
	return run_task_offer(r, t);
}

/* --tasks: one line, a new task, to w. */
static int
run_task_line(struct run *r, struct worker *w, const struct frame_line *l)
{
	struct task	*t;

	if (run_task_skipped(r, l))
		return 0;
	if ((t = run_task_new(r, l->lineno, l->p, l->len)) == NULL)
		return -1;
	r->rr = (w->idx + 1) % r->nw;
	return run_task_send(r, w, t);
}

/* --tasks: the tasks handed back go out again before any new line. */
static void
run_task_resend(struct run *r)
{
	struct worker	*w;
	struct task	*t;

	if (r->back != NULL) {
		run_task_resend_own(r);
		return;
	}
	while (r->retry.n > 0 && (w = run_route_room(r)) != NULL) {
		t = run_task_next_retry(r);
		r->rr = (w->idx + 1) % r->nw;
		if (run_task_send(r, w, t) == -1)
			return;
	}
}

/*
 * The hot path, for one child on round robin when no line needs a look of
 * its own (no member to check, no trace): a run of good lines goes to the
 * channel straight from the frame's buffer while nothing is queued before
 * it, and what the channel does not take is queued in one piece. While
 * the channel is full the lines wait in the frame, not copied into the
 * queue (and stdin waits too, run_update). Returns 1 if lines were taken,
 * 0 when frame_next must take the next one, 2 when the channel is full,
 * -1 when ipcrun stops.
 */
int
run_input_run(struct run *r, struct worker *w)
{
	const char	*p;
	size_t		 n;
	uint64_t	 lines;

	if (w->ch.full)
		return 2;
	if ((n = frame_run(&r->fin, RUN_QSIZE - w->ch.tq.len, &p, &lines)) == 0)
		return 0;
	w->in_lines += lines;
	r->rr = (w->idx + 1) % r->nw;
	if (chan_send(&w->ch, p, n) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	return 1;
}

void
run_pump_input(struct run *r)
{
	struct worker		*w;
	struct frame_line	 l;
	char			 why[256];
	ssize_t			 off;
	int			 k, full, deal;

again:
	deal = !r->in_fast;
	run_route_requeued(r);
	if (r->cf->tasks)
		run_task_resend(r);
	while (!r->in_done && r->rq.len == 0 && r->retry.n == 0 &&
	    (w = run_route_room(r)) != NULL) {
		if (r->in_fast && r->ctl.ntap == 0 &&
		    (k = run_input_run(r, w)) != 0) {
			if (k == -1)
				return;
			if (k == 2)
				break;
			continue;
		}
		/* Several children: runs dealt out, while all have room. */
		if (deal && (k = run_input_deal(r)) != 0) {
			if (k == -1)
				return;
			if (k == 1)
				continue;
			deal = 0;
		}
		k = frame_next(&r->fin, &l);
		if (k == FRAME_NONE) {
			if (r->in_eof && !r->cf->tasks) {
				run_trace(r, "end of input");
				run_input_ended(r);
			}
			break;
		}
		if (k == FRAME_BLANK)
			continue;
		if (k == FRAME_BAD) {
			frame_reason(&r->fin, &l, why, sizeof why);
			run_bad_input(r, l.lineno, l.err_off, why);
			continue;
		}
		/* Per line: no call at all without the node channel's check. */
		if (r->incmd >= 0 && (off = frame_node_internal(&r->fin,
		    r->incmd, &l, why, sizeof why)) != -1) {
			run_bad_input(r, l.lineno, (size_t)off, why);
			continue;
		}
		if (r->cf->tasks) {
			if ((r->back != NULL ? run_task_routed(r, &l) :
			    run_task_line(r, w, &l)) == -1)
				return;
			continue;
		}
		if (run_route(r, w, &l) == -1)
			return;
		if (r->room > 0)
			run_route_spend(r, l.len);
	}
	run_tasks_maybe_end(r);
	full = !r->in_done && run_route_room(r) == NULL;
	for (w = r->w; w < r->w + r->nw; w++)
		run_flush_tq(r, w);
	/*
	 * Lines already read wait in the frame while the queues are full; if
	 * a write made room, take them now: stdin may have nothing new to
	 * wake the loop with.
	 */
	if (full && !r->in_done && run_route_room(r) != NULL)
		goto again;
}
