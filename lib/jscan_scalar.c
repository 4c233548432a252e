/* SPDX-License-Identifier: ISC */
/*
 * The scanner's portable kernel: the streamed scanner with the word-at-a-
 * time string skip, and the block scanner with a table lookup per byte. It
 * runs where no SIMD kernel does, and is the one to compare them against.
 */
#include "compat.h"

#include <stdint.h>
#include <string.h>

#include "jscan.h"
#include "jscan_kern.h"

#define JSCAN_FEED	feed_scalar
#define JSCAN_ATTR
#define JSCAN_SKIP	skip_scalar
#include "jscan_core.h"
#undef JSCAN_FEED
#undef JSCAN_ATTR
#undef JSCAN_SKIP

static inline void
classify_scalar(const unsigned char *p, struct blk *b)
{
	uint64_t	q = 0, bs = 0, ws = 0, op = 0, ct = 0, hi = 0, nl = 0;
	unsigned	k;

	for (k = 0; k < 64; k++) {
		unsigned c = jscan_cls[p[k]];

		q |= (uint64_t)(c & 1) << k;
		bs |= (uint64_t)(c >> 1 & 1) << k;
		ws |= (uint64_t)(c >> 2 & 1) << k;
		op |= (uint64_t)(c >> 3 & 1) << k;
		ct |= (uint64_t)(c >> 4 & 1) << k;
		hi |= (uint64_t)(c >> 5 & 1) << k;
		nl |= (uint64_t)(c >> 6 & 1) << k;
	}
	b->quote = q;
	b->bs = bs;
	b->ws = ws;
	b->op = op;
	b->ctrl = ct;
	b->high = hi;
	b->nl = nl;
}

static inline void
partial_scalar(const unsigned char *buf, size_t n, size_t off,
    struct blk *b)
{
	PARTIAL(classify_scalar, buf, n, off, b);
}

static inline int
boring_scalar(const unsigned char *p)
{
	const uint64_t	ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t	m = 0;
	unsigned	k;

	for (k = 0; k < 64; k += 8) {
		uint64_t x, q, b;

		memcpy(&x, p + k, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		m |= ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
		    ((b - ones) & ~b) | x;
	}
	return (m & high) == 0;
}

#define JSCAN_FAST	fast_scalar
#define JSCAN_LINES	lines_scalar
#define JSCAN_RUN	run_scalar
#define JSCAN_WALK	walk_scalar
#define JSCAN_STAGE1	stage1_scalar
#define JSCAN_PARTIAL	partial_scalar
#define JSCAN_BORING	boring_scalar
#define JSCAN_ATTR
#define JSCAN_CLASSIFY	classify_scalar
#define JSCAN_PXOR	pxor_portable
#define JSCAN_UTF8	utf8_scalar
#include "jscan_fast.h"
#undef JSCAN_FAST
#undef JSCAN_LINES
#undef JSCAN_RUN
#undef JSCAN_WALK
#undef JSCAN_STAGE1
#undef JSCAN_PARTIAL
#undef JSCAN_BORING
#undef JSCAN_ATTR
#undef JSCAN_CLASSIFY
#undef JSCAN_PXOR
#undef JSCAN_UTF8

const struct jscan_kernel jscan_kernel_scalar = {
	"scalar", feed_scalar, fast_scalar, lines_scalar, run_scalar
};
