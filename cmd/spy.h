/* SPDX-License-Identifier: ISC */
/*
 * ipcrun spy's private header: the relay's state. spy.c has the options,
 * the set-up and the loop; spy_trace.c cuts each direction's bytes into
 * frames and says them (--trace-file, -v, --trace, --stats), and hands
 * them to spy_ctl.c (--tap's control socket). spy.c calls both, and
 * spy_trace.c calls spy_ctl.c, never the other way. Include after cmd.h.
 */
#ifndef SPY_H
#define SPY_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "buf.h"
#include "ctl.h"
#include "ev.h"
#include "fwd.h"
#include "jscan.h"

#define SPY_QSIZE	(256 * 1024)	/* each direction's queue, high water */
#define SPY_READ	(64 * 1024)	/* largest read */
#define SPY_KEEP	((size_t)64 * 1024 * 1024)	/* of a frame, traced */
#define SPY_SHOW	64	/* -v without -s: bytes shown */

/* One direction's frames, as the trace sees them. */
struct spy_dir {
	const char	*from;		/* "parent" or "child" */
	const char	*arrow;		/* -v: ">" to the child, "<" from it */
	struct buf	 fr;		/* the frame so far, SPY_KEEP at most */
	uint64_t	 size;		/* its bytes so far */
	uint64_t	 need;		/* advanced: its whole size, 0 unknown */
	int		 kinds[64];	/* fds' kinds waiting for NODE_HANDLE */
	size_t		 nkinds;
	uint64_t	 frames;
	uint64_t	 bytes;
	uint64_t	 internal;
	uint64_t	 handles;
	uint64_t	 lost;		/* bytes the other side never took */
};

struct spy {
	const struct cmd_entry	*ce;

	/* Options. */
	char		**argv;		/* NODE [ARG ...] */
	char		 name[64];	/* the child in reports: NODE[pid] */
	const char	*trace_path;	/* --trace-file, or NULL */
	int		 verbose;	/* -v */
	int		 trace;		/* --trace */
	int		 stats;		/* --stats */
	size_t		 show;		/* -s: bytes shown, 0: all */
	int		 show_set;
	int		 tap;		/* --tap: a control socket */

	int		 advanced;	/* NODE_CHANNEL_SERIALIZATION_MODE */
	pid_t		 pid;		/* the real child */
	FILE		*tf;		/* the trace file */
	int		 tdirty;	/* written since the last flush */
	int64_t		 t0;

	struct ev	 ev;
	int		 par;		/* the parent's channel, -1 closed */
	int		 kid;		/* the child's, -1 closed */
	int		 par_eof, kid_eof;	/* read to the end */
	int		 par_shut, kid_shut;	/* the end passed on */
	int		 par_dead, kid_dead;	/* writes fail: gone */
	struct fwd	 down;		/* parent -> child */
	struct fwd	 up;		/* child -> parent */
	struct spy_dir	 ddown, dup;
	struct jscan	 js;
	int		 k_cmd, k_type;
	struct buf	 dec;		/* advanced: a frame decoded */
	struct buf	 line;		/* a report being built */
	struct ctl	 ctl;		/* --tap's socket and its clients */
	char		 qname[160];	/* name as a JSON string, for taps */
	int		 fail;
};

/* spy_ctl.c */
void		 spy_ctl_start(struct spy *);
void		 spy_ctl_end(struct spy *);
void		 spy_ctl_interest(struct spy *);
void		 spy_ctl_pass(struct spy *);
void		 spy_ctl_frame(struct spy *, int, int, int, const char *,
		    size_t, uint64_t);

/* spy_trace.c */
int		 spy_trace_init(struct spy *);
void		 spy_trace_release(struct spy *);
void		 spy_trace_start(struct spy *);
void		 spy_trace_feed(struct spy *, struct spy_dir *, const char *,
		    size_t, const int *, size_t);
void		 spy_trace_lost(struct spy *, struct spy_dir *, size_t, size_t);
void		 spy_trace_note(struct spy *, const char *);
int		 spy_trace_flush(struct spy *);
void		 spy_trace_end(struct spy *);

#endif
