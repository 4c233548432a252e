/* SPDX-License-Identifier: ISC */
/*
 * A Redis connection on ipcrun's own poll loop. hiredis 0.14 has no
 * timers, no timeouts and no reconnection, and calls its hooks from
 * inside its own functions: the hooks here only set poll bits, and every
 * deadline is ours (rconn_deadline, rconn_tick). The order of the set-up
 * and what may be freed where are hiredis's traps (see the comments).
 */
#include "compat.h"

#ifdef HAVE_HIREDIS

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "rconn.h"

#define MSEC_NS	INT64_C(1000000)

struct rconn_call {
	struct rconn	*rc;
	rconn_cb	 cb;
	void		*priv;
};

static void	rconn_lost(struct rconn *);

/* The set-up commands, as their callback's privdata. */
static char	s_auth[] = "AUTH", s_select[] = "SELECT", s_ping[] = "PING";

static void
rconn_poll(struct rconn *rc)
{
	if (rc->fd != -1)
		ev_set(rc->ev, rc->fd, rc->paused ? rc->want & ~POLLIN :
		    rc->want);
}

static void
hook_add_read(void *d)
{
	struct rconn	*rc = d;

	rc->want |= POLLIN;
	rconn_poll(rc);
}

static void
hook_del_read(void *d)
{
	struct rconn	*rc = d;

	rc->want &= ~POLLIN;
	rconn_poll(rc);
}

static void
hook_add_write(void *d)
{
	struct rconn	*rc = d;

	rc->want |= POLLOUT;
	rconn_poll(rc);
}

static void
hook_del_write(void *d)
{
	struct rconn	*rc = d;

	rc->want &= ~POLLOUT;
	rconn_poll(rc);
}

/* hiredis is freeing the context: forget it and its fd. */
static void
hook_cleanup(void *d)
{
	struct rconn	*rc = d;

	if (rc->fd != -1)
		ev_del(rc->ev, rc->fd);
	rc->fd = -1;
	rc->want = 0;
	rc->ac = NULL;
}

static void
rconn_on_io(struct ev *ev, int fd, short revents, void *arg)
{
	struct rconn		*rc = arg;
	redisAsyncContext	*ac = rc->ac;

	if (ac == NULL)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		redisAsyncHandleRead(ac);
	/* Either call may run callbacks that free the context. */
	if (rc->ac == ac && (revents & POLLOUT))
		redisAsyncHandleWrite(ac);
}

static void
rconn_set_err(struct rconn *rc, const char *what, const char *why)
{
	snprintf(rc->err, sizeof rc->err, "%s%s%s", what, *what ? ": " : "",
	    why != NULL && *why != '\0' ? why : "connection lost");
}

/*
 * A failed connect: hiredis frees the context itself after this returns
 * (freeing it here crashes), and onDisconnect is not called.
 */
static void
rconn_on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn	*rc = ac->data;

	if (status == REDIS_OK)
		return;
	rconn_set_err(rc, "", ac->errstr);
	rc->ac = NULL;
	rconn_lost(rc);
}

/* Only drop the pointer: the context is freed when this returns. */
static void
rconn_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn	*rc = ac->data;

	if (status != REDIS_OK || rc->err[0] == '\0')
		rconn_set_err(rc, "", ac->errstr);
	rc->ac = NULL;
	rconn_lost(rc);
}

static void
rconn_lost(struct rconn *rc)
{
	int64_t	now = ev_now();

	rc->ac = NULL;
	if (rc->state == RCONN_FAILED)
		return;
	if (!rc->was_up) {
		rc->state = RCONN_FAILED;
		return;
	}
	if (rc->state == RCONN_UP) {
		rc->drops++;
		rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
	}
	rc->state = RCONN_DOWN;
	rc->retry_at = now + rc->backoff_ms * MSEC_NS;
	if (rc->backoff_ms < RCONN_BACKOFF_MAX_MS)
		rc->backoff_ms *= 2;
	if (rc->on_down != NULL)
		rc->on_down(rc, rc->arg);
}

/* An error reply's text, or 0 when reply is not one. */
int
rconn_reply_error(void *reply, char *buf, size_t len)
{
	redisReply	*r = reply;

	if (r == NULL || r->type != REDIS_REPLY_ERROR)
		return 0;
	snprintf(buf, len, "%.*s", (int)(r->len > 150 ? 150 : r->len),
	    r->str);
	return 1;
}

/*
 * Give up the connection for good with err set, from anywhere, even a
 * reply callback (freeing there is deferred by hiredis; in onConnect and
 * onDisconnect it is not, and those never call this).
 */
static void
rconn_fail(struct rconn *rc)
{
	redisAsyncContext	*ac = rc->ac;

	rc->state = RCONN_FAILED;
	if (ac != NULL)
		redisAsyncFree(ac);
}

static void
rconn_on_setup(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rconn	*rc = ac->data;
	const char	*what = priv;
	char		 e[160];

	if (reply == NULL || rc->state != RCONN_CONNECTING)
		return;
	if (!rconn_reply_error(reply, e, sizeof e)) {
		if (strcmp(what, "PING") == 0) {
			rc->state = RCONN_UP;
			rc->was_up = 1;
			rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
			rc->err[0] = '\0';
			if (rc->on_up != NULL)
				rc->on_up(rc, rc->arg);
		}
		return;
	}
	/* A server still loading its data after a restart: try again. */
	if (rc->was_up && strncmp(e, "LOADING", 7) == 0) {
		rconn_drop(rc, e);
		return;
	}
	/* A refused AUTH keeps the old identity: nothing after it may run. */
	if (strcmp(what, "AUTH") == 0)
		snprintf(rc->err, sizeof rc->err, "authentication failed: %s",
		    e);
	else if (strncmp(e, "NOAUTH", 6) == 0)
		snprintf(rc->err, sizeof rc->err, "%s (give the password in "
		    "REDISCLI_AUTH or the address)", e);
	else
		snprintf(rc->err, sizeof rc->err, "%s: %s", what, e);
	rc->was_up = 0;
	rconn_fail(rc);
}

/*
 * Resolve the host now, before the loop: hiredis would call getaddrinfo,
 * which blocks, on every connect. Returns -1 with err set.
 */
int
rconn_init(struct rconn *rc, struct ev *ev, const struct redisurl *u,
    const char *role, char *err, size_t len)
{
	struct addrinfo	 hints, *res;
	int		 e;

	memset(rc, 0, sizeof *rc);
	rc->ev = ev;
	rc->u = u;
	rc->role = role;
	rc->fd = -1;
	rc->backoff_ms = RCONN_BACKOFF_MIN_MS;
	if (u->unix_)
		return 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(u->host, NULL, &hints, &res)) != 0) {
		snprintf(err, len, "%s: %s", u->host, gai_strerror(e));
		return -1;
	}
	e = getnameinfo(res->ai_addr, res->ai_addrlen, rc->ip, sizeof rc->ip,
	    NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (e != 0) {
		snprintf(err, len, "%s: %s", u->host, gai_strerror(e));
		return -1;
	}
	return 0;
}

/*
 * Start a connection: -1 when it failed at once (err set; the state says
 * whether to retry), 0 when under way. The hooks are attached before the
 * connect callback is set, or hiredis would wait for a first command
 * before it notices the connect.
 */
int
rconn_connect(struct rconn *rc)
{
	redisAsyncContext	*ac;
	const char		*argv[3];
	char			 db[16];
	int			 argc;

	rc->err[0] = '\0';
	if (rc->u->unix_)
		ac = redisAsyncConnectUnix(rc->u->path);
	else
		ac = redisAsyncConnect(rc->ip, rc->u->port);
	if (ac == NULL) {
		rconn_set_err(rc, "", "out of memory");
		rconn_lost(rc);
		return -1;
	}
	if (ac->err) {
		rconn_set_err(rc, "", ac->errstr);
		redisAsyncFree(ac);
		rconn_lost(rc);
		return -1;
	}
	/* hiredis's socket is not close-on-exec: the children must not get
	   it. */
	(void)fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);
	rc->ac = ac;
	rc->fd = ac->c.fd;
	rc->want = 0;
	ac->data = rc;
	if (ev_add(rc->ev, rc->fd, 0, rconn_on_io, rc) == -1) {
		rconn_set_err(rc, "", strerror(errno));
		redisAsyncFree(ac);
		rconn_lost(rc);
		return -1;
	}
	ac->ev.data = rc;
	ac->ev.addRead = hook_add_read;
	ac->ev.delRead = hook_del_read;
	ac->ev.addWrite = hook_add_write;
	ac->ev.delWrite = hook_del_write;
	ac->ev.cleanup = hook_cleanup;
	redisAsyncSetConnectCallback(ac, rconn_on_connect);
	redisAsyncSetDisconnectCallback(ac, rconn_on_disconnect);
	rc->state = RCONN_CONNECTING;
	rc->deadline = ev_now() + RCONN_CONNECT_MS * MSEC_NS;
	/* hiredis never authenticates by itself; AUTH goes first. */
	if (rc->u->has_pass) {
		argc = 0;
		argv[argc++] = "AUTH";
		if (rc->u->user[0] != '\0')
			argv[argc++] = rc->u->user;
		argv[argc++] = rc->u->pass;
		redisAsyncCommandArgv(ac, rconn_on_setup, s_auth, argc,
		    argv, NULL);
	}
	if (rc->u->db >= 0) {
		snprintf(db, sizeof db, "%d", rc->u->db);
		argv[0] = "SELECT";
		argv[1] = db;
		redisAsyncCommandArgv(ac, rconn_on_setup, s_select, 2,
		    argv, NULL);
	}
	/* A stopped server still accepts connections: only an answer says
	   it is there. */
	argv[0] = "PING";
	redisAsyncCommandArgv(ac, rconn_on_setup, s_ping, 1, argv,
	    NULL);
	return 0;
}

void
rconn_close(struct rconn *rc)
{
	redisAsyncContext	*ac = rc->ac;

	rc->state = RCONN_FAILED;
	rc->on_up = NULL;
	rc->on_down = NULL;
	/* Not redisAsyncDisconnect: it waits for a blocked read. */
	if (ac != NULL)
		redisAsyncFree(ac);
	rc->ac = NULL;
	free(rc->subcall);
	rc->subcall = NULL;
}

/* Drop the connection and reconnect later (a deadline passed). */
void
rconn_drop(struct rconn *rc, const char *why)
{
	redisAsyncContext	*ac = rc->ac;

	if (ac == NULL)
		return;
	rconn_set_err(rc, "", why);
	redisAsyncFree(ac);
}

static void
rconn_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rconn_call	*call = priv;

	call->cb(call->rc, reply, call->priv);
	free(call);
}

/* A command's call record, on a connection that can take one: or NULL. */
static struct rconn_call *
rconn_call_new(struct rconn *rc, rconn_cb cb, void *priv)
{
	struct rconn_call	*call;

	if (rc->ac == NULL || rc->state == RCONN_FAILED) {
		errno = ENOTCONN;
		return NULL;
	}
	if ((call = malloc(sizeof *call)) == NULL)
		return NULL;
	call->rc = rc;
	call->cb = cb;
	call->priv = priv;
	return call;
}

/* Queue a command; its callback runs with the reply, or NULL. */
int
rconn_command(struct rconn *rc, rconn_cb cb, void *priv, int argc,
    const char **argv, const size_t *argvlen)
{
	struct rconn_call	*call;

	if ((call = rconn_call_new(rc, cb, priv)) == NULL)
		return -1;
	if (redisAsyncCommandArgv(rc->ac, rconn_on_reply, call, argc, argv,
	    argvlen) != REDIS_OK) {
		free(call);
		errno = ENOTCONN;
		return -1;
	}
	return 0;
}

/* Queue a command already in RESP (cmd, len): no formatting per call. */
int
rconn_formatted(struct rconn *rc, rconn_cb cb, void *priv, const char *cmd,
    size_t len)
{
	struct rconn_call	*call;

	if ((call = rconn_call_new(rc, cb, priv)) == NULL)
		return -1;
	if (redisAsyncFormattedCommand(rc->ac, rconn_on_reply, call, cmd,
	    len) != REDIS_OK) {
		free(call);
		errno = ENOTCONN;
		return -1;
	}
	return 0;
}

static void
rconn_on_push(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rconn_call	*call = priv;

	call->cb(call->rc, reply, call->priv);
}

/*
 * SUBSCRIBE: hiredis calls the same callback for the confirmation and
 * for every message after it, so its privdata lives as long as rc.
 */
int
rconn_subscribe(struct rconn *rc, rconn_cb cb, void *priv, int argc,
    const char **argv)
{
	struct rconn_call	*call = rc->subcall;

	if (rc->ac == NULL || rc->state == RCONN_FAILED) {
		errno = ENOTCONN;
		return -1;
	}
	if (call == NULL && (call = rc->subcall = malloc(sizeof *call)) ==
	    NULL)
		return -1;
	call->rc = rc;
	call->cb = cb;
	call->priv = priv;
	if (redisAsyncCommandArgv(rc->ac, rconn_on_push, call, argc, argv,
	    NULL) != REDIS_OK) {
		errno = ENOTCONN;
		return -1;
	}
	return 0;
}

/* Stop or resume reading the socket: the server then holds what comes. */
void
rconn_pause(struct rconn *rc, int on)
{
	rc->paused = on;
	rconn_poll(rc);
}

int64_t
rconn_deadline(const struct rconn *rc)
{
	switch (rc->state) {
	case RCONN_CONNECTING:
		return rc->deadline;
	case RCONN_DOWN:
		return rc->retry_at;
	default:
		return INT64_MAX;
	}
}

void
rconn_tick(struct rconn *rc, int64_t now)
{
	if (rc->state == RCONN_CONNECTING && now >= rc->deadline) {
		snprintf(rc->err, sizeof rc->err, "no answer within %d s",
		    RCONN_CONNECT_MS / 1000);
		if (!rc->was_up) {
			rconn_fail(rc);
			return;
		}
		rconn_drop(rc, rc->err);
		/* The free ran onDisconnect, which set a retry. */
		return;
	}
	if (rc->state == RCONN_DOWN && now >= rc->retry_at)
		(void)rconn_connect(rc);
}

#endif /* HAVE_HIREDIS */
