/* SPDX-License-Identifier: ISC */
/*
 * ipcrun's end of a child's channel: a non-blocking stream socket, the
 * framing of what the child writes, and the queues of what goes to it.
 * No reports and no policy: the relay decides what a failure means.
 */

#include "compat.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "chan.h"
#include "fdpass.h"
#include "frame.h"
#include "nodechan.h"

/*
 * The frames with an fd still queued go with the queue: their fds are
 * closed, and the stream starts again from what tq holds. (A queue handed
 * to a restarted child keeps its lines, not their fds; nothing queues a
 * frame with an fd for a child that may be restarted yet.)
 */
/* The frame out is answered, given up on or dropped: its copy goes. */
static void
chan_out_drop(struct chan *ch)
{
	if (ch->out_fd != -1 && !ch->out_lent)
		close(ch->out_fd);
	ch->out_fd = -1;
	ch->out_lent = 0;
	free(ch->out_frame);
	ch->out_frame = NULL;
	ch->out_len = 0;
	ch->out_tries = 0;
}

static void
chan_marks_reset(struct chan *ch)
{
	size_t	i;

	for (i = 0; i < ch->nmarks; i++)
		if (!ch->marks[i].lent)
			close(ch->marks[i].fd);
	chan_out_drop(ch);
	ch->nmarks = 0;
	ch->hold = 0;
	ch->hold_end = 0;
	ch->late = 0;
	ch->paused = 0;
	ch->pause_at = 0;
	ch->tq_out = 0;
	ch->tq_in = ch->tq.len;
}

/*
 * A zeroed chan that holds nothing yet, so that chan_release before
 * chan_init closes nothing (descriptor 0 is not ours).
 */
void
chan_blank(struct chan *ch)
{
	ch->fd = ch->peer = ch->out_fd = -1;
}

int
chan_init(struct chan *ch, size_t maxline, int validate, size_t qsize)
{
	ch->fd = ch->peer = ch->out_fd = -1;
	if (frame_init(&ch->rd, maxline, validate) == -1)
		return -1;
	ch->rd_ok = 1;
	/* A queue handed over from an earlier incarnation is kept. */
	if ((ch->tq.p == NULL && buf_init(&ch->tq, qsize) == -1) ||
	    buf_init(&ch->cq, 4096) == -1)
		return -1;
	chan_marks_reset(ch);
	return 0;
}

void
chan_release(struct chan *ch)
{
	chan_close(ch);
	chan_fds_close(ch);
	chan_marks_reset(ch);
	if (ch->peer != -1)
		close(ch->peer);
	ch->peer = -1;
	buf_release(&ch->cq);
	buf_release(&ch->tq);
	if (ch->rd_ok)
		frame_release(&ch->rd);
	ch->rd_ok = 0;
}

/* A new connection: fd is ipcrun's end, peer a copy of the other one. */
void
chan_open(struct chan *ch, int fd, int peer)
{
	ch->fd = fd;
	ch->peer = peer;
	ch->full = 0;
}

void
chan_close(struct chan *ch)
{
	if (ch->fd != -1)
		close(ch->fd);
	ch->fd = -1;
}

/*
 * tq may be written now: no frame with an fd waits for its answer, and
 * the pause point is not reached.
 */
static int
chan_tq_open(const struct chan *ch)
{
	return ch->tq.len > 0 && (!ch->hold || ch->tq_out < ch->hold_end) &&
	    (!ch->paused || ch->tq_out < ch->pause_at);
}

/*
 * One write, from the queue whose line is under way: a frame of cq goes
 * only between two lines of tq, never into the middle of one, and a line
 * waits for a frame of cq that was cut short. A write of tq stops before
 * a frame that carries an fd, so that the fd goes with that frame's first
 * byte alone (Node hands a received fd to the first frame that claims
 * one), and not past the end of a frame with an fd whose answer has not
 * come. Returns what buf_write returns.
 */
static int
chan_write(struct chan *ch)
{
	struct buf	*b = &ch->cq;
	const char	*nl;
	size_t		 before, n;
	ssize_t		 k;
	int		 rc, *mid = &ch->cq_mid, fd = -1;

	if (ch->tq_mid || (!ch->cq_mid && ch->cq.len == 0)) {
		b = &ch->tq;
		mid = &ch->tq_mid;
	}
	n = b->len;
	if (b == &ch->tq && ch->cq.len > 0 &&
	    (nl = memchr(b->p + b->off, '\n', b->len)) != NULL)
		n = (size_t)(nl - (b->p + b->off)) + 1;
	if (b == &ch->tq) {
		if (ch->hold && ch->hold_end - ch->tq_out < n)
			n = (size_t)(ch->hold_end - ch->tq_out);
		if (ch->paused && ch->pause_at - ch->tq_out < n)
			n = (size_t)(ch->pause_at - ch->tq_out);
		if (ch->nmarks > 0 && ch->marks[0].at == ch->tq_out)
			fd = ch->marks[0].fd;
		else if (ch->nmarks > 0 && ch->marks[0].at - ch->tq_out < n)
			n = (size_t)(ch->marks[0].at - ch->tq_out);
	}
	before = b->len;
	if (fd != -1) {
		/* Its frame, or its first part: the rest goes as bytes. */
		nl = memchr(b->p + b->off, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - (b->p + b->off)) + 1;
		k = fdpass_send(ch->fd, b->p + b->off, n, fd);
		if (k == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		/*
		 * Kept until answered, for a NACK's second try; without
		 * memory for the copy there is no second try.
		 */
		chan_out_drop(ch);
		ch->out_tries = ch->marks[0].tries;
		if ((ch->out_frame = malloc(n)) != NULL) {
			memcpy(ch->out_frame, b->p + b->off, n);
			ch->out_len = n;
			ch->out_fd = fd;
			ch->out_lent = ch->marks[0].lent;
		} else if (!ch->marks[0].lent)
			close(fd);
		ch->hold = 1;
		ch->nheld++;
		ch->hold_end = ch->marks[0].at + n;
		memmove(ch->marks, ch->marks + 1, --ch->nmarks *
		    sizeof *ch->marks);
		buf_consume(b, (size_t)k);
		rc = k > 0;
	} else
		rc = buf_write_upto(b, ch->fd, 1, n);
	if (rc == 1) {
		ch->sent += before - b->len;
		if (b == &ch->tq)
			ch->tq_out += before - b->len;
		*mid = b->len > 0 && b->p[b->off - 1] != '\n';
	}
	/*
	 * A stream socket takes less than offered only when its buffer is
	 * full: another send now would just fail with EAGAIN (most of them
	 * did), so the next one waits for POLLOUT.
	 */
	if (n > 0 && (rc == 0 || (rc == 1 && before - b->len < n)))
		ch->full = 1;
	return rc;
}

/*
 * Write the queues until they are empty or the socket is full. Returns 0;
 * 1 when the child has closed its end (EPIPE, ECONNRESET: nothing more
 * can go, and cq is dropped, as nothing can be answered any more); -1 on
 * another error, with errno set.
 */
int
chan_flush(struct chan *ch)
{
	int	rc;

	if (!chan_can_write(ch))
		return 0;
	while (!ch->full && (chan_tq_open(ch) || ch->cq.len > 0)) {
		if ((rc = chan_write(ch)) == -1) {
			if (errno != EPIPE && errno != ECONNRESET)
				return -1;
			ch->state = CHAN_WDEAD;
			buf_consume(&ch->cq, ch->cq.len);
			return 1;
		}
		if (rc == 0)
			break;
	}
	return 0;
}

/*
 * n bytes of whole lines for the child: straight to the socket while
 * nothing is queued before them, the rest queued in one piece. A write
 * error is left to the next chan_flush, which reports it. Returns -1
 * only when the queue cannot grow.
 */
int
chan_send(struct chan *ch, const char *p, size_t n)
{
	size_t	sent = 0;
	ssize_t	k;

	if (ch->tq.len == 0 && ch->cq.len == 0 && !ch->full &&
	    !ch->hold && !ch->paused && chan_can_write(ch)) {
		do
			k = send(ch->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (k == -1 && errno == EINTR);
		if (k > 0) {
			sent = (size_t)k;
			ch->sent += sent;
			ch->tq_out += sent;
			ch->tq_mid = p[sent - 1] != '\n';
		}
		if (sent < n && (k >= 0 || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			ch->full = 1;
	}
	if (buf_append(&ch->tq, p + sent, n - sent) == -1) {
		ch->tq_in += sent;
		return -1;
	}
	ch->tq_in += n;
	return 0;
}

/*
 * A frame (n bytes, ending in a newline) that carries fd, queued after
 * the lines before it: the chan owns fd from here, and closes it once it
 * is sent or dropped. The lines after it wait for the child's answer.
 * Returns -1 (fd still the caller's) when CHAN_MAXMARKS such frames wait
 * already or the queue cannot grow.
 */
int
chan_send_fd(struct chan *ch, const char *p, size_t n, int fd)
{
	if (ch->nmarks == CHAN_MAXMARKS || n == 0 || p[n - 1] != '\n') {
		errno = ch->nmarks == CHAN_MAXMARKS ? ENOBUFS : EINVAL;
		return -1;
	}
	if (buf_append(&ch->tq, p, n) == -1)
		return -1;
	ch->marks[ch->nmarks].at = ch->tq_in;
	ch->marks[ch->nmarks].tries = 0;
	ch->marks[ch->nmarks].lent = 0;
	ch->marks[ch->nmarks++].fd = fd;
	ch->tq_in += n;
	return 0;
}

/*
 * chan_send_fd with an fd that stays the caller's, open until the frame
 * is answered or dropped (serve's cluster: no duplicate per connection).
 */
int
chan_lend_fd(struct chan *ch, const char *p, size_t n, int fd)
{
	if (chan_send_fd(ch, p, n, fd) == -1)
		return -1;
	ch->marks[ch->nmarks - 1].lent = 1;
	return 0;
}

/*
 * Queue n bytes for the child after what is queued, without writing:
 * the stream's count goes on, so that a frame with an fd queued after
 * them is sent at its own first byte. 0, or -1 (no memory).
 */
int
chan_queue(struct chan *ch, const char *p, size_t n)
{
	if (buf_append(&ch->tq, p, n) == -1)
		return -1;
	ch->tq_in += n;
	return 0;
}

/*
 * The child answered the frame with an fd (NODE_HANDLE_ACK or NACK): the
 * lines after it may go. Returns 0; 1 when the answer is a late one, to a
 * frame given up on (chan_give_up), which comes before any other since
 * the child answers in order; -1 when no such frame was out (an answer to
 * nothing, which the caller reports).
 */
int
chan_answered(struct chan *ch)
{
	if (ch->late > 0) {
		ch->late--;
		return 1;
	}
	if (!ch->hold || ch->tq_out < ch->hold_end)
		return -1;
	ch->hold = 0;
	chan_out_drop(ch);
	return 0;
}

/*
 * A NACK: the child's end lost the fd (MSG_CTRUNC, no fd left). As Node,
 * a net.Socket goes again, CHAN_RETRIES times, before the lines after it;
 * as it was: Node's net.Native wrapping gets two ACKs from a Node
 * receiver, and the second crashes a Node sender (v20.20.2). 2 when it
 * goes again, else chan_answered's return, having done as it does.
 */
int
chan_refused(struct chan *ch)
{
	static const char	 sock[] = "{\"cmd\":\"NODE_HANDLE\",\"type\":"
	    "\"net.Socket\"";
	struct buf		*b = &ch->tq;
	size_t			 n = ch->out_len, i;

	if (ch->late > 0 || !ch->hold || ch->tq_out < ch->hold_end ||
	    ch->out_fd == -1 || ch->out_tries >= CHAN_RETRIES ||
	    ch->nmarks == CHAN_MAXMARKS || n < sizeof sock - 1 ||
	    memcmp(ch->out_frame, sock, sizeof sock - 1) != 0)
		return chan_answered(ch);
	/* At the head of tq: the stream's later positions move by n. */
	if (b->off >= n)
		b->off -= n;
	else {
		if (buf_reserve(b, n) == -1)
			return chan_answered(ch);
		memmove(b->p + b->off + n, b->p + b->off, b->len);
	}
	memcpy(b->p + b->off, ch->out_frame, n);
	b->len += n;
	for (i = 0; i < ch->nmarks; i++)
		ch->marks[i].at += n;
	memmove(ch->marks + 1, ch->marks, ch->nmarks++ * sizeof *ch->marks);
	ch->marks[0].at = ch->tq_out;
	ch->marks[0].fd = ch->out_fd;
	ch->marks[0].tries = ch->out_tries + 1;
	ch->marks[0].lent = ch->out_lent;
	ch->tq_in += n;
	if (ch->paused && ch->pause_at >= ch->tq_out)
		ch->pause_at += n;
	ch->out_fd = -1;
	chan_out_drop(ch);
	ch->hold = 0;
	return 2;
}

/*
 * The frame with an fd that is out and waits for its answer, all of it
 * written: its number (1 for the first the chan sent, and up), or 0 when
 * none waits. The caller times the wait by it.
 */
uint64_t
chan_awaited(const struct chan *ch)
{
	if (!ch->hold || ch->tq_out < ch->hold_end)
		return 0;
	return ch->nheld;
}

/*
 * Give up waiting for the answer to the frame with an fd that is out (a
 * child that does not speak Node's protocol, or is stuck): the lines after
 * it may go, and its answer, if it ever comes, is told apart as late.
 * Returns 0, or -1 when no such frame waits.
 */
int
chan_give_up(struct chan *ch)
{
	if (chan_awaited(ch) == 0)
		return -1;
	ch->hold = 0;
	ch->late++;
	chan_out_drop(ch);
	return 0;
}

/* A frame with an fd waits for its answer, or to go out. */
int
chan_holding(const struct chan *ch)
{
	return ch->hold || ch->nmarks > 0;
}

/*
 * What is queued now goes out, and nothing queued after it: the lines
 * that come later stay in tq for whoever takes the queue (a restarted
 * child, chan_take_queue). cq still goes between lines up to there.
 */
void
chan_pause(struct chan *ch)
{
	ch->paused = 1;
	ch->pause_at = ch->tq_in;
}

/* Paused, and everything before the pause point is written. */
int
chan_paused(const struct chan *ch)
{
	return ch->paused && ch->tq_out >= ch->pause_at && !ch->tq_mid;
}

/* frame_read on the channel; an end of file is remembered. */
ssize_t
chan_read(struct chan *ch, size_t max)
{
	ssize_t	got;

	got = frame_read(&ch->rd, ch->fd, max);
	if (got == -1 && errno == ECONNRESET) {
		frame_set_eof(&ch->rd);
		got = 0;
	}
	if (got == 0)
		ch->eof = 1;
	else if (got > 0)
		ch->received += (uint64_t)got;
	return got;
}

/*
 * chan_read with recvmsg: the fds that come with the bytes go into the
 * FIFO (chan_recv), for the frames that claim them; *flags as
 * chan_recv's.
 */
ssize_t
chan_read_fds(struct chan *ch, size_t max, unsigned *flags)
{
	char	*p;
	size_t	 n;
	ssize_t	 got;

	*flags = 0;
	if ((p = frame_space(&ch->rd, &n)) == NULL)
		return -1;
	if (max > 0 && n > max)
		n = max;
	got = chan_recv(ch, p, n, flags);
	if (got == -1 && errno == ECONNRESET)
		got = 0;
	if (got > 0) {
		frame_filled(&ch->rd, (size_t)got);
		ch->received += (uint64_t)got;
	} else if (got == 0) {
		frame_set_eof(&ch->rd);
		ch->eof = 1;
	}
	return got;
}

/* The end of input for the child: it reads EOF, and can still write. */
int
chan_half_close(struct chan *ch)
{
	int	rc = 0;

	if (chan_is_shut(ch) || ch->fd == -1)
		return 0;
	if (shutdown(ch->fd, SHUT_WR) == -1 && errno != ENOTCONN)
		rc = -1;
	ch->state = CHAN_SHUT;
	return rc;
}

/*
 * Both ways: the child reads EOF and can write no more, while ipcrun
 * still reads what it had written.
 */
void
chan_shut(struct chan *ch)
{
	ch->state = CHAN_CLOSING;
	buf_consume(&ch->cq, ch->cq.len);
	(void)shutdown(ch->fd, SHUT_RDWR);
}

/*
 * Read once from the channel into p (at most n bytes) with recvmsg, never
 * read(2): a plain read silently closes passed fds. The fds that came
 * are appended to the FIFO (the surplus beyond CHAN_MAXFDS closed), and
 * *flags gets fdpass_take's FDPASS_* for what went wrong with them.
 * Returns the bytes read; 0 at the end of file, remembered in ch->eof;
 * -1 with errno (EAGAIN: nothing yet; ECONNRESET, which one caller takes
 * for an end and another for a lost connection).
 */
ssize_t
chan_recv(struct chan *ch, char *p, size_t n, unsigned *flags)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 got;

	*flags = 0;
	iov.iov_base = p;
	iov.iov_len = n;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof cmsg.buf;
	do
		got = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (got == -1 && errno == EINTR);
	if (got == -1)
		return -1;
	if (mh.msg_controllen > 0)
		*flags = fdpass_take(&mh, ch->fds, &ch->nfds, CHAN_MAXFDS);
	if (got == 0)
		ch->eof = 1;
	return got;
}

/*
 * The oldest received fd, now the caller's (Node matches an fd to the
 * first frame that claims one, NODE-IPC.md section 5), or -1 if none.
 */
int
chan_fd_take(struct chan *ch)
{
	int	fd;

	if (ch->nfds == 0)
		return -1;
	fd = ch->fds[0];
	memmove(ch->fds, ch->fds + 1, --ch->nfds * sizeof *ch->fds);
	return fd;
}

/* Close every received fd not claimed: nobody will claim them now. */
void
chan_fds_close(struct chan *ch)
{
	size_t	i;

	for (i = 0; i < ch->nfds; i++)
		close(ch->fds[i]);
	ch->nfds = 0;
}

/*
 * The child's exit counted what it left unread: ipcrun's copy of its end
 * goes, so that the end can close for good.
 */
void
chan_drop_peer(struct chan *c)
{
	if (c->peer != -1)
		close(c->peer);
	c->peer = -1;
}

/* Reading failed for good: what was read is all there will be. */
void
chan_set_eof(struct chan *c)
{
	c->eof = 1;
	frame_set_eof(&c->rd);
}

/*
 * The descriptor is its owner's again: release will not close it.
 * Returns it.
 */
int
chan_detach(struct chan *c)
{
	int	fd = c->fd;

	c->fd = -1;
	return fd;
}

/* What ends a frame read from the peer: '\n' unless changed (attach --rs). */
void
chan_set_sep(struct chan *c, int sep)
{
	c->rd.sep = sep;
}

/* poll says there is room again (or an error the next write reports). */
void
chan_writable(struct chan *c)
{
	c->full = 0;
}

/* Nothing queued will be written: both queues are emptied. */
/*
 * One of ipcrun's own frames (n bytes, no newline) on the control lane:
 * it goes between two lines, never behind held data. Returns -1 when the
 * queue cannot grow.
 */
int
chan_control(struct chan *c, const char *p, size_t n)
{
	size_t	len = c->cq.len;

	if (buf_append(&c->cq, p, n) == -1 ||
	    buf_append(&c->cq, "\n", 1) == -1) {
		c->cq.len = len;
		return -1;
	}
	return 0;
}

/* The lines queued for the child, as chan_lines counts them. */
uint64_t
chan_queued_lines(const struct chan *c, int own)
{
	return chan_lines(c->tq.p + c->tq.off, c->tq.len, own);
}

void
chan_drop_queued(struct chan *c)
{
	buf_consume(&c->tq, c->tq.len);
	buf_consume(&c->cq, c->cq.len);
	c->tq_mid = 0;
	chan_marks_reset(c);
}

/*
 * The lines for the child change hands: the queue is taken out whole (the
 * chan keeps an empty one), or one is put in its place (the old one is
 * released; it starts on a line boundary). A restart hands the lines the
 * last incarnation left unread to the next one so.
 */
void
chan_take_queue(struct chan *c, struct buf *q)
{
	*q = c->tq;
	memset(&c->tq, 0, sizeof c->tq);
	c->tq_mid = 0;
	chan_marks_reset(c);
}

void
chan_put_queue(struct chan *c, struct buf *q)
{
	buf_release(&c->tq);
	c->tq = *q;
	memset(q, 0, sizeof *q);
	c->tq_mid = 0;
	chan_marks_reset(c);
}
