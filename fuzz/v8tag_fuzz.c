/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the tagged codec (lib/v8tag_*.c, ipcrun child
 * --types tagged).
 *
 * The input is a payload as Node's advanced channel would carry it: when
 * it decodes, the text must be valid JSON, and encoding it must give a
 * payload that decodes to the same text (a RegExp in it was noted on the
 * way in, so it goes back), unless the encoder refuses it by design: a
 * key twice, nesting beyond 1000. The input is also taken as tagged
 * text: when it is valid JSON and encodes, the payload must decode.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=N].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "v8ser.h"
#include "v8tag.h"

#define MAXOUT	(1 << 20)

static int
valid_json(const char *p, size_t n)
{
	static uint64_t	 stack[1024];
	struct jscan	 js;

	jscan_init(&js);
	jscan_set_stack(&js, stack, sizeof stack / sizeof stack[0]);
	return jscan_line(&js, p, n) == JSCAN_GOOD;
}

static void
from_payload(const uint8_t *data, size_t size)
{
	static struct v8tag_seen seen;
	struct v8ser_err	 e;
	struct buf		 text, v8, back;

	if (buf_init(&text, 256) == -1 || buf_init(&v8, 256) == -1 ||
	    buf_init(&back, 256) == -1)
		abort();
	if (v8tag_decode(data, size, &text, MAXOUT, &e, &seen) == 0) {
		if (!valid_json(text.p + text.off, text.len))
			__builtin_trap();
		if (v8tag_encode(text.p + text.off, text.len, &v8, &e,
		    &seen) == 0) {
			if (v8tag_decode(v8.p + v8.off, v8.len, &back, MAXOUT,
			    &e, NULL) == -1 || back.len != text.len ||
			    memcmp(back.p + back.off, text.p + text.off,
			    text.len) != 0)
				__builtin_trap();
		} else if (strncmp(e.what, "a key twice", 11) != 0 &&
		    strcmp(e.what, "nested deeper than 1000 levels") != 0)
			__builtin_trap();
	} else if (text.len != 0)
		__builtin_trap();
	buf_release(&text);
	buf_release(&v8);
	buf_release(&back);
}

static void
from_text(const uint8_t *data, size_t size)
{
	struct v8ser_err	 e;
	struct buf		 v8, back;

	if (!valid_json((const char *)data, size))
		return;
	if (buf_init(&v8, 256) == -1 || buf_init(&back, 256) == -1)
		abort();
	if (v8tag_encode((const char *)data, size, &v8, &e, NULL) == 0 &&
	    v8tag_decode(v8.p + v8.off, v8.len, &back, MAXOUT * 8, &e,
	    NULL) == -1)
		__builtin_trap();
	buf_release(&v8);
	buf_release(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	from_payload(data, size);
	from_text(data, size);
	return 0;
}
