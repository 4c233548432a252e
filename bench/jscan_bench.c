/*
 * jscan_bench.c: the scanner alone, in memory, one line at a time.
 *
 *   jscan_bench [-k KEY]... FILE auto|avx2|sse2|scalar [MAXBYTES]
 *
 * Reads FILE into memory (untimed), then calls jscan_line() on every line,
 * framed with memchr, in whole passes until at least BENCH_MINSECS
 * (default 0.3) seconds have passed. -k asks the scanner for a top-level
 * member too (as `check --node` asks for "cmd"). Exit 3 if the SIMD path
 * is not available on this CPU. Prints one JSON line.
 *
 * Built by bench/run with: cc -O2 -Ilib bench/jscan_bench.c lib/jscan.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcrun.h"

static double
jb_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
jb_usage(void)
{
	fprintf(stderr, "usage: jscan_bench [-k KEY]... FILE "
	    "auto|avx2|sse2|scalar [MAXBYTES]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct jscan	 s;
	FILE			*f;
	char			*buf, keys[256] = "";
	const char		*p, *e, *nl, *base, *impl;
	size_t			 sz, lines = 0, firstbad = 0;
	long			 good = 0, bad = 0, blank = 0, passes = 0;
	double			 t0, t1, minsecs = 0.3;
	int			 c, r;

	jscan_init(&s);
	while ((c = getopt(argc, argv, "k:")) != -1) {
		switch (c) {
		case 'k':
			if (jscan_want(&s, optarg, strlen(optarg)) == -1) {
				fprintf(stderr, "jscan_bench: too many keys\n");
				return 2;
			}
			if (keys[0] != '\0')
				strncat(keys, ",", sizeof(keys) - strlen(keys) - 1);
			strncat(keys, optarg, sizeof(keys) - strlen(keys) - 1);
			break;
		default:
			jb_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		jb_usage();
	impl = argv[1];
	if (jscan_set_impl(impl) == -1) {
		fprintf(stderr, "jscan_bench: '%s' is not available here\n",
		    impl);
		return 3;
	}
	if (getenv("BENCH_MINSECS") != NULL)
		minsecs = atof(getenv("BENCH_MINSECS"));

	if ((f = fopen(argv[0], "rbe")) == NULL) {
		perror(argv[0]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	sz = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	if (argc > 2 && atol(argv[2]) > 0 && (size_t)atol(argv[2]) < sz)
		sz = (size_t)atol(argv[2]);
	/* Some slack after the end, as a read buffer would have. */
	if ((buf = malloc(sz + 64)) == NULL || fread(buf, 1, sz, f) != sz) {
		perror("read");
		return 1;
	}
	fclose(f);
	memset(buf + sz, 0, 64);
	while (sz > 0 && buf[sz - 1] != '\n')		/* whole lines only */
		sz--;
	e = buf + sz;
	for (p = buf; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		lines++;
	}

	t0 = jb_now();
	do {
		good = bad = blank = 0;
		for (p = buf; p < e; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(e - p));
			r = jscan_line(&s, p, (size_t)(nl - p));
			if (r == JSCAN_GOOD)
				good++;
			else if (r == JSCAN_BLANK)
				blank++;
			else {
				if (bad++ == 0 && passes == 0) {
					firstbad = (size_t)good + blank + 1;
					fprintf(stderr, "jscan_bench: line %zu: "
					    "byte %zu: %s\n", firstbad,
					    s.err_off + 1, s.err);
				}
			}
		}
		passes++;
		t1 = jb_now();
	} while (t1 - t0 < minsecs);

	base = strrchr(argv[0], '/');
	base = base != NULL ? base + 1 : argv[0];
	printf("{\"prog\":\"jscan\",\"mode\":\"line\",\"impl\":\"%s\","
	    "\"keys\":\"%s\",\"file\":\"%s\",\"bytes\":%zu,\"lines\":%zu,"
	    "\"passes\":%ld,\"secs\":%.4f,\"MB_per_s\":%.1f,"
	    "\"lines_per_s\":%.0f,\"good\":%ld,\"bad\":%ld,\"blank\":%ld}\n",
	    jscan_impl(), keys, base, sz, lines, passes, t1 - t0,
	    (double)sz * passes / (t1 - t0) / 1e6,
	    (double)lines * passes / (t1 - t0), good, bad, blank);
	free(buf);
	return 0;
}
