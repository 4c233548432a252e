/* SPDX-License-Identifier: ISC */
/*
 * v8tag_decode.c, v8tag_encode.c: every value a Node parent can send in
 * 'advanced' mode, as "tagged" NDJSON (ipcrun-child(1), --types tagged).
 * JSON values stay as they are; each other V8 type is an object with
 * one key that starts with '$', such as {"$bigint":"12"}. A key of the
 * message's own that starts with '$' gets a second '$' in front, so that
 * nothing is ambiguous. Both ways, so that a CMD that echoes gives the
 * parent back the same value.
 */
#ifndef V8TAG_H
#define V8TAG_H

#include <stddef.h>

struct buf;
struct v8ser_err;

int		 v8tag_decode(const void *, size_t, struct buf *, size_t,
		    struct v8ser_err *);
int		 v8tag_encode(const char *, size_t, struct buf *,
		    struct v8ser_err *);

/* Node's ArrayBufferView kinds, by the index its serializer writes. */
#define V8TAG_NVIEWS	13
extern const char *const v8tag_views[V8TAG_NVIEWS];
extern const unsigned char v8tag_view_size[V8TAG_NVIEWS];

#endif
