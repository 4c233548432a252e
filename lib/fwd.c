/* SPDX-License-Identifier: ISC */
/*
 * One direction of a byte relay between two stream sockets (ipcrun spy):
 * what is read goes on unchanged, and an fd that came with a read goes on
 * with the first byte of those bytes, so that the receiver sees it no
 * later than the sender meant (a Node receiver hands a pending fd to the
 * next NODE_HANDLE frame, NODE-IPC.md section 5). No framing, no policy.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fdpass.h"
#include "fwd.h"

int
fwd_init(struct fwd *f, size_t size)
{
	memset(f, 0, sizeof *f);
	return buf_init(&f->q, size);
}

void
fwd_release(struct fwd *f)
{
	(void)fwd_drop(f);
	buf_release(&f->q);
}

/*
 * Read once from sock (at most max bytes) with recvmsg, never read(2),
 * which closes passed fds. The bytes are queued; *p points at them until
 * the next call on f. The fds that came (fds, *nfds of them, at most
 * FWD_MAXFDS: still f's, for the caller to look at) go with the first
 * of these bytes, each with its own byte when more than one came. *flags
 * gets fdpass_take's FDPASS_*. Returns the bytes read, 0 at the end of
 * the stream, -1 with errno (EAGAIN: nothing yet).
 */
ssize_t
fwd_read(struct fwd *f, int sock, size_t max, const char **p, int *fds,
    size_t *nfds, unsigned *flags)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * FWD_MAXFDS)];
	}		 cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 got;
	size_t		 i, n = 0, k = 0;
	int		 got_fds[FWD_MAXFDS];

	*nfds = 0;
	*flags = 0;
	if (buf_reserve(&f->q, max) == -1)
		return -1;
	iov.iov_base = f->q.p + f->q.off + f->q.len;
	iov.iov_len = max;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof cmsg.buf;
	do
		got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (got == -1 && errno == EINTR);
	if (got == -1)
		return -1;
	if (mh.msg_controllen > 0)
		*flags = fdpass_take(&mh, got_fds, &n, FWD_MAXFDS);
	f->fds_in += n;
	for (i = 0; i < n; i++) {
		/* One fd per byte: a sendmsg carries one (imsg's rule). */
		if ((size_t)got <= i || f->nmarks == FWD_MAXMARKS) {
			close(got_fds[i]);
			f->fds_lost++;
			continue;
		}
		f->marks[f->nmarks].at = f->in + i;
		f->marks[f->nmarks++].fd = got_fds[i];
		fds[k++] = got_fds[i];
	}
	*nfds = k;
	*p = f->q.p + f->q.off + f->q.len;
	f->q.len += (size_t)got;
	f->in += (size_t)got;
	return got;
}

/*
 * Write the queue to sock until it is empty or the socket is full. A
 * write stops before a byte that an fd goes with; that byte starts the
 * next one, a sendmsg with the fd, which is closed once sent. Returns 0;
 * 1 when the peer has gone (EPIPE, ECONNRESET: the caller drops what is
 * left); -1 on another error, with errno.
 */
int
fwd_flush(struct fwd *f, int sock)
{
	size_t	 n, before;
	ssize_t	 k;
	int	 rc;

	while (!f->full && f->q.len > 0) {
		n = f->q.len;
		if (f->nmarks > 0 && f->marks[0].at == f->out) {
			if (f->nmarks > 1 && f->marks[1].at - f->out < n)
				n = (size_t)(f->marks[1].at - f->out);
			k = fdpass_send(sock, f->q.p + f->q.off, n,
			    f->marks[0].fd);
			if (k == -1) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					f->full = 1;
					return 0;
				}
				rc = -1;
				goto fail;
			}
			close(f->marks[0].fd);
			f->fds_out++;
			memmove(f->marks, f->marks + 1, --f->nmarks *
			    sizeof *f->marks);
			buf_consume(&f->q, (size_t)k);
			f->out += (size_t)k;
			if ((size_t)k < n)
				f->full = 1;
			continue;
		}
		if (f->nmarks > 0 && f->marks[0].at - f->out < n)
			n = (size_t)(f->marks[0].at - f->out);
		before = f->q.len;
		if ((rc = buf_write_upto(&f->q, sock, 1, n)) == -1)
			goto fail;
		f->out += before - f->q.len;
		/* A stream socket takes less only when its buffer is full. */
		if (rc == 0 || before - f->q.len < n)
			f->full = 1;
	}
	return 0;
fail:
	if (errno == EPIPE || errno == ECONNRESET)
		return 1;
	return -1;
}

/* poll says there is room again (or an error the next write reports). */
void
fwd_writable(struct fwd *f)
{
	f->full = 0;
}

size_t
fwd_queued(const struct fwd *f)
{
	return f->q.len;
}

/*
 * Nothing queued will be written (the peer has gone): the bytes and the
 * fds go. Returns the bytes dropped.
 */
size_t
fwd_drop(struct fwd *f)
{
	size_t	i, n = f->q.len;

	for (i = 0; i < f->nmarks; i++)
		close(f->marks[i].fd);
	f->fds_lost += f->nmarks;
	f->nmarks = 0;
	buf_consume(&f->q, n);
	f->out += n;
	return n;
}
