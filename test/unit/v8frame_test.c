/* SPDX-License-Identifier: ISC */
/*
 * v8frame: frames written with their big-endian length, read back whole
 * from a stream cut at every byte, a frame over the limit dropped as its
 * bytes come (and the one after it still read), and the read buffer grown
 * once for a long frame and given back after. TAP.
 */
#include "compat.h"

#include <stdlib.h>

#include "buf.h"
#include "v8frame.h"
#include "v8ser.h"
#include "tap.h"

#define MAX	64
#define READSZ	16

/* Feed n bytes into f, at most chunk at a time as reads would. */
static int
feed(struct v8frame *f, const char *p, size_t n, size_t chunk)
{
	size_t	 room, k;
	char	*at;

	while (n > 0) {
		if ((at = v8frame_space(f, &room)) == NULL)
			return -1;
		k = n < chunk ? n : chunk;
		if (k > room)
			k = room;
		memcpy(at, p, k);
		v8frame_filled(f, k);
		p += k;
		n -= k;
	}
	return 0;
}

static void
encode(void)
{
	static const unsigned char want[] = { 0, 0, 0, 3, 0xff, 15, 'T' };
	struct v8ser_err	 e;
	struct buf		 out;

	if (buf_init(&out, 4) == -1)
		abort();
	buf_append(&out, "x", 1);
	ok(v8frame_encode(&out, "true", 4, &e) == 0 &&
	    out.len == 1 + sizeof want &&
	    memcmp(out.p + out.off + 1, want, sizeof want) == 0,
	    "true: length 3, then the version header and 'T', after what "
	    "was there");
	ok(v8frame_encode(&out, "[1,", 3, &e) == -1 && e.what != NULL &&
	    out.len == 1 + sizeof want,
	    "invalid JSON refused, the queue as it was (%s)",
	    e.what ? e.what : "?");
	ok(v8frame_encode(&out, "1n", 2, &e) == -1 &&
	    out.len == 1 + sizeof want, "trailing bytes refused");
	buf_release(&out);
}

/* Two frames, cut at every byte: each comes out whole and once. */
static void
stream(void)
{
	static const char *const in[] = { "{\"a\":[1,2,\"x\"]}", "null" };
	struct v8ser_err	 e;
	struct v8frame		 f;
	struct buf		 wire, json;
	const char		*p;
	uint32_t		 len;
	size_t			 chunk;
	int			 r, got, good;

	if (buf_init(&wire, 64) == -1 || buf_init(&json, 64) == -1)
		abort();
	for (r = 0; r < 2; r++)
		if (v8frame_encode(&wire, in[r], strlen(in[r]), &e) == -1)
			abort();
	for (chunk = 1; chunk <= wire.len; chunk++) {
		if (v8frame_init(&f, MAX, READSZ) == -1)
			abort();
		buf_consume(&json, json.len);
		got = 0;
		good = 1;
		for (size_t at = 0; at < wire.len; at += chunk) {
			size_t	k = wire.len - at < chunk ? wire.len - at :
			    chunk;

			if (feed(&f, wire.p + wire.off + at, k, k) == -1)
				abort();
			while ((r = v8frame_next(&f, &p, &len)) !=
			    V8FRAME_NONE) {
				if (r != V8FRAME_GOOD ||
				    v8ser_decode(p, len, &json, MAX, &e) == -1)
					good = 0;
				buf_append(&json, "\n", 1);
				v8frame_drop(&f);
				got++;
			}
		}
		if (!ok(good && got == 2 && json.len == 15 + 1 + 4 + 1 &&
		    memcmp(json.p + json.off, "{\"a\":[1,2,\"x\"]}\nnull\n",
		    json.len) == 0 && v8frame_pending(&f) == 0 &&
		    !v8frame_ready(&f),
		    "two frames read in pieces of %zu bytes", chunk))
			printf("#   got %d frames: '%.*s'\n", got,
			    (int)json.len, json.p + json.off);
		v8frame_release(&f);
	}
	buf_release(&wire);
	buf_release(&json);
}

/* A frame over max: said once with its length, dropped, the next read. */
static void
too_long(void)
{
	static const char	 hdr[4] = { 0, 0, 0, MAX + 1 };
	char			 junk[MAX + 1];
	struct v8ser_err	 e;
	struct v8frame		 f;
	struct buf		 wire;
	const char		*p;
	uint32_t		 len = 0;

	memset(junk, 0xff, sizeof junk);
	if (v8frame_init(&f, MAX, READSZ) == -1 || buf_init(&wire, 16) == -1)
		abort();
	if (feed(&f, hdr, 3, 3) == -1)
		abort();
	ok(!v8frame_ready(&f) && v8frame_next(&f, &p, &len) == V8FRAME_NONE,
	    "three bytes of a length: nothing yet");
	if (feed(&f, hdr + 3, 1, 1) == -1)
		abort();
	ok(v8frame_ready(&f), "a length over max is ready at once");
	ok(v8frame_next(&f, &p, &len) == V8FRAME_LONG && len == MAX + 1,
	    "it is handed out as long, with its length");
	if (feed(&f, junk, 10, 10) == -1)
		abort();
	ok(v8frame_ready(&f) && v8frame_next(&f, &p, &len) == V8FRAME_NONE &&
	    v8frame_pending(&f) == 0, "its first bytes dropped");
	if (v8frame_encode(&wire, "false", 5, &e) == -1)
		abort();
	if (feed(&f, junk, sizeof junk - 10, 7) == -1 ||
	    feed(&f, wire.p + wire.off, wire.len, 5) == -1)
		abort();
	ok(v8frame_next(&f, &p, &len) == V8FRAME_GOOD && len == 3 &&
	    memcmp(p, "\xff\x0f" "F", 3) == 0,
	    "the frame after it comes whole");
	v8frame_drop(&f);
	ok(v8frame_pending(&f) == 0, "and nothing is left");
	v8frame_release(&f);
	buf_release(&wire);
}

/* Room for a long frame all at once, and the memory back once read. */
static void
grow(void)
{
	char		 frame[4 + MAX], *at;
	struct v8frame	 f;
	const char	*p;
	uint32_t	 len;
	size_t		 room;

	memset(frame, 'x', sizeof frame);
	frame[0] = frame[1] = frame[2] = 0;
	frame[3] = MAX;
	if (v8frame_init(&f, MAX, READSZ) == -1)
		abort();
	if (feed(&f, frame, READSZ - 2, READSZ) == -1 ||
	    (at = v8frame_space(&f, &room)) == NULL)
		abort();
	ok(room >= sizeof frame - (READSZ - 2),
	    "space for the rest of a %d-byte frame in one read (%zu)", MAX,
	    room);
	if (feed(&f, frame + READSZ - 2, sizeof frame - (READSZ - 2),
	    sizeof frame) == -1)
		abort();
	ok(v8frame_next(&f, &p, &len) == V8FRAME_GOOD && len == MAX &&
	    p[0] == 'x' && p[MAX - 1] == 'x', "the long frame comes whole");
	v8frame_drop(&f);
	ok(v8frame_next(&f, &p, &len) == V8FRAME_NONE &&
	    f.in.cap == READSZ, "the buffer back to %d bytes once empty",
	    READSZ);
	v8frame_release(&f);
}

int
main(void)
{
	encode();
	stream();
	too_long();
	grow();
	return done();
}
