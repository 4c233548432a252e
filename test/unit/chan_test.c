/* SPDX-License-Identifier: ISC */
/*
 * ipcrun's end of a channel (lib/chan.c), on a real socketpair: lines
 * sent straight or queued when the socket is full, ipcrun's own frames
 * kept out of the middle of a line, a peer that goes away, the end of
 * file, the half-close, and what the peer left unread. TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "chan.h"
#include "fdpass.h"
#include "frame.h"
#include "nodechan.h"
#include "tap.h"

#define QSIZE	(256 * 1024)

/* A chan on one end of a new socketpair; *other is the child's end. */
static void
pair(struct chan *ch, int *other)
{
	int	sp[2];

	memset(ch, 0, sizeof *ch);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    chan_init(ch, 4096, 1, QSIZE) == -1) {
		ok(0, "socketpair and chan_init");
		exit(done());
	}
	chan_open(ch, sp[0], dup(sp[1]));
	*other = sp[1];
}

/* Everything the other end can read now, into b (NUL-terminated). */
static size_t
drain_peer(int fd, char *b, size_t cap)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		n = 0;
	ssize_t		got;

	while (n < cap - 1 && poll(&pfd, 1, 0) == 1 &&
	    (got = recv(fd, b + n, cap - 1 - n, MSG_DONTWAIT)) > 0)
		n += (size_t)got;
	b[n] = '\0';
	return n;
}

static void
send_and_queue(void)
{
	struct chan	 ch;
	char		 line[1000], *got;
	size_t		 n = 0, total = 0, k;
	int		 other, i;

	pair(&ch, &other);
	ok(chan_send(&ch, "{\"a\":1}\n", 8) == 0 && ch.tq.len == 0 &&
	    ch.sent == 8, "a line goes straight out while nothing is queued");
	memset(line, 'x', sizeof line);
	line[0] = '"';
	line[sizeof line - 2] = '"';
	line[sizeof line - 1] = '\n';
	/* Until the socket is full: then the rest waits in tq. */
	for (i = 0; i < 10000 && !ch.full; i++) {
		if (chan_send(&ch, line, sizeof line) == -1)
			break;
		total += sizeof line;
	}
	ok(ch.full, "a full socket sets full");
	ok(ch.tq.len > 0 && ch.tq.len < sizeof line + 1,
	    "what it did not take is queued (%zu bytes)", ch.tq.len);
	ok(chan_send(&ch, line, sizeof line) == 0 && ch.tq.len >= sizeof line,
	    "after that, lines queue behind it");
	total += sizeof line;
	/* The peer reads; flushing sends the rest, in order. */
	got = malloc(total + 64);
	while (got != NULL && n < total + 8) {
		struct pollfd pfd = { other, POLLIN, 0 };

		if (poll(&pfd, 1, 1000) != 1)
			break;
		k = drain_peer(other, got + n, total + 64 - n);
		n += k;
		ch.full = 0;
		if (chan_flush(&ch) != 0)
			break;
	}
	is_int((int64_t)n, (int64_t)(total + 8), "every byte arrives");
	ok(got != NULL && memcmp(got, "{\"a\":1}\n\"x", 10) == 0 &&
	    got[n - 1] == '\n', "in order");
	is_int((int64_t)ch.sent, (int64_t)n, "sent counts them");
	free(got);
	chan_release(&ch);
	close(other);
}

static void
own_is(const char *line, int want, const char *what)
{
	is_int(nodechan_own_frame(line, strlen(line)), want, what);
}

static void
own_frames_between_lines(void)
{
	struct chan	ch;
	char		b[256];
	int		other;

	pair(&ch, &other);
	/* Half a line is out: the NACK must wait for its end. */
	buf_append(&ch.tq, "1}\n{\"b\":2}\n", 11);
	ch.tq_mid = 1;
	buf_append(&ch.cq, NODECHAN_NACK_LINE, sizeof NODECHAN_NACK_LINE - 1);
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	is_str(b, "1}\n" NODECHAN_NACK_LINE "{\"b\":2}\n",
	    "ipcrun's frame goes between two lines, not into one");
	buf_append(&ch.tq, "{\"c\":3}\n", 8);
	buf_append(&ch.cq, NODECHAN_NACK_LINE, sizeof NODECHAN_NACK_LINE - 1);
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	is_str(b, NODECHAN_NACK_LINE "{\"c\":3}\n",
	    "between two lines, it need not wait");
	is_int((int64_t)chan_lines(b, strlen(b), 1), 1,
	    "chan_lines skips ipcrun's own frames");
	is_int((int64_t)chan_lines(b, strlen(b), 0), 2, "or counts them");
	is_int((int64_t)chan_lines("{}\n[1", 5, 0), 2,
	    "a line begun counts as a line");
	ok(nodechan_own_frame(NODECHAN_EOF_LINE,
	    sizeof NODECHAN_EOF_LINE - 1) && !nodechan_own_frame("{}\n", 3),
	    "nodechan_own_frame knows the notice, and not a line");
	ok(nodechan_own_frame(NODECHAN_ACK "\n", sizeof NODECHAN_ACK) &&
	    nodechan_own_frame(NODECHAN_NACK_LINE,
	    sizeof NODECHAN_NACK_LINE - 1),
	    "nor the answers to a handle");
	own_is("{\"cmd\":\"NODE_CLUSTER\",\"ack\":3}\n", 1,
	    "a cluster reply is ipcrun's own");
	own_is("{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\","
	    "\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"ack\":1}}\n", 1,
	    "so is a connection handed to a cluster worker");
	own_is("{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\","
	    "\"msg\":{\"port\":1}}\n", 0,
	    "a handle frame with an input line's message is a line");
	chan_release(&ch);
	close(other);
}

static void
peer_gone(void)
{
	struct chan	ch;
	int		other;

	pair(&ch, &other);
	close(other);
	chan_drop_peer(&ch);
	is_int(ch.peer, -1, "chan_drop_peer: ipcrun's copy of the end is gone");
	chan_drop_peer(&ch);
	buf_append(&ch.tq, "{}\n", 3);
	buf_append(&ch.cq, NODECHAN_NACK_LINE, sizeof NODECHAN_NACK_LINE - 1);
	is_int(chan_flush(&ch), 1, "a closed peer: chan_flush says so");
	ok(ch.state == CHAN_WDEAD && !chan_can_write(&ch) &&
	    ch.cq.len == 0,
	    "no more writes, and nothing left to answer");
	is_int(chan_flush(&ch), 0, "later flushes do nothing");
	/* Reading: the end of file. */
	is_int(chan_read(&ch, 0), 0, "read: end of file");
	ok(ch.eof && ch.rd.eof, "remembered by the chan and its frame");
	chan_release(&ch);
}

static void
half_close_and_unread(void)
{
	struct chan		 ch;
	struct frame_line	 l;
	char			 b[64], *p;
	size_t			 n;
	int			 other;

	pair(&ch, &other);
	ok(chan_quiet(&ch) && chan_outq(&ch) == 0,
	    "nothing on the way: quiet");
	chan_send(&ch, "{\"a\":1}\n{\"b\":2}\n", 16);
	/* AF_UNIX counts what the bytes take in memory, not the bytes. */
	ok(chan_outq(&ch) > 0, "outq: the peer has not read them");
	ok(!chan_quiet(&ch), "not quiet while the peer has not read them");
	p = chan_unread(&ch, &n);
	ok(p != NULL && n == 16 && memcmp(p, "{\"a\":1}\n", 8) == 0,
	    "chan_unread: a copy of what the peer left unread");
	free(p);
	is_int((int64_t)drain_peer(other, b, sizeof b), 16,
	    "peeking took nothing from the peer");
	p = chan_unread(&ch, &n);
	ok(p == NULL && n == 0, "read: nothing unread");
	ok(chan_outq(&ch) == 0 && chan_quiet(&ch), "and quiet again");
	is_int(chan_half_close(&ch), 0, "half-close");
	ok(chan_is_shut(&ch) && !chan_can_write(&ch) && !chan_closing(&ch),
	    "no more writes");
	is_int(recv(other, b, sizeof b, MSG_DONTWAIT), 0,
	    "the peer reads the end of file");
	is_int(write(other, "{\"r\":1}\n", 8), 8, "and can still answer");
	is_int(chan_read(&ch, 0), 8, "which ipcrun reads");
	is_int((int)ch.received, 8, "and counts");
	is_int(frame_next(&ch.rd, &l), FRAME_GOOD, "a good frame");
	ok(l.len == 8 && memcmp(l.p, "{\"r\":1}\n", 8) == 0, "its bytes");
	chan_shut(&ch);
	ok(chan_closing(&ch) && chan_is_shut(&ch), "shut both ways: closing");
	close(other);
	chan_close(&ch);
	is_int(ch.fd, -1, "closed");
	chan_release(&ch);
}

/*
 * chan_recv on a real socketpair: the fds that came with bytes wait in
 * order until claimed, and every fd the sender passed is the one taken.
 */
static void
recv_fds(void)
{
	struct chan	ch;
	struct stat	a, b, c;
	char		buf[64];
	unsigned	flags;
	int		other, p1[2], p2[2], fd;
	ssize_t		got;

	pair(&ch, &other);
	if (pipe2(p1, O_CLOEXEC) == -1 || pipe2(p2, O_CLOEXEC) == -1) {
		ok(0, "pipes");
		return;
	}
	got = chan_recv(&ch, buf, sizeof buf, &flags);
	ok(got == -1 && errno == EAGAIN, "nothing yet: EAGAIN");
	/* Two frames, each with an fd, before the reader looks. */
	fdpass_send(other, "{\"a\":1}\n", 8, p1[0]);
	fdpass_send(other, "{\"b\":2}\n", 8, p2[1]);
	got = chan_recv(&ch, buf, 8, &flags);
	is_int(got, 8, "the first frame's bytes");
	is_int((int64_t)flags, 0, "no trouble with its fd");
	got = chan_recv(&ch, buf, sizeof buf, &flags);
	is_int(got, 8, "the second frame's bytes");
	is_int((int64_t)ch.nfds, 2, "both fds held");
	fd = chan_fd_take(&ch);
	ok(fd != -1 && fstat(fd, &a) == 0 && fstat(p1[0], &b) == 0 &&
	    a.st_ino == b.st_ino, "the oldest first: the first pipe");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "received CLOEXEC");
	close(fd);
	fd = chan_fd_take(&ch);
	ok(fd != -1 && fstat(fd, &a) == 0 && fstat(p2[1], &c) == 0 &&
	    a.st_ino == c.st_ino, "then the second");
	close(fd);
	is_int(chan_fd_take(&ch), -1, "then none");
	/* Fds never claimed are closed with the channel, not leaked. */
	fdpass_send(other, "x", 1, p1[1]);
	chan_recv(&ch, buf, sizeof buf, &flags);
	fd = ch.fds[0];
	chan_fds_close(&ch);
	ok(ch.nfds == 0 && fcntl(fd, F_GETFD) == -1 && errno == EBADF,
	    "chan_fds_close closes what was not claimed");
	close(other);
	close(ch.peer);
	ch.peer = -1;
	is_int(chan_recv(&ch, buf, sizeof buf, &flags), 0, "end of file");
	ok(ch.eof, "remembered");
	chan_release(&ch);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

/* The queue handed to a next incarnation, emptied, and a failed read. */
static void
queue_hands(void)
{
	struct chan	 ch, next;
	struct buf	 q;
	char		 b[64];
	int		 other, other2;

	pair(&ch, &other);
	buf_append(&ch.tq, "{\"a\":1}\n{\"b\":2}\n", 16);
	ch.tq_mid = 1;
	chan_take_queue(&ch, &q);
	ok(q.len == 16 && ch.tq.len == 0 && ch.tq.p == NULL && !ch.tq_mid,
	    "take: the lines leave, the chan keeps an empty queue");
	chan_release(&ch);
	close(other);
	pair(&next, &other2);
	buf_append(&next.tq, "{}\n", 3);
	chan_put_queue(&next, &q);
	ok(next.tq.len == 16 && q.p == NULL, "put: the next one has them");
	is_int(chan_flush(&next), 0, "and writes them");
	is_int((int64_t)drain_peer(other2, b, sizeof b), 16,
	    "the lines, not the old queue's");
	ok(memcmp(b, "{\"a\":1}\n", 8) == 0, "in order");
	buf_append(&next.tq, "{}\n", 3);
	buf_append(&next.cq, NODECHAN_NACK_LINE, sizeof NODECHAN_NACK_LINE - 1);
	next.tq_mid = 1;
	chan_drop_queued(&next);
	ok(next.tq.len == 0 && next.cq.len == 0 && !next.tq_mid,
	    "drop_queued: nothing left to write");
	next.full = 1;
	chan_writable(&next);
	ok(!next.full, "writable: room again");
	chan_set_eof(&next);
	ok(next.eof && next.rd.eof, "set_eof: the chan and its frame");
	close(other2);
	chan_release(&next);
}

/*
 * Everything fd holds now, into b (NUL-terminated), with recvmsg: the
 * last fd that came (the others closed), their count in *nfd.
 */
static int
recv_all(int fd, char *b, size_t cap, int *nfd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	unsigned	 flags;
	size_t		 n = 0;
	ssize_t		 got;
	int		 one, last = -1;

	*nfd = 0;
	while (n < cap - 1 && poll(&pfd, 1, 0) == 1 &&
	    (got = fdpass_recv(fd, b + n, cap - 1 - n, &one, &flags)) > 0) {
		n += (size_t)got;
		if (one != -1) {
			if (last != -1)
				close(last);
			last = one;
			++*nfd;
		}
	}
	b[n] = '\0';
	return last;
}

/*
 * A frame with an fd: the fd rides on its first byte and nothing else;
 * the lines after it wait for the answer while the control lane goes;
 * the chan owns the fd and closes it once answered; marked fds are closed
 * when the queue is dropped.
 */
static void
send_fds(void)
{
	struct chan	 ch;
	char		 b[256], frame[128];
	int		 other, p[2], fd, n, i, nfd;
	const char	*cause;

	pair(&ch, &other);
	if (pipe(p) == -1)
		return;
	n = nodechan_handle_frame(frame, sizeof frame, "net.Socket", "\"h\"",
	    3);
	is_str(n > 0 ? frame : "", "{\"cmd\":\"NODE_HANDLE\",\"type\":"
	    "\"net.Socket\",\"msg\":\"h\"}\n", "the handle frame");
	ok(nodechan_handle_frame(b, 20, "net.Socket", "1", 1) == -1,
	    "a buffer too small for it");
	chan_send(&ch, "\"a\"\n", 4);
	ok(chan_send_fd(&ch, frame, (size_t)n, p[1]) == 0, "queued with an fd");
	chan_send(&ch, "\"b\"\n", 4);
	ok(chan_holding(&ch), "holding: a frame with an fd is queued");
	is_int(chan_flush(&ch), 0, "flush");
	/* Linux may give "a" and the frame to one recvmsg, with the fd. */
	fd = recv_all(other, b, sizeof b, &nfd);
	ok(strncmp(b, "\"a\"\n{\"cmd\":\"NODE_HANDLE\"", 24) == 0 &&
	    strlen(b) == 4 + (size_t)n, "the line before it, then the frame: "
	    "%s (%zu bytes of %d)", b, strlen(b), 4 + n);
	ok(nfd == 1 && fd != -1, "one fd came with them (%d)", nfd);
	ok(write(fd, "x", 1) == 1 && read(p[0], b, 1) == 1,
	    "the fd received is the pipe's");
	close(fd);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	ok(read(p[0], b, 1) == -1 && errno == EAGAIN, "the chan keeps its "
	    "copy until the answer (for a NACK's second try)");
	ok(ch.hold && ch.tq.len == 4, "the line after it waits for the answer");
	ok(recv(other, b, sizeof b, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	    "nothing more was sent");
	/* The control lane still goes. */
	buf_append(&ch.cq, "{\"ctl\":1}\n", 10);
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	is_str(b, "{\"ctl\":1}\n", "the control lane does not wait");
	ok(chan_send(&ch, "\"c\"\n", 4) == 0 && ch.tq.len == 8,
	    "a new line queues behind the held one, not straight out");
	is_int(chan_answered(&ch), 0, "the answer comes");
	ok(read(p[0], b, 1) == 0, "and the chan closed its copy: the pipe "
	    "ends with the one received");
	close(p[0]);
	ok(!chan_holding(&ch), "no longer holding");
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	is_str(b, "\"b\"\n\"c\"\n", "the lines after it follow, in order");
	is_int(chan_answered(&ch), -1, "an answer to nothing is told apart");
	/* Given up on: the lines go, and the late answer is told apart. */
	is_int(chan_awaited(&ch), 0, "no frame awaited");
	is_int(chan_give_up(&ch), -1, "nothing to give up on");
	if (pipe(p) == -1)
		return;
	close(p[0]);
	ok(chan_send_fd(&ch, frame, (size_t)n, p[1]) == 0 &&
	    chan_send(&ch, "\"d\"\n", 4) == 0, "another frame with an fd, "
	    "a line after it");
	is_int(chan_awaited(&ch), 0, "not awaited before it is sent");
	is_int(chan_flush(&ch), 0, "flush");
	fd = recv_all(other, b, sizeof b, &nfd);
	if (fd != -1)
		close(fd);
	ok(chan_awaited(&ch) == 2 && ch.tq.len == 4, "the second frame with "
	    "an fd is awaited, the line held (%" PRIu64 ")", chan_awaited(&ch));
	is_int(chan_give_up(&ch), 0, "given up on");
	is_int(chan_awaited(&ch), 0, "no longer awaited");
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	is_str(b, "\"d\"\n", "the line after it goes");
	is_int(chan_answered(&ch), 1, "its answer, late, is told apart");
	is_int(chan_answered(&ch), -1, "and only one");
	/* Marks beyond the bound; fds closed with a dropped queue. */
	for (i = 0; i < CHAN_MAXMARKS + 1; i++) {
		if (pipe(p) == -1)
			break;
		close(p[1]);
		if (chan_send_fd(&ch, frame, (size_t)n, p[0]) == -1)
			break;
	}
	is_int(i, CHAN_MAXMARKS, "CHAN_MAXMARKS frames with fds, no more");
	ok(errno == ENOBUFS && fcntl(p[0], F_GETFD) != -1,
	    "the one refused stays the caller's");
	close(p[0]);
	fd = ch.marks[0].fd;
	chan_drop_queued(&ch);
	ok(ch.nmarks == 0 && fcntl(fd, F_GETFD) == -1,
	    "a dropped queue closes the fds it held");
	/* What Node takes. */
	ok(nodechan_fd_check(STDIN_FILENO, &cause) == -1 ||
	    fdpass_kind(STDIN_FILENO) == FDPASS_FIFO ||
	    fdpass_node_accepts(fdpass_kind(STDIN_FILENO)),
	    "stdin as Node would take it");
	fd = open("/dev/null", O_RDONLY);
	ok(nodechan_fd_check(fd, &cause) == -1 && strstr(cause, "aborts"),
	    "a character device is refused: Node aborts on it");
	close(fd);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ok(nodechan_fd_check(fd, &cause) == -1 && strstr(cause, "every handle"),
	    "a unix datagram socket is refused: Node NACKs it and all after");
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ok(nodechan_fd_check(fd, &cause) == 0 &&
	    (fcntl(fd, F_GETFL) & O_NONBLOCK), "a TCP socket goes, made "
	    "O_NONBLOCK");
	close(fd);
	ok(nodechan_fd_check(-1, &cause) == -1, "no descriptor: refused");
	chan_release(&ch);
	close(other);
}

/*
 * A pause: what was queued before it goes out, ipcrun's own frames still
 * go between lines, and what is queued after it waits, for whoever takes
 * the queue.
 */
static void
pause_point(void)
{
	struct chan	 ch;
	struct buf	 q;
	char		 b[256];
	int		 other;

	pair(&ch, &other);
	ok(chan_queue(&ch, "{\"a\":1}\n", 8) == 0 && chan_queue(&ch,
	    NODECHAN_EOF_LINE, sizeof NODECHAN_EOF_LINE - 1) == 0,
	    "a line and the notice queued");
	chan_pause(&ch);
	ok(!chan_paused(&ch), "paused, not all written yet");
	ok(chan_send(&ch, "{\"b\":2}\n", 8) == 0 && ch.tq.len > 8,
	    "a line after the pause is queued, not sent straight");
	ok(chan_flush(&ch) == 0, "flushed");
	drain_peer(other, b, sizeof b);
	is_str(b, "{\"a\":1}\n" NODECHAN_EOF_LINE,
	    "the child got what came before the pause, and nothing after");
	ok(chan_paused(&ch), "all before the pause is written");
	ok(ch.tq.len == 8 && memcmp(ch.tq.p + ch.tq.off, "{\"b\":2}\n", 8) ==
	    0, "the line after it waits in tq");
	chan_take_queue(&ch, &q);
	ok(!ch.paused && q.len == 8, "the queue taken: the pause goes");
	buf_release(&q);
	chan_release(&ch);
	close(other);
}

/*
 * A NACK'd net.Socket goes again, its fd with it, before the lines after
 * it, CHAN_RETRIES times; then it is dropped. Other types do not go again.
 */
static void
refused_fds(void)
{
	struct chan	 ch;
	char		 b[256], frame[128], want[300];
	int		 other, p[2], fd, n, i, nfd;

	pair(&ch, &other);
	if (pipe(p) == -1)
		return;
	n = nodechan_handle_frame(frame, sizeof frame, "net.Socket", "7", 1);
	ok(chan_send_fd(&ch, frame, (size_t)n, p[1]) == 0 &&
	    chan_send(&ch, "\"after\"\n", 8) == 0, "a socket, a line after it");
	for (i = 0; i <= CHAN_RETRIES; i++) {
		ok(chan_flush(&ch) == 0, "flush %d", i);
		fd = recv_all(other, b, sizeof b, &nfd);
		ok(nfd == 1 && fd != -1 && strlen(b) == (size_t)n &&
		    memcmp(b, frame, (size_t)n) == 0, "transmission %d: the "
		    "frame as it was, with an fd: %s", i, b);
		ok(fd != -1 && write(fd, "x", 1) == 1 && read(p[0], b, 1) == 1,
		    "transmission %d: the pipe's", i);
		if (fd != -1)
			close(fd);
		ok(chan_refused(&ch) == (i < CHAN_RETRIES ? 2 : 0),
		    "NACK %d", i);
	}
	ok(read(p[0], b, 1) == 0, "given up: the chan closed its copy");
	close(p[0]);
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	is_str(b, "\"after\"\n", "then the line after it");
	is_int(chan_refused(&ch), -1, "a NACK to nothing is told apart");
	/* A server is not sent again: Node does not either. */
	if (pipe(p) == -1)
		return;
	n = nodechan_handle_frame(frame, sizeof frame, "net.Server", "8", 1);
	ok(chan_send_fd(&ch, frame, (size_t)n, p[1]) == 0 &&
	    chan_send(&ch, "\"next\"\n", 7) == 0, "a server, a line after it");
	is_int(chan_flush(&ch), 0, "flush");
	fd = recv_all(other, b, sizeof b, &nfd);
	if (fd != -1)
		close(fd);
	is_int(chan_refused(&ch), 0, "NACK'd: dropped at once");
	ok(read(p[0], b, 1) == 0, "its fd closed");
	close(p[0]);
	is_int(chan_flush(&ch), 0, "flush");
	drain_peer(other, b, sizeof b);
	snprintf(want, sizeof want, "\"next\"\n");
	is_str(b, want, "the line after it goes");
	chan_release(&ch);
	close(other);
}

int
main(void)
{
	send_and_queue();
	own_frames_between_lines();
	peer_gone();
	half_close_and_unread();
	recv_fds();
	queue_hands();
	send_fds();
	refused_fds();
	pause_point();
	return done();
}
