/* SPDX-License-Identifier: ISC */
/*
 * frame.c: split a byte stream into lines, validating each with jscan.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jscan.h"

enum {
	FRAME_NONE = 0,		/* no complete line yet: read more */
	FRAME_GOOD,		/* a valid line */
	FRAME_BLANK,		/* only space, tab, CR: skip it */
	FRAME_BAD,		/* an invalid or over-long line */
	FRAME_REST		/* more of a bad line (only with rest set) */
};

struct frame_line {
	/*
	 * GOOD: the line, with its '\n' if it had one. BAD: as much of it
	 * as is buffered; REST: the next piece of a bad line.
	 */
	const char	*p;
	size_t		 len;	/* bytes at p */
	int		 nl;	/* 0: no '\n' at p + len - 1 */
	int		 more;	/* BAD, REST: bytes of the line are to come */
	uint64_t	 lineno;	/* 1-based, blank lines counted */
	const char	*err;	/* BAD: the reason */
	size_t		 err_off;	/* BAD: 0-based byte in the line */
};

struct frame {
	struct jscan	 js;
	size_t		 maxline;	/* longest line allowed, '\n' excluded */
	int		 validate;	/* 0: frame only (--no-validate) */
	int		 sep;		/* ends a line: '\n' unless changed */
	int		 rest;		/* hand out bad lines' bytes as REST */
	uint64_t	 lineno;	/* lines started so far */
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first byte of the current line */
	size_t		 end;		/* end of data read */
	size_t		 fed;		/* bytes of the current line scanned */
	int		 skip;		/* current line already reported bad */
	int		 inline_;	/* a line has started and not ended */
	int		 eof;
	uint64_t	*stack;		/* depth room for long lines */
	size_t		 stack_map;	/* bytes reserved for it */
	size_t		 full;		/* buffered lines end here (at a '\n') */
	size_t		 doubt;		/* 1 + a line frame_run left, or 0 */
	size_t		 held;		/* a good line frame_run kept back */
	struct jscan_run run;		/* the block scanner across lines */
};

int		 frame_init(struct frame *, size_t, int);
uint64_t	 frame_lines_out(const struct frame *);
void		 frame_release(struct frame *);
char		*frame_space(struct frame *, size_t *);
void		 frame_filled(struct frame *, size_t);
void		 frame_set_eof(struct frame *);
ssize_t		 frame_read(struct frame *, int, size_t);
int		 frame_next(struct frame *, struct frame_line *);
size_t		 frame_run(struct frame *, size_t, const char **, uint64_t *);
size_t		 frame_pending(const struct frame *);
void		 frame_reason(const struct frame *, const struct frame_line *,
		    char *, size_t);
ssize_t		 frame_node_internal(const struct frame *, int,
		    const struct frame_line *, char *, size_t);

#endif
