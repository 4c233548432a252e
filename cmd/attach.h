/* SPDX-License-Identifier: ISC */
/*
 * ipcrun attach: what attach.c (the options, connecting or listening)
 * and attach_session.c (one peer's conversation) share.
 */
#ifndef ATTACH_H
#define ATTACH_H

#include "show.h"

#include <stdint.h>

#include "buf.h"
#include "frame.h"

#define MAXLINE		((size_t)64 * 1024 * 1024)
#define WQ_SIZE		(64 * 1024)
#define WQ_HIGH		(256 * 1024)	/* stop reading stdin above this */
#define RECV_SIZE	(64 * 1024)
#define RS_JSONSEQ	0x1e		/* RFC 7464: RS before, LF after */

struct attach {
	const struct cmd_entry	*ce;
	struct show		 sh;		/* -v, -s, --trace, --stats */
	const char		*name;		/* the ADDR operand */
	int			 sep;		/* record separator on the socket */
	int64_t			 idle_ns;	/* -1: wait for the peer to close */
	int64_t			 quit_ns;	/* -q: wait for replies before
						   the half-close; 0: none */
	uint64_t		 nrecs;		/* records from this peer */
	int			 bad;		/* a line was refused */
	int			 node;		/* --node: refuse internal messages */
	int			 inkey, peerkey;	/* jscan_want "cmd", or -1 */
	int			 stop;		/* EXIT_PIPE or EXIT_FAIL: give up */
	int			 out_closed;	/* fd 1 was closed at the start */
	struct frame		 in;		/* standard input, by '\n' */
	int			 in_eof;	/* all of stdin framed */
	struct buf		*q;		/* where stdin lines go */
	struct buf		 wq;		/* bound for the socket, kept
						   between peers */
	struct buf		 linenos;	/* uint64_t: the input line
						   number of each line in wq */
	int			 wq_mid;	/* wq's first line is half sent */
	uint64_t		 nsent;		/* lines sent whole, all peers */
};

int		 attach_session(struct attach *, int);
void		 attach_drop_cut(struct attach *);

#endif
