/* SPDX-License-Identifier: ISC */
/*
 * show.c: -v, --trace and --stats of child and attach, the frames
 * between ipcrun and the other side said on stderr as run says them.
 */
#ifndef SHOW_H
#define SHOW_H

#include <stddef.h>
#include <stdint.h>

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
	int64_t		 t0;
	struct show_count to;		/* towards who (">") */
	struct show_count from;		/* from who ("<") */
};

void		 show_init(struct show *, const struct cmd_entry *);
int		 show_option(struct show *, int, const char *);
void		 show_frame(struct show *, int, int, const char *, size_t);
void		 show_stats(struct show *, const char *);

#endif
