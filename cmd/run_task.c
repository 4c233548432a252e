/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run --tasks: each input line is a task that gets exactly one
 * reply. Which child holds which task (at most --max-inflight each),
 * which reply answers which task (the oldest, or by --id), and what a
 * child that ends or times out hands back: sent again (first, to
 * whichever child has room), or given up after --retries. Called from
 * the input (dispatch), the output (answers), a child's finish (hand
 * back) and the timer pass (--task-timeout).
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "drain.h"
#include "ev.h"
#include "jscan.h"
#include "route.h"
#include "super.h"
#include "task.h"
#include "relay.h"

int
run_task_init(struct run *r)
{
	unsigned	i;

	taskq_init(&r->retry);
	if ((r->held = calloc(r->nw, sizeof *r->held)) == NULL)
		return -1;
	if (r->cf->keep_order) {
		/*
		 * Room for every task the children can hold, four times over:
		 * a slow task holds the window's start while the others go on.
		 */
		r->ko_n = (uint64_t)r->nw * r->cf->max_inflight * 4;
		if (r->ko_n < 1024)
			r->ko_n = 1024;
		r->ko_next = 1;
		if ((r->ko = calloc(r->ko_n, sizeof *r->ko)) == NULL)
			return -1;
	}
	for (i = 0; i < r->nw; i++)
		taskq_init(&r->held[i]);
	return 0;
}

void
run_task_release(struct run *r)
{
	unsigned	i;

	taskq_release(&r->retry);
	if (r->held != NULL) {
		for (i = 0; i < r->nw; i++)
			taskq_release(&r->held[i]);
	}
	free(r->held);
	r->held = NULL;
	if (r->ko != NULL) {
		for (i = 0; i < r->ko_n; i++)
			free(r->ko[i].p);
	}
	if (r->ko != NULL) {
		for (i = 0; i < r->ko_n; i++)
			free(r->ko[i].tl);
	}
	free(r->ko);
	r->ko = NULL;
	run_tasklog_close(r);
	if (r->rejects != NULL && fclose(r->rejects) == EOF) {
		cmd_warn(r->ce, "--rejects '%s'", r->cf->rejects_path);
		r->fail = 1;
	}
	r->rejects = NULL;
}

/* Tasks read and not yet answered or given up. */
uint64_t
run_task_outstanding(const struct run *r)
{
	uint64_t	n = r->retry.n;
	unsigned	i;

	for (i = 0; i < r->nw; i++)
		n += r->held[i].n;
	return n;
}

/* Can w take one more task now? */
int
run_task_room(const struct run *r, const struct worker *w)
{
	return r->held[w->idx].n < r->cf->max_inflight &&
	    w->sv.state == SUPER_UP && !w->task_killed &&
	    (!r->cf->keep_order || r->retry.n > 0 ||
	    r->t_read + 1 < r->ko_next + r->ko_n);
}

/* A new task for input line seq, or NULL (out of memory: said). */
struct task *
run_task_new(struct run *r, uint64_t seq, const char *p, size_t n)
{
	struct task	*t;
	uint64_t	 h;

	if ((t = task_new(seq, p, n)) == NULL) {
		cmd_warn(r->ce, "task %" PRIu64, seq);
		run_fail(r);
		return NULL;
	}
	if (r->cf->id_path != NULL &&
	    route_key(&r->cf->idkey, t->line, t->len - 1, &h) == 1) {
		t->has_id = 1;
		t->id = h;
	}
	r->t_read++;
	t->ord = r->t_read;
	if (r->on_task != NULL)
		r->on_task(r->on_task_arg, t, TASK_MADE);
	return t;
}

/*
 * Send t to w: it joins the tasks w holds, and its line goes into the
 * channel. Its clock starts now if w holds nothing before it; else when
 * w answers the one before (a child in order works on its oldest).
 */
int
run_task_send(struct run *r, struct worker *w, struct task *t)
{
	struct taskq	*q = &r->held[w->idx];

	/* A Node child that has not announced itself is still starting. */
	t->start = q->n == 0 && (!w->preloaded || drain_ready(&w->dr)) ?
	    ev_now() : 0;
	if (taskq_push(q, t) == -1 || chan_send(&w->ch, t->line,
	    t->len) == -1) {
		cmd_warn(r->ce, "queue");
		run_fail(r);
		return -1;
	}
	w->in_lines++;
	r->t_sends++;
	run_trace(r, "-> %s task %" PRIu64 " %zu bytes", w->name, t->seq,
	    t->len);
	run_show(r, w, ">", 0, t->line, t->len - 1);
	return 0;
}

/* The task handed back, first in line for the next child with room. */
struct task *
run_task_next_retry(struct run *r)
{
	return taskq_pop(&r->retry);
}

/*
 * A reply from w (p, n bytes, no newline): the task it answers, taken
 * out of those w holds, or NULL (reported: the reply goes on, matched to
 * nothing). In order, the oldest; with --id, the one whose member has
 * the reply's value.
 */
struct task *
run_task_answer(struct run *r, struct worker *w, const char *p, size_t n)
{
	struct taskq	*q = &r->held[w->idx];
	struct task	*t = NULL, *next;
	uint64_t	 h;
	char		 why[64];
	int		 k = 1;

	if (r->cf->id_path == NULL)
		t = taskq_pop(q);
	else if ((k = route_key(&r->cf->idkey, p, n, &h)) == 1)
		t = taskq_take_id(q, h);
	if (t == NULL) {
		r->t_stray++;
		if (r->cf->id_path == NULL)
			snprintf(why, sizeof why, "it holds no task");
		else
			snprintf(why, sizeof why, "%s", k == 1 ?
			    "no task it holds has that id (a second reply?)" :
			    "no member at the --id path");
		cmd_warnx(r->ce, "'%s' reply %" PRIu64 " matches no task: %s "
		    "(passed through)", w->name, w->out_frames, why);
		return NULL;
	}
	if ((next = taskq_peek(q)) != NULL)
		next->start = ev_now();
	return t;
}

/*
 * --keep-order: the slots from the window's start that are settled go
 * out, in order.
 */
static int
run_task_advance(struct run *r)
{
	struct run_slot	*sl;

	for (;;) {
		sl = &r->ko[r->ko_next % r->ko_n];
		if (!sl->done)
			return 0;
		if (sl->p != NULL && buf_append(&r->oq, sl->p, sl->n) == -1)
			return -1;
		run_tasklog_released(r, sl);
		free(sl->p);
		memset(sl, 0, sizeof *sl);
		r->ko_next++;
	}
}

/*
 * --keep-order: t's reply was just written to the output queue, from
 * byte from on. In its turn, it stays, with the replies held after it;
 * early, it moves into its slot until then. Returns -1 out of memory.
 */
int
run_task_ordered(struct run *r, struct task *t, size_t from)
{
	struct run_slot	*sl;
	size_t		 n = r->oq.len - from;

	if (!r->cf->keep_order || t == NULL)
		return 0;
	sl = &r->ko[t->ord % r->ko_n];
	if (t->ord != r->ko_next) {
		if ((sl->p = malloc(n)) == NULL)
			return -1;
		memcpy(sl->p, r->oq.p + r->oq.off + from, n);
		sl->n = n;
		sl->done = 1;
		r->oq.len = from;
		return 0;
	}
	sl->done = 1;
	return run_task_advance(r);
}

/* --keep-order: t is settled with no reply; the next may go. */
static void
run_task_settled(struct run *r, const struct task *t)
{
	if (!r->cf->keep_order)
		return;
	r->ko[t->ord % r->ko_n].done = 1;
	if (run_task_advance(r) == -1) {
		cmd_warn(r->ce, "queue");
		run_fail(r);
	}
}

/* t was answered: counted, the hook told, freed. */
void
run_task_done(struct run *r, struct worker *w, struct task *t)
{
	r->t_done++;
	if (t->tries > 0)
		r->t_retried++;
	if (r->on_task != NULL)
		r->on_task(r->on_task_arg, t, TASK_ANSWERED);
	run_tasklog_add(r, w, t, 1);
	task_free(t);
}

/*
 * t has failed for good: said with its line number, its line written to
 * --rejects, counted (the exit status is 1), freed.
 */
void
run_task_giveup(struct run *r, struct worker *w, struct task *t,
    const char *why)
{
	r->t_given_up++;
	/* With no child left, one word for them all (run_tasks_maybe_end). */
	if (w != NULL)
		cmd_warnx(r->ce, "%s:%" PRIu64 ": task given up after %u tr%s "
		    "(%s)", r->cf->label, t->seq, t->tries,
		    t->tries == 1 ? "y" : "ies", why);
	if (w != NULL)
		run_event(r, w, "task-given-up", ",\"seq\":%" PRIu64 ",\"tries\""
		    ":%u,\"reason\":\"%s\"", t->seq, t->tries, why);
	if (r->rejects != NULL && fwrite(t->line, 1, t->len, r->rejects) !=
	    t->len) {
		cmd_warn(r->ce, "--rejects '%s'", r->cf->rejects_path);
		r->fail = 1;
	}
	if (r->on_task != NULL)
		r->on_task(r->on_task_arg, t, TASK_GIVEN_UP);
	run_tasklog_add(r, w, t, 0);
	run_task_settled(r, t);
	task_free(t);
}

/*
 * w has ended (why: "exited", "killed by SIGKILL", "timed out"): each
 * task it held and did not answer goes back, oldest first, to be sent
 * before any new line. In order, only the oldest was being worked on
 * and counts a failed try (the others waited behind it); with --id the
 * child may have begun any of them, and each counts. A task that has
 * failed more than --retries times is given up.
 */
void
run_task_lost(struct run *r, struct worker *w, const char *why)
{
	struct taskq	*q = &r->held[w->idx];
	struct task	*t;
	size_t		 i;

	/* From the newest, each to the front: the oldest ends up first. */
	for (i = q->n; i > 0; i--) {
		t = taskq_at(q, i - 1);
		if (i == 1 || r->cf->id_path != NULL) {
			t->tries++;
			run_event(r, w, "task-failed", ",\"seq\":%" PRIu64
			    ",\"tries\":%u,\"reason\":\"%s\"", t->seq, t->tries,
			    why);
			run_trace(r, "task %" PRIu64 " failed on '%s' (%s), try "
			    "%u", t->seq, w->name, why, t->tries);
			if (t->tries > r->cf->retries) {
				run_task_giveup(r, w, t, why);
				continue;
			}
		}
		if (taskq_push_front(&r->retry, t) == -1) {
			cmd_warn(r->ce, "queue");
			task_free(t);
			run_fail(r);
		}
	}
	q->n = 0;
	q->head = 0;
	w->task_killed = 0;
}

/*
 * No child will ever take a task again: those still waiting are given
 * up. Returns how many.
 */
uint64_t
run_task_orphaned(struct run *r)
{
	struct task	*t;
	uint64_t	 n = 0;

	while ((t = taskq_pop(&r->retry)) != NULL) {
		run_task_giveup(r, NULL, t, "no child left");
		n++;
	}
	return n;
}

/*
 * --task-timeout: a child whose oldest task has run too long is stopped
 * (TERM now, KILL after --kill-timeout) and started again; its task
 * counts as failed when it is finished (run_task_lost).
 */
void
run_task_timers(struct run *r, int64_t now)
{
	struct worker	*w;
	struct task	*t;

	if (r->cf->task_timeout == 0)
		return;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->task_killed || !run_alive(w) ||
		    (t = taskq_peek(&r->held[w->idx])) == NULL ||
		    t->start == 0 || now < t->start + r->cf->task_timeout)
			continue;
		w->task_killed = 1;
		r->t_timedout++;
		cmd_warnx(r->ce, "%s:%" PRIu64 ": task timed out on '%s' (pid "
		    "%ld) after %s: restarting it", r->cf->label, t->seq,
		    w->name, (long)w->pid, r->cf->task_timeout_arg);
		(void)super_step(&w->sv, &r->cf->sp, SUPER_EV_RESTART, now);
	}
}

/*
 * w's preload announced itself: Node has started, and only now reads its
 * tasks. The time it took to start is not its oldest task's.
 */
void
run_task_ready(struct run *r, struct worker *w)
{
	struct task	*t;

	if (r->cf->tasks && (t = taskq_peek(&r->held[w->idx])) != NULL)
		t->start = ev_now();
}

/* The next --task-timeout due, or 0. */
int64_t
run_task_deadline(const struct run *r)
{
	const struct task	*t;
	int64_t			 next = 0, at;
	unsigned		 i;

	if (r->cf->task_timeout == 0)
		return 0;
	for (i = 0; i < r->nw; i++) {
		if (r->w[i].task_killed ||
		    (t = taskq_peek(&r->held[i])) == NULL || t->start == 0)
			continue;
		at = t->start + r->cf->task_timeout;
		if (next == 0 || at < next)
			next = at;
	}
	return next;
}
