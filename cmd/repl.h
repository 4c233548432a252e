/* SPDX-License-Identifier: ISC */
/*
 * The REPL of ctl and run (ctl_repl.c), and what it shows and keeps
 * (repl_out.c): values pretty and coloured, errors with a caret, the
 * history file.
 */
#ifndef REPL_H
#define REPL_H

#include <limits.h>

#include <histedit.h>
#include <jansson.h>

#include "buf.h"

struct ctlc;

/* One REPL: ctl's on a run, or run's own (repl_run). */
struct repl {
	struct ctlc	*c;
	int		 color;
	char		*to;		/* .to: where typed values go */
	char		*tapped;	/* the child tapped for its replies */
	int		 pending;	/* a value is being continued */
	char		 hist[PATH_MAX];
	int		 hist_ok;
	const char	*word;		/* the prompt without .to */

	/* run's REPL: its stdin and stdout, or -1 for ctl's. */
	int		 in_fd;
	int		 out_fd;
	int		 wrapped;	/* its lines are {"from":...,"msg":...} */
	struct buf	 out;		/* a line of its stdout being read */
};

void		 repl_print(struct repl *, json_t *);
void		 repl_error(struct repl *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void		 repl_caret(struct repl *, const char *, size_t, int, int,
    const char *);
void		 repl_show_line(struct repl *, const char *, size_t);
int		 repl_history_path(struct repl *);
void		 repl_history_save(struct repl *, History *);

#endif
