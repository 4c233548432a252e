/* SPDX-License-Identifier: ISC */
/*
 * A Redis sink of lines (XADD, LPUSH, PUBLISH) on its own connection:
 * pipelined, with a bound on what is in flight, so that a stalled Redis
 * stops the caller's sources instead of growing hiredis's buffer; what a
 * dropped connection left unanswered is sent again (at least once), in
 * the order it was put, so that answers come in that order too.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbus.h"

#ifndef HAVE_HIREDIS

int
rbus_sink_open(struct rbus_sink *s, struct ev *ev, const struct redisurl *u,
    char *err, size_t len)
{
	memset(s, 0, sizeof *s);
	return rbus_available(err, len) ? 0 : -1;
}

int
rbus_sink_put(struct rbus_sink *s, const char *p, size_t n, uint64_t lineno)
{
	return 0;
}

int rbus_sink_full(const struct rbus_sink *s) { return 1; }
int rbus_sink_idle(const struct rbus_sink *s) { return 1; }
int rbus_sink_failed(const struct rbus_sink *s) { return 1; }
void rbus_sink_close(struct rbus_sink *s) { }

#else

#include <hiredis/hiredis.h>

struct rbus_item {
	struct rbus_item *next;
	struct rbus_sink *s;
	uint64_t	 lineno;
	size_t		 len;
	char		 data[];
};

static void	sink_flush(struct rbus_sink *);

static void
sink_append(struct rbus_item **head, struct rbus_item **tail,
    struct rbus_item *it)
{
	it->next = NULL;
	if (*tail != NULL)
		(*tail)->next = it;
	else
		*head = it;
	*tail = it;
}

static void
sink_on_reply(struct rconn *rc, void *reply, void *priv)
{
	struct rbus_item	*it = priv;
	struct rbus_sink	*s = it->s;
	redisReply		*r = reply;
	char			 e[220];

	s->inflight--;
	if (r == NULL) {
		/* Its fate is unknown: send it again once reconnected. */
		sink_append(&s->rhead, &s->rtail, it);
		s->queued++;
		return;
	}
	if (rconn_reply_error(r, e, sizeof e)) {
		s->refused++;
		if (s->on_refused != NULL)
			s->on_refused(s->arg, it->lineno, e);
	} else {
		s->stored++;
		if (r->type == REDIS_REPLY_INTEGER && r->integer == 0 &&
		    s->u->mode == REDISURL_PUBSUB)
			s->unheard++;
	}
	free(it);
}

static int
sink_send(struct rbus_sink *s, struct rbus_item *it)
{
	const struct redisurl	*u = s->u;
	const char		*argv[8];
	size_t			 argvlen[8];
	char			 maxlen[32];
	int			 argc = 0;

#define ARG(p, n)	(argv[argc] = (p), argvlen[argc++] = (n))
#define ARGS(p)		ARG(p, strlen(p))
	switch (u->mode) {
	case REDISURL_STREAM:
		ARGS("XADD");
		ARGS(u->name);
		if (u->maxlen != 0) {
			ARGS("MAXLEN");
			if (u->maxlen_approx)
				ARGS("~");
			snprintf(maxlen, sizeof maxlen, "%" PRIu64, u->maxlen);
			ARGS(maxlen);
		}
		ARGS("*");
		ARGS(u->field);
		break;
	case REDISURL_LIST:
		ARGS("LPUSH");
		ARGS(u->name);
		break;
	case REDISURL_PUBSUB:
		ARGS("PUBLISH");
		ARGS(u->name);
		break;
	}
	ARG(it->data, it->len);
#undef ARG
#undef ARGS
	return rconn_command(&s->c, sink_on_reply, it, argc, argv, argvlen);
}

static void
sink_flush(struct rbus_sink *s)
{
	struct rbus_item	**head, **tail, *it;

	if (s->c.state != RCONN_UP)
		return;
	for (;;) {
		if (s->rhead != NULL) {
			head = &s->rhead;
			tail = &s->rtail;
		} else if (s->head != NULL) {
			head = &s->head;
			tail = &s->tail;
		} else
			return;
		it = *head;
		if (sink_send(s, it) == -1)
			return;
		if ((*head = it->next) == NULL)
			*tail = NULL;
		if (head == &s->rhead)
			s->resent++;
		s->queued--;
		s->inflight++;
		s->sent++;
	}
}

static void
sink_up(struct rconn *rc, void *arg)
{
	sink_flush(arg);
}

int
rbus_sink_open(struct rbus_sink *s, struct ev *ev, const struct redisurl *u,
    char *err, size_t len)
{
	memset(s, 0, sizeof *s);
	s->u = u;
	s->window = RBUS_WINDOW;
	if (rconn_init(&s->c, ev, u, "write", err, len) == -1)
		return -1;
	s->c.on_up = sink_up;
	s->c.arg = s;
	if (rconn_connect(&s->c) == -1) {
		snprintf(err, len, "%s", s->c.err);
		return -1;
	}
	return 0;
}

/* Take a line (without its '\n'): 1, or 0 when the window is full. */
int
rbus_sink_put(struct rbus_sink *s, const char *p, size_t n, uint64_t lineno)
{
	struct rbus_item	*it;

	if (rbus_sink_full(s))
		return 0;
	if ((it = malloc(sizeof *it + n)) == NULL)
		return -1;
	it->s = s;
	it->lineno = lineno;
	it->len = n;
	memcpy(it->data, p, n);
	sink_append(&s->head, &s->tail, it);
	s->queued++;
	sink_flush(s);
	return 1;
}

int
rbus_sink_full(const struct rbus_sink *s)
{
	return s->inflight + s->queued >= s->window;
}

int
rbus_sink_idle(const struct rbus_sink *s)
{
	return s->inflight == 0 && s->queued == 0;
}

int
rbus_sink_failed(const struct rbus_sink *s)
{
	return s->c.state == RCONN_FAILED;
}

static void
sink_free_list(struct rbus_item *it)
{
	struct rbus_item	*next;

	for (; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
}

void
rbus_sink_close(struct rbus_sink *s)
{
	rconn_close(&s->c);
	sink_free_list(s->rhead);
	sink_free_list(s->head);
	s->rhead = s->rtail = s->head = s->tail = NULL;
}

#endif /* HAVE_HIREDIS */
