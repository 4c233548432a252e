/* SPDX-License-Identifier: ISC */
/*
 * run --from a stream's consumer group, or a list with ack=reply: when
 * each entry is acknowledged (XACK; for the list LREM of the item from
 * our list, which BLMOVE moved it to). Every line read remembers its
 * entry's id (the list: the item itself), by input line
 * number. With --tasks an entry is acked once its reply has left ipcrun
 * (written to stdout, or stored by the --to sink): at least once, end to
 * end, for a line whose child dies is sent again and one given up stays
 * pending for Redis to hand out again (and to the dead-letter stream).
 * Without --tasks it is acked once the line is handed to a child: at
 * most once past that point. A line refused (not JSON, a newline in it)
 * is acked at once: it was reported. Calls only lib and run_state.c.
 */
#include "compat.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "relay.h"

#define ACK_IDMAX	48	/* "MS-SEQ" is at most 41 bytes */
#define ACK_WAIT_NS	INT64_C(5000000000)	/* at the end, for XACK */

enum ack_state { ACK_READ, ACK_TASK, ACK_HELD, ACK_GONE };

/* An input line and its entry. */
struct ack_line {
	uint64_t	 ord;		/* ACK_HELD: its task's place */
	uint32_t	 state;
	uint32_t	 pad;
	char		 id[ACK_IDMAX];
	char		*item;		/* a list's item, or NULL */
	size_t		 itemlen;
};

/* An entry settled: acked once the output is out past pos. */
struct ack_ready {
	uint64_t	 pos;
	char		 id[ACK_IDMAX];
	char		*item;		/* a list's item, or NULL */
	size_t		 itemlen;
};

/* A line put into the --to sink: past pos once Redis answered it. */
struct ack_cp {
	uint64_t	 line;
	uint64_t	 pos;
};

int
run_ack_init(struct run *r)
{
	struct run_acks	*a = &r->from.acks;

	memset(a, 0, sizeof *a);
	if (buf_init(&a->lines, 256 * sizeof(struct ack_line)) == -1 ||
	    buf_init(&a->ready, 256 * sizeof(struct ack_ready)) == -1 ||
	    buf_init(&a->cp, (RBUS_WINDOW + 1) * sizeof(struct ack_cp)) == -1)
		return -1;
	a->on = 1;
	a->base = a->next = 1;
	if (r->cf->tasks) {
		r->on_task = run_ack_task;
		r->on_task_arg = r;
	}
	return 0;
}

void
run_ack_release(struct run *r)
{
	struct run_acks		*a = &r->from.acks;
	struct ack_line		*l;
	struct ack_ready	*k;
	size_t			 i;

	l = (struct ack_line *)(a->lines.p + a->lines.off);
	for (i = 0; a->on && i < a->lines.len / sizeof *l; i++)
		free(l[i].item);
	k = (struct ack_ready *)(a->ready.p + a->ready.off);
	for (i = 0; a->on && i < a->ready.len / sizeof *k; i++)
		free(k[i].item);

	buf_release(&a->lines);
	buf_release(&a->ready);
	buf_release(&a->cp);
	a->on = 0;
}

static struct ack_line *
ack_at(struct run_acks *a, uint64_t line)
{
	size_t	n = a->lines.len / sizeof(struct ack_line);

	if (line < a->base || line - a->base >= n)
		return NULL;
	return (struct ack_line *)(a->lines.p + a->lines.off) +
	    (line - a->base);
}

/*
 * Entry id (or a list's item, whose copy it takes) is settled: acked
 * once the output is out past pos.
 */
static void
ack_ready(struct run *r, const char *id, char *item, size_t itemlen,
    uint64_t pos)
{
	struct ack_ready	 k;

	memset(&k, 0, sizeof k);
	k.pos = pos;
	strlcpy(k.id, id != NULL ? id : "", sizeof k.id);
	k.item = item;
	k.itemlen = itemlen;
	if (buf_append(&r->from.acks.ready, &k, sizeof k) == -1) {
		free(item);
		cmd_warn(r->ce, "%s: acks", r->from.name);
		run_fail(r);
	}
}

/* A copy of a list's item, for its LREM; NULL for a stream's entry. */
static char *
ack_item(struct run *r, const char *p, size_t n)
{
	char	*c;

	if (!r->from.src.reliable)
		return NULL;
	if ((c = malloc(n > 0 ? n : 1)) == NULL) {
		cmd_warn(r->ce, "%s: acks", r->from.name);
		run_fail(r);
		return NULL;
	}
	memcpy(c, p, n);
	return c;
}

/* The line read next came from entry id, or is the list's item p. */
void
run_ack_line(struct run *r, const char *id, const char *p, size_t n)
{
	struct run_acks	*a = &r->from.acks;
	struct ack_line	 l;

	if (!a->on)
		return;
	memset(&l, 0, sizeof l);
	l.state = ACK_READ;
	if (strlcpy(l.id, id != NULL ? id : "", sizeof l.id) >= sizeof l.id)
		l.state = ACK_GONE;	/* no stream id is that long */
	l.item = ack_item(r, p, n);
	l.itemlen = n;
	if (buf_append(&a->lines, &l, sizeof l) == -1) {
		free(l.item);
		cmd_warn(r->ce, "%s: acks", r->from.name);
		run_fail(r);
	}
	a->next++;
}

/* Entry id (or item p) was refused as it was read, with a report. */
void
run_ack_now(struct run *r, const char *id, const char *p, size_t n)
{
	if (r->from.acks.on)
		ack_ready(r, id, ack_item(r, p, n), n, 0);
}

/* l is settled: its ack waits for the output up to pos. */
static void
ack_line_ready(struct run *r, struct ack_line *l, uint64_t pos)
{
	ack_ready(r, l->id, l->item, l->itemlen, pos);
	l->item = NULL;
	l->state = ACK_GONE;
}

/*
 * Is entry id read and not yet acked? A linear look, once per entry
 * claimed (rbus_claim), which is rare next to the lines.
 */
int
run_ack_holds(void *arg, const char *id)
{
	struct run		*r = arg;
	struct run_acks		*a = &r->from.acks;
	const struct ack_line	*l;
	const struct ack_ready	*k;
	size_t			 i;

	if (!a->on)
		return 0;
	l = (const struct ack_line *)(a->lines.p + a->lines.off);
	for (i = 0; i < a->lines.len / sizeof *l; i++) {
		if (l[i].state != ACK_GONE && strcmp(l[i].id, id) == 0)
			return 1;
	}
	k = (const struct ack_ready *)(a->ready.p + a->ready.off);
	for (i = 0; i < a->ready.len / sizeof *k; i++) {
		if (strcmp(k[i].id, id) == 0)
			return 1;
	}
	return 0;
}

/* Where the output queued so far ends. */
static uint64_t
ack_out_end(const struct run *r)
{
	return r->out_taken + r->oq.len;
}

/* r->on_task: a task made from a line, answered, or given up. */
void
run_ack_task(void *arg, const struct task *t, enum task_event ev)
{
	struct run	*r = arg;
	struct run_acks	*a = &r->from.acks;
	struct ack_line	*l;

	if ((l = ack_at(a, t->seq)) == NULL || l->state == ACK_GONE)
		return;
	switch (ev) {
	case TASK_MADE:
		l->state = ACK_TASK;
		break;
	case TASK_ANSWERED:
		/* --keep-order holds an early reply until its turn. */
		if (r->cf->keep_order && t->ord >= r->ko_next) {
			l->state = ACK_HELD;
			l->ord = t->ord;
			a->held++;
			break;
		}
		ack_line_ready(r, l, ack_out_end(r));
		break;
	case TASK_GIVEN_UP:
		/*
		 * Left pending: Redis hands it out again, or dead-letters (a
		 * group); in our list until a run with our name starts (a
		 * list).
		 */
		free(l->item);
		l->item = NULL;
		l->state = ACK_GONE;
		break;
	}
}

/* The --to sink took output line line, which ended at r->out_taken. */
void
run_ack_put(struct run *r, uint64_t line)
{
	struct ack_cp	c;

	if (!r->from.acks.on)
		return;
	c.line = line;
	c.pos = r->out_taken;
	/* Bounded by the sink's window: lines it has not answered. */
	if (buf_append(&r->from.acks.cp, &c, sizeof c) == -1) {
		cmd_warn(r->ce, "%s: acks", r->from.name);
		run_fail(r);
	}
}

/*
 * How far the output is out of ipcrun: stdout's bytes written, or the
 * lines the sink has had answered (in the order they were put, resends
 * included).
 */
static void
ack_done(struct run *r)
{
	struct run_acks		*a = &r->from.acks;
	const struct ack_cp	*c;
	uint64_t		 answered;

	if (r->to.kind != END_REDIS) {
		a->done = r->out_taken;
		return;
	}
	answered = r->to.sink.stored + r->to.sink.refused;
	while (a->cp.len > 0) {
		c = (const struct ack_cp *)(a->cp.p + a->cp.off);
		if (c->line > answered)
			return;
		a->done = c->pos;
		buf_consume(&a->cp, sizeof *c);
	}
	if (rbus_sink_idle(&r->to.sink))
		a->done = r->out_taken;
}

/*
 * Lines handed out of the input frame without a task were refused or
 * blank (--tasks) or delivered (without): settled now. A held reply
 * that went out into oq is settled at oq's end, later than it is, which
 * only acks later.
 */
static void
ack_settle(struct run *r)
{
	struct run_acks	*a = &r->from.acks;
	struct ack_line	*l;
	uint64_t	 out = frame_lines_out(&r->fin), line;

	for (; a->scan < out; a->scan++) {
		if ((l = ack_at(a, a->scan + 1)) == NULL)
			continue;
		if (l->state == ACK_READ)
			ack_line_ready(r, l, 0);
	}
	if (a->held == 0)
		return;
	for (line = a->base; (l = ack_at(a, line)) != NULL; line++) {
		if (l->state != ACK_HELD || l->ord >= r->ko_next)
			continue;
		ack_line_ready(r, l, ack_out_end(r));
		a->held--;
	}
}

/* Settled entries whose output is out are acked; the done lines go. */
void
run_ack_pass(struct run *r)
{
	struct run_acks		*a = &r->from.acks;
	struct ack_ready	*k;
	const struct ack_line	*l;
	const char		*ids[RBUS_ACKMAX];
	size_t			 n;
	int			 rc;

	if (!a->on)
		return;
	ack_settle(r);
	ack_done(r);
	while (a->ready.len > 0) {
		k = (struct ack_ready *)(a->ready.p + a->ready.off);
		if (k->pos > a->done)
			break;
		/* A stream's ids due go in one XACK; a list's items one each. */
		for (n = 0; k->item == NULL && n < RBUS_ACKMAX &&
		    n < a->ready.len / sizeof *k && k[n].pos <= a->done &&
		    k[n].item == NULL; n++)
			ids[n] = k[n].id;
		rc = k->item != NULL ? rbus_source_ack_item(&r->from.src,
		    k->item, k->itemlen) : rbus_source_ack_ids(&r->from.src,
		    ids, n);
		/* The ack connection is down: again in a later pass. */
		if (rc == -1)
			break;
		if (n == 0)
			n = 1;
		free(k->item);
		a->sent += n;
		buf_consume(&a->ready, n * sizeof *k);
	}
	while (a->lines.len > 0) {
		l = (const struct ack_line *)(a->lines.p + a->lines.off);
		if (l->state != ACK_GONE)
			break;
		buf_consume(&a->lines, sizeof *l);
		a->base++;
	}
}

/*
 * At the end, with the output out: what is settled is acked, and the
 * answers are waited for (at most 5 s); the rest stays pending, said.
 */
void
run_ack_finish(struct run *r)
{
	struct run_acks	*a = &r->from.acks;
	struct rbus_source *s = &r->from.src;
	size_t		 left;
	int64_t		 d;

	if (!a->on)
		return;
	run_ack_pass(r);
	d = ev_now() + ACK_WAIT_NS;
	while ((s->ackwait > 0 || a->ready.len > 0) &&
	    s->ack.state != RCONN_FAILED && ev_now() < d) {
		if (ev_run_once(&r->ev, ev_timeout_ms(d)) == -1)
			break;
		rbus_tick(NULL, s);
		run_ack_pass(r);
	}
	left = s->ackwait + a->ready.len / sizeof(struct ack_ready);
	if (left > 0)
		cmd_warnx(r->ce, "%s: %zu entr%s not acknowledged: they stay "
		    "pending", r->from.name, left, left == 1 ? "y" : "ies");
}
