/* SPDX-License-Identifier: ISC */
/*
 * v8frame.c: advanced mode's frames, a 4-byte big-endian length first.
 */
#ifndef V8FRAME_H
#define V8FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct v8ser_err;

enum {
	V8FRAME_NONE,		/* no whole frame yet: read more */
	V8FRAME_GOOD,		/* a frame's payload */
	V8FRAME_LONG		/* a frame over max: its bytes are dropped */
};

struct v8frame {
	struct buf	 in;	/* bytes read, frames not yet handed out */
	size_t		 max;	/* longest payload taken */
	size_t		 readsz;	/* the reader's read size */
	size_t		 skip;	/* bytes of a long frame still to drop */
	size_t		 cur;	/* bytes of the frame handed out */
};

int		 v8frame_init(struct v8frame *, size_t, size_t);
void		 v8frame_release(struct v8frame *);
char		*v8frame_space(struct v8frame *, size_t *);
void		 v8frame_filled(struct v8frame *, size_t);
int		 v8frame_ready(const struct v8frame *);
size_t		 v8frame_pending(const struct v8frame *);
int		 v8frame_next(struct v8frame *, const char **, uint32_t *);
void		 v8frame_drop(struct v8frame *);
int		 v8frame_encode(struct buf *, const char *, size_t,
		    struct v8ser_err *);
struct v8tag_seen;
int		 v8frame_encode_tagged(struct buf *, const char *, size_t,
		    struct v8ser_err *, const struct v8tag_seen *);

#endif
