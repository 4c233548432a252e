/* SPDX-License-Identifier: ISC */
/*
 * rbus.c: Redis as an end of a pipeline. A sink takes lines (XADD,
 * LPUSH, PUBLISH), pipelined with a bounded number in flight, and resends
 * what a dropped connection left unanswered. A source hands out the
 * lines of a stream (XREAD), a list (BRPOP) or a channel (SUBSCRIBE) and
 * reads no more while paused. Neither prints: errors are in err, and
 * refusals go through a callback.
 */
#ifndef RBUS_H
#define RBUS_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "rconn.h"
#include "redisurl.h"

#define RBUS_WINDOW	256	/* commands in flight, at most */
#define RBUS_ACKMAX	256	/* entry ids in one XACK, at most */

struct rbus_item;

struct rbus_sink {
	const struct redisurl *u;
	struct rconn	 c;
	unsigned	 window;
	unsigned	 inflight;	/* sent, not answered */
	unsigned	 queued;	/* waiting for the connection */
	struct rbus_item *head, *tail;	/* queued, in order */
	struct rbus_item *rhead, *rtail;	/* to resend, in order */
	uint64_t	 sent;
	uint64_t	 stored;	/* answered OK */
	uint64_t	 refused;	/* answered with an error */
	uint64_t	 resent;
	uint64_t	 unheard;	/* PUBLISH with no subscriber */
	/* The command before the line, in RESP, built once. */
	char		 pre[REDISURL_NAMEMAX + 160];
	size_t		 prelen;
	/* A line Redis refused: its number and Redis's error. */
	void		(*on_refused)(void *, uint64_t, const char *);
	void		*arg;
	char		 err[256];
};

struct rbus_source {
	const struct redisurl *u;
	struct rconn	 c;		/* blocking reads, or SUBSCRIBE */
	int		 reading;	/* a read in flight */
	int		 paused;
	int		 ended;		/* until=now reached */
	int		 started;	/* the start id is known */
	int		 pel;		/* group: reading our own pending */
	char		 consumer[160];	/* group: ours (default host:pid) */
	int		 reliable;	/* list, ack=reply: BLMOVE */
	char		 proc[REDISURL_NAMEMAX + 176];	/* NAME:proc:consumer */
	struct rconn	 ack;		/* group: XACK, not behind a read */
	uint64_t	 acked;
	unsigned	 ackwait;	/* XACKs sent, not answered */
	char		 last[64];	/* the last id read (stream) */
	uint64_t	 until_ms, until_seq;
	int		 until_known;	/* group: until_ms/seq are set */
	int		 until_empty;	/* until=now on an empty stream */
	uint64_t	 lines;
	uint64_t	 missing;	/* entries without the field */
	/* A line (not NUL-terminated, no '\n'); id is NULL but in stream
	   mode. */
	void		(*on_line)(void *, const char *, size_t, const char *);
	/* An entry that is not a line: its id and why. */
	void		(*on_bad)(void *, const char *, const char *);
	void		*arg;
	char		 err[256];
};

int		 rbus_available(char *, size_t);

int		 rbus_sink_open(struct rbus_sink *, struct ev *,
		    const struct redisurl *, char *, size_t);
int		 rbus_sink_put(struct rbus_sink *, const char *, size_t,
		    uint64_t);
int		 rbus_sink_full(const struct rbus_sink *);
int		 rbus_sink_idle(const struct rbus_sink *);
int		 rbus_sink_failed(const struct rbus_sink *);
void		 rbus_sink_close(struct rbus_sink *);

int		 rbus_source_open(struct rbus_source *, struct ev *,
		    const struct redisurl *, char *, size_t);
void		 rbus_source_pause(struct rbus_source *, int);
int		 rbus_source_ack(struct rbus_source *, const char *);
int		 rbus_source_ack_item(struct rbus_source *, const char *,
		    size_t);
int		 rbus_source_ack_ids(struct rbus_source *, const char **,
		    size_t);
int		 rbus_source_failed(const struct rbus_source *);
void		 rbus_source_close(struct rbus_source *);

int64_t		 rbus_deadline(struct rbus_sink *, struct rbus_source *);
void		 rbus_tick(struct rbus_sink *, struct rbus_source *);

#endif
