/* SPDX-License-Identifier: ISC */
/*
 * frame_run without validation (--no-validate) against frame_next on the
 * same bytes: random lines (blank ones, whitespace-only ones, lines over
 * the limit, a last line without its newline), fed in random pieces,
 * taken in runs of random bounds. The lines handed out, their order,
 * the line numbers and the blanks must be the same both ways. TAP.
 */
#include "compat.h"

#include <stdint.h>
#include <stdlib.h>

#include "frame.h"
#include "tap.h"

#define MAXLINE	64
#define INPUT	(64 * 1024)

static uint64_t	seed = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed % n);
}

/* Random lines: some empty, some blank, some over MAXLINE. */
static size_t
make_input(char *p, size_t cap)
{
	static const char	ws[] = " \t\r";
	size_t			n = 0, len, i;

	while (n + MAXLINE * 2 + 2 < cap) {
		switch (rnd(8)) {
		case 0:
			len = 0;
			break;
		case 1:
			len = 1 + rnd(4);
			for (i = 0; i < len; i++)
				p[n + i] = ws[rnd(3)];
			n += len;
			p[n++] = '\n';
			continue;
		case 2:
			len = MAXLINE + 1 + rnd(MAXLINE);
			break;
		default:
			len = 1 + rnd(MAXLINE);
			break;
		}
		for (i = 0; i < len; i++)
			p[n + i] = (char)('a' + rnd(26));
		/* A leading space is not a blank line. */
		if (len > 1 && rnd(4) == 0)
			p[n] = ' ';
		n += len;
		p[n++] = '\n';
	}
	if (rnd(2))	/* a last line without its newline */
		for (i = 1 + rnd(8); i > 0; i--)
			p[n++] = 'z';
	return n;
}

/*
 * What came out of a frame, one record per event: 'G' and the bytes of
 * a good line (with its newline, if any), 'B' a blank, 'X' a line
 * refused, each with its line number.
 */
struct out {
	char	*p;
	size_t	 n, cap;
};

static void
put(struct out *o, char kind, uint64_t lineno, const char *p, size_t n)
{
	if (o->n + n + 32 > o->cap) {
		o->cap = (o->n + n + 32) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
	o->n += (size_t)snprintf(o->p + o->n, 32, "%c%llu:", kind,
	    (unsigned long long)lineno);
	memcpy(o->p + o->n, p, n);
	o->n += n;
}

/* Take what frame_next gives until it needs more. */
static void
drain_next(struct frame *f, struct out *o)
{
	struct frame_line	l;
	int			k;

	while ((k = frame_next(f, &l)) != FRAME_NONE) {
		if (k == FRAME_GOOD)
			put(o, 'G', l.lineno, l.p, l.len);
		else if (k == FRAME_BLANK)
			put(o, 'B', l.lineno, "", 0);
		else if (k == FRAME_BAD)
			put(o, 'X', l.lineno, "", 0);
	}
}

/*
 * Runs first, each line of a run recorded on its own (the line numbers
 * follow from where the run started and the blanks passed over), then
 * frame_next for what stops a run, then runs again.
 */
static void
drain_runs(struct frame *f, struct out *o, size_t max)
{
	struct frame_line	l;
	const char		*p, *s, *nl;
	uint64_t		lines, before, no;
	size_t			n;
	int			k;

	for (;;) {
		before = f->lineno;
		n = frame_run(f, max, &p, &lines);
		if (n > 0 || f->lineno != before) {
			/*
			 * Blank lines passed over before the run, and one
			 * after it that ended it: the run's first number.
			 */
			no = f->lineno - lines -
			    (f->buf + f->start != p + n ? 1 : 0);
			for (s = p; s < p + n; s = nl + 1) {
				nl = memchr(s, '\n', (size_t)(p + n - s));
				if (nl == NULL)
					abort();
				no++;
				put(o, 'G', no, s, (size_t)(nl - s) + 1);
			}
			if (lines == 0 && n > 0)
				abort();
			continue;
		}
		if ((k = frame_next(f, &l)) == FRAME_NONE)
			break;
		if (k == FRAME_GOOD)
			put(o, 'G', l.lineno, l.p, l.len);
		else if (k == FRAME_BAD)
			put(o, 'X', l.lineno, "", 0);
	}
}

/* Blank records out: a run passes over blanks without handing them out. */
static void
strip_blanks(struct out *o)
{
	const char	*nl;
	size_t		 i = 0, j = 0, e, end;

	while (i < o->n) {
		e = i + 1;
		while (o->p[e] != ':')
			e++;
		if (o->p[i] == 'B') {
			i = e + 1;
			continue;
		}
		/* G and X records: up to the next record's start. */
		if (o->p[i] == 'G') {
			nl = memchr(o->p + e + 1, '\n', o->n - e - 1);
			end = nl != NULL ? (size_t)(nl - o->p) + 1 : o->n;
			memmove(o->p + j, o->p + i, end - i);
			j += end - i;
			i = end;
		} else {
			memmove(o->p + j, o->p + i, e + 1 - i);
			j += e + 1 - i;
			i = e + 1;
		}
	}
	o->n = j;
}

static void
feed(struct frame *f, const char *in, size_t len, size_t *at)
{
	size_t	room, n;
	char	*p;

	if ((p = frame_space(f, &room)) == NULL)
		abort();
	n = 1 + rnd(512);
	if (n > room)
		n = room;
	if (n > len - *at)
		n = len - *at;
	memcpy(p, in + *at, n);
	frame_filled(f, n);
	*at += n;
}

static int
one(const char *in, size_t len, size_t max)
{
	struct frame	a, b;
	struct out	oa = { 0 }, ob = { 0 };
	size_t		at;
	uint64_t	s0 = seed;
	int		same;

	if (frame_init(&a, MAXLINE, 0) == -1 ||
	    frame_init(&b, MAXLINE, 0) == -1)
		abort();
	for (at = 0; at < len; ) {
		feed(&a, in, len, &at);
		drain_next(&a, &oa);
	}
	frame_set_eof(&a);
	drain_next(&a, &oa);
	seed = s0;	/* the same pieces for b */
	for (at = 0; at < len; ) {
		feed(&b, in, len, &at);
		drain_runs(&b, &ob, max);
	}
	frame_set_eof(&b);
	drain_runs(&b, &ob, max);
	strip_blanks(&oa);
	same = oa.n == ob.n && memcmp(oa.p, ob.p, oa.n) == 0 &&
	    a.lineno == b.lineno;
	frame_release(&a);
	frame_release(&b);
	free(oa.p);
	free(ob.p);
	return same;
}

/* A run ends at a blank line, which it passes over. */
static void
blank_ends_run(void)
{
	static const char	 t[] = "\n a\nb\n \t\nc\n";
	struct frame		 f;
	const char		*p;
	uint64_t		 lines;
	size_t			 room, n;
	char			*s;

	if (frame_init(&f, MAXLINE, 0) == -1 ||
	    (s = frame_space(&f, &room)) == NULL)
		abort();
	memcpy(s, t, sizeof t - 1);
	frame_filled(&f, sizeof t - 1);
	n = frame_run(&f, SIZE_MAX, &p, &lines);
	ok(n == 5 && lines == 2 && memcmp(p, " a\nb\n", 5) == 0 &&
	    f.lineno == 4, "a run: blanks before passed over, one after ends it");
	n = frame_run(&f, SIZE_MAX, &p, &lines);
	ok(n == 2 && lines == 1 && f.lineno == 5, "then the next run");
	frame_release(&f);
}

int
main(void)
{
	static char	in[INPUT];
	static const size_t maxes[] = { 1, 64, 200, 4096, SIZE_MAX / 2 };
	size_t		len, i, bad = 0;
	int		round;

	for (round = 0; round < 200; round++) {
		len = make_input(in, 1 + rnd(INPUT));
		for (i = 0; i < sizeof maxes / sizeof maxes[0]; i++)
			bad += !one(in, len, maxes[i]);
	}
	is_int((ssize_t)bad, 0,
	    "frame_run unvalidated: the lines of frame_next, in order, numbered "
	    "alike, in 1,000 random inputs and piece sizes");
	blank_ends_run();
	return done();
}
