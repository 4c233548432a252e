/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the parsers of many children (lib/words.c,
 * lib/route.c, lib/envelope.c): each input is taken as a command line, a
 * key path, an input line to route and an envelope, and a name to wrap.
 * A refusal must come with a reason; what is accepted must hold up:
 * words quoted again split back the same, spans lie in the line and are
 * valid JSON, a line padded past the block scanner's size gives the same
 * answers, and a prefix is valid JSON whatever the name.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=N]. See fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "jscan.h"
#include "route.h"
#include "words.h"

static void
fail(const char *what, const char *in, size_t len)
{
	size_t	i;

	fprintf(stderr, "route_fuzz: %s for input:", what);
	for (i = 0; i < len; i++)
		fprintf(stderr, " %02x", (unsigned char)in[i]);
	fputc('\n', stderr);
	__builtin_trap();
}

/* Each word single-quoted ('\'' for a quote) must split back the same. */
static void
words(const char *s, size_t len)
{
	char	**argv, **again, err[256], *line, *p;
	size_t	  need = 1;
	int	  n, m, i;
	const char *c;

	err[0] = '\0';
	if ((n = words_split(s, &argv, err, sizeof err)) == -1) {
		if (err[0] == '\0')
			fail("a refusal without a reason", s, len);
		return;
	}
	if (argv[n] != NULL)
		fail("argv not NULL-terminated", s, len);
	for (i = 0; i < n; i++)
		need += 4 * strlen(argv[i]) + 3;
	if ((p = line = malloc(need)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		*p++ = '\'';
		for (c = argv[i]; *c != '\0'; c++) {
			if (*c == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else
				*p++ = *c;
		}
		*p++ = '\'';
		*p++ = ' ';
	}
	*p = '\0';
	if ((m = words_split(line, &again, err, sizeof err)) != n)
		fail("quoted words split differently", s, len);
	for (i = 0; i < n; i++) {
		if (strcmp(argv[i], again[i]) != 0)
			fail("a quoted word came back changed", s, len);
	}
	free(again);
	free(line);
	free(argv);
}

static void
name_cmd(const char *s, size_t len)
{
	char	*name, **argv, err[256];
	size_t	 i, n;

	err[0] = '\0';
	if (words_name_cmd(s, &name, &argv, err, sizeof err) == -1) {
		if (err[0] == '\0')
			fail("a refusal without a reason", s, len);
		return;
	}
	n = strlen(name);
	if (n == 0 || n > WORDS_NAME_MAX || argv[0] == NULL ||
	    argv[0][0] == '\0')
		fail("a bad NAME=CMD accepted", s, len);
	for (i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-", name[i]) == NULL)
			fail("a NAME with a bad byte", s, len);
	}
	free(name);
	free(argv);
}

static void
key_path(const char *s, size_t len)
{
	struct route_key	 k;
	const char		*cause = NULL;
	unsigned		 i;
	size_t			 end = 0;

	if (route_key_parse(&k, s, &cause) == -1) {
		if (cause == NULL)
			fail("a refusal without a reason", s, len);
		return;
	}
	if (k.n == 0 || k.n > ROUTE_KEY_DEPTH)
		fail("a member count out of range", s, len);
	for (i = 0; i < k.n; i++) {
		if (k.off[i] < end || (size_t)k.off[i] + k.len[i] >=
		    ROUTE_KEY_BYTES || k.name[k.off[i] + k.len[i]] != '\0')
			fail("a member name out of place", s, len);
		end = (size_t)k.off[i] + k.len[i] + 1;
	}
}

/* route_key on LINE and on LINE padded with 200 spaces must agree. */
static void
route(const char *line, size_t len, const char *pad)
{
	static const char *const paths[] = { ".a", ".a.b", ".\"to\"",
	    ".\"\\u00e9\"", ".cmd", NULL };
	struct route_key	 k;
	const char		*cause;
	uint64_t		 h1 = 1, h2 = 2;
	int			 r1, r2, i;

	for (i = 0; paths[i] != NULL; i++) {
		if (route_key_parse(&k, paths[i], &cause) == -1)
			fail("a fixed path refused", line, len);
		r1 = route_key(&k, line, len, &h1);
		r2 = route_key(&k, pad, len + 200, &h2);
		if (r1 != r2 || (r1 == 1 && h1 != h2))
			fail("padding changed the route", line, len);
		if (r1 == 1 && route_pick(h1, 7) >= 7)
			fail("a pick out of range", line, len);
	}
}

/* Returns the parse's verdict, for the padded line to be compared. */
static int
envelope(struct envelope *e, const char *line, size_t len)
{
	struct jscan	 js;
	const char	*cause = NULL;
	char		 dec[64];
	ssize_t		 d;
	size_t		 i;

	if (envelope_parse(e, line, len, &cause) == -1) {
		if (cause == NULL)
			fail("a refusal without a reason", line, len);
		return -1;
	}
	jscan_init(&js);
	if (e->msg.len == 0 || e->msg.off + e->msg.len > len ||
	    jscan_line(&js, line + e->msg.off, e->msg.len) != JSCAN_GOOD)
		fail("M is not a JSON value in the line", line, len);
	if (e->all == (e->nto != 0) || e->nto > ENVELOPE_MAXTO)
		fail("neither all nor names", line, len);
	for (i = 0; i < e->nto; i++) {
		const struct envelope_to *t = &e->to[i];

		if (t->span.off + t->span.len > len ||
		    line[t->span.off] != '"')
			fail("a name's span out of place", line, len);
		d = jscan_unescape(line + t->span.off, t->span.len, dec,
		    sizeof dec);
		if (d < 0 || (size_t)d != t->len || t->name[t->len] != '\0' ||
		    memcmp(dec, t->name, t->len < sizeof dec ? t->len :
		    sizeof dec) != 0)
			fail("a name not its span decoded", line, len);
	}
	return 0;
}

static void
prefix(const char *name, size_t len)
{
	struct jscan	 js;
	char		*buf;
	size_t		 n = envelope_prefix(NULL, 0, name, 4242), m;

	if (n > strlen(name) * 6 + 48)
		fail("a prefix over its bound", name, len);
	if ((buf = malloc(n + 2)) == NULL)
		abort();
	if ((m = envelope_prefix(buf, n, name, 4242)) != n)
		fail("the prefix length changed", name, len);
	memcpy(buf + n, "1}", 2);
	jscan_init(&js);
	if (jscan_line(&js, buf, n + 2) != JSCAN_GOOD)
		fail("the prefix is not valid JSON", name, len);
	free(buf);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envelope	 env;
	static int		 init;
	struct jscan_span	 msg;
	size_t			 nto;
	char			*s, *pad;
	int			 r, all;

	if (!init) {
		envelope_init(&env);
		init = 1;
	}
	/* Exact-size copies, so that ASan sees any read past the end. */
	if ((s = malloc(size + 1)) == NULL ||
	    (pad = malloc(size + 200)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	memcpy(pad, data, size);
	memset(pad + size, ' ', 200);
	words(s, size);
	name_cmd(s, size);
	key_path(s, size);
	prefix(s, size);
	route(s, size, pad);
	r = envelope(&env, s, size);
	msg = env.msg;
	all = env.all;
	nto = env.nto;
	if (envelope(&env, pad, size + 200) != r || (r == 0 &&
	    (env.msg.off != msg.off || env.msg.len != msg.len ||
	    env.all != all || env.nto != nto)))
		fail("padding changed the envelope", s, size);
	free(pad);
	free(s);
	return 0;
}
