/* SPDX-License-Identifier: ISC */
/*
 * redisurl.c: redis://[user:pass@]host[:port][/db]/NAME?opts and
 * redis+unix://[user:pass@]/path/to/sock/NAME?opts, parsed into one struct.
 * Pure: no I/O, no hiredis, so that it builds and is tested without Redis.
 */
#ifndef REDISURL_H
#define REDISURL_H

#include <stddef.h>
#include <stdint.h>

enum redisurl_mode { REDISURL_STREAM, REDISURL_LIST, REDISURL_PUBSUB };
enum redisurl_ack { REDISURL_ACK_DEFAULT, REDISURL_ACK_NONE,
    REDISURL_ACK_REPLY };

#define REDISURL_NAMEMAX	512
#define REDISURL_PORT		6379
#define REDISURL_COUNT		100	/* entries per XREAD(GROUP) */
#define REDISURL_BLOCK_MS	1000	/* a blocking read's BLOCK */

struct redisurl {
	int		 unix_;		/* redis+unix:// */
	char		 path[108];	/* unix: the socket */
	char		 host[256];	/* tcp: without brackets */
	int		 port;
	int		 db;		/* -1: none (SELECT not sent) */
	char		 user[128];	/* "" with a password: AUTH pass */
	char		 pass[256];	/* "": none given in the URL */
	int		 has_pass;
	char		 name[REDISURL_NAMEMAX];	/* the key or channel */
	enum redisurl_mode mode;
	char		 field[64];	/* stream entries' field ("msg") */
	char		 group[128];	/* "": no consumer group */
	char		 consumer[128];	/* "": host:pid */
	char		 from[64];	/* stream id to start after, "": $ */
	int		 until_now;	/* stop at the last entry at start */
	unsigned	 count;
	int64_t		 block_ms;
	uint64_t	 maxlen;	/* XADD MAXLEN, 0: none */
	int		 maxlen_approx;	/* ~ */
	enum redisurl_ack ack;
	int64_t		 claim_idle_ms;	/* 0: none */
	unsigned	 max_deliveries;	/* 0: none */
};

int		 redisurl_is(const char *);
int		 redisurl_parse(struct redisurl *, const char *, char *, size_t);
const char	*redisurl_mode_name(enum redisurl_mode);
size_t		 redisurl_pass_span(const char *, size_t *);

#endif
