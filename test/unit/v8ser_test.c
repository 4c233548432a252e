/* SPDX-License-Identifier: ISC */
/*
 * v8ser_encode and duplicate keys: an object with a key twice must encode
 * exactly as the object JSON.parse makes of it (each key where it came
 * first, with its last value), nested or not, however the key is
 * escaped; random objects against a model, and one of 100,000 keys each
 * written twice. TAP.
 */
#include "compat.h"

#include <stdlib.h>

#include "buf.h"
#include "v8ser.h"
#include "tap.h"

/* Both texts encode to the same bytes, or both are refused. */
static int
same(const char *dup, const char *want, struct v8ser_err *e)
{
	struct buf	a, b;
	int		ra, rb, eq;

	if (buf_init(&a, 64) == -1 || buf_init(&b, 64) == -1)
		abort();
	ra = v8ser_encode(dup, strlen(dup), &a, e);
	rb = v8ser_encode(want, strlen(want), &b, e);
	eq = ra == 0 && rb == 0 && a.len == b.len &&
	    memcmp(a.p + a.off, b.p + b.off, a.len) == 0;
	buf_release(&a);
	buf_release(&b);
	return eq;
}

static void
fixed(void)
{
	static const char *const c[][2] = {
		{ "{\"a\":1,\"a\":2}", "{\"a\":2}" },
		{ "{\"b\":1,\"a\":2,\"b\":3,\"c\":4,\"a\":5}",
		    "{\"b\":3,\"a\":5,\"c\":4}" },
		{ "{\"x\":{\"k\":1,\"k\":[2]},\"y\":[{\"z\":1,\"z\":{\"z\":2,"
		    "\"z\":3}}],\"x\":{\"q\":1,\"q\":2}}",
		    "{\"x\":{\"q\":2},\"y\":[{\"z\":{\"z\":3}}]}" },
		{ "{\"a\":1,\"\\u0061\":2,\"\\u00e9\":3,\"\xc3\xa9\":4}",
		    "{\"a\":2,\"\xc3\xa9\":4}" },
		{ "{\"\\ud800\":1,\"\\uD800\":2,\"\\ud83d\\ude00\":3,"
		    "\"\xf0\x9f\x98\x80\":4}", "{\"\\ud800\":2,\"\\ud83d\\ude00\":4}" },
		{ " { \"a\" : 1 , \"b\" : { } , \"a\" : { \"c\" : 1 } } ",
		    "{\"a\":{\"c\":1},\"b\":{}}" },
		{ "[{\"a\":1,\"a\":1},{\"a\":1,\"a\":1}]", "[{\"a\":1},{\"a\":1}]" },
		{ "{\"1\":1,\"01\":2,\"1\":3}", "{\"1\":3,\"01\":2}" },
	};
	static const unsigned char want[] = { 0xff, 0x0f, 'o', '"', 1, 'a',
	    'I', 4, '{', 1 };
	struct v8ser_err	 e;
	struct buf		 out;
	size_t			 i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		ok(same(c[i][0], c[i][1], &e), "%s is %s", c[i][0], c[i][1]);
	/* The bytes of V8's own v8.serialize({a: 2}). */
	if (buf_init(&out, 16) == -1)
		abort();
	ok(v8ser_encode("{\"a\":1,\"a\":2}", 13, &out, &e) == 0 &&
	    out.len == sizeof want && memcmp(out.p + out.off, want,
	    sizeof want) == 0, "{\"a\":1,\"a\":2}: the bytes of {a:2}");
	/* A bad value is bad even when a later one replaces it. */
	buf_append(&out, "x", 1);
	ok(v8ser_encode("{\"a\":[1,],\"a\":1}", 16, &out, &e) == -1 &&
	    out.len == sizeof want + 1, "invalid JSON under a replaced key "
	    "refused, the output as it was");
	buf_release(&out);
}

/*
 * A random object of up to 8 distinct keys, nested to depth 3: dup gets
 * it with keys repeated (stale values before the last), spelled plain or
 * escaped at random, want gets it as JSON.parse keeps it.
 */
static void
gen(struct buf *dup, struct buf *want, int depth)
{
	static const char *const plain[] = { "a", "b", "\xc3\xa9", "", "1",
	    "\xf0\x9f\x98\x80", "k", "__proto__" };
	static const char *const esc[] = { "\\u0061", "b", "\\u00e9", "",
	    "\\u0031", "\\ud83d\\ude00", "\\u006B", "__proto__" };
	struct buf	 dv[8], wv[8];
	int		 keys[8], order[32], n, m, i, j, k, last;
	char		 num[16];

	n = rand() % 5;
	for (i = 0; i < n; i++) {
		/* Distinct keys, in order of first appearance. */
		do {
			keys[i] = rand() % 8;
			for (j = 0; j < i && keys[j] != keys[i]; j++)
				;
		} while (j < i);
		order[i] = i;
	}
	/* Repeats, each after its key's first place. */
	m = n;
	for (k = n > 0 ? rand() % 4 : 0; k > 0; k--) {
		i = rand() % n;
		for (j = 0; order[j] != i; j++)
			;
		j += 1 + rand() % (m - j);
		memmove(order + j + 1, order + j, sizeof order[0] *
		    (size_t)(m - j));
		order[j] = i;
		m++;
	}
	/* Each key's last value, first: want lists them in first order. */
	for (i = 0; i < n; i++) {
		if (buf_init(&dv[i], 16) == -1 || buf_init(&wv[i], 16) == -1)
			abort();
		if (depth < 3 && rand() % 3 == 0)
			gen(&dv[i], &wv[i], depth + 1);
		else {
			snprintf(num, sizeof num, "%d", rand() % 1000 - 500);
			buf_append(&dv[i], num, strlen(num));
			buf_append(&wv[i], num, strlen(num));
		}
	}
	buf_append(dup, "{", 1);
	buf_append(want, "{", 1);
	for (j = 0; j < m; j++) {
		i = order[j];
		for (last = 1, k = j + 1; k < m; k++)
			if (order[k] == i)
				last = 0;
		if (j > 0)
			buf_append(dup, ",", 1);
		buf_append(dup, "\"", 1);
		if (rand() % 2)
			buf_append(dup, esc[keys[i]], strlen(esc[keys[i]]));
		else
			buf_append(dup, plain[keys[i]], strlen(plain[keys[i]]));
		buf_append(dup, "\":", 2);
		if (last)
			buf_append(dup, dv[i].p + dv[i].off, dv[i].len);
		else {
			/* A stale value: written, then replaced. */
			snprintf(num, sizeof num, "%d", rand() % 100);
			buf_append(dup, num, strlen(num));
		}
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_append(want, ",", 1);
		buf_append(want, "\"", 1);
		buf_append(want, plain[keys[i]], strlen(plain[keys[i]]));
		buf_append(want, "\":", 2);
		buf_append(want, wv[i].p + wv[i].off, wv[i].len);
		buf_release(&dv[i]);
		buf_release(&wv[i]);
	}
	buf_append(dup, "}", 1);
	buf_append(want, "}", 1);
}

static void
random_objects(void)
{
	struct v8ser_err	 e;
	struct buf		 dup, want;
	int			 i, bad = 0;

	srand(29);
	for (i = 0; i < 20000; i++) {
		if (buf_init(&dup, 64) == -1 || buf_init(&want, 64) == -1)
			abort();
		gen(&dup, &want, 0);
		buf_append(&dup, "", 1);
		buf_append(&want, "", 1);
		if (!same(dup.p + dup.off, want.p + want.off, &e) && bad++ < 3)
			printf("#   %s\n#   should be %s\n", dup.p + dup.off,
			    want.p + want.off);
		buf_release(&dup);
		buf_release(&want);
	}
	ok(bad == 0, "20,000 random objects with repeated keys encode as "
	    "JSON.parse keeps them (%d did not)", bad);
}

/* 100,000 keys, each twice (the second time from the end back). */
static void
many(void)
{
	struct v8ser_err	 e;
	struct buf		 dup, want;
	char			 m[48];
	int			 i;

	if (buf_init(&dup, 1 << 20) == -1 || buf_init(&want, 1 << 20) == -1)
		abort();
	buf_append(&dup, "{", 1);
	buf_append(&want, "{", 1);
	for (i = 0; i < 100000; i++) {
		snprintf(m, sizeof m, "%s\"k%d\":%d", i ? "," : "", i, i);
		buf_append(&dup, m, strlen(m));
		snprintf(m, sizeof m, "%s\"k%d\":%d", i ? "," : "", i, -i);
		buf_append(&want, m, strlen(m));
	}
	for (i = 99999; i >= 0; i--) {
		snprintf(m, sizeof m, ",\"\\u006b%d\":%d", i, -i);
		buf_append(&dup, m, strlen(m));
	}
	buf_append(&dup, "}", 2);
	buf_append(&want, "}", 2);
	ok(same(dup.p + dup.off, want.p + want.off, &e),
	    "an object of 100,000 keys, each twice");
	buf_release(&dup);
	buf_release(&want);
}

int
main(void)
{
	fixed();
	random_objects();
	many();
	return done();
}
