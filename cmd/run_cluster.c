/* SPDX-License-Identifier: ISC */
/*
 * ipcrun serve --handoff cluster: ipcrun is the cluster primary of
 * unmodified Node workers (NODE_UNIQUE_ID set, lib/cluster.c the
 * protocol). The gathering of a worker's frames hands its NODE_CLUSTER
 * messages here; the poll callback of a round-robin socket only accepts
 * into its queue; the pass hands the accepted connections to free
 * workers. Calls go down only: to run_drain.c, run_child.c and below.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "addr.h"
#include "chan.h"
#include "cluster.h"
#include "envelope.h"
#include "ev.h"
#include "frame.h"
#include "relay.h"

/*
 * One of the primary's frames to a worker, after everything queued for
 * it; with fd != -1, fd goes with it, lent (the cluster keeps it until
 * the worker takes it, and closes or re-queues it: no duplicate per
 * connection), and the frames after it wait for the worker's ACK (held:
 * the newconn's seq, or -1). 0, or -1 when the worker's channel is gone.
 */
static int
run_cluster_send(struct run *r, struct worker *w, const char *p, size_t n,
    int fd, int64_t held)
{
	if (!chan_can_write(&w->ch) || !run_alive(w))
		return -1;
	if (fd == -1) {
		if (chan_send(&w->ch, p, n) == -1)
			goto fail;
	} else {
		if (chan_lend_fd(&w->ch, p, n, fd) == -1)
			goto fail;
		cluster_held(&r->cl, w->idx, held);
	}
	run_trace(r, "-> child %zu bytes internal cmd \"NODE_CLUSTER\"%s", n,
	    fd != -1 ? " with a socket" : "");
	run_show(r, w, ">", 1, p, n - 1);
	run_flush_tq(r, w);
	return 0;
fail:
	cmd_warn(r->ce, "cluster message to '%s'", w->name);
	return -1;
}

/* A round-robin socket: its connections are accepted here, then wait. */
static void
run_cluster_on_accept(struct ev *ev, int fd, short revents, void *arg)
{
	struct run		*r = arg;
	struct cluster_server	*s;
	uint64_t		 got;
	unsigned		 i;
	int			 rc;

	(void)ev;
	(void)revents;
	for (i = 0; i < r->cl.nsv && r->cl.sv[i]->fd != fd; i++)
		;
	if (i == r->cl.nsv || r->stopping)
		return;
	s = r->cl.sv[i];
	rc = cluster_accept(&r->cl, i, &got);
	if (rc == 1 && !s->full_said) {
		cmd_warnx(r->ce, "%s: %d connections wait for a free worker; "
		    "the next wait in the kernel's backlog", s->name,
		    CLUSTER_PENDING);
		s->full_said = 1;
	} else if (rc == -1 && !s->full_said) {
		cmd_warn(r->ce, "accept on %s", s->name);
		s->full_said = 1;
	}
}

/* A worker asks for a socket: exactly one answer (T3). */
static void
run_cluster_query(struct run *r, struct worker *w, const struct cluster_msg *m)
{
	struct cluster_server	*s;
	char			 frame[CLUSTER_FRAMEMAX], err[256];
	int			 si, n;

	si = cluster_query(&r->cl, w->idx, m, err, sizeof err);
	if (si < 0) {
		cmd_warnx(r->ce, "'%s' asked to listen on %s: %s", w->name,
		    m->key, err);
		if ((n = cluster_error_reply(&r->cl, m, si, frame,
		    sizeof frame)) != -1)
			(void)run_cluster_send(r, w, frame, (size_t)n, -1, -1);
		return;
	}
	s = r->cl.sv[si];
	if ((n = cluster_reply(&r->cl, w->idx, si, m, s->shared, frame,
	    sizeof frame)) == -1) {
		cmd_warnx(r->ce, "'%s' asked to listen on %s: the answer does "
		    "not fit in %d bytes", w->name, m->key, CLUSTER_FRAMEMAX);
		return;
	}
	(void)run_cluster_send(r, w, frame, (size_t)n, s->shared ? s->fd : -1,
	    -1);
}

/*
 * --ready-fd without --listen: the workers' own listen() calls decide the
 * sockets, so they are all bound once every worker has said it listens.
 * Their addresses, one a line: tcp:, udp: or unix:, with real ports.
 */
static void
run_cluster_ready(struct run *r)
{
	struct addr	 a;
	struct worker	*w;
	char		*all, name[320];
	size_t		 len = 0, size = 1;
	unsigned	 i;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (!w->serving)
			return;
	}
	memset(&a, 0, sizeof a);
	a.kind = ADDR_TCP;
	size += (size_t)r->cl.nsv * sizeof name;
	if ((all = malloc(size)) == NULL) {
		cmd_warn(r->ce, "--ready-fd");
		return;
	}
	all[0] = '\0';
	for (i = 0; i < r->cl.nsv; i++) {
		/* getsockname: the port bound, the path as bound. */
		if (addr_name(&a, r->cl.sv[i]->fd, name, sizeof name) == -1)
			snprintf(name, sizeof name, "%s", r->cl.sv[i]->name);
		else if (r->cl.sv[i]->kind == CLUSTER_UDP &&
		    strncmp(name, "tcp:", 4) == 0)
			memcpy(name, "udp", 3);
		len += (size_t)snprintf(all + len, size - len, "%s%s",
		    len > 0 ? "\n" : "", name);
	}
	if (sock_ready_write(&r->ready_fd, all) == -1)
		cmd_warn(r->ce, "--ready-fd: write");
	free(all);
}

/* A worker listens: the event, with the real port (listen(0) works). */
static void
run_cluster_listening(struct run *r, struct worker *w,
    const struct cluster_msg *m)
{
	const struct cluster_server	*s = NULL;
	char				 q[sizeof s->name * 2 + 2];
	unsigned			 i;

	for (i = 0; i < r->cl.nsv && s == NULL; i++) {
		if (r->cl.sv[i]->wkey[w->idx] == 0)
			continue;
		if (m->family == -1 && !m->udp ? r->cl.sv[i]->kind ==
		    CLUSTER_UNIX && strcmp(r->cl.sv[i]->name, m->address) == 0 :
		    r->cl.sv[i]->port == m->port)
			s = r->cl.sv[i];
	}
	r->cl.w[w->idx].listening = 1;
	w->serving = 1;
	if (r->ready_fd != -1 && r->nlisten == 0)
		run_cluster_ready(r);
	if (s == NULL)
		return;
	run_notice(r, "'%s' listening on %s", w->name, s->name);
	if (s->kind == CLUSTER_UNIX) {
		if (envelope_quote(q, sizeof q, s->name) < sizeof q)
			run_event(r, w, "listening", ",\"address\":%s", q);
	} else
		run_event(r, w, "listening", ",\"address\":\"%s\",\"port\":%d",
		    s->name, s->port);
}

/* A NODE_CLUSTER message from a worker (one line, without its newline). */
void
run_cluster_frame(struct run *r, struct worker *w, const char *p, size_t n)
{
	struct cluster_msg	 m;
	char			 frame[256];
	int			 k;

	if (cluster_parse(&m, p, n) == -1) {
		cmd_warnx(r->ce, "'%s' sent a cluster message ipcrun cannot "
		    "read (%zu bytes): ignored", w->name, n);
		return;
	}
	switch (m.act) {
	case CLUSTER_ACT_QUERY:
		/* A worker on its way out asks for nothing: Node ignores it. */
		if (!r->cl.w[w->idx].disconnect)
			run_cluster_query(r, w, &m);
		break;
	case CLUSTER_ACT_LISTENING:
		run_cluster_listening(r, w, &m);
		break;
	case CLUSTER_ACT_CLOSE:
		cluster_close_key(&r->cl, w->idx, m.key);
		break;
	case CLUSTER_ACT_EXITED:
		/* Unanswered, the worker would hang for ever (T7). */
		cluster_leave(&r->cl, w->idx, 0);
		if ((k = cluster_ack_frame(&r->cl, m.seq, frame,
		    sizeof frame)) != -1)
			(void)run_cluster_send(r, w, frame, (size_t)k, -1, -1);
		break;
	case CLUSTER_ACT_NONE:
		/* newconn's answer: a refused connection goes to another. */
		if (m.ack >= 0 && cluster_answered(&r->cl, w->idx, m.ack,
		    m.accepted) == 1 && !m.accepted)
			run_trace(r, "'%s' refused a connection: to another",
			    w->name);
		break;
	default:
		break;
	}
}

/* The worker's ACK or NACK of a frame with a socket. */
void
run_cluster_answered(struct run *r, struct worker *w, int nack)
{
	int	k = nack ? chan_refused(&w->ch) : chan_answered(&w->ch);

	/* A refused net.Socket (--handoff socket) goes again, as Node's. */
	if (k == 2) {
		run_trace(r, "'%s' refused a connection: sent again", w->name);
		run_flush_tq(r, w);
		return;
	}
	if (k != 0) {
		run_trace(r, "'%s' answered a handle it was not sent", w->name);
		return;
	}
	switch (cluster_handle_answer(&r->cl, w->idx, nack)) {
	case -1:
		if (nack)
			cmd_warnx(r->ce, "'%s' refused the listening socket "
			    "(NODE_HANDLE_NACK)", w->name);
		break;
	case -3:
		/* Refused after the tries Node's parent makes: said once. */
		if (!w->handle_warned)
			cmd_warnx(r->ce, "'%s' refused a connection "
			    "(NODE_HANDLE_NACK): closed", w->name);
		w->handle_warned = 1;
		break;
	}
	run_flush_tq(r, w);
}

/* The pass: connections waiting go to free workers, one each (T9). */
void
run_cluster_pass(struct run *r)
{
	struct worker	*w;
	char		 frame[CLUSTER_FRAMEMAX];
	unsigned	 si, widx;
	int		 conn, rc;

	for (si = 0; si < r->cl.nsv; si++) {
		/* A round-robin socket is polled from its first listener. */
		if (cluster_wants_accept(r->cl.sv[si]) && !r->cl.sv[si]->polled &&
		    !r->stopping) {
			if (ev_add(&r->ev, r->cl.sv[si]->fd, 0,
			    run_cluster_on_accept, r) == -1) {
				cmd_warn(r->ce, "poll set");
				run_fail(r);
				return;
			}
			r->cl.sv[si]->polled = 1;
		}
		while ((rc = cluster_next(&r->cl, si, &widx, &conn, frame,
		    sizeof frame)) == 1) {
			w = &r->w[widx];
			if (run_cluster_send(r, w, frame, strlen(frame), conn,
			    r->cl.seq) == -1) {
				/* Gone: the connection goes to another. */
				(void)cluster_answered(&r->cl, widx, r->cl.seq,
				    0);
				cluster_leave(&r->cl, widx, 0);
			}
		}
		if (rc == -1)
			cmd_warnx(r->ce, "%s: a connection's message does not "
			    "fit", r->cl.sv[si]->name);
	}
}

/* Poll a round-robin socket only while its queue has room. */
void
run_cluster_interest(struct run *r)
{
	struct cluster_server	*s;
	unsigned		 i;

	for (i = 0; i < r->cl.nsv; i++) {
		s = r->cl.sv[i];
		if (s->polled)
			ev_set(&r->ev, s->fd, !r->stopping &&
			    cluster_wants_accept(s) ? POLLIN : 0);
	}
}

/*
 * A worker exited: what it held goes to the others. Its chan forgets the
 * connections lent to it first (what is left of its queue is the
 * primary's talk with it, for nobody else), so that none can go out
 * from there once the cluster has given it to another or closed it.
 */
void
run_cluster_gone(struct run *r, struct worker *w)
{
	chan_drop_queued(&w->ch);
	cluster_leave(&r->cl, w->idx, 1);
}

/*
 * serve's graceful stop in cluster mode: no connection is taken any
 * more, and each worker gets "disconnect" once (T8): it closes its
 * servers, lets its requests finish and ends; --kill-timeout is its
 * limit, as for every stop.
 */
void
run_cluster_stop(struct run *r)
{
	struct cluster_server	*s;
	struct worker		*w;
	unsigned		 i, n;

	for (i = 0; i < r->cl.nsv; i++) {
		s = r->cl.sv[i];
		if (s->polled) {
			ev_del(&r->ev, s->fd);
			s->polled = 0;
		}
		/* Round robin: new connections are refused from now on. */
		if (!s->shared)
			(void)shutdown(s->fd, SHUT_RDWR);
	}
	if ((n = cluster_drop_pending(&r->cl)) > 0)
		cmd_warnx(r->ce, "stopping: %u connection%s no worker had "
		    "taken yet closed", n, n == 1 ? "" : "s");
	if (r->cf->handoff != HANDOFF_CLUSTER)
		return;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (!run_alive(w))
			continue;
		run_cluster_disconnect(r, w);
		run_escalate(r, w, 0);
	}
}

/*
 * One worker is to end (a stop, or its turn in a rolling restart):
 * Node's "disconnect", once (T8), and no connection for it from now on.
 */
void
run_cluster_disconnect(struct run *r, struct worker *w)
{
	char	frame[128];
	int	k;

	if (w->ch.fd != -1 && !r->cl.w[w->idx].disconnect &&
	    (k = cluster_disconnect_frame(&r->cl, frame, sizeof frame)) != -1)
		(void)run_cluster_send(r, w, frame, (size_t)k, -1, -1);
	cluster_leave(&r->cl, w->idx, 0);
}
