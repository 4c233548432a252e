/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the V8 serializer codec (lib/v8ser_*.c).
 *
 * The input is a payload as Node's advanced channel would carry it. When
 * it decodes, the JSON text must be valid for the scanner, and decode ->
 * encode -> decode must be the identity on the subset: encoding the text
 * and decoding the result gives the same text, byte for byte. A payload
 * that does not decode must leave the output buffer as it was. The input
 * is also taken as JSON text: when the scanner calls it valid, encoding
 * must succeed (unless nested too deep), no object of the result may have
 * a key twice, and from the decoded text on the round trip is again the
 * identity.
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

#define MAXOUT	(1 << 20)

static void
fail(const char *what, const void *a, size_t an, const void *b, size_t bn)
{
	fprintf(stderr, "v8ser_fuzz: %s\n  first  (%zu): %.*s\n  second (%zu): "
	    "%.*s\n", what, an, (int)an, (const char *)a, bn, (int)bn,
	    (const char *)b);
	__builtin_trap();
}

static int
valid_json(const char *p, size_t n)
{
	static uint64_t	 stack[1024];
	struct jscan	 js;

	jscan_init(&js);
	jscan_set_stack(&js, stack, sizeof stack / sizeof stack[0]);
	return jscan_line(&js, p, n) == JSCAN_GOOD;
}

/*
 * Has an object of a decoded text (written as JSON.stringify writes, so
 * that equal keys are equal bytes) a key twice? Pairwise, per object: the
 * inputs are small.
 */
static int
dup_keys(const char *p, size_t n)
{
	static size_t	 keys[4096], len[4096], mark[1024];
	static char	 kind[1024];
	size_t		 nk = 0, depth = 0, i, j, s;
	int		 expect_key = 0;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '{':
		case '[':
			if (depth == sizeof kind)
				return 0;
			kind[depth] = p[i];
			mark[depth++] = nk;
			expect_key = p[i] == '{';
			break;
		case '}':
		case ']':
			if (depth > 0 && kind[depth - 1] == '{')
				for (s = mark[depth - 1]; s < nk; s++)
					for (j = s + 1; j < nk; j++)
						if (len[s] == len[j] &&
						    memcmp(p + keys[s], p + keys[j],
						    len[s]) == 0)
							return 1;
			if (depth > 0)
				nk = mark[--depth];
			expect_key = 0;
			break;
		case ',':
			expect_key = depth > 0 && kind[depth - 1] == '{';
			break;
		case '"':
			for (j = i + 1; j < n && p[j] != '"'; j++)
				if (p[j] == '\\')
					j++;
			if (expect_key && nk < sizeof keys / sizeof keys[0]) {
				keys[nk] = i;
				len[nk++] = j + 1 - i;
			}
			expect_key = 0;
			i = j;
			break;
		}
	}
	return 0;
}

/*
 * JSON text -> V8 -> JSON -> V8 -> JSON: the two texts must be equal. (The
 * first step is not one-to-one: -0 and 1e400 become 0 and null, as
 * JSON.stringify(JSON.parse(x)) makes them.)
 */
static void
check_text(const char *text, size_t n)
{
	struct buf		v1, j1, v2, j2;
	struct v8ser_err	e;

	if (buf_init(&v1, 64) == -1 || buf_init(&j1, 64) == -1 ||
	    buf_init(&v2, 64) == -1 || buf_init(&j2, 64) == -1)
		abort();
	if (v8ser_encode(text, n, &v1, &e) == -1) {
		if (strstr(e.what, "nested") == NULL)
			fail("valid JSON did not encode", text, n, e.what,
			    strlen(e.what));
		goto out;
	}
	if (v8ser_decode(v1.p + v1.off, v1.len, &j1, (size_t)-1 / 4, &e) == -1)
		fail("an encoding did not decode", text, n, e.what,
		    strlen(e.what));
	if (!valid_json(j1.p + j1.off, j1.len))
		fail("decoded to invalid JSON", text, n, j1.p + j1.off, j1.len);
	/* V8 refuses a key twice: the encoder writes each key once. */
	if (dup_keys(j1.p + j1.off, j1.len))
		fail("a key twice in an encoded object", text, n,
		    j1.p + j1.off, j1.len);
	if (v8ser_encode(j1.p + j1.off, j1.len, &v2, &e) == -1)
		fail("a decoding did not encode", j1.p + j1.off, j1.len, e.what,
		    strlen(e.what));
	if (v8ser_decode(v2.p + v2.off, v2.len, &j2, (size_t)-1 / 4, &e) == -1)
		fail("an encoding did not decode", j1.p + j1.off, j1.len, e.what,
		    strlen(e.what));
	if (j1.len != j2.len || memcmp(j1.p + j1.off, j2.p + j2.off, j1.len)
	    != 0)
		fail("decode(encode(y)) != y for y = decode(encode(x))",
		    j1.p + j1.off, j1.len, j2.p + j2.off, j2.len);
out:
	buf_release(&v1);
	buf_release(&j1);
	buf_release(&v2);
	buf_release(&j2);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		j1, v, j2;
	struct v8ser_err	e;
	char			num[40];
	double			d;

	if (buf_init(&j1, 64) == -1 || buf_init(&v, 64) == -1 ||
	    buf_init(&j2, 64) == -1)
		abort();
	/* Output written before a failed decode must survive it. */
	if (buf_append(&j1, "[", 1) == -1)
		abort();
	if (v8ser_decode(data, size, &j1, MAXOUT, &e) == -1) {
		if (j1.len != 1 || e.what == NULL)
			fail("a failed decode changed the output", data, size,
			    j1.p, j1.len);
	} else {
		buf_consume(&j1, 1);
		if (!valid_json(j1.p + j1.off, j1.len))
			fail("decoded to invalid JSON", data, size,
			    j1.p + j1.off, j1.len);
		if (v8ser_encode(j1.p + j1.off, j1.len, &v, &e) == -1) {
			if (strstr(e.what, "nested") == NULL)
				fail("a decoding did not encode", j1.p + j1.off,
				    j1.len, e.what, strlen(e.what));
		} else {
			if (v8ser_decode(v.p + v.off, v.len, &j2, (size_t)-1 / 4,
			    &e) == -1)
				fail("an encoding did not decode", j1.p + j1.off,
				    j1.len, e.what, strlen(e.what));
			/*
			 * A payload with a key twice (which V8 itself
			 * refuses, and Node never sends) decodes with it
			 * twice, and encodes with it once.
			 */
			if ((j1.len != j2.len || memcmp(j1.p + j1.off,
			    j2.p + j2.off, j1.len) != 0) &&
			    !dup_keys(j1.p + j1.off, j1.len))
				fail("decode(encode(decode(x))) != decode(x)",
				    j1.p + j1.off, j1.len, j2.p + j2.off,
				    j2.len);
		}
	}
	/* The input as JSON text, when the scanner calls it valid. */
	if (size < 4096 && valid_json((const char *)data, size))
		check_text((const char *)data, size);
	/* Numbers: the shortest form reads back as the same double. */
	if (size >= 8) {
		memcpy(&d, data, sizeof d);
		v8ser_number(d, num, sizeof num);
		if (d == d && d - d == 0 && strtod(num, NULL) != d)
			fail("a number did not read back", num, strlen(num),
			    num, strlen(num));
	}
	buf_release(&j1);
	buf_release(&v);
	buf_release(&j2);
	return 0;
}
