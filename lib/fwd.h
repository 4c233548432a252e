/* SPDX-License-Identifier: ISC */
/*
 * fwd.c: one direction of a byte relay between two stream sockets, with
 * the fds that came carried on at the byte they came with.
 */
#ifndef FWD_H
#define FWD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define FWD_MAXMARKS	64	/* fds queued at once, at the most */
#define FWD_MAXFDS	4	/* fds taken from one read */

/* An fd to send with byte at of the stream (fwd.in counts the bytes). */
struct fwd_mark {
	uint64_t	 at;
	int		 fd;
};

struct fwd {
	struct buf	 q;		/* read, not yet written */
	uint64_t	 in;		/* bytes ever read */
	uint64_t	 out;		/* bytes ever written */
	struct fwd_mark	 marks[FWD_MAXMARKS];	/* oldest first */
	size_t		 nmarks;
	int		 full;		/* the socket took less: wait for POLLOUT */
	uint64_t	 fds_in;	/* fds received */
	uint64_t	 fds_out;	/* fds sent on */
	uint64_t	 fds_lost;	/* closed: no room, or sent to nobody */
};

int		 fwd_init(struct fwd *, size_t);
void		 fwd_release(struct fwd *);
ssize_t		 fwd_read(struct fwd *, int, size_t, const char **, int *,
		    size_t *, unsigned *);
int		 fwd_flush(struct fwd *, int);
void		 fwd_writable(struct fwd *);
size_t		 fwd_queued(const struct fwd *);
size_t		 fwd_drop(struct fwd *);

#endif
