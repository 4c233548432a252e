/* SPDX-License-Identifier: ISC */
/*
 * tracef.c: --trace-file, the frames in a file as NDJSON, one line each
 * in spy's format (ipcrun-spy(1), "The trace"), for run, child and attach;
 * and the escaping and time that spy's own trace lines are built with.
 */
#ifndef TRACEF_H
#define TRACEF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "jscan.h"

struct cmd_entry;

struct tracef {
	const struct cmd_entry	*ce;
	const char	*path;
	FILE		*f;		/* NULL: no trace (or no more) */
	struct buf	 line;
	struct jscan	 js;
	int		 k_cmd;
	int		 k_type;
	int64_t		 t0;
	size_t		 show;		/* -s: bytes of a frame kept, 0: all */
};

void		 tracef_put(struct buf *, const char *, size_t);
void		 tracef_putf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
int		 tracef_escaped(struct buf *, const char *, size_t, size_t,
    int);
void		 tracef_time(struct buf *, int64_t);

int		 tracef_open(struct tracef *, const struct cmd_entry *,
    const char *, size_t, int64_t);
void		 tracef_frame(struct tracef *, const char *, const char *,
    const char *, size_t);
void		 tracef_event(struct tracef *, const char *, const char *);
void		 tracef_close(struct tracef *);

#endif
