/* SPDX-License-Identifier: ISC */
/*
 * tasklog.c: the lines of run --tasklog and the set of tasks a log says
 * were answered (tasklog.h). The format is GNU parallel's --joblog in
 * spirit: one line per task, tab-separated, a header first, so that
 * cut(1), awk(1) and a spreadsheet read it.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasklog.h"

#define NSEC	INT64_C(1000000000)

/*
 * One line into p (len bytes): seq, child, pid, start and runtime (both
 * in nanoseconds, written as seconds with milliseconds), tries, status.
 * Returns its length, or -1 if it does not fit.
 */
int
tasklog_format(char *p, size_t len, uint64_t seq, const char *child,
    long pid, int64_t start, int64_t runtime, unsigned tries, int ok)
{
	int	n;

	if (start < 0)
		start = 0;
	if (runtime < 0)
		runtime = 0;
	n = snprintf(p, len, "%" PRIu64 "\t%s\t%ld\t%" PRId64 ".%03" PRId64
	    "\t%" PRId64 ".%03" PRId64 "\t%u\t%s\n", seq, child, pid,
	    start / NSEC, start % NSEC / 1000000, runtime / NSEC,
	    runtime % NSEC / 1000000, tries, ok ? "ok" : "failed");
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* The i-th field of p (n bytes) and its length, or NULL. */
static const char *
tasklog_field(const char *p, size_t n, unsigned i, size_t *flen)
{
	const char	*end = p + n, *tab;

	for (;;) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (i == 0) {
			*flen = (size_t)((tab != NULL ? tab : end) - p);
			return p;
		}
		if (tab == NULL)
			return NULL;
		p = tab + 1;
		i--;
	}
}

/*
 * A line of a log (n bytes, no newline) into e. Returns 1, 0 for the
 * header, or -1 with *cause.
 */
int
tasklog_parse(const char *p, size_t n, struct tasklog_ent *e,
    const char **cause)
{
	const char	*f;
	size_t		 flen, i;
	uint64_t	 seq = 0;

	if (n + 1 == sizeof TASKLOG_HEADER - 1 &&
	    memcmp(p, TASKLOG_HEADER, n) == 0)
		return 0;
	if (tasklog_field(p, n, 6, &flen) == NULL ||
	    tasklog_field(p, n, 7, &flen) != NULL) {
		*cause = "not 7 tab-separated fields";
		return -1;
	}
	f = tasklog_field(p, n, 0, &flen);
	if (flen == 0 || flen > 19) {
		*cause = "the seq is not a number";
		return -1;
	}
	for (i = 0; i < flen; i++) {
		if (f[i] < '0' || f[i] > '9') {
			*cause = "the seq is not a number";
			return -1;
		}
		seq = seq * 10 + (uint64_t)(f[i] - '0');
	}
	if (seq == 0) {
		*cause = "the seq is 0 (input lines count from 1)";
		return -1;
	}
	f = tasklog_field(p, n, 6, &flen);
	if (flen == 2 && memcmp(f, "ok", 2) == 0)
		e->ok = 1;
	else if (flen == 6 && memcmp(f, "failed", 6) == 0)
		e->ok = 0;
	else {
		*cause = "the status is not ok or failed";
		return -1;
	}
	e->seq = seq;
	return 1;
}

void
seqset_init(struct seqset *s)
{
	memset(s, 0, sizeof *s);
}

void
seqset_release(struct seqset *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

int
seqset_add(struct seqset *s, uint64_t seq)
{
	uint64_t	*v;
	size_t		 cap;

	if (s->n == s->cap) {
		cap = s->cap == 0 ? 1024 : s->cap * 2;
		if ((v = reallocarray(s->v, cap, sizeof *v)) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = seq;
	return 0;
}

static int
seqset_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every seq added: sorted, each once, ready for seqset_has. */
void
seqset_seal(struct seqset *s)
{
	size_t	i, j = 0;

	if (s->n > 0)
		qsort(s->v, s->n, sizeof *s->v, seqset_cmp);
	for (i = 0; i < s->n; i++) {
		if (j == 0 || s->v[j - 1] != s->v[i])
			s->v[j++] = s->v[i];
	}
	s->n = j;
}

/* Is seq in the set? A binary search: 20 looks for a million. */
int
seqset_has(const struct seqset *s, uint64_t seq)
{
	size_t	lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->v[mid] == seq)
			return 1;
		if (s->v[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}
