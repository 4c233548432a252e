/* SPDX-License-Identifier: ISC */
/*
 * One direction of spy's relay (lib/fwd.c), between two real socketpairs:
 * bytes unchanged, an fd carried on with the first byte it came with and
 * the relay's copy closed, two fds each on a sendmsg of its own, a full
 * socket, a peer that went away. TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fdpass.h"
#include "fwd.h"
#include "tap.h"

/* src -> [a | fwd | b] -> dst: the relay reads a and writes b. */
static int	src, a, b, dst;

static void
pairs(void)
{
	int	sp[2], sq[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sq) == -1) {
		ok(0, "socketpair");
		exit(done());
	}
	src = sp[0];
	a = sp[1];
	b = sq[0];
	dst = sq[1];
	(void)fcntl(a, F_SETFL, O_NONBLOCK);
	(void)fcntl(b, F_SETFL, O_NONBLOCK);
}

static ino_t
ino(int fd)
{
	struct stat	st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int
main(void)
{
	struct fwd	 f;
	const char	*p;
	char		 buf[256 * 1024];
	int		 fds[FWD_MAXFDS], pipefd[2], got_fd, kept = -1;
	size_t		 nfds, total;
	unsigned	 flags;
	ssize_t		 n;

	/* Bytes unchanged, straight through. */
	pairs();
	if (fwd_init(&f, 4096) == -1)
		return 1;
	ok(write(src, "{\"a\":1}\n{\"b\"", 12) == 12, "write");
	n = fwd_read(&f, a, 64 * 1024, &p, fds, &nfds, &flags);
	ok(n == 12 && memcmp(p, "{\"a\":1}\n{\"b\"", 12) == 0 && nfds == 0,
	    "read: the bytes, and where they are");
	ok(fwd_flush(&f, b) == 0 && fwd_queued(&f) == 0, "flush: all out");
	n = read(dst, buf, sizeof buf);
	ok(n == 12 && memcmp(buf, "{\"a\":1}\n{\"b\"", 12) == 0,
	    "the other side reads them unchanged");

	/* An fd with a frame, after a frame without one. */
	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return 1;
	ok(write(src, "x\n", 2) == 2, "write");
	(void)fdpass_send(src, "{\"cmd\":\"NODE_HANDLE\"}\n", 22, pipefd[0]);
	total = 0;
	while (total < 24 && (n = fwd_read(&f, a, 64 * 1024, &p, fds, &nfds,
	    &flags)) > 0) {
		if (nfds == 1)
			kept = fds[0];
		total += (size_t)n;
	}
	ok(total == 24 && f.nmarks == 1 && f.fds_in == 1,
	    "read: 24 bytes and one fd (%zu, %zu)", total, f.nmarks);
	ok(fwd_flush(&f, b) == 0 && fwd_queued(&f) == 0 && f.fds_out == 1,
	    "flush: the bytes and the fd out");
	ok(fcntl(kept, F_GETFD) == -1 && errno == EBADF,
	    "the relay's copy of the fd is closed");
	total = 0;
	got_fd = -1;
	while (total < 24) {
		int	fd;

		if ((n = fdpass_recv(dst, buf + total, sizeof buf - total,
		    &fd, &flags)) <= 0)
			break;
		if (fd != -1) {
			ok(got_fd == -1 && total <= 2,
			    "the fd comes with the first bytes it came with");
			got_fd = fd;
		}
		total += (size_t)n;
	}
	ok(total == 24 && memcmp(buf, "x\n{\"cmd\":\"NODE_HANDLE\"}\n", 24) == 0,
	    "the bytes unchanged around the fd");
	ok(got_fd != -1 && ino(got_fd) == ino(pipefd[0]),
	    "the fd that arrives is the one sent");
	close(got_fd);
	close(pipefd[0]);
	close(pipefd[1]);

	/* Two fds in two reads: each goes on with its own sendmsg. */
	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return 1;
	(void)fdpass_send(src, "1\n", 2, pipefd[0]);
	(void)fwd_read(&f, a, 64 * 1024, &p, fds, &nfds, &flags);
	(void)fdpass_send(src, "2\n", 2, pipefd[1]);
	(void)fwd_read(&f, a, 64 * 1024, &p, fds, &nfds, &flags);
	ok(f.nmarks == 2 && fwd_queued(&f) == 4, "two fds queued");
	(void)fwd_flush(&f, b);
	n = fdpass_recv(dst, buf, sizeof buf, &got_fd, &flags);
	ok(n == 2 && got_fd != -1 && ino(got_fd) == ino(pipefd[0]),
	    "the first fd with the first frame alone");
	close(got_fd);
	n = fdpass_recv(dst, buf, sizeof buf, &got_fd, &flags);
	ok(n == 2 && got_fd != -1 && ino(got_fd) == ino(pipefd[1]),
	    "the second with the second");
	close(got_fd);
	close(pipefd[0]);
	close(pipefd[1]);

	/* A full socket: the rest waits, then goes. */
	memset(buf, 'z', sizeof buf);
	(void)fcntl(src, F_SETFL, O_NONBLOCK);
	total = 0;
	while (total < 4 * 1024 * 1024) {
		if ((n = write(src, buf, sizeof buf)) > 0)
			total += (size_t)n;
		while ((n = fwd_read(&f, a, 64 * 1024, &p, fds, &nfds,
		    &flags)) > 0)
			;
		(void)fwd_flush(&f, b);
		if (f.full)
			break;
	}
	ok(f.full && fwd_queued(&f) > 0, "a full socket: bytes wait (%zu)",
	    fwd_queued(&f));
	{
		int		bad = 0;

		while (fwd_queued(&f) > 0) {
			while ((n = recv(dst, buf, sizeof buf,
			    MSG_DONTWAIT)) > 0)
				for (ssize_t i = 0; i < n; i++)
					bad += buf[i] != 'z';
			fwd_writable(&f);
			(void)fwd_flush(&f, b);
			if (fwd_queued(&f) == 0)
				break;
		}
		while ((n = recv(dst, buf, sizeof buf, MSG_DONTWAIT)) > 0)
			for (ssize_t i = 0; i < n; i++)
				bad += buf[i] != 'z';
		ok(fwd_queued(&f) == 0 && f.out == f.in && bad == 0,
		    "drained once the reader reads: %d bad bytes", bad);
	}

	/* The peer goes: 1, and what is left is dropped with its fd. */
	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return 1;
	close(dst);
	dst = -1;
	(void)fdpass_send(src, "gone\n", 5, pipefd[0]);
	(void)fwd_read(&f, a, 64 * 1024, &p, fds, &nfds, &flags);
	kept = fds[0];
	fwd_writable(&f);
	ok(fwd_flush(&f, b) == 1, "flush: 1 when the peer has gone");
	ok(fwd_drop(&f) == 5 && f.nmarks == 0 && fcntl(kept, F_GETFD) == -1,
	    "drop: the bytes counted, the fd closed");
	close(pipefd[0]);
	close(pipefd[1]);

	/* The end of the stream. */
	close(src);
	src = -1;
	ok(fwd_read(&f, a, 64 * 1024, &p, fds, &nfds, &flags) == 0,
	    "read: 0 at the end");
	fwd_release(&f);
	if (src != -1)
		close(src);
	close(a);
	close(b);
	return done();
}
