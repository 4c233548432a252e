/* SPDX-License-Identifier: ISC */
/*
 * v8tag_decode.c, v8tag_encode.c: every value a Node parent can send in
 * 'advanced' mode, as "tagged" NDJSON (ipcrun-child(1), --types tagged).
 * JSON values stay as they are; each other V8 type is an object with
 * one key that starts with '$', such as {"$bigint":"12"}. A key of the
 * message's own that starts with '$' gets a second '$' in front, so that
 * nothing is ambiguous. Both ways, so that a CMD that echoes gives the
 * parent back the same value; a RegExp only goes back when the parent
 * sent it (struct v8tag_seen).
 */
#ifndef V8TAG_H
#define V8TAG_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct v8ser_err;

/*
 * The RegExps the parent sent, as hashes of their source and flags: only
 * these may go back to it. ipcrun cannot check a JavaScript pattern, and
 * V8 throws, uncaught, on a bad one. The last V8TAG_NSEEN are kept.
 */
#define V8TAG_NSEEN	1024
struct v8tag_seen {
	uint64_t	hash[V8TAG_NSEEN];
	size_t		n, next;
};

int		 v8tag_decode(const void *, size_t, struct buf *, size_t,
		    struct v8ser_err *, struct v8tag_seen *);
int		 v8tag_encode(const char *, size_t, struct buf *,
		    struct v8ser_err *, const struct v8tag_seen *);

/* Node's ArrayBufferView kinds, by the index its serializer writes. */
#define V8TAG_NVIEWS	13
extern const char *const v8tag_views[V8TAG_NVIEWS];
extern const unsigned char v8tag_view_size[V8TAG_NVIEWS];

#endif
