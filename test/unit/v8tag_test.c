/* SPDX-License-Identifier: ISC */
/*
 * The tagged codec (v8tag.h), both ways: each tag's text encodes and
 * decodes back to itself; what a Node parent would throw on is refused
 * by name; V8 bytes that NDJSON cannot say are refused. Then fuzzed:
 * random payloads either fail or decode to valid JSON that encodes back
 * to the same text, and random edits of tagged texts either fail or
 * encode to a payload that decodes. TAP; run under ASan by make DEBUG=1.
 */
#include "compat.h"

#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "jscan.h"
#include "v8ser.h"
#include "v8tag.h"
#include "tap.h"

#define MAX	((size_t)1 << 24)

static struct jscan	js;
static struct v8tag_seen seen;	/* the RegExps decoded so far */

/* text -> V8 -> text; NULL and *what when a step refused it. */
static char *
round_trip(const char *text, size_t n, const char **what)
{
	struct v8ser_err	 e;
	struct buf		 v8, back;
	char			*s = NULL;

	if (buf_init(&v8, 64) == -1 || buf_init(&back, 64) == -1)
		abort();
	*what = NULL;
	if (v8tag_encode(text, n, &v8, &e, &seen) == -1)
		*what = e.what;
	else if (v8tag_decode(v8.p + v8.off, v8.len, &back, MAX, &e,
	    NULL) == -1)
		*what = e.what;
	else if ((s = strndup(back.p + back.off, back.len)) == NULL)
		abort();
	buf_release(&v8);
	buf_release(&back);
	return s;
}

static void
fixed(void)
{
	static const char *const same[] = {
		"[{\"$bigint\":\"12\"},"
		    "{\"$bigint\":\"-1267650600228229401496703205375\"},"
		    "{\"$bigint\":\"0\"},"
		    "{\"$bigint\":\"18446744073709551616\"}]",
		"{\"b\":{\"$buffer\":\"aGkgw6k=\"},\"e\":{\"$buffer\":\"\"},"
		    "\"u\":{\"$uint8array\":\"AAH/\"},\"f\":{\"$float64array\":"
		    "\"GC1EVPshCUAAAAAAAADw/w==\"},"
		    "\"d\":{\"$dataview\":\"CQgH\"},"
		    "\"a\":{\"$arraybuffer\":\"AQIDBAU=\"}}",
		"{\"$map\":[[1,\"a\"],[\"k\",{\"v\":[{\"$bigint\":\"1\"}]}],"
		    "[{\"o\":1},null]]}",
		"{\"$set\":[1,\"a\",{\"$undefined\":true},"
		    "{\"$bigint\":\"2\"}]}",
		"[{\"$date\":\"1970-01-01T00:00:00.000Z\"},"
		    "{\"$date\":\"2024-02-29T23:59:59.999Z\"},"
		    "{\"$date\":\"-000001-01-01T00:00:00.000Z\"},"
		    "{\"$date\":\"+275760-09-13T00:00:00.000Z\"},"
		    "{\"$date\":\"-271821-04-20T00:00:00.000Z\"},"
		    "{\"$date\":null}]",
		"[{\"$number\":\"-0\"},{\"$number\":\"NaN\"},"
		    "{\"$number\":\"Infinity\"},"
		    "{\"$number\":\"-Infinity\"},0,-1,"
		    "2147483648,1e+21,5e-324]",
		"[1,{\"$hole\":true},3,{\"a\":{\"$undefined\":true}}]",
		"{\"$error\":{\"message\":\"boom\",\"cause\":{\"why\":1},"
		    "\"stack\":\"TypeError: boom\\n  at x\","
		    "\"name\":\"TypeError\"}}",
		"{\"$error\":{\"name\":\"Error\"}}",
		"[{\"$object\":\"s\"},{\"$object\":{\"$number\":\"-0\"}},"
		    "{\"$object\":false},{\"$object\":{\"$bigint\":\"5\"}},"
		    "{\"$object\":1.5}]",
		"{\"$$bigint\":\"12\",\"$$$x\":[1],"
		    "\"$$\":{\"$$undefined\":true}}",
		"[\"\xf0\x9f\x98\x80\\ud800\",\"\",\"\xc3\xbf\xc4\x80\"]",
	};
	static const struct { const char *text, *what; } bad[] = {
		{ "{\"$nope\":1}", "an unknown \"$\" tag" },
		{ "{\"$bigint\":\"1\",\"x\":1}", "a \"$\" tag with other keys "
		    "beside it" },
		{ "{\"a\":1,\"$b\":2}", "a key that starts with '$' among "
		    "others (write '$$' for a '$' of its own)" },
		{ "{\"a\":1,\"\\u0061\":2}", "a key twice in an object (tagged "
		    "types take each key once)" },
		{ "{\"$regexp\":{\"source\":\"(\",\"flags\":\"\"}}",
		    "a RegExp the parent did not send (only JavaScript can "
		    "check a pattern, and a bad one crashes the parent)" },
		{ "{\"$regexp\":{\"source\":\"a+\",\"flags\":\"g\"}}",
		    "a RegExp the parent did not send (only JavaScript can "
		    "check a pattern, and a bad one crashes the parent)" },
		{ "{\"$regexp\":{\"source\":\"a+\",\"flags\":\"gg\"}}",
		    "$regexp takes an object of source and flags" },
		{ "{\"$uint16array\":\"AQ==\"}", "a byte count that is not a "
		    "multiple of the element size" },
		{ "{\"$date\":\"2023-02-29T00:00:00.000Z\"}",
		    "$date takes null or a string as toISOString() writes it" },
		{ "{\"$date\":\"2023-01-01T00:00:00Z\"}", "$date takes null "
		    "or a string as toISOString() writes it" },
		{ "{\"$date\":\"+275760-09-13T00:00:00.001Z\"}", "$date takes "
		    "null or a string as toISOString() writes it" },
		{ "{\"$hole\":true}", "$hole outside an array" },
		{ "[{\"$hole\":1}]", "this tag takes true" },
		{ "{\"$number\":\"1\"}", "$number takes \"NaN\", \"Infinity\", "
		    "\"-Infinity\" or \"-0\"" },
		{ "{\"$buffer\":\"a=b=\"}", "invalid base64" },
		{ "{\"$buffer\":\"a\"}", "invalid base64" },
		{ "{\"$bigint\":\"-\"}", "$bigint takes a string of decimal "
		    "digits" },
		{ "{\"$bigint\":12}", "$bigint takes a string of decimal "
		    "digits" },
		{ "{\"$error\":{\"name\":\"AbortError\"}}",
		    "an Error name that V8 does not carry" },
		{ "{\"$error\":{\"code\":1}}",
		    "$error takes an object of name, message, stack and "
		    "cause" },
		{ "{\"$object\":[1]}", "$object takes a string, a number, a "
		    "boolean, $number or $bigint" },
		{ "{\"$object\":{\"$date\":null}}", "$object takes a string, a "
		    "number, a boolean, $number or $bigint" },
		{ "{\"$map\":[[1]]}", "$map takes an array of [key, value] "
		    "arrays" },
		{ "{\"$set\":{}}", "$set takes an array" },
	};
	/* Node's bytes: a cycle; an array with a named property; a tag. */
	static const struct { const char *hex, *what; } v8[] = {
		{ "ff0f6f220161" "5e00" "7b01", "a circular reference" },
		{ "ff0f4101490222016e22016e" "240101", "an array with named "
		    "properties" },
		{ "ff0f4201", "truncated" },
		{ "ff0f5c0063", "an unknown kind of typed array" },
		{ "ff0f5c000c020000", "a typed array of part of an element" },
		{ "ff0f6d", "unknown tag" },
		{ "ff0f522201ff7f", "a RegExp flag without a letter here" },
	};
	static const char re[] = "{\"$regexp\":{\"flags\":\"ig\","
	    "\"source\":\"\\u0061+\"}}";
	const char	*what;
	char		*got;
	uint8_t		 b[64];
	struct buf	 out;
	struct v8ser_err e;
	size_t		 i, k;
	unsigned	 x;

	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		got = round_trip(same[i], strlen(same[i]), &what);
		if (!is_str(got, same[i], "a text encodes and decodes back"))
			printf("#   refused: %s\n", what ? what : "-");
		free(got);
	}
	/* /a+/gi from the parent: then, and only then, it may go back. */
	for (k = 0; sscanf("ff0f522202612b03" + 2 * k, "%2x", &x) == 1; k++)
		b[k] = (uint8_t)x;
	if (buf_init(&out, 64) == -1)
		abort();
	ok(v8tag_decode(b, k, &out, MAX, &e, &seen) == 0, "a RegExp decodes");
	if ((got = strndup(out.p + out.off, out.len)) == NULL)
		abort();
	is_str(got, "{\"$regexp\":{\"source\":\"a+\",\"flags\":\"gi\"}}",
	    "  to its source and flags");
	free(got);
	got = round_trip(out.p + out.off, out.len, &what);
	ok(got != NULL, "  and goes back, the parent having sent it");
	free(got);
	got = round_trip(re, strlen(re), &what);
	ok(got != NULL, "  however its text is written: %s", re);
	free(got);
	buf_release(&out);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		got = round_trip(bad[i].text, strlen(bad[i].text), &what);
		ok(got == NULL, "refused: %s", bad[i].text);
		is_str(what, bad[i].what, "  with its reason");
		free(got);
	}
	for (i = 0; i < sizeof v8 / sizeof v8[0]; i++) {
		for (k = 0; sscanf(v8[i].hex + 2 * k, "%2x", &x) == 1; k++)
			b[k] = (uint8_t)x;
		if (buf_init(&out, 64) == -1)
			abort();
		ok(v8tag_decode(b, k, &out, MAX, &e, NULL) == -1 &&
		    out.len == 0,
		    "V8 %s is refused", v8[i].hex);
		is_str(e.what, v8[i].what, "  with its reason");
		buf_release(&out);
	}
}

/* Random payloads from the tags' alphabet: refused, or text that holds. */
static void
fuzz_decode(void)
{
	static const char	 tags[] = "_0TFINZD\"cSoA$a@-^{;:',Bsnyxzr"
	    "\\mcs.ERT\x01\x02\x03\x00\x0a";
	struct v8ser_err	 e;
	struct buf		 out;
	const char		*what;
	uint8_t			 b[48];
	char			*back;
	size_t			 n, k;
	int			 i, good = 0, bad = 0, rt = 0;

	for (i = 0; i < 200000; i++) {
		n = 2 + (size_t)(rand() % 40);
		b[0] = 0xff;
		b[1] = 0x0f;
		for (k = 2; k < n; k++)
			b[k] = rand() % 3 ? (uint8_t)tags[rand() %
			    (sizeof tags - 1)] : (uint8_t)rand();
		if (buf_init(&out, 64) == -1)
			abort();
		if (v8tag_decode(b, n, &out, 1 << 16, &e, &seen) == -1) {
			bad++;
			buf_release(&out);
			continue;
		}
		if (jscan_line(&js, out.p + out.off, out.len) != JSCAN_GOOD) {
			ok(0, "decoded to JSON: %.*s", (int)out.len,
			    out.p + out.off);
			buf_release(&out);
			return;
		}
		good++;
		back = round_trip(out.p + out.off, out.len, &what);
		/* A key twice is V8's to refuse; a RegExp is ours. */
		if (back != NULL && (strlen(back) != out.len ||
		    memcmp(back, out.p + out.off, out.len) != 0)) {
			ok(0, "decoded text comes back: %.*s", (int)out.len,
			    out.p + out.off);
			printf("#   got: %s\n", back);
			free(back);
			buf_release(&out);
			return;
		}
		if (back != NULL)
			rt++;
		free(back);
		buf_release(&out);
	}
	ok(good > 1000 && rt > 1000, "random payloads: %d decoded (%d back "
	    "the same), %d refused", good, rt, bad);
}

/* Random edits of tagged texts: refused, or a payload that decodes. */
static void
fuzz_encode(void)
{
	static const char *const seed[] = {
		"{\"$bigint\":\"-123456789012345678901234567890\"}",
		"[{\"$date\":\"2024-02-29T23:59:59.999Z\"},{\"$hole\":true}]",
		"{\"$map\":[[{\"$set\":[1]},{\"$buffer\":\"aGk=\"}]]}",
		"{\"$error\":{\"message\":\"m\","
		    "\"cause\":{\"$undefined\":true}}}",
		"{\"$$a\":{\"$object\":{\"$number\":\"-0\"}},\"b\":[1,2]}",
		"{\"$float32array\":\"AADAPwAAAIA=\"}",
	};
	static const char	 alpha[] = "{}[]\",:$0123456789-+.eE tfnul"
	    "abcdefghijklmnopqrstuvwxyz=/\\";
	struct v8ser_err	 e;
	struct buf		 v8, out;
	char			 t[160];
	size_t			 n, k, at;
	int			 i, m, enc = 0, tried = 0;

	for (i = 0; i < 300000; i++) {
		n = strlen(seed[i % 6]);
		memcpy(t, seed[i % 6], n);
		for (m = 1 + rand() % 3; m > 0; m--) {
			at = (size_t)rand() % n;
			switch (rand() % 3) {
			case 0:
				t[at] = alpha[rand() % (sizeof alpha - 1)];
				break;
			case 1:
				if (n + 1 < sizeof t) {
					memmove(t + at + 1, t + at, n - at);
					t[at] = alpha[rand() %
					    (sizeof alpha - 1)];
					n++;
				}
				break;
			default:
				memmove(t + at, t + at + 1, n - at - 1);
				n--;
			}
		}
		if (jscan_line(&js, t, n) != JSCAN_GOOD)
			continue;
		tried++;
		if (buf_init(&v8, 64) == -1 || buf_init(&out, 64) == -1)
			abort();
		if (v8tag_encode(t, n, &v8, &e, &seen) == 0) {
			enc++;
			if (v8tag_decode(v8.p + v8.off, v8.len, &out, MAX,
			    &e, NULL) == -1) {
				ok(0, "an encoded text decodes: %.*s: %s",
				    (int)n, t, e.what);
				k = 1;
			} else
				k = 0;
		} else
			k = 0;
		buf_release(&v8);
		buf_release(&out);
		if (k)
			return;
	}
	ok(tried > 1000 && enc > 100, "random edits: %d valid JSON, %d "
	    "encoded and decoded", tried, enc);
}

int
main(void)
{
	srand(2930);
	jscan_init(&js);
	fixed();
	fuzz_decode();
	fuzz_encode();
	return done();
}
