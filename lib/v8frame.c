/* SPDX-License-Identifier: ISC */
/*
 * The frames of Node's channel in advanced serialization: a 4-byte
 * big-endian length, then a V8 payload (v8ser.c). Reading them out of a
 * byte stream, skipping a frame too long to take, and writing one.
 */
#include "compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "v8frame.h"
#include "v8ser.h"
#include "v8tag.h"

#define V8FRAME_HDR	4

static uint32_t
v8frame_len(const char *h)
{
	const uint8_t	*p = (const uint8_t *)h;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* max: the longest payload taken; readsz: the read a caller makes. */
int
v8frame_init(struct v8frame *f, size_t max, size_t readsz)
{
	memset(f, 0, sizeof *f);
	f->max = max;
	f->readsz = readsz;
	return buf_init(&f->in, readsz);
}

void
v8frame_release(struct v8frame *f)
{
	buf_release(&f->in);
}

/*
 * Room for the next read, at least a quarter of readsz: slide the bytes
 * down, and grow only as the frame at the head needs, all of it at once
 * so that a long frame is not copied again at every read. Returns where
 * to read and *n, or NULL with errno.
 */
char *
v8frame_space(struct v8frame *f, size_t *n)
{
	struct buf	*b = &f->in;
	size_t		 want;
	uint32_t	 len;
	char		*np;

	if (b->cap - b->off - b->len < f->readsz / 4) {
		if (b->off > 0) {
			memmove(b->p, b->p + b->off, b->len);
			b->off = 0;
		}
		if (b->cap - b->len < f->readsz / 4) {
			want = b->len + f->readsz;
			if (f->skip == 0 && b->len >= V8FRAME_HDR) {
				len = v8frame_len(b->p);
				if (len <= f->max &&
				    V8FRAME_HDR + (size_t)len > want)
					want = V8FRAME_HDR + (size_t)len;
			}
			if ((np = realloc(b->p, want)) == NULL)
				return NULL;
			b->p = np;
			b->cap = want;
		}
	}
	*n = b->cap - b->off - b->len;
	return b->p + b->off + b->len;
}

void
v8frame_filled(struct v8frame *f, size_t n)
{
	f->in.len += n;
}

/* A whole frame waits, or the bytes of a refused one to drop. */
int
v8frame_ready(const struct v8frame *f)
{
	uint32_t	len;

	if (f->skip > 0)
		return f->in.len > 0;
	if (f->in.len < V8FRAME_HDR)
		return 0;
	len = v8frame_len(f->in.p + f->in.off);
	return len > f->max || f->in.len - V8FRAME_HDR >= len;
}

/* Bytes read and not yet handed out or dropped. */
size_t
v8frame_pending(const struct v8frame *f)
{
	return f->in.len;
}

/*
 * The next frame. V8FRAME_GOOD: its payload at *p, *len bytes, valid
 * until v8frame_drop, which must come before the next call.
 * V8FRAME_LONG: a frame of *len bytes, more than max; its bytes are
 * dropped as they come. V8FRAME_NONE: read more. A buffer that grew for
 * a long frame shrinks back once it is empty.
 */
int
v8frame_next(struct v8frame *f, const char **p, uint32_t *len)
{
	struct buf	*b = &f->in;
	size_t		 n;

	f->cur = 0;
	while (f->skip > 0) {
		n = b->len < f->skip ? b->len : f->skip;
		buf_consume(b, n);
		f->skip -= n;
		if (f->skip > 0)
			return V8FRAME_NONE;
	}
	if (b->len < V8FRAME_HDR) {
		if (b->len == 0)
			buf_consume(b, 0);
		return V8FRAME_NONE;
	}
	*len = v8frame_len(b->p + b->off);
	if (*len > f->max) {
		buf_consume(b, V8FRAME_HDR);
		f->skip = *len;
		return V8FRAME_LONG;
	}
	if (b->len - V8FRAME_HDR < *len)
		return V8FRAME_NONE;
	*p = b->p + b->off + V8FRAME_HDR;
	f->cur = V8FRAME_HDR + (size_t)*len;
	return V8FRAME_GOOD;
}

/* Done with the frame v8frame_next handed out. */
void
v8frame_drop(struct v8frame *f)
{
	buf_consume(&f->in, f->cur);
	f->cur = 0;
}

/*
 * Append one frame to out: JSON text n bytes long, V8-encoded after its
 * length, as the JSON subset or, with tagged, as tagged text (seen: the
 * RegExps that may go). Returns 0, or -1 with *e (out is then as it was).
 */
static int
v8frame_encode_with(struct buf *out, const char *json, size_t n,
    struct v8ser_err *e, int tagged, const struct v8tag_seen *seen)
{
	static const char	 zero[V8FRAME_HDR];
	size_t			 mark = out->len, len;
	uint8_t			*h;

	if (buf_append(out, zero, sizeof zero) == -1) {
		memset(e, 0, sizeof *e);
		e->what = "out of memory";
		e->tag = -1;
		return -1;
	}
	if ((tagged ? v8tag_encode(json, n, out, e, seen) :
	    v8ser_encode(json, n, out, e)) == -1) {
		out->len = mark;
		return -1;
	}
	len = out->len - mark - V8FRAME_HDR;
	h = (uint8_t *)out->p + out->off + mark;
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	return 0;
}

/* The JSON subset. */
int
v8frame_encode(struct buf *out, const char *json, size_t n,
    struct v8ser_err *e)
{
	return v8frame_encode_with(out, json, n, e, 0, NULL);
}

/* Tagged JSON (v8tag.h): every V8 type. */
int
v8frame_encode_tagged(struct buf *out, const char *json, size_t n,
    struct v8ser_err *e, const struct v8tag_seen *seen)
{
	return v8frame_encode_with(out, json, n, e, 1, seen);
}
