/* SPDX-License-Identifier: ISC */
/*
 * buf.c: byte queues with a head, a tail and watermarks.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <sys/types.h>

struct buf {
	char		*p;
	size_t		 off;	/* first byte not yet written */
	size_t		 len;	/* bytes queued after off */
	size_t		 cap;
	size_t		 size;	/* initial capacity, returned to once drained */
};

int		 buf_init(struct buf *, size_t);
void		 buf_release(struct buf *);
int		 buf_reserve(struct buf *, size_t);
int		 buf_append(struct buf *, const void *, size_t);
void		 buf_consume(struct buf *, size_t);
int		 buf_write(struct buf *, int, int);
int		 buf_write_upto(struct buf *, int, int, size_t);
struct iovec;
ssize_t		 buf_writev(struct buf *, int, int, struct iovec *, int);

#endif
