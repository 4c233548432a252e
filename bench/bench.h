/* SPDX-License-Identifier: ISC */
/*
 * Shared by the C benchmark programs: a monotonic clock, the least time a
 * measurement runs (BENCH_MINSECS), and loading the first MAXBYTES of a
 * file into memory, cut back to whole lines, outside the timing.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
bench_minsecs(void)
{
	const char	*s = getenv("BENCH_MINSECS");

	return s != NULL ? atof(s) : 0.3;
}

/*
 * path's bytes (at most maxarg's, when it is a positive number) in a
 * buffer with slack zeroed bytes after them; *szp is cut back to the last
 * '\n'. NULL after a message on stderr.
 */
static char *
bench_load(const char *path, const char *maxarg, size_t slack, size_t *szp)
{
	FILE	*f;
	char	*buf;
	size_t	 sz;

	if ((f = fopen(path, "rbe")) == NULL) {
		perror(path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	sz = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	if (maxarg != NULL && atol(maxarg) > 0 && (size_t)atol(maxarg) < sz)
		sz = (size_t)atol(maxarg);
	if ((buf = malloc(sz + slack + 1)) == NULL ||
	    fread(buf, 1, sz, f) != sz) {
		perror("read");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	memset(buf + sz, 0, slack + 1);
	while (sz > 0 && buf[sz - 1] != '\n')		/* whole lines only */
		sz--;
	*szp = sz;
	return buf;
}

#endif
