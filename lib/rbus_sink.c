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

/* A line queued or in flight, as its whole command in RESP. */
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

/*
 * The command's words before the line, in RESP, once: formatting each
 * command through hiredis (sdscatfmt) was a fifth of pub's instructions.
 */
static int
sink_prefix(struct rbus_sink *s)
{
	const struct redisurl	*u = s->u;
	const char		*argv[8];
	char			 maxlen[32];
	size_t			 off;
	int			 argc = 0, i, n;

#define ARGS(p)		(argv[argc++] = (p))
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
#undef ARGS
	n = snprintf(s->pre, sizeof s->pre, "*%d\r\n", argc + 1);
	for (i = 0; i < argc; i++) {
		off = (size_t)n;
		if (off >= sizeof s->pre)
			return -1;
		n += snprintf(s->pre + off, sizeof s->pre - off,
		    "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	}
	if ((size_t)n >= sizeof s->pre)
		return -1;
	s->prelen = (size_t)n;
	return 0;
}

static int
sink_send(struct rbus_sink *s, struct rbus_item *it)
{
	return rconn_formatted(&s->c, sink_on_reply, it, it->data, it->len);
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
	if (sink_prefix(s) == -1) {
		snprintf(err, len, "the command is too long");
		return -1;
	}
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

/* "$n\r\n", a bulk string's head, into p (32 bytes): its length. */
static size_t
bulk_head(char *p, size_t n)
{
	char	 d[24];
	size_t	 k = 0, i = 0;

	do
		d[k++] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	p[i++] = '$';
	while (k > 0)
		p[i++] = d[--k];
	p[i++] = '\r';
	p[i++] = '\n';
	return i;
}

/* Take a line (without its '\n'): 1, or 0 when the window is full. */
int
rbus_sink_put(struct rbus_sink *s, const char *p, size_t n, uint64_t lineno)
{
	struct rbus_item	*it;
	char			 head[32];
	size_t			 h;

	if (rbus_sink_full(s))
		return 0;
	h = bulk_head(head, n);
	if ((it = malloc(sizeof *it + s->prelen + h + n + 2)) == NULL)
		return -1;
	it->s = s;
	it->lineno = lineno;
	memcpy(it->data, s->pre, s->prelen);
	memcpy(it->data + s->prelen, head, h);
	memcpy(it->data + s->prelen + h, p, n);
	memcpy(it->data + s->prelen + h + n, "\r\n", 2);
	it->len = s->prelen + h + n + 2;
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
