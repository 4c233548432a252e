/* SPDX-License-Identifier: ISC */
/*
 * show.c: -v, --trace, --trace-file and --stats of child and attach, the
 * frames between ipcrun and the other side said on stderr as run says
 * them, and in a file as spy writes them.
 */
#ifndef SHOW_H
#define SHOW_H

#include <stddef.h>
#include <stdint.h>

#include "tracef.h"

#define SHOW_DEFAULT	64	/* -v without -s: bytes shown */

/* One direction's counts, for --stats. */
struct show_count {
	uint64_t	 frames;
	uint64_t	 bytes;
	uint64_t	 internal;
};

struct show {
	const struct cmd_entry	*ce;
	const char	*who;		/* the other side, in every line */
	int		 verbose;	/* -v */
	int		 trace;		/* --trace */
	int		 stats;		/* --stats */
	size_t		 show;		/* -s: bytes shown, 0: all */
	const char	*trace_path;	/* --trace-file */
	size_t		 trace_show;	/* its bytes of a frame: -s, or 0: all */
	struct tracef	 tf;
	const char	*sent_to;	/* the trace's "from" of a frame to who */
	const char	*sent_from;	/* and of one from who */
	int64_t		 t0;
	struct show_count to;		/* towards who (">") */
	struct show_count from;		/* from who ("<") */
};

void		 show_init(struct show *, const struct cmd_entry *);
int		 show_option(struct show *, int, const char *);
void		 show_frame(struct show *, int, int, const char *, size_t,
    size_t);
int		 show_start(struct show *);
void		 show_stats(struct show *, const char *);
void		 show_end(struct show *);

#endif
