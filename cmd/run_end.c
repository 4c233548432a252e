/* SPDX-License-Identifier: ISC */
/*
 * run's ends: where its input comes from (--from) and where its output
 * goes (--to). Each end has a kind, stdio or Redis, and the relay asks
 * the end through the functions here, which switch on the kind: a Redis
 * source fills the input frame as a read of stdin would, and a Redis
 * sink takes whole lines off the output queue as a write to stdout
 * would, with the same backpressure (the sink's window full leaves the
 * queue full, and the children's channels unread).
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "relay.h"

#define FROM_PEND	(256 * 1024)	/* lines read, not yet framed */

static int __attribute__((format(printf, 2, 3)))
run_end_refuse(struct run *r, const char *fmt, ...)
{
	va_list	 ap;
	char	 m[1024];

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	cmd_warnx(r->ce, "%s", m);
	return EXIT_FAIL;
}

/*
 * The addresses, checked before anything starts. A stream's group acks
 * each entry once its reply is out with --tasks, once it is delivered
 * without (run_ack.c).
 */
int
run_ends_parse(struct run *r, struct relay_conf *c, char *from, char *to)
{
	struct run_end	*e;

	r->from.kind = r->to.kind = END_STDIO;
	if (from != NULL) {
		e = &r->from;
		if (bus_addr(r->ce, &e->u, from, e->name, sizeof e->name) == -1)
			return EXIT_FAIL;
		e->kind = END_REDIS;
		if (e->u.group[0] != '\0' && e->u.until_now)
			return run_end_refuse(r, "--from '%s': until=now with "
			    "group= is not built yet: a group is read as a "
			    "service, until a signal", e->name);
		if ((e->u.claim_idle_ms > 0 || e->u.max_deliveries > 0) &&
		    e->u.group[0] == '\0')
			return run_end_refuse(r, "--from '%s': claim-idle= "
			    "and max-deliveries= are for a group (group=)",
			    e->name);
		if (e->u.max_deliveries > 0 && e->u.claim_idle_ms == 0)
			return run_end_refuse(r, "--from '%s': max-deliveries= "
			    "needs claim-idle=: entries are counted when they "
			    "are claimed again", e->name);
		if (e->u.ack == REDISURL_ACK_REPLY &&
		    e->u.mode != REDISURL_LIST)
			return run_end_refuse(r, "--from '%s': ack=reply is "
			    "for a list; a stream acks after the reply with "
			    "group=", e->name);
		if (strcmp(c->label, "-") == 0)
			c->label = e->name;
	}
	if (to != NULL) {
		e = &r->to;
		if (bus_addr(r->ce, &e->u, to, e->name, sizeof e->name) == -1)
			return EXIT_FAIL;
		e->kind = END_REDIS;
		if (e->u.until_now || e->u.from[0] != '\0')
			return run_end_refuse(r, "--to '%s': until= and "
			    "from= are for reading", e->name);
	}
	if (c->serve && (from != NULL))
		return run_end_refuse(r, "--from: serve reads no input");
	return 0;
}

static void
run_from_line(void *arg, const char *p, size_t n, const char *id)
{
	struct run	*r = arg;
	struct run_end	*e = &r->from;

	/*
	 * After a reconnection a group reads its own pending entries again:
	 * those still held here (a task in flight) are not done twice.
	 */
	if (id != NULL && e->src.pel && run_ack_holds(r, id))
		return;
	/* One entry is one line: a newline inside would make it two. */
	if (memchr(p, '\n', n) != NULL) {
		cmd_warnx(r->ce, "%s: %s%s: holds a newline: not one NDJSON "
		    "line", e->name, id != NULL ? "entry " : "message",
		    id != NULL ? id : "");
		r->refused++;
		run_ack_now(r, id, p, n);
		return;
	}
	if (buf_append(&e->pend, p, n) == -1 ||
	    buf_append(&e->pend, "\n", 1) == -1) {
		cmd_warn(r->ce, "%s", e->name);
		run_fail(r);
		return;
	}
	run_ack_line(r, id, p, n);
}

static void
run_from_bad(void *arg, const char *id, const char *why)
{
	struct run	*r = arg;

	cmd_warnx(r->ce, "%s: entry %s: %s '%s'", r->from.name, id, why,
	    r->from.u.field);
	r->refused++;
	run_ack_now(r, id, NULL, 0);
}

/* An entry moved to NAME:dead after its deliveries, or a failed round. */
static void
run_from_dead(void *arg, const char *id, uint64_t n, const char *err)
{
	struct run	*r = arg;

	if (id == NULL) {
		cmd_warnx(r->ce, "%s: claiming pending entries: %s",
		    r->from.name, err);
		return;
	}
	cmd_warnx(r->ce, "%s: entry %s delivered %" PRIu64 " time%s and not "
	    "done: moved to '%s'", r->from.name, id, n, n == 1 ? "" : "s",
	    r->from.claim.dead);
	r->refused++;
}

static void
run_to_refused(void *arg, uint64_t lineno, const char *e)
{
	struct run	*r = arg;

	cmd_warnx(r->ce, "%s: output line %" PRIu64 " refused by Redis: %s",
	    r->to.name, lineno, e);
	r->refused++;
}

static int
run_end_connecting(struct run *r)
{
	return (r->from.kind == END_REDIS && (r->from.src.c.state ==
	    RCONN_CONNECTING || (r->from.u.group[0] != '\0' &&
	    r->from.src.ack.state == RCONN_CONNECTING))) ||
	    (r->to.kind == END_REDIS && r->to.sink.c.state ==
	    RCONN_CONNECTING);
}

/*
 * A TCP connect fails, and a password is refused, only in the loop: wait
 * for the answers (at most the connect deadline) before any child
 * starts, so that a Redis end that cannot work is an error of its own.
 */
static int
run_ends_wait(struct run *r)
{
	int64_t	d;

	while (run_end_connecting(r)) {
		d = run_ends_deadline(r);
		if (ev_run_once(&r->ev, d == 0 ? -1 : ev_timeout_ms(d)) == -1)
			break;
		rbus_tick(r->to.kind == END_REDIS ? &r->to.sink : NULL,
		    r->from.kind == END_REDIS ? &r->from.src : NULL);
	}
	if (r->from.kind == END_REDIS && rbus_source_failed(&r->from.src)) {
		cmd_warnx(r->ce, "%s: %s", r->from.name, bus_err(&r->from.src.c,
		    r->from.src.err[0] != '\0' ? r->from.src.err :
		    r->from.src.ack.err));
		return -1;
	}
	if (r->to.kind == END_REDIS && rbus_sink_failed(&r->to.sink)) {
		cmd_warnx(r->ce, "%s: %s", r->to.name, bus_err(&r->to.sink.c,
		    NULL));
		return -1;
	}
	return 0;
}

/* Connect the Redis ends, before any child starts: -1 after a report. */
int
run_ends_open(struct run *r)
{
	struct run_end	*e;
	char		 err[300];

	switch (r->from.kind) {
	case END_STDIO:
		break;
	case END_REDIS:
		e = &r->from;
		if (buf_init(&e->pend, FROM_PEND) == -1 ||
		    rbus_source_open(&e->src, &r->ev, &e->u, err,
		    sizeof err) == -1) {
			cmd_warnx(r->ce, "%s: %s", e->name, err);
			return -1;
		}
		e->open = 1;
		if ((e->u.group[0] != '\0' || e->src.reliable) &&
		    run_ack_init(r) == -1) {
			cmd_warn(r->ce, "%s", e->name);
			return -1;
		}
		e->src.on_line = run_from_line;
		e->src.on_bad = run_from_bad;
		e->src.arg = r;
		rbus_claim_init(&e->claim, &e->src);
		e->claim.on_dead = run_from_dead;
		e->claim.held = run_ack_holds;
		e->claim.arg = r;
		break;
	}
	switch (r->to.kind) {
	case END_STDIO:
		break;
	case END_REDIS:
		e = &r->to;
		if (rbus_sink_open(&e->sink, &r->ev, &e->u, err,
		    sizeof err) == -1) {
			cmd_warnx(r->ce, "%s: %s", e->name, err);
			return -1;
		}
		e->open = 1;
		e->sink.on_refused = run_to_refused;
		e->sink.arg = r;
		break;
	}
	return run_ends_wait(r);
}

/* Is the input read from stdin (and stdin to be polled)? */
int
run_from_stdin(const struct run *r)
{
	return r->from.kind == END_STDIO;
}

/*
 * What the Redis source read goes into the input frame, as much as it
 * takes; the end of a stream read with until=now is the end of input.
 */
void
run_from_fill(struct run *r)
{
	struct run_end	*e = &r->from;
	char		*p;
	size_t		 n;

	if (e->kind != END_REDIS || r->in_eof)
		return;
	while (e->pend.len > 0) {
		if ((p = frame_space(&r->fin, &n)) == NULL || n == 0)
			break;
		if (n > e->pend.len)
			n = e->pend.len;
		memcpy(p, e->pend.p + e->pend.off, n);
		frame_filled(&r->fin, n);
		buf_consume(&e->pend, n);
		r->in_bytes += n;
	}
	if (e->pend.len == 0 && e->src.ended) {
		frame_set_eof(&r->fin);
		r->in_eof = 1;
	}
}

/* Read input now? stdin is polled; a Redis source reads or pauses. */
void
run_from_interest(struct run *r, int on)
{
	switch (r->from.kind) {
	case END_STDIO:
		ev_set(&r->ev, STDIN_FILENO, on ? POLLIN : 0);
		break;
	case END_REDIS:
		rbus_source_pause(&r->from.src, !on || r->from.pend.len > 0);
		break;
	}
}

/* Lines wait in the source's buffer while the frame was full. */
int
run_from_waiting(const struct run *r)
{
	return r->from.kind == END_REDIS && r->from.pend.len > 0 &&
	    !r->in_eof;
}

/* The output queue's whole lines into the Redis sink, while it has room. */
void
run_to_flush(struct run *r)
{
	struct run_end	*e = &r->to;
	const char	*p, *nl;
	size_t		 n;

	while (r->oq.len > 0 && !rbus_sink_full(&e->sink)) {
		p = r->oq.p + r->oq.off;
		if ((nl = memchr(p, '\n', r->oq.len)) == NULL)
			break;
		n = (size_t)(nl - p);
		if (rbus_sink_put(&e->sink, p, n, ++e->lines) == -1) {
			cmd_warn(r->ce, "%s", e->name);
			run_fail(r);
			return;
		}
		buf_consume(&r->oq, n + 1);
		r->out_taken += n + 1;
		run_ack_put(r, e->lines);
	}
}

/* Is everything given to the output's end out of ipcrun? */
int
run_to_idle(const struct run *r)
{
	switch (r->to.kind) {
	case END_REDIS:
		return rbus_sink_idle(&r->to.sink);
	default:
		return 1;
	}
}

static struct rbus_sink *
run_sink(struct run *r)
{
	return r->to.kind == END_REDIS ? &r->to.sink : NULL;
}

static struct rbus_source *
run_source(struct run *r)
{
	return r->from.kind == END_REDIS && r->from.open ? &r->from.src : NULL;
}

int64_t
run_ends_deadline(struct run *r)
{
	int64_t	d;

	if (r->from.kind == END_STDIO && r->to.kind == END_STDIO)
		return 0;
	d = rbus_deadline(run_sink(r), run_source(r));
	if (run_source(r) != NULL && !r->in_done &&
	    rbus_claim_deadline(&r->from.claim) < d)
		d = rbus_claim_deadline(&r->from.claim);
	return d == INT64_MAX ? 0 : d;
}

static void
run_end_check(struct run *r, struct run_end *e, struct rconn *c,
    const char *own)
{
	if (c->state == RCONN_FAILED) {
		if (!e->failed) {
			cmd_warnx(r->ce, "%s: %s", e->name, bus_err(c, own));
			e->failed = 1;
		}
		run_fail(r);
		return;
	}
	if (c->drops != e->drops) {
		e->drops = c->drops;
		if (!r->cf->quiet)
			cmd_warnx(r->ce, "%s: connection lost (%s); "
			    "reconnecting", e->name, c->err);
	}
}

/* The timers of the Redis ends, and what became of their connections. */
void
run_ends_pass(struct run *r)
{
	if (r->from.kind == END_STDIO && r->to.kind == END_STDIO)
		return;
	rbus_tick(run_sink(r), run_source(r));
	if (r->from.kind == END_REDIS && r->from.open) {
		if (!r->in_done)
			rbus_claim_tick(&r->from.claim);
		run_ack_pass(r);
	}
	if (r->from.kind == END_REDIS && r->from.open && !r->in_done)
		run_end_check(r, &r->from, &r->from.src.c, r->from.src.err);
	if (r->to.kind == END_REDIS)
		run_end_check(r, &r->to, &r->to.sink.c, NULL);
}

/*
 * At the end, what is queued for the Redis sink goes out, however long
 * a reconnection takes, unless a signal says to stop: then what is lost
 * is counted and said.
 */
void
run_to_drain(struct run *r)
{
	struct run_end	*e = &r->to;
	uint64_t	 lost;
	int64_t		 d;

	if (e->kind != END_REDIS)
		return;
	r->sigs = 0;
	while (!r->fail && (r->oq.len > 0 || !rbus_sink_idle(&e->sink))) {
		run_to_flush(r);
		if (r->sigs & (UINT64_C(1) << SIGINT | UINT64_C(1) << SIGTERM |
		    UINT64_C(1) << SIGHUP))
			break;
		d = rbus_deadline(&e->sink, NULL);
		if (ev_run_once(&r->ev, d == INT64_MAX ? -1 :
		    ev_timeout_ms(d)) == -1)
			break;
		run_ends_pass(r);
	}
	lost = e->sink.inflight + e->sink.queued;
	if (r->oq.len > 0 || lost > 0) {
		cmd_warnx(r->ce, "%s: %" PRIu64 " line%s not stored%s", e->name,
		    lost, lost == 1 ? "" : "s", r->oq.len > 0 ?
		    ", and more still queued" : "");
		r->fail = 1;
	}
}

void
run_ends_close(struct run *r)
{
	if (r->from.kind == END_REDIS && r->from.open) {
		run_ack_finish(r);
		run_ack_release(r);
		rbus_source_close(&r->from.src);
		buf_release(&r->from.pend);
		r->from.open = 0;
	}
	if (r->to.kind == END_REDIS && r->to.open) {
		rbus_sink_close(&r->to.sink);
		r->to.open = 0;
	}
}
