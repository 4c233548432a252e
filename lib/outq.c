/* SPDX-License-Identifier: ISC */
#include "compat.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "outq.h"
#include "proc.h"

/*
 * Queue for fd, at most max bytes. A pipe, a FIFO or a terminal gets a
 * description of its own with O_NONBLOCK, so that the flag never reaches
 * whoever else shares fd's; a socket is written with MSG_DONTWAIT; a
 * regular file keeps fd (it never stalls, and a description of its own
 * would not share fd's offset).
 */
int
outq_open(struct outq *o, int fd, size_t max)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->max = max;
	if (buf_init(&o->q, max < 4096 ? max : 4096) == -1) {
		o->fd = o->wfd = -1;
		return -1;
	}
	o->wfd = proc_reopen_nonblock(fd, &o->sock);
	return 0;
}

void
outq_close(struct outq *o)
{
	if (o->fd == -1)
		return;
	if (o->wfd != o->fd)
		close(o->wfd);
	buf_release(&o->q);
	o->fd = o->wfd = -1;
}

/*
 * One line, whole: queued and written as far as the reader takes it now,
 * or lost and counted when the queue has no room for all of it. 0, or -1
 * when it was lost.
 */
int
outq_put(struct outq *o, const char *p, size_t n)
{
	struct iovec	iov;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = n;
	return outq_putv(o, &iov, 1);
}

/* outq_put of a line in pieces: all of them, or none. */
int
outq_putv(struct outq *o, const struct iovec *iov, int n)
{
	size_t	len = 0;
	int	i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (o->fd == -1 || o->dead || o->q.len + len > o->max ||
	    buf_reserve(&o->q, len) == -1) {
		o->lost++;
		return -1;
	}
	for (i = 0; i < n; i++)
		(void)buf_append(&o->q, iov[i].iov_base, iov[i].iov_len);
	(void)outq_flush(o);
	return 0;
}

/*
 * Write what the reader takes now. 1 when the queue is empty, 0 when the
 * reader is full, -1 once a write has failed (err says why); what was
 * queued then is counted as lost.
 */
int
outq_flush(struct outq *o)
{
	if (o->fd == -1 || o->dead)
		return o->fd == -1 ? 1 : -1;
	while (o->q.len > 0) {
		switch (buf_write(&o->q, o->wfd, o->sock)) {
		case -1:
			o->err = errno;
			o->dead = 1;
			(void)outq_drop(o);
			return -1;
		case 0:
			return 0;
		}
	}
	return 1;
}

/* Bytes wait for the reader: the caller asks for POLLOUT. */
int
outq_pending(const struct outq *o)
{
	return o->fd != -1 && !o->dead && o->q.len > 0;
}

/*
 * Give up on what is queued: its lines (a line begun counts as one) are
 * added to the lost; the count of them is returned.
 */
uint64_t
outq_drop(struct outq *o)
{
	const char	*p = o->q.p + o->q.off, *end = p + o->q.len, *nl;
	uint64_t	 n = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n++;
		p = nl == NULL ? end : nl + 1;
	}
	buf_consume(&o->q, o->q.len);
	o->lost += n;
	return n;
}
