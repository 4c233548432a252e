/* SPDX-License-Identifier: ISC */
/*
 * simdjson_bench.cpp: simdjson (Debian libsimdjson-dev) as the reference
 * for the scanner.
 *
 *   simdjson_bench FILE line|many|many_mt [MAXBYTES]
 *
 *   line     dom::parser::parse() on each line, framed with memchr: the
 *            per-line validator the scanner must match or beat. One
 *            parser is reused and allocated for the longest line before
 *            timing. The file sits in one padded_string, so every line
 *            slice has SIMDJSON_PADDING readable bytes after it and
 *            nothing is copied.
 *   many     parse_many() over the whole buffer, one thread: the ceiling.
 *            It is not a line validator (a value may span lines).
 *   many_mt  the same with simdjson's stage-1 thread (as shipped).
 *
 * The file is read first (untimed); whole passes repeat until at least
 * BENCH_MINSECS (default 0.3) seconds have passed. Prints one JSON line.
 */
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

static double
now()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * The process's CPU time: on a shared machine the wall clock also counts
 * the wait for a CPU (jscan_bench gives the same figure).
 */
static double
cpu()
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *
basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: simdjson_bench FILE "
		    "line|stage1|many|many_mt [MAXBYTES]\n");
		return 2;
	}
	const char *mode = argv[2];
	double minsecs = getenv("BENCH_MINSECS") ?
	    atof(getenv("BENCH_MINSECS")) : 0.3;

	FILE *f = fopen(argv[1], "rb");
	if (f == nullptr) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size_t sz = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	if (argc > 3 && atol(argv[3]) > 0 && (size_t)atol(argv[3]) < sz)
		sz = (size_t)atol(argv[3]);
	simdjson::padded_string buf(sz);
	if (fread(buf.data(), 1, sz, f) != sz) {
		perror("read");
		return 1;
	}
	fclose(f);
	while (sz > 0 && buf.data()[sz - 1] != '\n')	/* whole lines only */
		sz--;

	const char *b = buf.data(), *e = b + sz;
	size_t maxlen = 0, lines = 0;
	for (const char *p = b; p < e;) {
		const char *nl = (const char *)memchr(p, '\n', (size_t)(e - p));
		if ((size_t)(nl - p) > maxlen)
			maxlen = (size_t)(nl - p);
		lines++;
		p = nl + 1;
	}

	simdjson::dom::parser parser;
	long good = 0, bad = 0, passes = 0;
	double t0, t1, c0 = 0;
	const char *firsterr = nullptr;

	if (strcmp(mode, "line") == 0) {
		if (parser.allocate(maxlen + 1) != simdjson::SUCCESS) {
			fprintf(stderr, "simdjson: allocate failed\n");
			return 1;
		}
		t0 = now();
		c0 = cpu();
		do {
			good = bad = 0;
			for (const char *p = b; p < e;) {
				const char *nl = (const char *)memchr(p, '\n',
				    (size_t)(e - p));
				auto r = parser.parse((const uint8_t *)p,
				    (size_t)(nl - p), false);
				if (r.error() == simdjson::SUCCESS)
					good++;
				else {
					bad++;
					if (firsterr == nullptr)
						firsterr = simdjson::error_message(
						    r.error());
				}
				p = nl + 1;
			}
			passes++;
			t1 = now();
		} while (t1 - t0 < minsecs);
	} else if (strcmp(mode, "stage1") == 0) {
		/*
		 * Stage 1 alone, per line: structural indexes and UTF-8,
		 * no tape. The ceiling of a two-stage design per line.
		 */
		std::unique_ptr<simdjson::internal::dom_parser_implementation>
		    impl;
		if (simdjson::get_active_implementation()->
		    create_dom_parser_implementation(maxlen + 1,
		    simdjson::DEFAULT_MAX_DEPTH, impl) != simdjson::SUCCESS) {
			fprintf(stderr, "simdjson: stage 1 set-up failed\n");
			return 1;
		}
		t0 = now();
		c0 = cpu();
		do {
			good = bad = 0;
			for (const char *p = b; p < e;) {
				const char *nl = (const char *)memchr(p, '\n',
				    (size_t)(e - p));
				auto r = impl->stage1((const uint8_t *)p,
				    (size_t)(nl - p),
				    simdjson::stage1_mode::regular);
				if (r == simdjson::SUCCESS)
					good++;
				else {
					bad++;
					if (firsterr == nullptr)
						firsterr = simdjson::error_message(r);
				}
				p = nl + 1;
			}
			passes++;
			t1 = now();
		} while (t1 - t0 < minsecs);
	} else if (strcmp(mode, "many") == 0 ||
	    strcmp(mode, "many_mt") == 0) {
#ifdef SIMDJSON_THREADS_ENABLED
		parser.threaded = strcmp(mode, "many_mt") == 0;
#endif
		size_t batch = maxlen + 1 > 1000000 ? maxlen + 1 : 1000000;
		t0 = now();
		c0 = cpu();
		do {
			good = bad = 0;
			simdjson::dom::document_stream stream;
			auto error = parser.parse_many((const uint8_t *)b, sz,
			    batch).get(stream);
			if (error) {
				fprintf(stderr, "simdjson: %s\n",
				    simdjson::error_message(error));
				return 1;
			}
			for (auto doc : stream) {
				if (doc.error() == simdjson::SUCCESS)
					good++;
				else {
					bad++;
					if (firsterr == nullptr)
						firsterr = simdjson::error_message(
						    doc.error());
				}
			}
			passes++;
			t1 = now();
		} while (t1 - t0 < minsecs);
	} else {
		fprintf(stderr, "simdjson_bench: unknown mode '%s'\n", mode);
		return 2;
	}
	if (firsterr != nullptr)
		fprintf(stderr, "simdjson_bench: first error: %s\n", firsterr);

	double secs = t1 - t0, cpus = cpu() - c0;
	printf("{\"prog\":\"simdjson\",\"mode\":\"%s\",\"impl\":\"%s\","
	    "\"file\":\"%s\",\"bytes\":%zu,\"lines\":%zu,\"passes\":%ld,"
	    "\"secs\":%.4f,\"MB_per_s\":%.1f,\"lines_per_s\":%.0f,"
	    "\"cpu_secs\":%.4f,\"MB_per_cpu_s\":%.1f,"
	    "\"good\":%ld,\"bad\":%ld}\n", mode,
	    simdjson::get_active_implementation()->name().c_str(),
	    basename_of(argv[1]), sz, lines, passes, secs,
	    (double)sz * passes / secs / 1e6, (double)lines * passes / secs,
	    cpus, (double)sz * passes / cpus / 1e6, good, bad);
	return 0;
}
