/* SPDX-License-Identifier: ISC */
/*
 * ipcrun check: what check.c (the options, reading and sorting the lines)
 * and check_out.c (what goes out: good lines, reports, --rejects) share.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "cmd.h"
#include "color.h"
#include "frame.h"

#define OUT_IOV		64	/* runs of good lines per writev(2) */

enum { FMT_HUMAN, FMT_GNU, FMT_JSON };

struct counts {
	uint64_t	good;
	uint64_t	bad;
	uint64_t	blank;
	uint64_t	bytes;
};

struct check {
	const struct cmd_entry	*ce;
	size_t			 maxline;
	int			 strict;
	int			 node;
	int			 format;	/* FMT_* */
	int			 count;		/* -c: counts, not lines */
	int			 quiet;		/* -q: only the status */
	int			 verbose;	/* -v: a summary at the end */
	int			 excerpt;	/* the line under each report */
	enum color_mode		 colormode;	/* --color */
	int			 color;		/* colour the excerpts */
	int			 progress;	/* -1: tty and large */
	/*
	 * stdout is a terminal: the good lines before a report are written
	 * before it, so a person sees them in input order.
	 */
	int			 ordered;
	int			 lines_out;	/* good lines go to stdout */
	size_t			 cols;		/* stderr's width */
	int			 bad;		/* a bad line was seen */
	uint64_t		 max_errors;	/* reports to print, 0: all */
	uint64_t		 shown;		/* reports printed */
	uint64_t		 hidden;	/* bad lines not reported */
	int			 status;	/* EXIT_FAIL or EXIT_PIPE once set */
	unsigned		 files;		/* inputs opened */
	struct counts		 total;
	FILE			*rejects;	/* --rejects, or NULL */
	const char		*rejects_name;
	int			 rejects_failed;	/* reported */
	struct meter		 meter;
	/* Runs of good lines, pointing into the read buffer. */
	struct iovec		 iov[OUT_IOV];
	int			 niov;
};

int		 check_wait(int, short);
int		 check_flush(struct check *);
int		 check_out(struct check *, const char *, size_t, int);
int		 check_reject(struct check *, const char *, size_t, int);
int		 check_muted(const struct check *);
int		 check_bad(struct check *, struct counts *, const char *,
		    const struct frame_line *, size_t, const char *);

#endif
