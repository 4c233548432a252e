/* SPDX-License-Identifier: ISC */
/*
 * jscan_bench.c: the scanner alone, in memory.
 *
 *   jscan_bench [-l | -r] [-k KEY]... FILE
 *       auto|avx512|avx2|sse42|sse2|scalar [MAXBYTES]
 *
 * Reads FILE into memory (untimed), then calls jscan_line() on every line,
 * framed with memchr, in whole passes until at least BENCH_MINSECS
 * (default 0.3) seconds have passed. With -l (mode "lines"), it calls
 * jscan_lines() over the whole buffer instead, as frame.c does: the lines
 * are found by the scanner's stage 1 (jscan_line only for a line it
 * doubts). With -r (mode "run"), it calls jscan_lines_run() instead, the
 * walk from good line to good line without a call per line that the relay
 * and `check` take (frame_run). -k asks the scanner for a top-level member too (as `check
 * --node` asks for "cmd"). Exit 3 if the SIMD path is not available on
 * this CPU. Prints one JSON line.
 *
 * Built by bench/run with: cc -O2 -Ilib bench/jscan_bench.c lib/jscan*.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jscan.h"
#include "bench.h"

/*
 * The process's CPU time: on a machine shared with other work, the wall
 * clock also counts the time the scanner waited for a CPU.
 */
static double
jb_cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
jb_usage(void)
{
	fprintf(stderr, "usage: jscan_bench [-l | -r] [-k KEY]... FILE "
	    "auto|avx512|avx2|sse42|sse2|scalar [MAXBYTES]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct jscan	 s;
	struct jscan_run	 run;
	char			*buf, keys[256] = "";
	const char		*p, *e, *nl, *base, *impl;
	size_t			 sz, lines = 0, firstbad = 0, len, at;
	uint64_t		 cnt;
	long			 good = 0, bad = 0, blank = 0, passes = 0;
	double			 t0, t1, c0, c1, minsecs;
	int			 c, r, multi = 0, walk = 0;

	jscan_init(&s);
	memset(&run, 0, sizeof run);
	while ((c = getopt(argc, argv, "k:lr")) != -1) {
		switch (c) {
		case 'l':
			multi = 1;
			break;
		case 'r':
			multi = walk = 1;
			break;
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
	minsecs = bench_minsecs();
	/* Some slack after the end, as a read buffer would have. */
	if ((buf = bench_load(argv[0], argc > 2 ? argv[2] : NULL, 64,
	    &sz)) == NULL)
		return 1;
	e = buf + sz;
	if (multi && (sz == 0 || e[-1] != '\n')) {
		fprintf(stderr, "jscan_bench: -l: '%s' must end in a newline\n",
		    argv[0]);
		return 2;
	}
	for (p = buf; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		lines++;
	}

	t0 = bench_now();
	c0 = jb_cpu();
	do {
		good = bad = blank = 0;
		for (p = buf; p < e; p = nl + 1) {
			if (walk) {
				/* The good lines before the next other one. */
				r = jscan_lines_run(&s, &run, buf, sz,
				    (size_t)(p - buf), sz + 1, SIZE_MAX, &cnt,
				    &at, &len);
				good += (long)cnt;
				p = buf + at;
				if (r == JSCAN_END)
					break;
				if (r != JSCAN_BAD)
					nl = p + len;
				else {
					nl = memchr(p, '\n', (size_t)(e - p));
					r = jscan_line(&s, p,
					    (size_t)(nl - p));
				}
			} else if (multi && (r = jscan_lines(&s, &run, buf, sz,
			    (size_t)(p - buf), &len)) != JSCAN_BAD)
				nl = p + len;
			else {
				nl = memchr(p, '\n', (size_t)(e - p));
				r = jscan_line(&s, p, (size_t)(nl - p));
			}
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
		t1 = bench_now();
	} while (t1 - t0 < minsecs);
	c1 = jb_cpu();

	base = strrchr(argv[0], '/');
	base = base != NULL ? base + 1 : argv[0];
	printf("{\"prog\":\"jscan\",\"mode\":\"%s\",\"impl\":\"%s\","
	    "\"keys\":\"%s\",\"file\":\"%s\",\"bytes\":%zu,\"lines\":%zu,"
	    "\"passes\":%ld,\"secs\":%.4f,\"MB_per_s\":%.1f,"
	    "\"lines_per_s\":%.0f,\"cpu_secs\":%.4f,\"MB_per_cpu_s\":%.1f,"
	    "\"good\":%ld,\"bad\":%ld,\"blank\":%ld}\n",
	    walk ? "run" : multi ? "lines" : "line", jscan_impl(), keys, base, sz, lines,
	    passes, t1 - t0,
	    (double)sz * passes / (t1 - t0) / 1e6,
	    (double)lines * passes / (t1 - t0), c1 - c0,
	    (double)sz * passes / (c1 - c0) / 1e6, good, bad, blank);
	free(buf);
	return 0;
}
