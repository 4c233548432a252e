/* SPDX-License-Identifier: ISC */
/*
 * ipcrun attach: one peer's conversation. Lines from standard input are
 * validated and sent; the peer's records are validated and printed one
 * per line; at the end of input (after -q's wait for replies) the
 * socket is half-closed and what the peer still sends is printed until
 * it closes. One short loop on lib/ev over stdin and the socket, a
 * struct chan: callbacks only read, and one pass after poll flushes and
 * decides.
 */
#include "compat.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "addr.h"
#include "buf.h"
#include "chan.h"
#include "ev.h"
#include "fdpass.h"
#include "frame.h"
#include "jscan.h"
#include "spawn.h"

#include "attach.h"

/* One connected peer: its channel and where the session stands. */
struct session {
	struct attach		*at;
	struct chan		 pc;		/* pc.tq: at->wq, lent */
	struct ev		 ev;
	int			 peer_eof;
	int			 gone;		/* the peer has gone both ways */
	int			 failed;	/* the connection failed: end */
	int			 read_data;	/* data came in this round */
	uint64_t		 sent0;		/* at->nsent when it began */
	int64_t			 quit_at;	/* -q's deadline, once lingering */
};

static void
report(struct attach *at, const char *src, uint64_t lineno, size_t off,
    const char *why)
{
	cmd_warnx(at->ce, "%s:%" PRIu64 ":%zu: %s", src, lineno, off + 1, why);
	at->bad = 1;
}

/*
 * With --node, refuse a good line that Node would take as an internal
 * message (a top-level "cmd" of NODE_...), as check --node does. key is
 * the frame's jscan_want index for "cmd". Returns 1 when refused.
 */
static int
refuse_internal(struct attach *at, const char *src, const struct frame *f,
    int key, const struct frame_line *l)
{
	char	why[256];
	ssize_t	off;

	if (!at->node ||
	    (off = frame_node_internal(f, key, l, why, sizeof why)) == -1)
		return 0;
	report(at, src, l->lineno, (size_t)off, why);
	return 1;
}

/* Write all of p to stdout; on failure set at->stop. */
static int
out_write(struct attach *at, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		/* >&-: what would have been printed is an error, as for run. */
		if (at->out_closed) {
			errno = EBADF;
			w = -1;
		} else
			w = write(STDOUT_FILENO, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			/*
			 * Another process sharing the pipe may have set
			 * O_NONBLOCK on it: wait for room, as check does.
			 */
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    sock_wait(STDOUT_FILENO, POLLOUT, -1) != -1)
				continue;
			if (errno == EPIPE)
				at->stop = EXIT_PIPE;
			else {
				cmd_warn(at->ce, "write error on stdout");
				at->stop = EXIT_FAIL;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Print one good record from the peer as one line. With a separator other
 * than newline a record may hold raw newlines, which JSON allows only
 * between tokens: they become spaces, and whitespace around the value
 * goes, so the output stays NDJSON.
 */
static int
print_record(struct attach *at, const struct frame_line *l)
{
	char	*p = (char *)(uintptr_t)l->p;
	size_t	 len = l->len - (l->nl ? 1 : 0), i;

	if (at->sep != '\n') {
		while (len > 0 && is_ws(*p)) {
			p++;
			len--;
		}
		while (len > 0 && is_ws(p[len - 1]))
			len--;
		for (i = 0; i < len; i++) {
			if (p[i] == '\n')
				p[i] = ' ';
		}
	}
	show_frame(&at->sh, 0, 0, l->p, l->len - (l->nl != 0), l->len);
	if (out_write(at, p, len) == -1)
		return -1;
	return out_write(at, "\n", 1);
}

/* Queue one good stdin line for the socket, framed by the separator. */
static int
queue_line(struct attach *at, const struct frame_line *l)
{
	size_t	len = l->len - (l->nl ? 1 : 0);
	char	sep = (char)at->sep, rs = RS_JSONSEQ;

	if (at->sep == RS_JSONSEQ) {
		sep = '\n';
		if (buf_append(at->q, &rs, 1) == -1)
			return -1;
	}
	if (buf_append(at->q, l->p, len) == -1 ||
	    buf_append(at->q, &sep, 1) == -1 ||
	    buf_append(&at->linenos, &l->lineno, sizeof l->lineno) == -1)
		return -1;
	show_frame(&at->sh, 1, 0, l->p, len, len + 1);
	return 0;
}

/* The byte that ends each line in the queue: with json-seq, the newline. */
static char
queue_sep(const struct attach *at)
{
	return at->sep == RS_JSONSEQ ? '\n' : (char)at->sep;
}

/*
 * n bytes from p, the head of the queue, have been written (all of the
 * queue when all is set: it may have moved). Lines are JSON, which holds
 * no raw separator: each one in them ends a line sent whole.
 */
static void
queue_sent(struct attach *at, const char *p, size_t n, int all)
{
	const char	*e = p + n, *nl;
	char		 sep = queue_sep(at);
	size_t		 k = 0;

	if (n == 0)
		return;
	if (all)
		k = at->linenos.len / sizeof(uint64_t);
	else {
		for (; (nl = memchr(p, sep, (size_t)(e - p))) != NULL;
		    p = nl + 1)
			k++;
	}
	buf_consume(&at->linenos, k * sizeof(uint64_t));
	at->nsent += k;
	at->wq_mid = !all && e[-1] != sep;
}

/*
 * The peer went in the middle of a line: its rest is dropped, so that
 * the next peer starts on a line boundary, and the line is named.
 */
void
attach_drop_cut(struct attach *at)
{
	struct buf	*q = &at->wq;
	const char	*nl;
	uint64_t	 lineno = 0;

	if (!at->wq_mid || q->len == 0)
		return;
	if ((nl = memchr(q->p + q->off, queue_sep(at), q->len)) == NULL)
		return;		/* cannot be: a line is queued whole */
	buf_consume(q, (size_t)(nl - (q->p + q->off)) + 1);
	if (at->linenos.len >= sizeof lineno)
		memcpy(&lineno, at->linenos.p + at->linenos.off, sizeof lineno);
	buf_consume(&at->linenos, sizeof lineno);
	at->wq_mid = 0;
	cmd_warnx(at->ce, "%s: input line %" PRIu64 " was cut short by the "
	    "peer's close: the rest of it was not sent (lost)", at->name,
	    lineno);
}

/* Read standard input once and queue its good lines. */
static int
read_stdin(struct attach *at)
{
	struct frame_line	 l;
	char			 why[256];
	ssize_t			 r;
	int			 k;

	while ((r = frame_read(&at->in, STDIN_FILENO, 0)) == -1 &&
	    errno == EINTR)
		;
	if (r == -1) {
		cmd_warn(at->ce, errno == ENOMEM ? "standard input" :
		    "-: read error");
		return -1;
	}
	while ((k = frame_next(&at->in, &l)) != FRAME_NONE) {
		if (k == FRAME_BAD) {
			frame_reason(&at->in, &l, why, sizeof why);
			report(at, "-", l.lineno, l.err_off, why);
		} else if (k == FRAME_GOOD &&
		    !refuse_internal(at, "-", &at->in, at->inkey, &l) &&
		    queue_line(at, &l) == -1) {
			cmd_warn(at->ce, "queue");
			return -1;
		}
	}
	if (r == 0)
		at->in_eof = 1;
	return 0;
}

/*
 * Read the socket once and print its good records. recvmsg, never read:
 * a descriptor the peer sends is closed, not leaked or silently lost.
 * Returns 1 on data, 0 at EOF, -1 when the connection failed.
 */
static int
read_peer(struct attach *at, struct chan *pc)
{
	struct frame		*pf = &pc->rd;
	struct frame_line	 l;
	char			 why[256], *p;
	size_t			 n;
	ssize_t			 r;
	unsigned		 flags;
	int			 k;

	if ((p = frame_space(pf, &n)) == NULL) {
		cmd_warn(at->ce, "%s", at->name);
		at->stop = EXIT_FAIL;
		return -1;
	}
	if (n > RECV_SIZE)
		n = RECV_SIZE;
	if ((r = chan_recv(pc, p, n, &flags)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		/*
		 * A reset: the peer closed with lines of ours unread, as a
		 * write would have found (EPIPE) had it come first.
		 */
		if (errno == ECONNRESET)
			cmd_warnx(at->ce, "%s: the peer closed the connection "
			    "before the end of input", at->name);
		else
			cmd_warn(at->ce, "%s: connection lost", at->name);
		return -1;
	}
	if (pc->nfds > 0 || (flags & (FDPASS_SURPLUS | FDPASS_CTRUNC))) {
		/* attach passes no descriptors on: none is kept. */
		chan_fds_close(pc);
		cmd_warnx(at->ce, "%s: the peer sent a descriptor; it was "
		    "closed", at->name);
	}
	if (r == 0)
		frame_set_eof(pf);
	else
		frame_filled(pf, (size_t)r);
	while ((k = frame_next(pf, &l)) != FRAME_NONE) {
		if (k == FRAME_GOOD || k == FRAME_BAD)
			at->nrecs++;
		if (k == FRAME_BAD) {
			frame_reason(pf, &l, why, sizeof why);
			report(at, at->name, l.lineno, l.err_off, why);
		} else if (k == FRAME_GOOD &&
		    !refuse_internal(at, at->name, pf, at->peerkey, &l) &&
		    print_record(at, &l) == -1)
			return -1;
	}
	return r > 0;
}

/*
 * A write failed because the peer went: what it wrote before it went is
 * still queued here and is printed first. Only that much is read (the
 * size queued now), so a peer that keeps sending cannot hold attach.
 */
static void
drain_peer(struct attach *at, struct chan *pc)
{
	int	avail = 0;
	long	rounds;

	if (ioctl(pc->fd, FIONREAD, &avail) == -1 || avail <= 0)
		return;
	for (rounds = avail / RECV_SIZE + 1; rounds > 0; rounds--) {
		if (sock_wait(pc->fd, POLLIN, 0) <= 0 ||
		    read_peer(at, pc) != 1)
			break;
	}
}

static int64_t
idle_deadline(const struct attach *at)
{
	return ev_now() + at->idle_ns;
}

/* Poll callbacks: they only read (or note room to write). */

static void
on_stdin(struct ev *ev, int fd, short revents, void *arg)
{
	struct session	*ss = arg;

	if (read_stdin(ss->at) == -1)
		ss->at->stop = EXIT_FAIL;
}

static void
on_peer(struct ev *ev, int fd, short revents, void *arg)
{
	struct session	*ss = arg;
	int		 r;

	if (revents & POLLOUT)
		chan_writable(&ss->pc);
	if (ss->peer_eof || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if ((r = read_peer(ss->at, &ss->pc)) == -1) {
		ss->failed = 1;
		return;
	}
	if (r == 1)
		ss->read_data = 1;
	/*
	 * The peer's EOF may be a half-close of its own: the rest of the
	 * input still goes to it. A hang-up with it: gone both ways.
	 */
	if (r == 0) {
		ss->peer_eof = 1;
		if (revents & (POLLHUP | POLLERR))
			ss->gone = 1;
	}
}

/*
 * The peer has gone both ways. Input that is there now may still turn
 * out to be only its end; any more lines, or input not there yet, cannot
 * be sent. Returns 1 when the session is over.
 */
static int
peer_gone(struct attach *at, const struct buf *q)
{
	if (q->len > 0 || sock_wait(STDIN_FILENO, POLLIN, 0) <= 0) {
		cmd_warnx(at->ce, "%s: the peer closed the connection before "
		    "the end of input", at->name);
		return 1;
	}
	if (read_stdin(at) == -1) {
		at->stop = EXIT_FAIL;
		return 1;
	}
	return 0;
}

/*
 * All the input is sent: hold the half-close back (-q) while the peer is
 * there and has sent fewer records than it was sent lines, for DUR at
 * most. Peers such as node-ipc's close as soon as they see the end of
 * input, and a reply still to come would be lost. Returns 1 to wait on.
 */
static int
session_linger(struct session *ss)
{
	struct attach	*at = ss->at;
	uint64_t	 sent = at->nsent - ss->sent0;
	int		 ms;

	if (at->quit_ns == 0 || ss->peer_eof || ss->gone ||
	    at->nrecs >= sent)
		return 0;
	if (ss->quit_at == 0) {
		ss->quit_at = ev_now() + at->quit_ns;
		return 1;
	}
	if (ev_now() < ss->quit_at)
		return 1;
	ms = (int)((at->quit_ns + 999999) / 1000000);
	cmd_warnx(at->ce, "%s: %" PRIu64 " line%s sent, %" PRIu64 " record%s "
	    "back when -q's %d.%03d s ran out; half-closing", at->name, sent,
	    sent == 1 ? "" : "s", at->nrecs, at->nrecs == 1 ? "" : "s",
	    ms / 1000, ms % 1000);
	return 0;
}

/*
 * The peer ended its side before the end of input. Over a unix socket a
 * peer that closed outright is seen then (POLLHUP); over TCP its close
 * looks like a half-close (FIN) until what is sent after it is refused
 * (RST). So before calling the session a success, wait until what was
 * sent is acknowledged (SIOCOUTQ 0) or refused: the status of a peer
 * that left first is then the same over both (1). Returns 1 when taken.
 */
static int
peer_took_all(struct session *ss, int64_t deadline)
{
	struct sockaddr_storage	sa;
	socklen_t		len = sizeof sa;
	int			err, outq;

	if (getsockname(ss->pc.fd, (struct sockaddr *)&sa, &len) == -1 ||
	    (sa.ss_family != AF_INET && sa.ss_family != AF_INET6))
		return 1;
	for (;;) {
		/* The queue first: a reset sets the error, then empties it. */
		outq = chan_outq(&ss->pc);
		len = sizeof err;
		if (getsockopt(ss->pc.fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == 0 && err != 0)
			return 0;
		if (outq <= 0)
			return 1;
		if (deadline != 0 && ev_now() >= deadline)
			return 1;
		/*
		 * An ACK wakes no poll, and with both sides shut down poll
		 * says POLLHUP at once: look again in 10 ms, not in a spin.
		 */
		(void)poll(NULL, 0, 10);
	}
}

/*
 * After poll, one pass: write what is queued, and say whether the
 * session is over. Returns -1 to go on, else the session's status.
 */
static int
session_pass(struct session *ss, int *wr_shut, int64_t *deadline)
{
	struct attach	*at = ss->at;
	const char	*head;
	size_t		 len;
	int		 ms, rc;

	if (ss->read_data && *deadline != 0)
		*deadline = idle_deadline(at);
	ss->read_data = 0;
	if (ss->failed || at->stop)
		return 1;
	if (ss->peer_eof && *wr_shut)
		return 0;
	if (*deadline != 0 && ev_now() >= *deadline) {
		ms = (int)((at->idle_ns + 999999) / 1000000);
		cmd_warnx(at->ce, "%s: the peer sent nothing for %d.%03d s "
		    "after the end of input (--idle-timeout); closing",
		    at->name, ms / 1000, ms % 1000);
		return 1;
	}
	head = ss->pc.tq.p + ss->pc.tq.off;
	len = ss->pc.tq.len;
	rc = chan_flush(&ss->pc);
	queue_sent(at, head, len - ss->pc.tq.len, ss->pc.tq.len == 0);
	switch (rc) {
	case 1:
		drain_peer(at, &ss->pc);
		cmd_warnx(at->ce, "%s: the peer closed the connection before "
		    "the end of input", at->name);
		return 1;
	case -1:
		cmd_warn(at->ce, "%s: connection lost", at->name);
		return 1;
	}
	return -1;
}

/*
 * Serve one connected peer. Returns 0 when the peer closed cleanly after
 * the end of input, 1 when the connection failed; at->stop is set when
 * attach itself must give up.
 */
int
attach_session(struct attach *at, int sock)
{
	struct session	 ss;
	int64_t		 deadline = 0;
	int		 wr_shut = 0, status = 1;

	memset(&ss, 0, sizeof ss);
	ss.at = at;
	ss.sent0 = at->nsent;
	at->nrecs = 0;
	if (chan_init(&ss.pc, MAXLINE, 1, WQ_SIZE) == -1 ||
	    ev_init(&ss.ev) == -1) {
		cmd_warn(at->ce, "%s", at->name);
		at->stop = EXIT_FAIL;
		goto out;
	}
	/* The queue of stdin lines outlives a peer: the chan borrows it. */
	chan_put_queue(&ss.pc, &at->wq);
	at->q = &ss.pc.tq;
	chan_open(&ss.pc, sock, -1);
	chan_set_sep(&ss.pc, at->sep);
	at->peerkey = at->node ? jscan_want(&ss.pc.rd.js, "cmd", 3) : -1;
	if (ev_add(&ss.ev, STDIN_FILENO, 0, on_stdin, &ss) == -1 ||
	    ev_add(&ss.ev, sock, 0, on_peer, &ss) == -1) {
		cmd_warn(at->ce, "poll set");
		at->stop = EXIT_FAIL;
		goto out;
	}
	for (;;) {
		if (at->in_eof && ss.pc.tq.len == 0 && !wr_shut &&
		    !session_linger(&ss)) {
			/* What nc -N does: the peer sees our EOF. */
			if (chan_half_close(&ss.pc) == -1) {
				cmd_warn(at->ce, "%s: connection lost",
				    at->name);
				break;
			}
			wr_shut = 1;
			if (ss.peer_eof) {
				if (at->idle_ns >= 0)
					deadline = idle_deadline(at);
				status = 0;
				if (!peer_took_all(&ss, deadline)) {
					cmd_warnx(at->ce, "%s: the peer closed "
					    "the connection before the end of "
					    "input", at->name);
					status = 1;
				}
				break;
			}
			if (at->idle_ns >= 0)
				deadline = idle_deadline(at);
		}
		if (ss.gone) {
			if (peer_gone(at, &ss.pc.tq))
				break;
			continue;
		}
		ev_set(&ss.ev, STDIN_FILENO, !at->in_eof &&
		    ss.pc.tq.len < WQ_HIGH ? POLLIN : 0);
		ev_set(&ss.ev, sock, (ss.peer_eof ? 0 : POLLIN) |
		    (ss.pc.tq.len > 0 && chan_can_write(&ss.pc) ? POLLOUT : 0));
		if (ev_run_once(&ss.ev, ev_timeout_ms(ev_deadline_min(deadline,
		    wr_shut ? 0 : ss.quit_at))) == -1) {
			cmd_warn(at->ce, "poll");
			at->stop = EXIT_FAIL;
			break;
		}
		if ((status = session_pass(&ss, &wr_shut, &deadline)) != -1)
			break;
		status = 1;
	}
out:
	/* The socket is the caller's; the queue goes back to attach. */
	if (at->q == &ss.pc.tq)
		chan_take_queue(&ss.pc, &at->wq);
	at->q = &at->wq;
	(void)chan_detach(&ss.pc);
	chan_release(&ss.pc);
	ev_release(&ss.ev);
	return status;
}

