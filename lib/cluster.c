/* SPDX-License-Identifier: ISC */
/*
 * cluster.c: the primary's side of Node's cluster protocol (read with
 * NODE-CLUSTER.md's state machine in mind). A worker's listen() sends a
 * queryServer; the primary binds (or finds) the socket for its key and
 * answers exactly once: in shared mode with the socket itself, in round
 * robin with a sockname, after which the primary accepts and hands each
 * connection to a free worker (one unanswered newconn per worker and
 * socket), taking it back when the worker refuses it, NACKs it or dies.
 *
 * Keys are built as Node builds them, from the JS string forms of the
 * query's members (null -> "null", absent -> "undefined"), so that
 * workers that would share a socket under Node's primary share it here.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cluster.h"

int
cluster_init(struct cluster *cl, unsigned nw, int rr, const int *pre,
    unsigned npre)
{
	memset(cl, 0, sizeof *cl);
	if ((cl->w = calloc(nw, sizeof *cl->w)) == NULL)
		return -1;
	cl->nw = nw;
	cl->rr = rr;
	cl->pre = pre;
	cl->npre = npre;
	/* ipcrun accepts on them, and workers get them: O_NONBLOCK (T1). */
	while (npre-- > 0)
		if (fcntl(pre[npre], F_SETFL, fcntl(pre[npre], F_GETFL) |
		    O_NONBLOCK) == -1)
			return -1;
	return 0;
}

static void
cluster_server_free(struct cluster *cl, struct cluster_server *s)
{
	unsigned	i;

	for (i = 0; i < s->npend; i++)
		close(s->pend[(s->phead + i) % CLUSTER_PENDING]);
	for (i = 0; i < cl->nw; i++)
		if (s->wconn[i] != -1)
			close(s->wconn[i]);
	if (!s->prebound && s->fd != -1)
		close(s->fd);
	if (s->path != NULL)
		(void)unlink(s->path);
	free(s->path);
	free(s->data);
	for (i = 0; i < s->nkeys; i++) {
		free(s->keys[i]);
		free(s->qkeys[i]);
	}
	free(s->wkey);
	free(s->wconn);
	free(s->wseq);
	free(s->ring);
	free(s->inring);
	free(s);
}

void
cluster_release(struct cluster *cl)
{
	unsigned	i;

	for (i = 0; i < cl->nsv; i++)
		cluster_server_free(cl, cl->sv[i]);
	cl->nsv = 0;
	free(cl->w);
	cl->w = NULL;
}

/* A worker starts (again): a new NODE_UNIQUE_ID, as Node's primary gives. */
unsigned
cluster_spawned(struct cluster *cl, unsigned widx)
{
	struct cluster_worker	*w = &cl->w[widx];

	memset(w, 0, sizeof *w);
	w->id = ++cl->next_id;
	return w->id;
}

/* s as a JSON string, allocated; NULL if it is not UTF-8 or no memory. */
static char *
cluster_quote(const char *s)
{
	json_t	*j;
	char	*q;

	if ((j = json_string(s)) == NULL)
		return NULL;
	q = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	return q;
}

static struct cluster_server *
cluster_new_server(struct cluster *cl, int fd, enum cluster_kind kind)
{
	struct cluster_server	*s;
	unsigned		 i;

	if (cl->nsv == CLUSTER_MAXSERVERS) {
		errno = EMFILE;
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->wkey = calloc(cl->nw, 1);
	s->inring = calloc(cl->nw, 1);
	s->wconn = calloc(cl->nw, sizeof *s->wconn);
	s->wseq = calloc(cl->nw, sizeof *s->wseq);
	s->ring = calloc(cl->nw, sizeof *s->ring);
	if (s->wkey == NULL || s->inring == NULL || s->wconn == NULL ||
	    s->wseq == NULL || s->ring == NULL) {
		free(s->wkey);
		free(s->inring);
		free(s->wconn);
		free(s->wseq);
		free(s->ring);
		free(s);
		return NULL;
	}
	for (i = 0; i < cl->nw; i++)
		s->wconn[i] = -1;
	s->fd = fd;
	s->kind = kind;
	s->shared = kind == CLUSTER_UDP || !cl->rr;
	cl->sv[cl->nsv++] = s;
	return s;
}

/* The socket's address, for the round-robin reply and for reports. */
static void
cluster_sockname(struct cluster_server *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof ss;
	char			 host[INET6_ADDRSTRLEN] = "", *q;
	int			 v6;

	if (s->kind == CLUSTER_UNIX ||
	    getsockname(s->fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	v6 = ss.ss_family == AF_INET6;
	if (v6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    host, sizeof host);
		s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    host, sizeof host);
		s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(s->name, sizeof s->name, v6 ? "[%s]:%d" : "%s:%d", host,
	    s->port);
	if ((q = cluster_quote(host)) == NULL)
		return;
	snprintf(s->sockname, sizeof s->sockname, "{\"address\":%s,"
	    "\"family\":\"%s\",\"port\":%d}", q, v6 ? "IPv6" : "IPv4",
	    s->port);
	free(q);
}

/* One of serve --listen's sockets that this query names, or NULL. */
static struct cluster_server *
cluster_prebound(struct cluster *cl, const struct cluster_msg *m)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	struct cluster_server	*s;
	socklen_t		 sl;
	unsigned		 i, j;
	int			 fd;

	if (m->udp)
		return NULL;
	for (i = 0; i < cl->npre; i++) {
		fd = cl->pre[i];
		sl = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
			continue;
		if (ss.ss_family == AF_UNIX) {
			if (m->family != -1 || sl <= sizeof(sa_family_t) ||
			    strncmp(sun->sun_path, m->address,
			    sizeof sun->sun_path) != 0)
				continue;
		} else {
			if (m->family == -1)
				continue;
			if (m->port != 0 && m->port != ntohs(ss.ss_family ==
			    AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			    ((struct sockaddr_in *)&ss)->sin_port))
				continue;
		}
		/* Known under another key already: one socket, two keys. */
		for (j = 0; j < cl->nsv; j++)
			if (cl->sv[j]->fd == fd)
				return cl->sv[j];
		if ((s = cluster_new_server(cl, fd, ss.ss_family == AF_UNIX ?
		    CLUSTER_UNIX : CLUSTER_TCP)) == NULL)
			return NULL;
		s->prebound = 1;
		if (s->kind == CLUSTER_UNIX)
			snprintf(s->name, sizeof s->name, "%s", m->address);
		cluster_sockname(s);
		return s;
	}
	return NULL;
}

static struct cluster_server *
cluster_find(struct cluster *cl, const char *key, unsigned *ki)
{
	unsigned	i, k;

	for (i = 0; i < cl->nsv; i++)
		for (k = 0; k < cl->sv[i]->nkeys; k++)
			if (strcmp(cl->sv[i]->keys[k], key) == 0) {
				*ki = k;
				return cl->sv[i];
			}
	return NULL;
}

/* A free worker goes to the back of the socket's queue, once. */
static void
cluster_free_push(struct cluster *cl, struct cluster_server *s,
    unsigned widx)
{
	if (s->shared || s->inring[widx] || s->wkey[widx] == 0 ||
	    s->wconn[widx] != -1 || cl->w[widx].disconnect)
		return;
	s->ring[(s->rhead + s->nring++) % cl->nw] = widx;
	s->inring[widx] = 1;
}

/*
 * A worker's queryServer: the socket for its key, found, matched with
 * one of serve --listen's, or bound now. Returns the socket's index in
 * cl->sv, or -errno for an error reply (Node's libuv convention); the key
 * is then not kept, so that the next query binds again.
 */
int
cluster_query(struct cluster *cl, unsigned widx, const struct cluster_msg *m,
    char *err, size_t errlen)
{
	struct cluster_server	*s;
	enum cluster_kind	 kind;
	unsigned		 ki, i;
	int			 fd;

	*err = '\0';
	/* listen({fd: N}) names an fd of the worker's own: not ours. */
	if (m->fd_set) {
		snprintf(err, errlen, "listen({fd}) cannot be shared");
		return -EINVAL;
	}
	if ((s = cluster_find(cl, m->key, &ki)) == NULL) {
		if ((s = cluster_prebound(cl, m)) == NULL) {
			if ((fd = cluster_bind(m, &kind)) == -1) {
				snprintf(err, errlen, "%s", strerror(errno));
				return -errno;
			}
			if ((s = cluster_new_server(cl, fd, kind)) == NULL) {
				close(fd);
				snprintf(err, errlen, "%s", strerror(errno));
				return -ENOMEM;
			}
			if (kind == CLUSTER_UNIX) {
				s->path = strdup(m->address);
				snprintf(s->name, sizeof s->name, "%s",
				    m->address);
			}
			cluster_sockname(s);
		}
		if (s->nkeys == CLUSTER_MAXKEYS ||
		    (s->keys[s->nkeys] = strdup(m->key)) == NULL) {
			snprintf(err, errlen, "too many keys for one socket");
			return -ENOMEM;
		}
		/* Quoted once: each newconn carries it. */
		if ((s->qkeys[s->nkeys] = cluster_quote(m->key)) == NULL) {
			free(s->keys[s->nkeys]);
			snprintf(err, errlen, "the key is not UTF-8");
			return -EINVAL;
		}
		ki = s->nkeys++;
	}
	/* The first data (TLS ticket keys) goes to every worker. */
	if (s->data == NULL && m->data[0] != '\0')
		s->data = strdup(m->data);
	s->wkey[widx] = (unsigned char)(ki + 1);
	for (i = 0; i < cl->nsv && cl->sv[i] != s; i++)
		;
	return (int)i;
}

/*
 * The answer to a queryServer that found socket si: the socket itself
 * in shared mode (the caller sends it with the frame, fd_out 1), a
 * sockname in round robin. The frame's length, or -1.
 */
int
cluster_reply(struct cluster *cl, unsigned widx, int si,
    const struct cluster_msg *m, int with_fd, char *p, size_t len)
{
	struct cluster_server	*s = cl->sv[si];
	char			*q;
	int			 n;

	if ((q = cluster_quote(m->key)) == NULL)
		return -1;
	if (with_fd)
		n = snprintf(p, len, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"%s\","
		    "\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"errno\":0,\"key\":%s,"
		    "\"ack\":%" PRId64 ",\"data\":%s,\"seq\":%" PRId64 "}}\n",
		    s->kind == CLUSTER_UDP ? "dgram.Native" : "net.Native", q,
		    m->seq, s->data != NULL ? s->data : "null", ++cl->seq);
	else
		n = snprintf(p, len, "{\"cmd\":\"NODE_CLUSTER\",\"errno\":null,"
		    "\"key\":%s,\"ack\":%" PRId64 ",\"data\":%s%s%s,\"seq\":%"
		    PRId64 "}\n", q, m->seq, s->data != NULL ? s->data : "null",
		    s->sockname[0] != '\0' ? ",\"sockname\":" : "", s->sockname,
		    ++cl->seq);
	free(q);
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (!with_fd)
		cluster_free_push(cl, s, widx);
	return n;
}

/* A failed query: errnum negative, no fd, and the key is not kept. */
int
cluster_error_reply(struct cluster *cl, const struct cluster_msg *m,
    int errnum, char *p, size_t len)
{
	char	*q;
	int	 n;

	if ((q = cluster_quote(m->key)) == NULL)
		return -1;
	n = snprintf(p, len, "{\"cmd\":\"NODE_CLUSTER\",\"errno\":%d,"
	    "\"key\":%s,\"ack\":%" PRId64 ",\"data\":null,\"seq\":%" PRId64
	    "}\n", errnum, q, m->seq, ++cl->seq);
	free(q);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* The ack exitedAfterDisconnect waits for (NODE-CLUSTER.md T7). */
int
cluster_ack_frame(struct cluster *cl, int64_t ack, char *p, size_t len)
{
	int	n;

	n = snprintf(p, len, "{\"cmd\":\"NODE_CLUSTER\",\"ack\":%" PRId64
	    ",\"seq\":%" PRId64 "}\n", ack, ++cl->seq);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int
cluster_disconnect_frame(struct cluster *cl, char *p, size_t len)
{
	int	n;

	n = snprintf(p, len, "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"disconnect\","
	    "\"seq\":%" PRId64 "}\n", ++cl->seq);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Is round robin's listening socket si to be polled for connections? */
int
cluster_wants_accept(const struct cluster_server *s)
{
	return !s->shared && s->nkeys > 0 && s->npend < CLUSTER_PENDING;
}

/*
 * Connections waiting on socket si, accepted non-blocking (T1) into its
 * bounded queue. 0; 1 when the queue is full (the caller stops polling
 * and says so once); -1 with errno on another error (EMFILE...).
 */
int
cluster_accept(struct cluster *cl, unsigned si, uint64_t *got)
{
	struct cluster_server	*s = cl->sv[si];
	int			 c;

	*got = 0;
	while (s->npend < CLUSTER_PENDING) {
		c = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ECONNABORTED || errno == EINTR ||
			    errno == EPROTO)
				return 0;
			return -1;
		}
		s->pend[(s->phead + s->npend++) % CLUSTER_PENDING] = c;
		s->conns++;
		(*got)++;
	}
	return 1;
}

/* A connection goes back to the front of the queue (its order kept). */
static void
cluster_requeue(struct cluster_server *s, int c)
{
	if (s->npend == CLUSTER_PENDING) {
		close(c);
		return;
	}
	s->phead = (s->phead + CLUSTER_PENDING - 1) % CLUSTER_PENDING;
	s->pend[s->phead] = c;
	s->npend++;
}

/*
 * The next connection of socket si for the next free worker: its frame
 * (newconn, to go with the connection's fd) in p. 1 with *widx and *conn
 * set (the connection stays the socket's until cluster_answered), 0 when
 * no connection or no worker is waiting, -1 on error.
 */
int
cluster_next(struct cluster *cl, unsigned si, unsigned *widx, int *conn,
    char *p, size_t len)
{
	struct cluster_server	*s = cl->sv[si];
	unsigned		 w;
	int			 n;

	while (s->npend > 0 && s->nring > 0) {
		w = s->ring[s->rhead];
		s->rhead = (s->rhead + 1) % cl->nw;
		s->nring--;
		s->inring[w] = 0;
		if (s->wkey[w] == 0 || s->wconn[w] != -1 ||
		    cl->w[w].disconnect)
			continue;
		if (s->plain)
			n = snprintf(p, len, "{\"cmd\":\"NODE_HANDLE\",\"type\":"
			    "\"net.Socket\",\"msg\":%s}\n", cl->msg);
		else
			n = snprintf(p, len, "{\"cmd\":\"NODE_HANDLE\",\"type\":"
			    "\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\","
			    "\"act\":\"newconn\",\"key\":%s,\"seq\":%" PRId64
			    "}}\n", s->qkeys[s->wkey[w] - 1], cl->seq + 1);
		++cl->seq;
		if (n < 0 || (size_t)n >= len)
			return -1;
		*conn = s->pend[s->phead];
		s->phead = (s->phead + 1) % CLUSTER_PENDING;
		s->npend--;
		s->wconn[w] = *conn;
		s->wseq[w] = cl->seq;
		*widx = w;
		return 1;
	}
	return 0;
}

/*
 * A worker answered newconn ack: accepted, ipcrun's copy closes; refused
 * (or NACKed, or never sent), the connection goes to another worker. The
 * worker is free again. 1, or 0 when no newconn of that seq was out.
 */
int
cluster_answered(struct cluster *cl, unsigned widx, int64_t ack, int accepted)
{
	struct cluster_server	*s;
	unsigned		 i;

	for (i = 0; i < cl->nsv; i++) {
		s = cl->sv[i];
		if (s->wconn[widx] == -1 || s->wseq[widx] != ack)
			continue;
		if (accepted)
			close(s->wconn[widx]);
		else
			cluster_requeue(s, s->wconn[widx]);
		s->wconn[widx] = -1;
		cluster_free_push(cl, s, widx);
		return 1;
	}
	return 0;
}

/* A frame with an fd went to the worker: a newconn's seq, or -1. */
void
cluster_held(struct cluster *cl, unsigned widx, int64_t seq)
{
	struct cluster_worker	*w = &cl->w[widx];

	if (w->nheld == sizeof w->held / sizeof w->held[0])
		return;
	w->held[(w->hhead + w->nheld++) % (sizeof w->held /
	    sizeof w->held[0])] = seq;
}

/*
 * The worker's ACK or NACK of its oldest frame with an fd. A NACKed
 * newconn never reached it: the connection goes to another. With
 * --handoff socket the ACK is the end of it (ipcrun's copy closes), and
 * a NACK closes the connection too (-3). 0 for a connection, -1 for a
 * listening socket, or -2 when nothing was held.
 */
int
cluster_handle_answer(struct cluster *cl, unsigned widx, int nack)
{
	struct cluster_worker	*w = &cl->w[widx];
	int64_t			 seq;
	unsigned		 i;

	if (w->nheld == 0)
		return -2;
	seq = w->held[w->hhead];
	w->hhead = (w->hhead + 1) % (sizeof w->held / sizeof w->held[0]);
	w->nheld--;
	if (seq < 0)
		return -1;
	for (i = 0; i < cl->nsv; i++)
		if (cl->sv[i]->wconn[widx] != -1 &&
		    cl->sv[i]->wseq[widx] == seq && cl->sv[i]->plain) {
			(void)cluster_answered(cl, widx, seq, 1);
			return nack ? -3 : 0;
		}
	if (nack)
		(void)cluster_answered(cl, widx, seq, 0);
	return 0;
}

/* The worker closed its server of that key (a close act). */
void
cluster_close_key(struct cluster *cl, unsigned widx, const char *key)
{
	struct cluster_server	*s;
	unsigned		 ki;

	if ((s = cluster_find(cl, key, &ki)) != NULL && s->wkey[widx] ==
	    ki + 1)
		s->wkey[widx] = 0;
}

/*
 * The worker leaves every socket: asked to disconnect (dead 0: its
 * unanswered newconns stay out, it will answer them), or gone (dead 1:
 * what it had not even ACKed goes to another worker, the rest closes).
 */
void
cluster_leave(struct cluster *cl, unsigned widx, int dead)
{
	struct cluster_worker	*w = &cl->w[widx];
	struct cluster_server	*s;
	unsigned		 i, k;
	int			 held;

	if (!dead)
		w->disconnect = 1;
	for (i = 0; i < cl->nsv; i++) {
		s = cl->sv[i];
		s->wkey[widx] = 0;
		if (!dead || s->wconn[widx] == -1)
			continue;
		for (held = 0, k = 0; k < w->nheld; k++)
			if (w->held[(w->hhead + k) % (sizeof w->held /
			    sizeof w->held[0])] == s->wseq[widx])
				held = 1;
		if (held)
			cluster_requeue(s, s->wconn[widx]);
		else
			close(s->wconn[widx]);
		s->wconn[widx] = -1;
	}
	if (dead)
		w->nheld = 0;
}

/*
 * --handoff socket: serve --listen's sockets, each handed out a
 * connection at a time as a net.Socket with msg (JSON text). 0, or -1.
 */
int
cluster_adopt(struct cluster *cl, const char *msg)
{
	struct sockaddr_storage	 ss;
	struct cluster_server	*s;
	socklen_t		 sl;
	unsigned		 i;

	cl->msg = msg;
	for (i = 0; i < cl->npre; i++) {
		sl = sizeof ss;
		if (getsockname(cl->pre[i], (struct sockaddr *)&ss, &sl) == -1 ||
		    (s = cluster_new_server(cl, cl->pre[i], ss.ss_family ==
		    AF_UNIX ? CLUSTER_UNIX : CLUSTER_TCP)) == NULL ||
		    (s->keys[0] = strdup("socket")) == NULL)
			return -1;
		if (s->kind == CLUSTER_UNIX)
			snprintf(s->name, sizeof s->name, "%.*s",
			    (int)sizeof ((struct sockaddr_un *)&ss)->sun_path,
			    ((struct sockaddr_un *)&ss)->sun_path);
		s->nkeys = 1;
		s->prebound = s->plain = 1;
		s->shared = 0;
		cluster_sockname(s);
	}
	return 0;
}

/* --handoff socket: a worker (started again) takes connections. */
void
cluster_join(struct cluster *cl, unsigned widx)
{
	unsigned	i;

	for (i = 0; i < cl->nsv; i++) {
		cl->sv[i]->wkey[widx] = 1;
		cluster_free_push(cl, cl->sv[i], widx);
	}
}

/* The stop: connections accepted and given to no one are closed. */
unsigned
cluster_drop_pending(struct cluster *cl)
{
	struct cluster_server	*s;
	unsigned		 i, n = 0;

	for (i = 0; i < cl->nsv; i++) {
		s = cl->sv[i];
		while (s->npend > 0) {
			close(s->pend[s->phead]);
			s->phead = (s->phead + 1) % CLUSTER_PENDING;
			s->npend--;
			n++;
		}
	}
	return n;
}
