/* SPDX-License-Identifier: ISC */
/*
 * buf_writev against a real pipe of one page and a socketpair: pieces of
 * several buffers go out in one call, and what the descriptor does not
 * take is queued whole and in order, from the piece and byte it stopped
 * at; a closed reader is an error left for buf_write to report. TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "tap.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ	1031
#endif

#define NPIECE	5
#define PIECE	3000

/* Read the pipe while b's queue is written into it, to the end. */
static size_t
drain_all(int rfd, int wfd, struct buf *b, char *got, size_t cap)
{
	size_t	len = 0;
	ssize_t	n;

	for (;;) {
		while (len < cap && (n = read(rfd, got + len, cap - len)) > 0)
			len += (size_t)n;
		if (b->len == 0 || buf_write(b, wfd, 0) == -1)
			break;
	}
	return len;
}

int
main(void)
{
	struct iovec	 iov[NPIECE];
	struct buf	 b;
	char		 src[NPIECE][PIECE], want[NPIECE * PIECE], *got;
	int		 p[2], s[2], i, fl;
	ssize_t		 n;
	size_t		 len;

	signal(SIGPIPE, SIG_IGN);
	if (pipe2(p, O_NONBLOCK) == -1 || (got = malloc(1 << 20)) == NULL ||
	    buf_init(&b, 4096) == -1)
		return 1;
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	for (i = 0; i < NPIECE; i++) {
		memset(src[i], 'a' + i, PIECE);
		memcpy(want + i * PIECE, src[i], PIECE);
		iov[i].iov_base = src[i];
		iov[i].iov_len = PIECE;
	}

	is_int(buf_writev(&b, p[1], 0, iov, 0), 0, "no pieces: nothing");
	n = buf_writev(&b, p[1], 0, iov, NPIECE);
	ok(n > 0 && n < NPIECE * PIECE, "a pipe of one page takes part of "
	    "the pieces in one call (%zd bytes)", n);
	is_int((int64_t)b.len, NPIECE * PIECE - n, "the rest is queued");
	len = drain_all(p[0], p[1], &b, got, 1 << 20);
	is_int((int64_t)len, NPIECE * PIECE, "every byte comes out once");
	ok(len == sizeof want && memcmp(got, want, len) == 0,
	    "in the pieces' order, from the byte the pipe stopped at");

	/* A full pipe takes nothing: all of it queued. */
	memset(got, 'z', 4096);
	while (write(p[1], got, 4096) > 0)
		;
	n = buf_writev(&b, p[1], 0, iov, 2);
	is_int(n, 0, "a full pipe: nothing written");
	is_int((int64_t)b.len, 2 * PIECE, "both pieces queued");
	buf_consume(&b, b.len);

	/* A socket: send with MSG_DONTWAIT and MSG_NOSIGNAL, all taken. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == -1)
		return 1;
	fl = fcntl(s[1], F_GETFL);
	n = buf_writev(&b, s[1], 1, iov, NPIECE);
	is_int(n, NPIECE * PIECE, "a socket with room takes every piece");
	is_int((int64_t)b.len, 0, "nothing queued");
	is_int(fcntl(s[1], F_GETFL), fl, "the socket's flags are left alone");

	/* The reader gone: the error is not ours to report; all queued. */
	close(s[0]);
	n = buf_writev(&b, s[1], 1, iov, NPIECE);
	is_int(n, 0, "a closed reader: nothing written");
	is_int((int64_t)b.len, NPIECE * PIECE, "everything queued");
	errno = 0;
	ok(buf_write(&b, s[1], 1) == -1 && errno == EPIPE,
	    "buf_write meets the error again (EPIPE), and no SIGPIPE");
	buf_release(&b);
	free(got);
	return done();
}
