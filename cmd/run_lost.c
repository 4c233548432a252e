/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: what a child that is gone left unread. Its queued and
 * unread lines are sent to the others, kept for its restart, or counted
 * as not delivered, and said. The loop calls this when it finishes a
 * child; it calls input's functions below it, never the reverse.
 */
#include "compat.h"

#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "frame.h"
#include "nodechan.h"
#include "relay.h"

/*
 * Move the whole lines of p (n bytes) to the relay's requeue, skipping
 * ipcrun's own frames and, with cut, a first line the child had begun to
 * read. Returns the lines moved; *cutp counts the one skipped.
 */
static uint64_t
run_requeue(struct run *r, struct buf *dst, const char *p, size_t n, int cut,
    uint64_t *cutp, int node)
{
	const char	*e = p + n, *nl;
	uint64_t	 moved = 0;
	size_t		 k;

	for (; p < e; p = nl + 1, cut = 0) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			break;	/* a line cut short: it was never sent */
		k = (size_t)(nl - p) + 1;
		if (node && nodechan_own_frame(p, k))
			continue;
		if (cut) {
			(*cutp)++;
			continue;
		}
		if (buf_append(dst, p, k) == -1) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
			break;
		}
		moved++;
	}
	return moved;
}

/*
 * A round-robin child has gone while others take input: what it never
 * read goes to them. Its unread bytes come first (they are older than
 * its queue), from ipcrun's copy of its end; the child may have read the
 * start of the first line there, which is then no line: a first line
 * that does not hold exactly one JSON value was begun, and is counted as
 * read. (A line of objects or arrays cannot be mistaken: no proper tail
 * of one is valid JSON.)
 */
static uint64_t
run_unread_lines(struct run *r, struct worker *w, struct buf *dst)
{
	struct jscan	 js;
	char		*p;
	const char	*nl;
	size_t		 got;
	int		 cut;
	uint64_t	 n = 0;

	if ((p = chan_unread(&w->ch, &got)) != NULL &&
	    (nl = memchr(p, '\n', got)) != NULL) {
		jscan_init(&js);
		cut = jscan_line(&js, p, (size_t)(nl - p)) != JSCAN_GOOD;
		n = run_requeue(r, dst, p, got, cut, &w->cut, w->node);
	}
	free(p);
	n += run_requeue(r, dst, w->ch.tq.p + w->ch.tq.off, w->ch.tq.len, w->ch.tq_mid,
	    &w->cut, w->node);
	chan_drop_queued(&w->ch);
	return n;
}

static void
run_reroute(struct run *r, struct worker *w)
{
	w->rerouted += run_unread_lines(r, w, &r->rq);
	run_trace(r, "'%s' left %" PRIu64 " unread lines: sent to the others",
	    w->name, w->rerouted);
}

/* A child to be restarted keeps what it had not read, for the next one. */
static void
run_keep(struct run *r, struct worker *w)
{
	struct buf	keep;
	uint64_t	n;

	if (buf_init(&keep, RUN_QSIZE) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		return;
	}
	n = run_unread_lines(r, w, &keep);
	w->kept = n;
	chan_put_queue(&w->ch, &keep);
	r->room = 0;	/* its queue grew: run_route_room looks again */
	run_trace(r, "'%s' left %" PRIu64 " unread lines: kept for its "
	    "restart", w->name, n);
}

/*
 * The child will take no more input (it exited): report the lines it will
 * never get, unread in its end of the channel, still queued, read but
 * unqueued, and whatever stdin already holds (never waiting for more).
 * A child that read nothing at all was most likely started the wrong way:
 * say how to fix it. Once only. With round robin and other children
 * still taking input, its lines go to them instead.
 */
void
run_undelivered(struct run *r, struct worker *w, int restart)
{
	uint64_t		 left = 0;
	struct frame_line	 l;
	size_t			 unread;
	int			 k, last;

	w->gone = !restart;
	last = !run_others_accept(r, w);
	if (!last && !r->out_dead && r->cf->route == ROUTE_RR &&
	    !r->cf->envelope) {
		run_reroute(r, w);
		return;
	}
	if (restart) {
		run_keep(r, w);
		return;
	}
	if (!r->in_done && last)
		run_drain_stdin(r);
	left = run_peer_unread(r, w, &unread) + w->peer_lost;
	if (!r->out_dead) {
		left += chan_queued_lines(&w->ch, w->node);
		w->undelivered = left;
		if (last) {
			left += run_count_lines(r->cf->node,
			    r->rq.p + r->rq.off, r->rq.len);
			buf_consume(&r->rq, r->rq.len);
		}
		if (!r->in_done && last) {
			while ((k = frame_next(&r->fin, &l)) != FRAME_NONE)
				left += k == FRAME_GOOD;
			left += r->tail_lines;
		}
	}
	if (r->out_dead)
		;	/* stopping: nobody is waiting for the count */
	else if (r->interrupted) {
		if (left > 0)
			cmd_warnx(r->ce, "'%s' was interrupted (%s): %" PRIu64
			    " input line%s not delivered", w->name,
			    run_signame(r->interrupted), left,
			    left == 1 ? "" : "s");
	} else if (left > 0)
		/*
		 * Not when nothing was lost: a child that read all it was
		 * sent and left while the input was open is head(1).
		 */
		cmd_warnx(r->ce, "'%s' exited before reading all its input: "
		    "%" PRIu64 " input line%s not delivered%s", w->name,
		    left, left == 1 ? "" : "s", !last || r->in_eof ? "" :
		    " (the rest of the input was not read)");
	/*
	 * Nothing of what it was sent was read: it did not end early on
	 * purpose (as head(1) does), it never took its input. The run
	 * fails (exit status 1), as for a refused line.
	 */
	if (!r->out_dead && !r->interrupted && left > 0 &&
	    unread >= w->ch.sent) {
		r->never_read = 1;
		if (w->node && r->nw > 1)
			cmd_warnx(r->ce, "'%s' never read its channel: a "
			    "program that reads NDJSON on its stdin needs "
			    "--channel stdio, or -c '%s:stdio=CMD' for it "
			    "alone, and a wrapper (npx, a shell script) may "
			    "have kept the channel from Node", w->name,
			    w->name);
		else if (w->node)
			cmd_warnx(r->ce, "'%s' never read its channel: a "
			    "program that reads NDJSON on its stdin needs "
			    "--channel stdio, and a wrapper (npx, a shell "
			    "script) may have kept the channel from Node",
			    w->name);
		else
			cmd_warnx(r->ce, "'%s' never read its input", w->name);
	}
	chan_drop_queued(&w->ch);
	if (!r->in_done && last) {
		r->in_done = 1;
		if (r->in_end == 0)
			r->in_end = ev_now();
	}
}
