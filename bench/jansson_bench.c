/* SPDX-License-Identifier: ISC */
/*
 * jansson_bench.c: jansson json_loadb() per line, then json_decref(), the
 * way a C program would validate NDJSON without a dedicated scanner.
 *
 *   jansson_bench FILE [MAXBYTES]
 *
 * Lines are framed with memchr. The file is read first (untimed); whole
 * passes repeat until at least BENCH_MINSECS (default 0.3) seconds have
 * passed. MAXBYTES keeps only the first whole lines of FILE, since
 * jansson is slow. Prints one JSON line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	char		*buf;
	const char	*p, *e, *nl, *base, *firsterr = NULL;
	size_t		 sz, lines = 0;
	long		 good = 0, bad = 0, passes = 0;
	double		 t0, t1, minsecs = bench_minsecs();
	json_t		*j;
	json_error_t	 err;
	static char	 errbuf[JSON_ERROR_TEXT_LENGTH];

	if (argc < 2) {
		fprintf(stderr, "usage: jansson_bench FILE [MAXBYTES]\n");
		return 2;
	}
	if ((buf = bench_load(argv[1], argc > 2 ? argv[2] : NULL, 0,
	    &sz)) == NULL)
		return 1;
	e = buf + sz;
	for (p = buf; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		lines++;
	}

	t0 = bench_now();
	do {
		good = bad = 0;
		for (p = buf; p < e; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(e - p));
			j = json_loadb(p, (size_t)(nl - p), JSON_DECODE_ANY, &err);
			if (j != NULL) {
				good++;
				json_decref(j);
			} else {
				bad++;
				if (firsterr == NULL) {
					memcpy(errbuf, err.text, sizeof(errbuf));
					firsterr = errbuf;
				}
			}
		}
		passes++;
		t1 = bench_now();
	} while (t1 - t0 < minsecs);
	if (firsterr != NULL)
		fprintf(stderr, "jansson_bench: first error: %s\n", firsterr);

	base = strrchr(argv[1], '/');
	base = base != NULL ? base + 1 : argv[1];
	printf("{\"prog\":\"jansson\",\"mode\":\"line\",\"impl\":\"%s\","
	    "\"file\":\"%s\",\"bytes\":%zu,\"lines\":%zu,\"passes\":%ld,"
	    "\"secs\":%.4f,\"MB_per_s\":%.1f,\"lines_per_s\":%.0f,"
	    "\"good\":%ld,\"bad\":%ld}\n", JANSSON_VERSION, base, sz, lines,
	    passes, t1 - t0, (double)sz * passes / (t1 - t0) / 1e6,
	    (double)lines * passes / (t1 - t0), good, bad);
	free(buf);
	return 0;
}
