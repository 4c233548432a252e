/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the scanner (lib/jscan*.c).
 *
 * The input is split on '\n' into lines. Each line is checked by a small
 * reference validator written here for clarity, not speed (recursive
 * descent over the bytes), and by the scanner:
 *   (a) jscan_line() with every scanner path this CPU has (scalar, sse2,
 *       avx2, avx512), on an exact-size copy of the line (so ASan sees any
 *       over-read) and in place inside the whole input (so bytes after the
 *       line must not matter);
 *   (b) jscan_reset() + jscan_feed() in pieces whose sizes come from the
 *       input bytes, each piece an exact-size copy, then jscan_finish();
 *       and once a byte at a time;
 *   (c) the spans of the wanted top-level members ("cmd", "to", and keys
 *       that need escape decoding to match) and jscan_node_internal() on
 *       each span found;
 *   (d) the whole input through frame_next() with a scanner path chosen
 *       by the input (so every path over the run), read in pieces of random sizes, sometimes with a short maximum
 *       line length (lines scanned whole by the block scanner, or
 *       streamed, or cut as too long).
 * Verdict (GOOD/BLANK/BAD) and, for BAD, err_off must equal the reference:
 * err_off is the length of the longest prefix of the line that is a
 * prefix of some valid line (the line length when it is truncated),
 * except for invalid UTF-8 inside the line: the first byte of the
 * sequence that is not whole.
 * Any disagreement prints the line in hex with both answers and traps.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=N]. See fuzz/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "jscan.h"

/* ------------------------------------------------------------------ */
/* Reference validator                                                 */
/* ------------------------------------------------------------------ */

/*
 * Keys whose top-level spans are checked. The raw bytes are what a caller
 * asks for; lines spell them with or without escapes.
 */
static const struct {
	const char	*key;
	size_t		 len;
} fuzz_keys[] = {
	{ "cmd", 3 },
	{ "to", 2 },
	{ "\xf0\x9f\x98\x80", 4 },	/* U+1F600: "\ud83d\ude00" */
	{ "a\"\\/b", 5 },		/* "a\"\\\/b" */
	{ "\x00z", 2 },			/* "\u0000z" */
	{ "\xc3\xa9", 2 },		/* "\u00e9" */
};
#define NKEYS	(sizeof(fuzz_keys) / sizeof(fuzz_keys[0]))

#define REF_MAXDEPTH	20000	/* beyond this, the reference gives up */

struct ref {
	const unsigned char *p;
	size_t		 n;
	size_t		 i;		/* next byte */
	size_t		 err_off;	/* where it failed */
	size_t		 seen_off;	/* the byte that showed it */
	int		 toodeep;	/* the reference gave up: no verdict */
	size_t		 maxdepth;	/* the scanner's limit, as a rule */
	unsigned char	 key[64];	/* a decoded top-level key */
	size_t		 span_off[NKEYS];
	size_t		 span_len[NKEYS];	/* 0: absent */
};

/* Failing at byte i means: p[0..i) can still be continued, p[0..i] not. */
static int
ref_fail(struct ref *r)
{
	r->err_off = r->i;
	r->seen_off = r->i;
	return -1;
}

static int
ref_peek(const struct ref *r)
{
	return r->i < r->n ? r->p[r->i] : -1;
}

static void
ref_ws(struct ref *r)
{
	while (r->i < r->n && (r->p[r->i] == ' ' || r->p[r->i] == '\t' ||
	    r->p[r->i] == '\r'))
		r->i++;
}

static int
ref_value(struct ref *, int, int);

static int
ref_literal(struct ref *r, const char *word)
{
	for (; *word != '\0'; word++) {
		if (ref_peek(r) != (unsigned char)*word)
			return ref_fail(r);
		r->i++;
	}
	return 0;
}

static int
ref_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int
ref_digits(struct ref *r)	/* one or more */
{
	if (!ref_isdigit(ref_peek(r)))
		return ref_fail(r);
	while (ref_isdigit(ref_peek(r)))
		r->i++;
	return 0;
}

static int
ref_number(struct ref *r)
{
	if (ref_peek(r) == '-')
		r->i++;
	if (ref_peek(r) == '0')
		r->i++;
	else if (ref_digits(r) == -1)
		return -1;
	if (ref_peek(r) == '.') {
		r->i++;
		if (ref_digits(r) == -1)
			return -1;
	}
	if (ref_peek(r) == 'e' || ref_peek(r) == 'E') {
		r->i++;
		if (ref_peek(r) == '+' || ref_peek(r) == '-')
			r->i++;
		if (ref_digits(r) == -1)
			return -1;
	}
	return 0;
}

static int
ref_ishex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence (Unicode Table 3-7, well-formed byte sequences). */
static int
ref_utf8(struct ref *r)
{
	int c = r->p[r->i], need, k;
	int lo = 0x80, hi = 0xbf;	/* range of the second byte */
	size_t start = r->i;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return ref_fail(r);	/* 80..C1, F5..FF */
	r->i++;
	for (k = 0; k < need; k++) {
		c = ref_peek(r);
		if (c == -1)
			return ref_fail(r);	/* the line ends in it */
		if (c < lo || c > hi) {
			/* Seen here, reported at the sequence's first byte. */
			ref_fail(r);
			r->err_off = start;
			return -1;
		}
		r->i++;
		lo = 0x80;
		hi = 0xbf;
	}
	return 0;
}

static int
ref_string(struct ref *r)
{
	int c, k;

	r->i++;		/* the opening quote */
	for (;;) {
		c = ref_peek(r);
		if (c == -1 || c < 0x20)
			return ref_fail(r);
		if (c == '"') {
			r->i++;
			return 0;
		}
		if (c == '\\') {
			r->i++;
			c = ref_peek(r);
			/* (strchr would find c == 0: its terminator) */
			if (c <= 0 || strchr("\"\\/bfnrtu", c) == NULL)
				return ref_fail(r);
			r->i++;
			if (c == 'u') {
				for (k = 0; k < 4; k++) {
					if (!ref_ishex(ref_peek(r)))
						return ref_fail(r);
					r->i++;
				}
			}
		} else if (c >= 0x80) {
			if (ref_utf8(r) == -1)
				return -1;
		} else
			r->i++;
	}
}

static unsigned
ref_hex4(const unsigned char *p)
{
	unsigned v = 0;
	int k;

	for (k = 0; k < 4; k++) {
		v <<= 4;
		if (p[k] >= '0' && p[k] <= '9')
			v |= p[k] - '0';
		else if (p[k] >= 'a' && p[k] <= 'f')
			v |= p[k] - 'a' + 10;
		else
			v |= p[k] - 'A' + 10;
	}
	return v;
}

static size_t
ref_put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | cp >> 6;
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {	/* lone surrogates too (WTF-8) */
		o[0] = 0xe0 | cp >> 12;
		o[1] = 0x80 | (cp >> 6 & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | cp >> 18;
	o[1] = 0x80 | (cp >> 12 & 0x3f);
	o[2] = 0x80 | (cp >> 6 & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * Decode a valid string token p[0..n) (quotes included) into o, which has
 * room for n bytes (decoding never grows a string). A surrogate pair
 * escape becomes the 4-byte form of its code point; a lone surrogate its
 * 3-byte form, which no raw key can equal.
 */
static size_t
ref_decode(const unsigned char *p, size_t n, unsigned char *o)
{
	size_t i = 1, len = 0;
	unsigned cp, lo;

	while (i < n - 1) {
		if (p[i] != '\\') {
			o[len++] = p[i++];
			continue;
		}
		switch (p[i + 1]) {
		case 'b': o[len++] = '\b'; break;
		case 'f': o[len++] = '\f'; break;
		case 'n': o[len++] = '\n'; break;
		case 'r': o[len++] = '\r'; break;
		case 't': o[len++] = '\t'; break;
		case 'u':
			cp = ref_hex4(p + i + 2);
			if (cp >= 0xd800 && cp <= 0xdbff && i + 12 <= n - 1 &&
			    p[i + 6] == '\\' && p[i + 7] == 'u' &&
			    (lo = ref_hex4(p + i + 8)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 6;
			}
			len += ref_put_utf8(o + len, cp);
			i += 4;
			break;
		default: o[len++] = p[i + 1]; break;	/* " \ / */
		}
		i += 2;
	}
	return len;
}

static int
ref_array(struct ref *r, int depth)
{
	if ((size_t)depth >= r->maxdepth)
		return ref_fail(r);	/* the scanner's stack is full */
	r->i++;
	ref_ws(r);
	if (ref_peek(r) == ']') {
		r->i++;
		return 0;
	}
	for (;;) {
		if (ref_value(r, depth + 1, 0) == -1)
			return -1;
		ref_ws(r);
		if (ref_peek(r) == ']') {
			r->i++;
			return 0;
		}
		if (ref_peek(r) != ',')
			return ref_fail(r);
		r->i++;
		ref_ws(r);
	}
}

static int
ref_object(struct ref *r, int depth, int top)
{
	size_t koff, klen, voff, k;

	if ((size_t)depth >= r->maxdepth)
		return ref_fail(r);	/* the scanner's stack is full */
	r->i++;
	ref_ws(r);
	if (ref_peek(r) == '}') {
		r->i++;
		return 0;
	}
	for (;;) {
		if (ref_peek(r) != '"')
			return ref_fail(r);
		koff = r->i;
		if (ref_string(r) == -1)
			return -1;
		klen = r->i - koff;
		ref_ws(r);
		if (ref_peek(r) != ':')
			return ref_fail(r);
		r->i++;
		ref_ws(r);
		voff = r->i;
		if (ref_value(r, depth + 1, 0) == -1)
			return -1;
		/*
		 * Decoding shrinks a key at most 6:1, so a raw key longer
		 * than r->key decodes to more than 10 bytes: no wanted key.
		 */
		if (top && klen <= sizeof(r->key)) {
			klen = ref_decode(r->p + koff, klen, r->key);
			for (k = 0; k < NKEYS; k++) {
				if (klen == fuzz_keys[k].len &&
				    memcmp(r->key, fuzz_keys[k].key, klen) == 0) {
					r->span_off[k] = voff;
					r->span_len[k] = r->i - voff;
				}
			}
		}
		ref_ws(r);
		if (ref_peek(r) == '}') {
			r->i++;
			return 0;
		}
		if (ref_peek(r) != ',')
			return ref_fail(r);
		r->i++;
		ref_ws(r);
	}
}

static int
ref_value(struct ref *r, int depth, int top)
{
	int c = ref_peek(r);

	if (depth > REF_MAXDEPTH) {
		r->toodeep = 1;
		return ref_fail(r);
	}
	switch (c) {
	case '{': return ref_object(r, depth, top);
	case '[': return ref_array(r, depth);
	case '"': return ref_string(r);
	case 't': return ref_literal(r, "true");
	case 'f': return ref_literal(r, "false");
	case 'n': return ref_literal(r, "null");
	default:
		if (c == '-' || ref_isdigit(c))
			return ref_number(r);
		return ref_fail(r);
	}
}

/*
 * The verdict on one line (no '\n' in it), spans for JSCAN_GOOD. Opening
 * a container when maxdepth are open already fails there, as the scanner
 * does when its stack is full.
 */
static int
ref_line(struct ref *r, const unsigned char *p, size_t n, size_t maxdepth)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->n = n;
	r->maxdepth = maxdepth;
	ref_ws(r);
	if (r->i == n)
		return JSCAN_BLANK;
	if (ref_value(r, 0, 1) == -1)
		return JSCAN_BAD;
	ref_ws(r);
	if (r->i != n)
		return ref_fail(r), JSCAN_BAD;
	return JSCAN_GOOD;
}

/* Decoded string value starts with NODE_ and is longer than 5 chars. */
static int
ref_node_internal(const unsigned char *p, size_t n)
{
	unsigned char *o;
	size_t len;
	int yes;

	if (n < 2 || p[0] != '"')
		return 0;
	if ((o = malloc(n)) == NULL)
		abort();
	len = ref_decode(p, n, o);
	yes = len > 5 && memcmp(o, "NODE_", 5) == 0;
	free(o);
	return yes;
}

/* Cases the reference must get right before it judges anything. */
static const struct {
	const char	*line;
	size_t		 len;
	int		 verdict;
	size_t		 err_off;	/* BAD only */
	int		 cmd_internal;	/* -1: no cmd member */
	size_t		 maxdepth;
} ref_cases[] = {
#define C(s, v, o, i)	{ s, sizeof(s) - 1, v, o, i, SIZE_MAX }
#define D(s, v, o, d)	{ s, sizeof(s) - 1, v, o, -1, d }
	C("", JSCAN_BLANK, 0, -1),
	C(" \t\r", JSCAN_BLANK, 0, -1),
	C("0", JSCAN_GOOD, 0, -1),
	C("-0.5e-3", JSCAN_GOOD, 0, -1),
	C("1e400", JSCAN_GOOD, 0, -1),
	C("123456789012345678901234567890", JSCAN_GOOD, 0, -1),
	C("\"\\ud800\"", JSCAN_GOOD, 0, -1),
	C("\"\\u0000\"", JSCAN_GOOD, 0, -1),
	C("\"\xe2\x80\xa8\xf4\x8f\xbf\xbf\"", JSCAN_GOOD, 0, -1),
	C(" [1 ,{\"a\":[]} ]\r", JSCAN_GOOD, 0, -1),
	C("01", JSCAN_BAD, 1, -1),
	C("-", JSCAN_BAD, 1, -1),
	C("1.", JSCAN_BAD, 2, -1),
	C("1.e1", JSCAN_BAD, 2, -1),
	C("1e+", JSCAN_BAD, 3, -1),
	C("tru", JSCAN_BAD, 3, -1),
	C("trux", JSCAN_BAD, 3, -1),
	C("1 2", JSCAN_BAD, 2, -1),
	C("[1,]", JSCAN_BAD, 3, -1),
	C("{\"a\" 1}", JSCAN_BAD, 5, -1),
	C("{,}", JSCAN_BAD, 1, -1),
	C("\xef\xbb\xbf{}", JSCAN_BAD, 0, -1),
	C("{}\f", JSCAN_BAD, 2, -1),
	C("\v", JSCAN_BAD, 0, -1),
	C("\x00", JSCAN_BAD, 0, -1),
	C("\xc2\xa0" "1", JSCAN_BAD, 0, -1),
	C("\"\t\"", JSCAN_BAD, 1, -1),
	C("\"\\x\"", JSCAN_BAD, 2, -1),
	C("\"\\u12g4\"", JSCAN_BAD, 5, -1),
	C("\"\\\0\"", JSCAN_BAD, 2, -1),
	C("\"\xc0\x80\"", JSCAN_BAD, 1, -1),
	C("\"\xe0\x80\x80\"", JSCAN_BAD, 1, -1),
	C("\"\xed\xa0\x80\"", JSCAN_BAD, 1, -1),
	C("\"\xf4\x90\x80\x80\"", JSCAN_BAD, 1, -1),
	C("\"\xf5\x80\x80\x80\"", JSCAN_BAD, 1, -1),
	C("\"\x80\"", JSCAN_BAD, 1, -1),
	C("\"\xe2\x82\"", JSCAN_BAD, 1, -1),
	C("\"\xc3(\"", JSCAN_BAD, 1, -1),
	C("\"\xe2\x82", JSCAN_BAD, 3, -1),
	C("[[[", JSCAN_BAD, 3, -1),
	C("{\"cmd\":\"NODE_\"}", JSCAN_GOOD, 0, 0),
	C("{\"cmd\":\"NODE_x\"}", JSCAN_GOOD, 0, 1),
	C("{\"\\u0063md\":\"\\u004eODE_HANDLE_ACK\"}", JSCAN_GOOD, 0, 1),
	C("{\"cmd\":\"NODE_HANDLE\",\"cmd\":1}", JSCAN_GOOD, 0, 0),
	C("{\"cmd\":1,\"cmd\":\"NODE_\\u0000\"}", JSCAN_GOOD, 0, 1),
	C("{\"a\":{\"cmd\":\"NODE_x\"}}", JSCAN_GOOD, 0, -1),
	C("{\"cmdx\":\"NODE_x\",\"cm\":1}", JSCAN_GOOD, 0, -1),
	D("[[[]]]", JSCAN_GOOD, 0, 3),
	D("[[[[]]]]", JSCAN_BAD, 3, 3),
	D("{\"a\":[{\"b\":1}]}", JSCAN_BAD, 6, 2),
	D("[1,2,x,[[[]]]]", JSCAN_BAD, 5, 2),
#undef C
#undef D
};

static void
ref_selftest(void)
{
	struct ref r;
	size_t i;
	int v, internal;

	for (i = 0; i < sizeof(ref_cases) / sizeof(ref_cases[0]); i++) {
		v = ref_line(&r, (const unsigned char *)ref_cases[i].line,
		    ref_cases[i].len, ref_cases[i].maxdepth);
		internal = r.span_len[0] == 0 ? -1 :
		    ref_node_internal(r.p + r.span_off[0], r.span_len[0]);
		if (v != ref_cases[i].verdict || (v == JSCAN_BAD &&
		    r.err_off != ref_cases[i].err_off) ||
		    (v == JSCAN_GOOD && internal != ref_cases[i].cmd_internal)) {
			fprintf(stderr, "reference self-test %zu failed: "
			    "verdict %d err_off %zu internal %d\n", i, v,
			    r.err_off, internal);
			abort();
		}
	}
}

#if defined(REF_SELFTEST_MAIN)
int
main(void)
{
	ref_selftest();
	printf("reference self-test: %zu cases pass\n",
	    sizeof(ref_cases) / sizeof(ref_cases[0]));
	return 0;
}
#elif defined(REF_COLUMNS_MAIN)
/*
 * The reference as a tool for test/diff/run-differential: for each line
 * of FILE print "g 0 C" (good; C is the 1-based column of an internal
 * cmd's value, else 0), "b COLUMN 0", "_ 0 0" (blank) or "? 0 0" (too
 * deep for the reference). No depth limit, as in `ipcrun check`.
 */
int
main(int argc, char **argv)
{
	static struct ref r;
	FILE *f;
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got, start, end;
	int v;

	ref_selftest();
	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: refcol FILE\n");
		return 2;
	}
	for (;;) {
		if (len == cap && (buf = realloc(buf, cap = cap * 2 + 65536)) == NULL)
			abort();
		if ((got = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += got;
	}
	fclose(f);
	for (start = 0; start < len; start = end + 1) {
		for (end = start; end < len && buf[end] != '\n'; end++)
			;
		v = ref_line(&r, buf + start, end - start, SIZE_MAX);
		if (r.toodeep)
			printf("? 0 0\n");
		else if (v == JSCAN_BAD)
			printf("b %zu 0\n", r.err_off + 1);
		else if (v == JSCAN_BLANK)
			printf("_ 0 0\n");
		else
			printf("g 0 %zu\n", r.span_len[0] != 0 &&
			    ref_node_internal(r.p + r.span_off[0], r.span_len[0]) ?
			    r.span_off[0] + 1 : 0);
	}
	free(buf);
	return ferror(stdout) ? 1 : 0;
}
#else

/* ------------------------------------------------------------------ */
/* Harness                                                             */
/* ------------------------------------------------------------------ */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The scanner paths, "auto" prefers the last one this CPU has. */
static const char *fuzz_impls[] = {
	"scalar", "sse2", "sse42", "avx2", "avx512"
};
#define NIMPLS	(sizeof(fuzz_impls) / sizeof(fuzz_impls[0]))
static int fuzz_have[NIMPLS];

/*
 * Switch the scanner path, and check that jscan_impl() names it after.
 * A name that is no path this CPU has (from the input, most of the time)
 * must fail with ENOTSUP and leave the path as it was; "auto" takes the
 * best one there is.
 */
static int
fuzz_set_impl(const char *name)
{
	const char *before = jscan_impl(), *want = NULL;
	size_t i;
	int r;

	if (strcmp(name, "auto") == 0) {
		for (i = 0; i < NIMPLS; i++)
			if (fuzz_have[i])
				want = fuzz_impls[i];
	} else {
		for (i = 0; i < NIMPLS; i++)
			if (fuzz_have[i] && strcmp(name, fuzz_impls[i]) == 0)
				want = fuzz_impls[i];
	}
	errno = 0;
	r = jscan_set_impl(name);
	if (want == NULL) {
		if (r != -1 || errno != ENOTSUP ||
		    strcmp(jscan_impl(), before) != 0) {
			fprintf(stderr, "jscan_fuzz: jscan_set_impl(\"%s\") "
			    "gave %d (errno %d), path now %s\n", name, r, errno,
			    jscan_impl());
			abort();
		}
		return -1;
	}
	if (r != 0 || strcmp(jscan_impl(), want) != 0) {
		fprintf(stderr, "jscan_fuzz: jscan_set_impl(\"%s\") gave %d, "
		    "path now %s\n", name, r, jscan_impl());
		abort();
	}
	return 0;
}

/* What the scanner said about one line. */
struct got {
	int		 verdict;
	size_t		 err_off;
	const char	*err;
};

static uint64_t fuzz_rng;

static unsigned
fuzz_rand(void)
{
	fuzz_rng ^= fuzz_rng << 13;
	fuzz_rng ^= fuzz_rng >> 7;
	fuzz_rng ^= fuzz_rng << 17;
	return (unsigned)(fuzz_rng >> 32);
}

static void
fuzz_hex(const char *what, const unsigned char *p, size_t n)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[i]);
	fputc('\n', stderr);
}

static const char *
fuzz_vname(int v)
{
	switch (v) {
	case JSCAN_GOOD: return "GOOD";
	case JSCAN_BLANK: return "BLANK";
	case JSCAN_BAD: return "BAD";
	case JSCAN_MORE: return "MORE";
	default: return "?";
	}
}

static void
fuzz_disagree(const char *impl, const char *mode, const unsigned char *p,
    size_t n, const struct ref *r, int want, const struct got *g,
    const char *detail)
{
	fprintf(stderr, "\njscan_fuzz: disagreement: impl %s, %s: %s\n",
	    impl, mode, detail);
	fuzz_hex("line", p, n);
	fprintf(stderr, "reference: %s", fuzz_vname(want));
	if (want == JSCAN_BAD)
		fprintf(stderr, " err_off %zu", r->err_off);
	fprintf(stderr, "\nscanner:   %s", fuzz_vname(g->verdict));
	if (g->verdict == JSCAN_BAD)
		fprintf(stderr, " err_off %zu (%s)", g->err_off,
		    g->err ? g->err : "no reason");
	fputc('\n', stderr);
	__builtin_trap();
}

/* The message fits any buffer, and says the same when cut short. */
static void
fuzz_strerror(const char *impl, const char *mode, const struct jscan *s,
    const unsigned char *p, size_t n, const struct ref *r, int want,
    const struct got *g)
{
	char full[256], part[8];
	size_t len;

	len = jscan_strerror(s, full, sizeof(full));
	if (len == 0 || len >= sizeof(full) || strlen(full) != len ||
	    strcmp(full, "no error") == 0)
		fuzz_disagree(impl, mode, p, n, r, want, g, "jscan_strerror");
	if (jscan_strerror(s, part, sizeof(part)) != len ||
	    strncmp(part, full, sizeof(part) - 1) != 0 ||
	    part[sizeof(part) - 1] != '\0')
		fuzz_disagree(impl, mode, p, n, r, want, g,
		    "jscan_strerror into a short buffer");
}

/* Verdict, err_off and, for GOOD, top and every span. */
static void
fuzz_compare(const char *impl, const char *mode, const struct jscan *s,
    const unsigned char *p, size_t n, const struct ref *r, int want,
    const struct got *g)
{
	char buf[64], *dec;
	unsigned char *rdec;
	size_t k, off, len, rlen;
	ssize_t glen;

	if (g->verdict != want)
		fuzz_disagree(impl, mode, p, n, r, want, g, "verdict");
	if (want == JSCAN_BAD && g->err_off != r->err_off)
		fuzz_disagree(impl, mode, p, n, r, want, g, "err_off");
	if (want == JSCAN_BAD && g->err == NULL)
		fuzz_disagree(impl, mode, p, n, r, want, g, "no reason");
	if (want == JSCAN_BAD)
		fuzz_strerror(impl, mode, s, p, n, r, want, g);
	if (want != JSCAN_GOOD)
		return;
	for (off = 0; p[off] == ' ' || p[off] == '\t' || p[off] == '\r'; off++)
		;
	if (s->top != p[off])
		fuzz_disagree(impl, mode, p, n, r, want, g, "top");
	for (k = 0; k < s->nkeys; k++) {
		off = s->span[k].off;
		len = s->span[k].len;
		if (len != r->span_len[k] || (len != 0 && off != r->span_off[k])) {
			snprintf(buf, sizeof(buf), "span %zu: scanner %zu+%zu, "
			    "reference %zu+%zu", k, off, len, r->span_off[k],
			    r->span_len[k]);
			fuzz_disagree(impl, mode, p, n, r, want, g, buf);
		}
		if (len == 0)
			continue;
		if (jscan_node_internal((const char *)p + off, len) !=
		    ref_node_internal(p + off, len)) {
			snprintf(buf, sizeof(buf), "jscan_node_internal on "
			    "span %zu", k);
			fuzz_disagree(impl, mode, p, n, r, want, g, buf);
		}
		if (p[off] != '"')
			continue;
		/* jscan_unescape: full length, and a prefix when short. */
		if ((rdec = malloc(len)) == NULL || (dec = malloc(len)) == NULL)
			abort();
		rlen = ref_decode(p + off, len, rdec);
		glen = jscan_unescape((const char *)p + off, len, dec, len);
		if (glen < 0 || (size_t)glen != rlen ||
		    memcmp(dec, rdec, rlen) != 0) {
			fuzz_hex("reference decodes", rdec, rlen);
			if (glen >= 0)
				fuzz_hex("jscan_unescape", (unsigned char *)dec,
				    (size_t)glen < len ? (size_t)glen : len);
			fuzz_disagree(impl, mode, p, n, r, want, g,
			    "jscan_unescape");
		}
		memset(dec, 0xaa, len);
		glen = jscan_unescape((const char *)p + off, len, dec, rlen / 2);
		if (glen < 0 || (size_t)glen != rlen ||
		    memcmp(dec, rdec, rlen / 2) != 0 ||
		    (rlen / 2 < len && (unsigned char)dec[rlen / 2] != 0xaa))
			fuzz_disagree(impl, mode, p, n, r, want, g,
			    "jscan_unescape into a short buffer");
		free(dec);
		free(rdec);
	}
}

/* Feed in pieces: sizes 1..n, biased to the SIMD block edges. */
static void
fuzz_stream(struct jscan *s, const unsigned char *p, size_t n, int bytewise,
    struct got *g)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32,
	    33, 63, 64, 65, 127, 128 };
	size_t at = 0, len, off;
	char *piece;
	int rc = JSCAN_MORE;

	jscan_reset(s);
	while (at < n) {
		if (bytewise)
			len = 1;
		else if (fuzz_rand() % 4 == 0)
			len = 1 + fuzz_rand() % (n - at);
		else
			len = sizes[fuzz_rand() % (sizeof(sizes) /
			    sizeof(sizes[0]))];
		if (len > n - at)
			len = n - at;
		/* Sometimes an empty piece first: it must change nothing. */
		if (fuzz_rand() % 16 == 0 &&
		    (rc = jscan_feed(s, "", 0)) != JSCAN_MORE)
			break;
		if ((piece = malloc(len)) == NULL)
			abort();
		memcpy(piece, p + at, len);
		rc = jscan_feed(s, piece, len);
		free(piece);
		at += len;
		if (rc != JSCAN_MORE)
			break;
	}
	if (rc == JSCAN_MORE) {
		g->verdict = jscan_finish(s);
	} else if (rc == JSCAN_BAD) {
		g->verdict = JSCAN_BAD;
		off = s->err_off;
		/* Feeding or finishing after the verdict changes nothing. */
		if (at < n && jscan_feed(s, (const char *)p + at, n - at) !=
		    JSCAN_BAD)
			g->verdict = JSCAN_MORE;
		if (jscan_finish(s) != JSCAN_BAD || s->err_off != off)
			g->verdict = JSCAN_MORE;
	} else
		g->verdict = rc;	/* neither MORE nor BAD: wrong */
	g->err_off = s->err_off;
	g->err = s->err;
}

static void
fuzz_one_line(struct jscan *s, const unsigned char *p, size_t n,
    size_t maxdepth)
{
	struct ref r;
	struct got g;
	char *copy;
	size_t i;
	int want;

	want = ref_line(&r, p, n, maxdepth);
	if (r.toodeep)
		return;
	for (i = 0; i < NIMPLS; i++) {
		if (!fuzz_have[i])
			continue;
		if (fuzz_set_impl(fuzz_impls[i]) != 0)
			abort();
		/* (a) an exact-size copy, so ASan sees any over-read */
		if ((copy = malloc(n ? n : 1)) == NULL)
			abort();
		memcpy(copy, p, n);
		g.verdict = jscan_line(s, copy, n);
		g.err_off = s->err_off;
		g.err = s->err;
		fuzz_compare(fuzz_impls[i], "jscan_line", s,
		    (unsigned char *)copy, n, &r, want, &g);
		free(copy);
		/* in place: the bytes after the line must not matter */
		g.verdict = jscan_line(s, (const char *)p, n);
		g.err_off = s->err_off;
		g.err = s->err;
		fuzz_compare(fuzz_impls[i], "jscan_line in place", s, p, n,
		    &r, want, &g);
		/* (b) streaming in pieces */
		fuzz_stream(s, p, n, 0, &g);
		fuzz_compare(fuzz_impls[i], "jscan_feed in pieces", s, p, n,
		    &r, want, &g);
	}
	if (jscan_set_impl("scalar") != 0)
		abort();
	fuzz_stream(s, p, n, 1, &g);
	fuzz_compare("scalar", "jscan_feed byte by byte", s, p, n, &r, want,
	    &g);
}

/*
 * (d) The whole input through frame_next(), as check and run use it: read
 * in pieces of random sizes, lines scanned whole or streamed, and a
 * --max-line that is sometimes short. Each line must come out in order
 * with the reference's verdict and column ("line too long" at maxline
 * when no earlier error), and a good one with its bytes and spans.
 */
static void
fuzz_frame(const char *impl, const uint8_t *data, size_t size, int keys,
    size_t maxline)
{
	struct frame f;
	struct frame_line l;
	struct ref r;
	struct got g;
	size_t at = 0, ls = 0, le, len, n, k, want_off, maxdepth, words;
	uint64_t lineno = 0;
	char *p;
	int kind, want, eof = 0;

	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	if (frame_init(&f, maxline, 1) == -1)
		abort();
	if (keys) {
		for (k = 0; k < NKEYS; k++) {
			if (jscan_want(&f.js, fuzz_keys[k].key,
			    fuzz_keys[k].len) != (int)k)
				abort();
		}
	}
	words = maxline / 64 + 2;
	maxdepth = (words > JSCAN_INLINE ? words : JSCAN_INLINE) * 64;
	for (;;) {
		while ((kind = frame_next(&f, &l)) != FRAME_NONE) {
			/* The next line of the input is ls..le. */
			for (le = ls; le < size && data[le] != '\n'; le++)
				;
			len = le - ls;
			if (l.lineno != ++lineno || ls >= size)
				fuzz_disagree(impl, "frame", data + ls, len,
				    &r, 0, &g, "line order");
			want = ref_line(&r, data + ls, len, maxdepth);
			g.verdict = kind == FRAME_GOOD ? JSCAN_GOOD :
			    kind == FRAME_BLANK ? JSCAN_BLANK : JSCAN_BAD;
			g.err_off = l.err_off;
			g.err = l.err;
			if (!r.toodeep && len > maxline) {
				/* The scanner sees maxline bytes, no more. */
				want_off = want == JSCAN_BAD &&
				    r.seen_off < maxline ? r.err_off : maxline;
				if (kind != FRAME_BAD || l.err_off != want_off)
					fuzz_disagree(impl, "frame, too long",
					    data + ls, len, &r, JSCAN_BAD, &g,
					    "verdict or column");
			} else if (!r.toodeep) {
				fuzz_compare(impl, "frame", &f.js, data + ls,
				    len, &r, want, &g);
				if (kind == FRAME_GOOD && (l.p == NULL ||
				    l.len != len + (le < size) ||
				    memcmp(l.p, data + ls, len) != 0))
					fuzz_disagree(impl, "frame", data + ls,
					    len, &r, want, &g, "line bytes");
			}
			ls = le + 1;
		}
		if (eof)
			break;
		if (at == size) {
			frame_set_eof(&f);
			eof = 1;
			continue;
		}
		if ((p = frame_space(&f, &n)) == NULL)
			abort();
		len = fuzz_rand() % 2 ? 1 + fuzz_rand() % 300 : n;
		if (len > n)
			len = n;
		if (len > size - at)
			len = size - at;
		memcpy(p, data + at, len);
		frame_filled(&f, len);
		at += len;
	}
	/* Every line came out; an empty last segment is no line. */
	if (ls < size)
		fuzz_disagree(impl, "frame", data + ls, size - ls, &r, 0, &g,
		    "lines missing");
	frame_release(&f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	struct jscan s;

	ref_selftest();
	/* The block scanner on every input, however short (jscan_line). */
	jscan_set_fast_min(0);
	jscan_init(&s);
	for (i = 0; i < JSCAN_MAXKEYS; i++) {
		if (jscan_want(&s, "k", 1) != (int)i)
			abort();
	}
	if (jscan_want(&s, "k", 1) != -1)
		abort();
	for (i = 0; i < NIMPLS; i++)
		fuzz_have[i] = jscan_set_impl(fuzz_impls[i]) == 0;
	jscan_set_impl("auto");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan s;
	uint64_t *stack = NULL, h = 0xcbf29ce484222325ULL;
	size_t i, start, end, nwords, maxdepth;
	unsigned mode;

	/*
	 * The split points, the stack and whether keys are wanted come from
	 * the input. Stack: the inline one; a caller's stack too small to be
	 * used (the inline one stays); a caller's stack deep enough for any
	 * line of this input.
	 */
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	fuzz_rng = h | 1;
	mode = (unsigned)(h >> 58);

	jscan_init(&s);
	if (mode & 1) {
		for (i = 0; i < NKEYS; i++) {
			if (jscan_want(&s, fuzz_keys[i].key,
			    fuzz_keys[i].len) != (int)i)
				abort();
		}
	}
	maxdepth = JSCAN_INLINE * 64;
	switch (mode >> 1 & 3) {
	case 0:
		break;
	case 1:
		nwords = (mode >> 3 & 1) ? JSCAN_INLINE : 0;
		if ((stack = calloc(nwords + 1, sizeof(*stack))) == NULL)
			abort();
		jscan_set_stack(&s, (mode >> 3 & 1) ? stack : NULL, nwords);
		break;
	default:
		nwords = size / 64 + JSCAN_INLINE + 2;
		if ((stack = malloc(nwords * sizeof(*stack))) == NULL)
			abort();
		jscan_set_stack(&s, stack, nwords);
		maxdepth = nwords * 64;
		break;
	}
	/* One scanner for all lines, as callers use it. */
	for (start = 0; start <= size; start = end + 1) {
		for (end = start; end < size && data[end] != '\n'; end++)
			;
		fuzz_one_line(&s, data + start, end - start, maxdepth);
	}
	/* The framer, with one scanner path per input, each in turn. */
	do
		i = fuzz_rand() % NIMPLS;
	while (!fuzz_have[i]);
	if (fuzz_set_impl(fuzz_impls[i]) != 0)
		abort();
	fuzz_frame(fuzz_impls[i], data, size, mode & 1,
	    (mode >> 4 & 1) ? 1 + fuzz_rand() % 200 : (size_t)1 << 16);
	free(stack);
	/*
	 * A path named by the input's first bytes: nearly always none (the
	 * ENOTSUP path), now and then one the dictionary spells.
	 */
	{
		char name[8];

		memset(name, 0, sizeof(name));
		memcpy(name, data, size < sizeof(name) - 1 ? size :
		    sizeof(name) - 1);
		fuzz_set_impl(name);
	}
	fuzz_set_impl("auto");
	return 0;
}
#endif
