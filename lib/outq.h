/* SPDX-License-Identifier: ISC */
/*
 * outq.c: a bounded queue of whole lines to a descriptor that may stall
 * (stderr, --events-fd): written without ever blocking, through a
 * description of its own where the descriptor is a pipe or a terminal. A
 * line that does not fit is lost whole and counted, never cut; a line
 * begun goes out to its end. What ipcrun says can then wait, or be lost
 * with a count, but never holds up the relay.
 */
#ifndef OUTQ_H
#define OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"

struct outq {
	int		 fd;		/* the descriptor given, or -1 */
	int		 wfd;		/* what is written: fd, or its own */
	int		 sock;		/* wfd is a socket: send(2) */
	int		 dead;		/* a write failed: nothing more goes */
	int		 err;		/* its errno */
	size_t		 max;		/* bytes queued at the most */
	struct buf	 q;
	uint64_t	 lost;		/* lines that did not fit, or dropped */
};

int		 outq_open(struct outq *, int, size_t);
void		 outq_close(struct outq *);
int		 outq_put(struct outq *, const char *, size_t);
int		 outq_putv(struct outq *, const struct iovec *, int);
int		 outq_flush(struct outq *);
int		 outq_pending(const struct outq *);
uint64_t	 outq_drop(struct outq *);

#endif
