/* SPDX-License-Identifier: ISC */
/*
 * Redis ends: a source of lines on a connection of its own (a blocked
 * read would hold up every command behind it on the same one), and a
 * second one for its acks; the sink is rbus_sink.c.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbus.h"

#define NOT_BUILT	"this ipcrun was built without Redis (hiredis): " \
			"install libhiredis-dev ('make deps') and rebuild"

#ifndef HAVE_HIREDIS

int
rbus_available(char *err, size_t len)
{
	snprintf(err, len, "%s", NOT_BUILT);
	return 0;
}

int
rbus_source_open(struct rbus_source *s, struct ev *ev,
    const struct redisurl *u, char *err, size_t len)
{
	memset(s, 0, sizeof *s);
	return rbus_available(err, len) ? 0 : -1;
}

void rbus_source_pause(struct rbus_source *s, int on) { }
int rbus_source_ack(struct rbus_source *s, const char *id) { return -1; }
int rbus_source_ack_item(struct rbus_source *s, const char *p, size_t n)
{ return -1; }
int rbus_source_ack_ids(struct rbus_source *s, const char **ids, size_t n)
{ return -1; }
int rbus_source_failed(const struct rbus_source *s) { return 1; }
void rbus_source_close(struct rbus_source *s) { }
int64_t rbus_deadline(struct rbus_sink *s, struct rbus_source *src)
{ return INT64_MAX; }
void rbus_tick(struct rbus_sink *s, struct rbus_source *src) { }

#else

#include <hiredis/hiredis.h>

#include <unistd.h>

int
rbus_available(char *err, size_t len)
{
	return 1;
}

/* --- the source --- */

/* Has it a second connection, for acks? */
static int
source_acks(const struct rbus_source *s)
{
	return s->u->group[0] != '\0' || s->reliable;
}

static void	source_read(struct rbus_source *);
static void	source_group_read(struct rbus_source *);
static void	source_recover(struct rbus_source *);
int		rbus_source_ack(struct rbus_source *, const char *);

static void
source_fail(struct rbus_source *s, const char *what, const char *e)
{
	snprintf(s->err, sizeof s->err, "%s: %s", what, e);
	rconn_close(&s->c);
}

static int
parse_id(const char *id, uint64_t *ms, uint64_t *seq)
{
	char	*end;

	*ms = strtoull(id, &end, 10);
	*seq = 0;
	if (*end == '-')
		*seq = strtoull(end + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* A stream entry [id, [f, v, ...]]: 1 when until=now ends before it. */
static int
source_entry(struct rbus_source *s, redisReply *e)
{
	redisReply	*id, *fv;
	uint64_t	 ms, seq;
	size_t		 i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	id = e->element[0];
	if (s->u->until_now && parse_id(id->str, &ms, &seq) == 0 &&
	    (ms > s->until_ms || (ms == s->until_ms && seq > s->until_seq))) {
		/* A group's entry is ours once read: it is handed out,
		   and the read after it is not sent. */
		if (s->u->group[0] == '\0')
			return 1;
		s->ended = 1;
	}
	snprintf(s->last, sizeof s->last, "%s", id->str);
	fv = e->element[1];
	/* A deleted or trimmed pending entry comes as [id, nil]. */
	if (fv->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i + 1 < fv->elements; i += 2) {
			if (fv->element[i]->type == REDIS_REPLY_STRING &&
			    strcmp(fv->element[i]->str, s->u->field) == 0 &&
			    fv->element[i + 1]->type == REDIS_REPLY_STRING) {
				s->lines++;
				s->on_line(s->arg, fv->element[i + 1]->str,
				    fv->element[i + 1]->len, id->str);
				return 0;
			}
		}
	}
	s->missing++;
	if (fv->type != REDIS_REPLY_ARRAY) {
		/* Deleted or trimmed while pending: nothing to hand out. */
		(void)rbus_source_ack(s, id->str);
		return 0;
	}
	if (s->on_bad != NULL)
		s->on_bad(s->arg, id->str, "no such field");
	return 0;
}

static void
source_on_read(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_source	*s = priv;
	redisReply		*r = reply, *entries;
	char			 e[220];
	size_t			 i;

	s->reading = 0;
	if (r == NULL)
		return;		/* reconnecting: the read is sent again */
	if (rconn_reply_error(r, e, sizeof e)) {
		source_fail(s, s->u->mode == REDISURL_STREAM ? "XREAD" :
		    "RPOP", e);
		return;
	}
	switch (s->u->mode) {
	case REDISURL_STREAM:
		if (r->type == REDIS_REPLY_NIL) {
			/* until=now reads a group without BLOCK: nothing is
			   left for the group to hand out. */
			if (s->u->until_now && s->u->group[0] != '\0' &&
			    !s->pel)
				s->ended = 1;
			break;		/* BLOCK timed out */
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
		    r->element[0]->type != REDIS_REPLY_ARRAY ||
		    r->element[0]->elements != 2)
			break;
		entries = r->element[0]->element[1];
		if (s->pel && entries->elements == 0)
			s->pel = 0;	/* our pending entries are all read */
		for (i = 0; i < entries->elements; i++) {
			if (source_entry(s, entries->element[i])) {
				s->ended = 1;
				break;
			}
		}
		if (s->u->until_now && s->u->group[0] == '\0' &&
		    strcmp(s->last, "") != 0) {
			uint64_t ms, seq;
			if (parse_id(s->last, &ms, &seq) == 0 &&
			    ms == s->until_ms && seq == s->until_seq)
				s->ended = 1;
		}
		break;
	case REDISURL_LIST:
		if (r->type == REDIS_REPLY_NIL) {
			if (s->u->until_now)
				s->ended = 1;	/* RPOP: the list is empty */
			break;
		}
		if (r->type == REDIS_REPLY_STRING) {	/* (B)LMOVE */
			s->lines++;
			s->on_line(s->arg, r->str, r->len, NULL);
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY)
			break;
		/* BRPOP: [key, value]; RPOP key n: [value, ...]. */
		for (i = s->u->until_now ? 0 : 1; i < r->elements; i++) {
			if (r->element[i]->type != REDIS_REPLY_STRING)
				continue;
			s->lines++;
			s->on_line(s->arg, r->element[i]->str,
			    r->element[i]->len, NULL);
		}
		break;
	case REDISURL_PUBSUB:
		break;
	}
	source_read(s);
}

/*
 * On a subscribed connection anything but a message is skipped: 0.14
 * delivers a PING's answer here, and no other command may be sent.
 */
static void
source_on_message(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_source	*s = priv;
	redisReply		*r = reply;
	char			 e[220];

	if (r == NULL)
		return;
	if (rconn_reply_error(r, e, sizeof e)) {
		source_fail(s, "SUBSCRIBE", e);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message") != 0 ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return;
	s->lines++;
	s->on_line(s->arg, r->element[2]->str, r->element[2]->len, NULL);
}

static void
source_read(struct rbus_source *s)
{
	const struct redisurl	*u = s->u;
	const char		*argv[14];
	char			 count[16], block[32];
	int			 argc = 0;

	if (s->reading || s->paused || s->ended || !s->started ||
	    s->c.state != RCONN_UP || u->mode == REDISURL_PUBSUB)
		return;
	snprintf(count, sizeof count, "%u", u->count);
	if (u->mode == REDISURL_STREAM && u->group[0] != '\0') {
		/*
		 * Our own pending entries first (after a restart: `>` never
		 * gives them again), from the last one read, then new ones.
		 */
		snprintf(block, sizeof block, "%" PRId64, u->block_ms);
		argv[argc++] = "XREADGROUP";
		argv[argc++] = "GROUP";
		argv[argc++] = u->group;
		argv[argc++] = s->consumer;
		argv[argc++] = "COUNT";
		argv[argc++] = count;
		if (!s->pel && !u->until_now) {
			argv[argc++] = "BLOCK";
			argv[argc++] = block;
		}
		argv[argc++] = "STREAMS";
		argv[argc++] = u->name;
		argv[argc++] = s->pel ? s->last : ">";
	} else if (u->mode == REDISURL_STREAM) {
		snprintf(block, sizeof block, "%" PRId64, u->block_ms);
		argv[argc++] = "XREAD";
		argv[argc++] = "COUNT";
		argv[argc++] = count;
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
		argv[argc++] = "STREAMS";
		argv[argc++] = u->name;
		argv[argc++] = s->last;
	} else if (s->reliable) {
		/* Into our list, where it stays until acked (LREM). */
		snprintf(block, sizeof block, "%.3f",
		    (double)u->block_ms / 1000);
		argv[argc++] = u->until_now ? "LMOVE" : "BLMOVE";
		argv[argc++] = u->name;
		argv[argc++] = s->proc;
		argv[argc++] = "RIGHT";
		argv[argc++] = "LEFT";
		if (!u->until_now)
			argv[argc++] = block;
	} else if (u->until_now) {
		argv[argc++] = "RPOP";
		argv[argc++] = u->name;
		argv[argc++] = count;
	} else {
		/* BRPOP's timeout is in seconds, as a float. */
		snprintf(block, sizeof block, "%.3f",
		    (double)u->block_ms / 1000);
		argv[argc++] = "BRPOP";
		argv[argc++] = u->name;
		argv[argc++] = block;
	}
	if (rconn_command(&s->c, source_on_read, s, argc, argv, NULL) == 0)
		s->reading = 1;
}

/* XREVRANGE NAME + - COUNT 1: the stream's last id, for $ and until=now. */
static void
source_on_top(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_source	*s = priv;
	redisReply		*r = reply;
	const char		*top = "0-0";
	char			 e[220];

	if (r == NULL)
		return;		/* asked again once reconnected */
	if (rconn_reply_error(r, e, sizeof e)) {
		source_fail(s, "XREVRANGE", e);
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements > 0 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		top = r->element[0]->element[0]->str;
	if (s->u->group[0] != '\0') {
		/* until=now in a group: the top at the start, once. */
		(void)parse_id(top, &s->until_ms, &s->until_seq);
		s->until_known = 1;
		source_group_read(s);
		return;
	}
	if (s->u->from[0] == '\0' || strcmp(s->u->from, "$") == 0)
		snprintf(s->last, sizeof s->last, "%s", top);
	else
		snprintf(s->last, sizeof s->last, "%s", s->u->from);
	if (s->u->until_now) {
		(void)parse_id(top, &s->until_ms, &s->until_seq);
		/* Nothing past the start point: nothing to read. */
		if (strcmp(s->last, top) == 0 || strcmp(top, "0-0") == 0)
			s->ended = 1;
	}
	s->started = 1;
	source_read(s);
}

/* Each connection of a group starts with our own pending entries. */
static void
source_group_read(struct rbus_source *s)
{
	s->pel = 1;
	snprintf(s->last, sizeof s->last, "0");
	s->started = 1;
	source_read(s);
}

static void
source_on_group(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_source	*s = priv;
	const char		*argv[6] = { "XREVRANGE", s->u->name, "+", "-",
				    "COUNT", "1" };
	char			 e[220];

	if (reply == NULL)
		return;
	if (rconn_reply_error(reply, e, sizeof e) &&
	    strncmp(e, "BUSYGROUP", 9) != 0) {
		source_fail(s, "XGROUP CREATE", e);
		return;
	}
	/*
	 * until=now: the stream's last entry at the start is where the
	 * group's reading ends (asked once, on the first connection).
	 */
	if (s->u->until_now && !s->until_known) {
		if (rconn_command(rc, source_on_top, s, 6, argv, NULL) == -1)
			source_fail(s, "XREVRANGE", strerror(errno));
		return;
	}
	source_group_read(s);
}

static void
source_on_ack(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_source	*s = priv;

	s->ackwait--;
	/* Lost with the connection: the entry stays pending, and comes
	   again (at least once). */
	if (reply != NULL && !rconn_reply_error(reply, s->err, 0))
		s->acked++;
}

/* A batch's XACK: n entries no longer wait for it, answered or lost. */
struct ack_batch {
	struct rbus_source *s;
	size_t		 n;
};

static void
source_on_acks(struct rconn *rc, void *reply, void *priv)
{
	struct ack_batch	*b = priv;
	redisReply		*r = reply;

	b->s->ackwait -= b->n;
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		b->s->acked += (uint64_t)r->integer;
	free(b);
}

/*
 * n entry ids (at most RBUS_ACKMAX) in one XACK: a command per entry
 * costs Redis and the loop more than the rest of the consuming.
 * ackwait counts entries, as rbus_source_ack's do.
 */
int
rbus_source_ack_ids(struct rbus_source *s, const char **ids, size_t n)
{
	const char		*argv[3 + RBUS_ACKMAX];
	struct ack_batch	*b;
	size_t			 i;

	if (s->u->group[0] == '\0' || n == 0)
		return 0;
	if (n > RBUS_ACKMAX || s->ack.state != RCONN_UP ||
	    (b = malloc(sizeof *b)) == NULL)
		return -1;
	argv[0] = "XACK";
	argv[1] = s->u->name;
	argv[2] = s->u->group;
	for (i = 0; i < n; i++)
		argv[3 + i] = ids[i];
	b->s = s;
	b->n = n;
	if (rconn_command(&s->ack, source_on_acks, b, (int)(3 + n), argv,
	    NULL) == -1) {
		free(b);
		return -1;
	}
	s->ackwait += n;
	return 0;
}

/*
 * The entry id is done with (its line is out): XACK it on the other
 * connection, which no blocked read holds up. -1 when that connection
 * is down; the entry then stays pending.
 */
int
rbus_source_ack(struct rbus_source *s, const char *id)
{
	const char	*argv[4];

	if (s->u->group[0] == '\0')
		return 0;
	argv[0] = "XACK";
	argv[1] = s->u->name;
	argv[2] = s->u->group;
	argv[3] = id;
	if (s->ack.state != RCONN_UP)
		return -1;
	if (rconn_command(&s->ack, source_on_ack, s, 4, argv, NULL) == -1)
		return -1;
	s->ackwait++;
	return 0;
}

/*
 * What a run before ours with this consumer name left in its list, back
 * to the queue's end that is read first, the oldest last: LMOVE until
 * none is left. Once, at the start: later, the list holds our own.
 */
static void
source_on_recover(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_source	*s = priv;
	char			 e[220];

	if (reply == NULL)
		return;		/* again once reconnected */
	if (rconn_reply_error(reply, e, sizeof e)) {
		source_fail(s, "LMOVE", e);
		return;
	}
	if (((redisReply *)reply)->type != REDIS_REPLY_NIL) {
		source_recover(s);
		return;
	}
	s->started = 1;
	source_read(s);
}

static void
source_recover(struct rbus_source *s)
{
	const char	*argv[5] = { "LMOVE", s->proc, s->u->name, "LEFT",
			    "RIGHT" };

	if (rconn_command(&s->c, source_on_recover, s, 5, argv, NULL) == -1)
		source_fail(s, "LMOVE", strerror(errno));
}

/* An item of a reliable list is done with: out of our list (LREM). */
int
rbus_source_ack_item(struct rbus_source *s, const char *p, size_t n)
{
	const char	*argv[4] = { "LREM", s->proc, "1", p };
	size_t		 len[4] = { 4, strlen(s->proc), 1, n };

	if (s->ack.state != RCONN_UP)
		return -1;
	if (rconn_command(&s->ack, source_on_ack, s, 4, argv, len) == -1)
		return -1;
	s->ackwait++;
	return 0;
}

static void
source_up(struct rconn *rc, void *arg)
{
	struct rbus_source	*s = arg;
	const char		*argv[6];

	s->reading = 0;
	switch (s->u->mode) {
	case REDISURL_PUBSUB:
		argv[0] = "SUBSCRIBE";
		argv[1] = s->u->name;
		if (rconn_subscribe(rc, source_on_message, s, 2, argv) == -1)
			source_fail(s, "SUBSCRIBE", strerror(errno));
		break;
	case REDISURL_STREAM:
		if (s->u->group[0] != '\0') {
			/* Again on every connection: a restart without
			   persistence loses it. BUSYGROUP is success. */
			argv[0] = "XGROUP";
			argv[1] = "CREATE";
			argv[2] = s->u->name;
			argv[3] = s->u->group;
			argv[4] = s->u->from[0] != '\0' ? s->u->from : "0";
			argv[5] = "MKSTREAM";
			if (rconn_command(rc, source_on_group, s, 6, argv,
			    NULL) == -1)
				source_fail(s, "XGROUP", strerror(errno));
			break;
		}
		if (s->started) {
			source_read(s);
			break;
		}
		argv[0] = "XREVRANGE";
		argv[1] = s->u->name;
		argv[2] = "+";
		argv[3] = "-";
		argv[4] = "COUNT";
		argv[5] = "1";
		if (rconn_command(rc, source_on_top, s, 6, argv, NULL) == -1)
			source_fail(s, "XREVRANGE", strerror(errno));
		break;
	case REDISURL_LIST:
		if (s->reliable && !s->started) {
			source_recover(s);
			break;
		}
		s->started = 1;
		source_read(s);
		break;
	}
}

int
rbus_source_open(struct rbus_source *s, struct ev *ev,
    const struct redisurl *u, char *err, size_t len)
{
	memset(s, 0, sizeof *s);
	s->u = u;
	if (rconn_init(&s->c, ev, u, "read", err, len) == -1)
		return -1;
	s->c.on_up = source_up;
	s->c.arg = s;
	s->reliable = u->mode == REDISURL_LIST && u->ack == REDISURL_ACK_REPLY;
	if (u->group[0] != '\0' || s->reliable) {
		if (u->consumer[0] != '\0')
			snprintf(s->consumer, sizeof s->consumer, "%s",
			    u->consumer);
		else {
			char host[128];
			if (gethostname(host, sizeof host) == -1)
				snprintf(host, sizeof host, "localhost");
			host[sizeof host - 1] = '\0';
			snprintf(s->consumer, sizeof s->consumer, "%s:%ld",
			    host, (long)getpid());
		}
		snprintf(s->proc, sizeof s->proc, "%s:proc:%s", u->name,
		    s->consumer);
		if (rconn_init(&s->ack, ev, u, "ack", err, len) == -1)
			return -1;
		if (rconn_connect(&s->ack) == -1) {
			snprintf(err, len, "%s", s->ack.err);
			return -1;
		}
	}
	if (rconn_connect(&s->c) == -1) {
		snprintf(err, len, "%s", s->c.err);
		rconn_close(&s->ack);
		return -1;
	}
	return 0;
}

/*
 * Stop or resume. A read already sent still delivers (at most COUNT
 * lines); a channel's socket is left unread, and the server holds its
 * messages up to its pubsub output limit, then drops the subscriber.
 */
void
rbus_source_pause(struct rbus_source *s, int on)
{
	if (s->paused == on)
		return;
	s->paused = on;
	if (s->u->mode == REDISURL_PUBSUB)
		rconn_pause(&s->c, on);
	else if (!on)
		source_read(s);
}

int
rbus_source_failed(const struct rbus_source *s)
{
	return s->c.state == RCONN_FAILED || (source_acks(s) &&
	    s->ack.state == RCONN_FAILED);
}

void
rbus_source_close(struct rbus_source *s)
{
	rconn_close(&s->c);
	if (s->u != NULL && source_acks(s))
		rconn_close(&s->ack);
}

int64_t
rbus_deadline(struct rbus_sink *s, struct rbus_source *src)
{
	int64_t	d = INT64_MAX, e;

	if (s != NULL && (e = rconn_deadline(&s->c)) < d)
		d = e;
	if (src != NULL && (e = rconn_deadline(&src->c)) < d)
		d = e;
	if (src != NULL && source_acks(src) &&
	    (e = rconn_deadline(&src->ack)) < d)
		d = e;
	return d;
}

void
rbus_tick(struct rbus_sink *s, struct rbus_source *src)
{
	int64_t	now = ev_now();

	if (s != NULL)
		rconn_tick(&s->c, now);
	if (src != NULL)
		rconn_tick(&src->c, now);
	if (src != NULL && source_acks(src))
		rconn_tick(&src->ack, now);
}

#endif /* HAVE_HIREDIS */
