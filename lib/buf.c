/* SPDX-License-Identifier: ISC */
/*
 * Byte queues for the relay: append at the tail, write from the head in
 * one large write, and watermarks so that a reader can stop reading while
 * its destination is behind. A queue only grows past its initial size to
 * hold one long line, and shrinks back once it has drained.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

int
buf_init(struct buf *b, size_t size)
{
	memset(b, 0, sizeof *b);
	if ((b->p = malloc(size)) == NULL)
		return -1;
	b->cap = b->size = size;
	return 0;
}

void
buf_release(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Make room for n more bytes at the tail: slide down first, then grow. */
int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->cap - b->off - b->len >= n)
		return 0;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	if (n > SIZE_MAX / 2 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	cap = b->cap;
	while (cap - b->len < n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->p + b->off + b->len, data, n);
	b->len += n;
	return 0;
}

/*
 * Drop n bytes from the head. Once empty, a queue that grew for a long
 * line goes back to its initial size, so memory stays flat afterwards.
 */
void
buf_consume(struct buf *b, size_t n)
{
	char	*p;

	if (n >= b->len) {
		b->off = b->len = 0;
		if (b->cap > b->size && (p = realloc(b->p, b->size)) != NULL) {
			b->p = p;
			b->cap = b->size;
		}
		return;
	}
	b->off += n;
	b->len -= n;
}

/*
 * Write as much of the queue as fd takes in one call. sock: use send with
 * MSG_NOSIGNAL|MSG_DONTWAIT, so neither SIGPIPE nor the fd's own blocking
 * flag matters. Returns 1 on progress, 0 when fd is full (or the queue
 * empty), -1 on error with errno set.
 */
int
buf_write(struct buf *b, int fd, int sock)
{
	return buf_write_upto(b, fd, sock, b->len);
}

/* buf_write of at most the first max bytes: a frame's end, say. */
int
buf_write_upto(struct buf *b, int fd, int sock, size_t max)
{
	ssize_t	r;
	size_t	n = max < b->len ? max : b->len;

	if (n == 0)
		return 0;
	for (;;) {
		if (sock)
			r = send(fd, b->p + b->off, n,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			r = write(fd, b->p + b->off, n);
		if (r >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	buf_consume(b, (size_t)r);
	return r > 0;
}

/*
 * Write n pieces in one call, as if they were queued one after another
 * in b and written with buf_write, and queue in b what fd did not take,
 * in order: pieces of several buffers go out in one system call, and
 * what fd takes is never copied. b must be empty (what it holds would
 * have to go first). An error writing is not reported here: everything
 * is queued, and the next buf_write meets the error again and reports
 * it. Returns the bytes written, or -1 (no memory: nothing queued past
 * what was written).
 */
ssize_t
buf_writev(struct buf *b, int fd, int sock, struct iovec *iov, int n)
{
	struct msghdr	msg;
	ssize_t		r;
	size_t		done, skip;
	int		i;

	if (n == 0)
		return 0;
	do {
		if (sock) {
			memset(&msg, 0, sizeof msg);
			msg.msg_iov = iov;
			msg.msg_iovlen = (size_t)n;
			r = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else
			r = writev(fd, iov, n);
	} while (r == -1 && errno == EINTR);
	done = r > 0 ? (size_t)r : 0;
	for (i = 0, skip = done; i < n; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		if (buf_append(b, (const char *)iov[i].iov_base + skip,
		    iov[i].iov_len - skip) == -1)
			return -1;
		skip = 0;
	}
	return (ssize_t)done;
}
