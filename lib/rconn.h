/* SPDX-License-Identifier: ISC */
/*
 * rconn.c: one connection to Redis, hiredis's async API driven by ev (no
 * second loop): connect, AUTH, SELECT and a PING before it counts as up;
 * reconnection with backoff once it has been up. Only lib/rconn.c,
 * lib/rbus.c, lib/rbus_sink.c and lib/rbus_claim.c include hiredis.
 */
#ifndef RCONN_H
#define RCONN_H

#include <stdint.h>

#include "ev.h"
#include "redisurl.h"

enum rconn_state {
	RCONN_DOWN,		/* not connected; retry at retry_at */
	RCONN_CONNECTING,	/* AUTH/SELECT/PING not answered yet */
	RCONN_UP,
	RCONN_FAILED		/* for good: err says why */
};

#define RCONN_CONNECT_MS	5000	/* the first answer, at most */
#define RCONN_BACKOFF_MIN_MS	100
#define RCONN_BACKOFF_MAX_MS	5000

struct rconn;
/* reply is a redisReply *, or NULL when the connection went away. */
typedef void	(*rconn_cb)(struct rconn *, void *reply, void *priv);

struct rconn {
	struct ev	*ev;
	const struct redisurl *u;
	const char	*role;		/* "read", "write": for reports */
	char		 ip[64];	/* resolved once, before the loop */
	void		*ac;		/* redisAsyncContext, or NULL */
	int		 fd;
	short		 want;		/* what hiredis asks poll for */
	int		 paused;	/* do not read (backpressure) */
	enum rconn_state state;
	int		 was_up;	/* a drop now means reconnect */
	int64_t		 deadline;	/* CONNECTING: the answer's, ns */
	int64_t		 retry_at;	/* DOWN: the next attempt, ns */
	int64_t		 backoff_ms;
	unsigned	 drops;		/* connections lost after being up */
	char		 err[256];	/* the last error */
	void		(*on_up)(struct rconn *, void *);
	void		(*on_down)(struct rconn *, void *);
	void		*arg;
	void		*subcall;	/* SUBSCRIBE's callback, kept */
};

int		 rconn_init(struct rconn *, struct ev *, const struct redisurl *,
		    const char *, char *, size_t);
int		 rconn_connect(struct rconn *);
void		 rconn_close(struct rconn *);
int		 rconn_command(struct rconn *, rconn_cb, void *, int,
		    const char **, const size_t *);
int		 rconn_formatted(struct rconn *, rconn_cb, void *, const char *,
		    size_t);
int		 rconn_subscribe(struct rconn *, rconn_cb, void *, int,
		    const char **);
void		 rconn_pause(struct rconn *, int);
int64_t		 rconn_deadline(const struct rconn *);
void		 rconn_tick(struct rconn *, int64_t);
int		 rconn_reply_error(void *, char *, size_t);
void		 rconn_drop(struct rconn *, const char *);

#endif
