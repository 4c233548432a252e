/* SPDX-License-Identifier: ISC */
/*
 * chan_peer.c: the child's end of a channel, seen from ipcrun's side.
 * What ipcrun wrote and the child has not read (the socket's queue,
 * peeked through ipcrun's copy of the child's end), the lines in it,
 * and the child's send buffer widened before it is handed over.
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
#include "nodechan.h"

/* Bytes written and not yet read by the child, or -1. */
int
chan_outq(const struct chan *ch)
{
	int	outq = 0;

	if (ch->fd == -1 || ioctl(ch->fd, SIOCOUTQ, &outq) == -1)
		return -1;
	return outq;
}

/*
 * Nothing on the way either way: the child has read everything sent and
 * ipcrun everything the child wrote (nothing queued or half framed).
 */
int
chan_quiet(const struct chan *ch)
{
	int	inq = 0;

	if (ch->tq.len > 0 || ch->cq.len > 0 || frame_pending(&ch->rd) > 0)
		return 0;
	if (chan_outq(ch) != 0)
		return 0;
	return ioctl(ch->fd, FIONREAD, &inq) == 0 && inq == 0;
}

/*
 * What the child left unread in its end, peeked through ipcrun's copy,
 * which nobody else reads once the child is gone: a copy in a new
 * buffer (*n bytes), or NULL when there is none (*n says how many bytes
 * there were, even if they could not be copied).
 */
char *
chan_unread(const struct chan *ch, size_t *n)
{
	char	*p;
	int	 inq = 0;
	ssize_t	 got;

	*n = 0;
	if (ch->peer == -1 || ioctl(ch->peer, FIONREAD, &inq) == -1 ||
	    inq <= 0)
		return NULL;
	*n = (size_t)inq;
	if ((p = malloc((size_t)inq)) == NULL)
		return NULL;
	got = recv(ch->peer, p, (size_t)inq, MSG_PEEK | MSG_DONTWAIT);
	if (got <= 0) {
		free(p);
		return NULL;
	}
	*n = (size_t)got;
	return p;
}

/*
 * Lines (whole or begun) in len bytes at p; with own, not counting
 * ipcrun's own frames to a Node child.
 */
uint64_t
chan_lines(const char *p, size_t len, int own)
{
	const char	*e = p + len, *nl;
	uint64_t	 n = 0;
	size_t		 k;

	for (; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e - 1;
		k = (size_t)(nl - p) + 1;
		if (own && nodechan_own_frame(p, k))
			continue;
		n++;
	}
	return n;
}

/*
 * Room for what the child writes before it exits (issue 29): a Node child
 * that ends itself right after its last send()s loses whatever
 * libuv still queues, and libuv queues once the socket is full. For
 * AF_UNIX stream the writer's send buffer bounds what is in flight, and
 * each small frame costs a buffer's overhead, not its length: the default
 * holds a few hundred replies. Set on the child's end before it is
 * handed over. SO_SNDBUFFORCE passes net.core.wmem_max where permitted
 * (root); otherwise the kernel caps SO_SNDBUF there. Returns the size now
 * in force, or -1.
 */
int
chan_widen_peer(int fd, int bytes)
{
	int		got;
	socklen_t	len = sizeof got;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes,
	    sizeof bytes) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) == -1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == -1)
		return -1;
	return got;
}
