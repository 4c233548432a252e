/* SPDX-License-Identifier: ISC */
/*
 * gen.c: deterministic NDJSON inputs for the benchmarks.
 *
 *   gen fixed SIZE TOTAL OUT	lines of exactly SIZE bytes (with '\n'),
 *				{"id":N,"payload":"abc..."}, fixed-width ids
 *				from 10000000, until TOTAL bytes are written
 *   gen mixed TOTAL OUT	lines of 50 B to 2 KB: nested objects and
 *				arrays, escapes, numbers of every form,
 *				true/false/null, 2-, 3- and 4-byte UTF-8
 *   gen dense TOTAL OUT	lines of mostly 100 B to 1 KB, made apart: keys
 *				of one or two letters, mostly numbers and
 *				literals, nesting up to 16 deep, short
 *				strings of escapes, CJK and emoji
 *
 * Output is the same on every run (fixed seed). Every line is valid JSON
 * that JSON.parse, simdjson and jansson all accept (no lone surrogates,
 * no integers beyond 64 bits, no 1e400), so that the per-line comparisons
 * measure speed, not disagreement. bench/run checks every line with node.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_MINLINE	50
#define GEN_MAXLINE	2048	/* including the '\n' */

static uint64_t gen_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
gen_rand(void)
{
	uint64_t x = gen_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return gen_state = x;
}

static unsigned
gen_below(unsigned n)
{
	return (unsigned)(gen_rand() % n);
}

struct gen_buf {
	char	 b[GEN_MAXLINE * 4];
	size_t	 n;
};

static void
gen_put(struct gen_buf *g, const char *s)
{
	size_t	 l = strlen(s);

	if (g->n + l < sizeof(g->b)) {
		memcpy(g->b + g->n, s, l);
		g->n += l;
	}
}

static const char *const gen_words[] = {
	"alpha", "beta", "gamma", "delta", "worker", "message", "payload",
	"status", "ready", "queue", "route", "node", "child", "ipc", "relay",
};

/* String pieces: plain ASCII, escapes, raw multi-byte UTF-8. */
static const char *const gen_pieces[] = {
	"hello", " ", "world", "-", "_", "0123", "x",
	"\\n", "\\\"", "\\\\", "\\/", "\\t", "\\r", "\\b", "\\f",
	"\\u00e9", "\\ud83d\\ude00", "\\u20ac", "\\u0041",
	"\xc3\xa9", "\xc3\xb1", "\xc2\xb5",		/* 2-byte: é ñ µ */
	"\xe2\x82\xac", "\xe4\xb8\xad", "\xe6\x96\x87",	/* 3-byte: € 中 文 */
	"\xf0\x9f\x98\x80", "\xf0\x9d\x84\x9e",		/* 4-byte: 😀 𝄞 */
};

static const char *const gen_numbers[] = {
	"0", "-0", "7", "-42", "1234567", "-987654321", "9007199254740993",
	"-9223372036854775808", "3.14159",
	"-0.000123", "6.02e23", "1E-7", "-2.5E+10", "1e308", "0.5e-300",
	"123456.789012",
};

static void
gen_string(struct gen_buf *g, unsigned maxpieces)
{
	unsigned	 i, n = 1 + gen_below(maxpieces);

	gen_put(g, "\"");
	for (i = 0; i < n; i++)
		gen_put(g, gen_pieces[gen_below(sizeof(gen_pieces) /
		    sizeof(gen_pieces[0]))]);
	gen_put(g, "\"");
}

static void
gen_key(struct gen_buf *g)
{
	char	 k[32];

	snprintf(k, sizeof(k), "\"%s%u\":",
	    gen_words[gen_below(sizeof(gen_words) / sizeof(gen_words[0]))],
	    gen_below(100));
	gen_put(g, k);
}

static void
gen_value(struct gen_buf *g, int depth)
{
	unsigned	 i, n, kind = gen_below(depth < 5 ? 10 : 7);
	char		 num[32];

	switch (kind) {
	case 0:
		gen_put(g, "true");
		break;
	case 1:
		gen_put(g, "false");
		break;
	case 2:
		gen_put(g, "null");
		break;
	case 3:
	case 4:
		gen_put(g, gen_numbers[gen_below(sizeof(gen_numbers) /
		    sizeof(gen_numbers[0]))]);
		break;
	case 5:
		snprintf(num, sizeof(num), "%d", (int)gen_below(200000) - 100000);
		gen_put(g, num);
		break;
	case 6:
		gen_string(g, 12);
		break;
	case 7:
	case 8:
		n = gen_below(5);
		gen_put(g, "[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				gen_put(g, gen_below(4) ? "," : ", ");
			gen_value(g, depth + 1);
		}
		gen_put(g, "]");
		break;
	default:
		n = gen_below(5);
		gen_put(g, "{");
		for (i = 0; i < n; i++) {
			if (i > 0)
				gen_put(g, ",");
			gen_key(g);
			gen_value(g, depth + 1);
		}
		gen_put(g, "}");
		break;
	}
}

/* One mixed line: a top-level object whose members are added until the
 * line reaches a random target in [GEN_MINLINE, GEN_MAXLINE]. */
static void
gen_mixed_line(struct gen_buf *g, unsigned long id)
{
	char		 head[64];
	size_t		 target, keep;

	/* Mostly short lines, some long ones, like real message streams. */
	if (gen_below(4) == 0)
		target = GEN_MINLINE + gen_below(GEN_MAXLINE - GEN_MINLINE);
	else
		target = GEN_MINLINE + gen_below(400);
	g->n = 0;
	snprintf(head, sizeof(head), "{\"id\":%lu", id);
	gen_put(g, head);
	for (;;) {
		keep = g->n;
		gen_put(g, gen_below(8) ? "," : " , ");
		gen_key(g);
		gen_value(g, 1);
		if (g->n + 2 > GEN_MAXLINE) {	/* '}' and '\n' */
			g->n = keep;
			if (g->n + 2 >= GEN_MINLINE)
				break;
			continue;
		}
		if (g->n + 2 >= target)
			break;
	}
	gen_put(g, "}\n");
}

static int
gen_fixed(FILE *f, size_t size, size_t total)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz";
	char		*line;
	size_t		 written = 0, head, n, i;
	unsigned long	 id = 10000000;
	int		 l;

	if ((line = malloc(size + 64)) == NULL)
		return -1;
	while (written < total) {
		l = snprintf(line, 64, "{\"id\":%lu,\"payload\":\"", id);
		head = (size_t)l + 3;		/* "}\n */
		n = size > head ? size - head : 0;
		for (i = 0; i < n; i++)
			line[l + i] = alpha[(id + i) % 26];
		memcpy(line + l + n, "\"}\n", 3);
		if (fwrite(line, 1, l + n + 3, f) != l + n + 3) {
			free(line);
			return -1;
		}
		written += l + n + 3;
		id++;
	}
	free(line);
	return 0;
}

static int
gen_mixed(FILE *f, size_t total)
{
	static struct gen_buf	 g;
	size_t			 written = 0;
	unsigned long		 id = 1;

	while (written < total) {
		gen_mixed_line(&g, id++);
		if (fwrite(g.b, 1, g.n, f) != g.n)
			return -1;
		written += g.n;
	}
	return 0;
}

/*
 * Dense lines: a token every few bytes. Short keys, numbers built digit by
 * digit, literals, short strings of escapes, CJK and emoji, and nesting
 * that goes deep, all from a second seed.
 */
static const char *const dense_pieces[] = {
	"\\n", "\\\"", "\\\\", "\\t", "\\u00e9", "\\ud83d\\ude00", "\\u4e2d",
	"\xe4\xb8\xad", "\xe6\x96\x87", "\xe5\xad\x97", "\xe3\x81\x82",
	"\xed\x95\x9c", "\xf0\x9f\x98\x80", "\xf0\x9f\x9a\x80",
	"\xf0\x9f\x91\x8d", "\xc3\xa9", "a", "b", "z", "0",
};

static void
dense_number(struct gen_buf *g)
{
	char	 num[48];
	int	 l = 0;

	if (gen_below(3) == 0)
		num[l++] = '-';
	if (gen_below(6) == 0)
		num[l++] = '0';
	else {
		unsigned i, nd = 1 + gen_below(gen_below(4) ? 5 : 17);

		num[l++] = (char)('1' + gen_below(9));
		for (i = 1; i < nd; i++)
			num[l++] = (char)('0' + gen_below(10));
	}
	if (gen_below(3) == 0) {
		unsigned i, nd = 1 + gen_below(8);

		num[l++] = '.';
		for (i = 0; i < nd; i++)
			num[l++] = (char)('0' + gen_below(10));
	}
	if (gen_below(5) == 0)
		l += snprintf(num + l, sizeof(num) - (size_t)l, "%c%s%u",
		    gen_below(2) ? 'e' : 'E', gen_below(2) ? "-" : "",
		    gen_below(280));	/* 17 digits e280: no overflow */
	num[l] = '\0';
	gen_put(g, num);
}

static void
dense_value(struct gen_buf *g, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };
	unsigned	 i, n, kind = gen_below(depth < 16 ? 12 : 8);
	char		 k[8];

	switch (kind) {
	case 0: case 1: case 2: case 3:
		dense_number(g);
		break;
	case 4: case 5:
		gen_put(g, lits[gen_below(3)]);
		break;
	case 6: case 7:
		gen_put(g, "\"");
		n = gen_below(5);
		for (i = 0; i < n; i++)
			gen_put(g, dense_pieces[gen_below(sizeof(dense_pieces) /
			    sizeof(dense_pieces[0]))]);
		gen_put(g, "\"");
		break;
	case 8: case 9:
		n = gen_below(6);
		gen_put(g, "[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				gen_put(g, ",");
			dense_value(g, depth + 1);
		}
		gen_put(g, "]");
		break;
	default:
		n = gen_below(6);
		gen_put(g, "{");
		for (i = 0; i < n; i++) {
			if (i > 0)
				gen_put(g, ",");
			if (gen_below(2))
				snprintf(k, sizeof(k), "\"%c\":",
				    'a' + (int)gen_below(26));
			else
				snprintf(k, sizeof(k), "\"%c%u\":",
				    'a' + (int)gen_below(26), gen_below(10));
			gen_put(g, k);
			dense_value(g, depth + 1);
		}
		gen_put(g, "}");
		break;
	}
}

static int
gen_dense(FILE *f, size_t total)
{
	static struct gen_buf	 g;
	size_t			 written = 0, target, keep;
	char			 k[8];

	gen_state = 0x2545f4914f6cdd1dULL;
	while (written < total) {
		target = 100 + gen_below(900);
		g.n = 0;
		gen_put(&g, "{");
		for (;;) {
			keep = g.n;
			if (g.n > 1)
				gen_put(&g, ",");
			snprintf(k, sizeof(k), "\"%c\":", 'a' + (int)gen_below(26));
			gen_put(&g, k);
			dense_value(&g, 1);
			if (g.n + 2 > GEN_MAXLINE) {
				g.n = keep;
				if (g.n > 1)
					break;
				continue;
			}
			if (g.n + 2 >= target)
				break;
		}
		gen_put(&g, "}\n");
		if (fwrite(g.b, 1, g.n, f) != g.n)
			return -1;
		written += g.n;
	}
	return 0;
}

static void
gen_usage(void)
{
	fprintf(stderr, "usage: gen fixed SIZE TOTAL OUT\n"
	    "       gen mixed TOTAL OUT\n"
	    "       gen dense TOTAL OUT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	FILE	*f;
	int	 rc;
	char	*out;

	if (argc == 5 && strcmp(argv[1], "fixed") == 0)
		out = argv[4];
	else if (argc == 4 && (strcmp(argv[1], "mixed") == 0 ||
	    strcmp(argv[1], "dense") == 0))
		out = argv[3];
	else
		gen_usage();
	if ((f = fopen(out, "we")) == NULL) {
		fprintf(stderr, "gen: '%s': %s\n", out, strerror(errno));
		return 1;
	}
	if (argv[1][0] == 'f')
		rc = gen_fixed(f, strtoull(argv[2], NULL, 10),
		    strtoull(argv[3], NULL, 10));
	else if (argv[1][0] == 'm')
		rc = gen_mixed(f, strtoull(argv[2], NULL, 10));
	else
		rc = gen_dense(f, strtoull(argv[2], NULL, 10));
	if (rc == -1 || fclose(f) == EOF) {
		fprintf(stderr, "gen: '%s': %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}
