/* SPDX-License-Identifier: ISC */
/*
 * A stream group's entries left pending too long: dead-lettered after
 * max-deliveries, else claimed. One round at a time, on the source's
 * ack connection, in this order so that Redis runs them in it: XPENDING
 * (only with max-deliveries, for the counts XAUTOCLAIM does not give),
 * for each entry delivered often enough XRANGE and then MULTI, XADD
 * NAME:dead, XACK, EXEC, and last XAUTOCLAIM, which so never hands out
 * an entry just buried.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbus_claim.h"

#define CLAIM_MIN_MS	50	/* rounds no closer than this */

static int64_t
claim_every(const struct rbus_claim *c)
{
	int64_t	ms = c->src->u->claim_idle_ms / 2;

	return (ms < CLAIM_MIN_MS ? CLAIM_MIN_MS : ms) * INT64_C(1000000);
}

void
rbus_claim_init(struct rbus_claim *c, struct rbus_source *src)
{
	memset(c, 0, sizeof *c);
	c->src = src;
#ifdef HAVE_HIREDIS
	c->on = src->u->group[0] != '\0' && src->u->claim_idle_ms > 0;
#endif
	snprintf(c->cursor, sizeof c->cursor, "0-0");
	snprintf(c->dead, sizeof c->dead, "%s:dead", src->u->name);
	c->next_at = ev_now() + claim_every(c);
}

int64_t
rbus_claim_deadline(const struct rbus_claim *c)
{
	return c->on && !c->busy ? c->next_at : INT64_MAX;
}

#ifndef HAVE_HIREDIS

void
rbus_claim_tick(struct rbus_claim *c)
{
}

#else

#include <hiredis/hiredis.h>

/* An entry on its way to NAME:dead. */
struct claim_dead {
	struct rbus_claim *c;
	uint64_t	 deliveries;
	char		 id[64];
};

static void	claim_take(struct rbus_claim *);

/*
 * Redis refused a command of the round (an old server without
 * XAUTOCLAIM, a key of another type): said once, and no more rounds,
 * rather than the same error every round.
 */
static void
claim_failed(struct rbus_claim *c, const char *what, const char *e)
{
	if (!c->on)
		return;
	c->on = 0;
	snprintf(c->err, sizeof c->err, "%s: %s (claiming stopped)", what, e);
	if (c->on_dead != NULL)
		c->on_dead(c->arg, NULL, 0, c->err);
}

/* Every dead letter of the round is queued: the claim goes after them. */
static void
claim_moved(struct rbus_claim *c)
{
	if (--c->moving == 0)
		claim_take(c);
}

static void
claim_on_queued(struct rconn *rc, void *reply, void *priv)
{
	/* OK, QUEUED, or an error that EXEC reports as EXECABORT. */
}

static void
claim_on_exec(struct rconn *rc, void *reply, void *priv)
{
	struct claim_dead	*d = priv;
	struct rbus_claim	*c = d->c;
	redisReply		*r = reply;
	char			 e[220];
	size_t			 i;

	if (r == NULL) {
		free(d);	/* not moved: pending still, again later */
		return;
	}
	if (rconn_reply_error(r, e, sizeof e))
		claim_failed(c, "MULTI/EXEC", e);
	else if (r->type != REDIS_REPLY_ARRAY)
		claim_failed(c, "EXEC", "aborted");
	else {
		for (i = 0; i < r->elements; i++) {
			if (rconn_reply_error(r->element[i], e, sizeof e)) {
				claim_failed(c, i == 0 ? "XADD" : "XACK", e);
				free(d);
				return;
			}
		}
		c->buried++;
		if (c->on_dead != NULL)
			c->on_dead(c->arg, d->id, d->deliveries, NULL);
	}
	free(d);
}

/*
 * XRANGE ID ID: the entry, copied to NAME:dead with its id and count and
 * acked, in one transaction. One deleted meanwhile is only acked.
 */
static void
claim_on_entry(struct rconn *rc, void *reply, void *priv)
{
	struct claim_dead	*d = priv;
	struct rbus_claim	*c = d->c;
	const struct redisurl	*u = c->src->u;
	redisReply		*r = reply, *fv;
	const char		**argv = NULL;
	size_t			*argvlen = NULL, i;
	const char		*ack[4] = { "XACK", u->name, u->group, d->id };
	const char		*multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
	char			 n[24], e[220];
	int			 argc = 0;

	if (r == NULL) {
		free(d);
		if (--c->moving == 0)
			c->busy = 0;
		return;
	}
	if (rconn_reply_error(r, e, sizeof e)) {
		claim_failed(c, "XRANGE", e);
		goto next;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements != 2 ||
	    (fv = r->element[0]->element[1])->type != REDIS_REPLY_ARRAY) {
		(void)rconn_command(rc, claim_on_queued, NULL, 4, ack, NULL);
		goto next;
	}
	if ((argv = calloc(fv->elements + 9, sizeof *argv)) == NULL ||
	    (argvlen = calloc(fv->elements + 9, sizeof *argvlen)) == NULL) {
		claim_failed(c, "dead letter", strerror(errno));
		goto next;
	}
#define ARG(p, l)	(argv[argc] = (p), argvlen[argc++] = (l))
	ARG("XADD", 4);
	ARG(c->dead, strlen(c->dead));
	ARG("*", 1);
	for (i = 0; i < fv->elements; i++)
		ARG(fv->element[i]->str, fv->element[i]->len);
	snprintf(n, sizeof n, "%" PRIu64, d->deliveries);
	ARG("id", 2);
	ARG(d->id, strlen(d->id));
	ARG("deliveries", 10);
	ARG(n, strlen(n));
#undef ARG
	if (rconn_command(rc, claim_on_queued, NULL, 1, multi, NULL) == -1 ||
	    rconn_command(rc, claim_on_queued, NULL, argc, argv,
	    argvlen) == -1 ||
	    rconn_command(rc, claim_on_queued, NULL, 4, ack, NULL) == -1 ||
	    rconn_command(rc, claim_on_exec, d, 1, exec, NULL) == -1) {
		claim_failed(c, "dead letter", strerror(errno));
		goto next;
	}
	d = NULL;	/* claim_on_exec's now */
next:
	free(argv);
	free(argvlen);
	free(d);
	claim_moved(c);
}

/* XPENDING ... IDLE: [[id, consumer, idle-ms, deliveries], ...]. */
static void
claim_on_pending(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_claim	*c = priv;
	const struct redisurl	*u = c->src->u;
	redisReply		*r = reply, *p;
	struct claim_dead	*d;
	const char		*argv[4];
	char			 e[220];
	size_t			 i;

	if (r == NULL) {
		c->busy = 0;
		return;
	}
	if (rconn_reply_error(r, e, sizeof e)) {
		claim_failed(c, "XPENDING", e);
		c->busy = 0;
		return;
	}
	c->moving = 1;		/* until every XRANGE is queued */
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		p = r->element[i];
		if (p->type != REDIS_REPLY_ARRAY || p->elements < 4 ||
		    p->element[0]->type != REDIS_REPLY_STRING ||
		    p->element[3]->type != REDIS_REPLY_INTEGER ||
		    p->element[3]->integer < (long long)u->max_deliveries ||
		    (d = calloc(1, sizeof *d)) == NULL)
			continue;
		d->c = c;
		d->deliveries = (uint64_t)p->element[3]->integer;
		snprintf(d->id, sizeof d->id, "%s", p->element[0]->str);
		argv[0] = "XRANGE";
		argv[1] = u->name;
		argv[2] = d->id;
		argv[3] = d->id;
		if (rconn_command(rc, claim_on_entry, d, 4, argv, NULL) == -1) {
			free(d);
			continue;
		}
		c->moving++;
	}
	claim_moved(c);
}

/* XAUTOCLAIM: [next cursor, [entries as XREADGROUP's], [deleted ids]]. */
static void
claim_on_claim(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_claim	*c = priv;
	struct rbus_source	*s = c->src;
	redisReply		*r = reply, *en, *id, *fv;
	char			 e[220];
	size_t			 i, j;

	c->busy = 0;
	if (r == NULL)
		return;
	if (rconn_reply_error(r, e, sizeof e)) {
		claim_failed(c, "XAUTOCLAIM", e);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < r->element[1]->elements; i++) {
		en = r->element[1]->element[i];
		if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
		    (id = en->element[0])->type != REDIS_REPLY_STRING)
			continue;
		if (c->held != NULL && c->held(c->arg, id->str)) {
			c->dropped++;
			continue;
		}
		c->claimed++;
		fv = en->element[1];
		for (j = 0; fv->type == REDIS_REPLY_ARRAY &&
		    j + 1 < fv->elements; j += 2) {
			if (fv->element[j]->type == REDIS_REPLY_STRING &&
			    strcmp(fv->element[j]->str, s->u->field) == 0 &&
			    fv->element[j + 1]->type == REDIS_REPLY_STRING)
				break;
		}
		if (fv->type == REDIS_REPLY_ARRAY && j + 1 < fv->elements) {
			s->lines++;
			s->on_line(s->arg, fv->element[j + 1]->str,
			    fv->element[j + 1]->len, id->str);
		} else if (s->on_bad != NULL) {
			s->missing++;
			s->on_bad(s->arg, id->str, "no such field");
		}
	}
	/* More to scan: the next round at once. */
	snprintf(c->cursor, sizeof c->cursor, "%s", r->element[0]->str);
	if (strcmp(c->cursor, "0-0") != 0)
		c->next_at = ev_now();
}

static void
claim_take(struct rbus_claim *c)
{
	struct rbus_source	*s = c->src;
	const char		*argv[9];
	char			 idle[32], count[16];

	snprintf(idle, sizeof idle, "%" PRId64, s->u->claim_idle_ms);
	snprintf(count, sizeof count, "%u", s->u->count);
	argv[0] = "XAUTOCLAIM";
	argv[1] = s->u->name;
	argv[2] = s->u->group;
	argv[3] = s->consumer;
	argv[4] = idle;
	argv[5] = c->cursor;
	argv[6] = "COUNT";
	argv[7] = count;
	if (rconn_command(&s->ack, claim_on_claim, c, 8, argv, NULL) == -1)
		c->busy = 0;
}

/*
 * A round, when one is due: not while the source is paused (what is
 * claimed is handed out at once) nor while its ack connection is down.
 */
void
rbus_claim_tick(struct rbus_claim *c)
{
	struct rbus_source	*s = c->src;
	const char		*argv[8];
	char			 idle[32], count[16];

	if (!c->on || c->busy || ev_now() < c->next_at)
		return;
	c->next_at = ev_now() + claim_every(c);
	if (s->paused || s->ack.state != RCONN_UP)
		return;
	c->busy = 1;
	if (s->u->max_deliveries == 0) {
		claim_take(c);
		return;
	}
	snprintf(idle, sizeof idle, "%" PRId64, s->u->claim_idle_ms);
	snprintf(count, sizeof count, "%u", s->u->count);
	argv[0] = "XPENDING";
	argv[1] = s->u->name;
	argv[2] = s->u->group;
	argv[3] = "IDLE";
	argv[4] = idle;
	argv[5] = "-";
	argv[6] = "+";
	argv[7] = count;	/* no COUNT word in this form */
	if (rconn_command(&s->ack, claim_on_pending, c, 8, argv, NULL) == -1)
		c->busy = 0;
}

#endif /* HAVE_HIREDIS */
