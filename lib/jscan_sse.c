/* SPDX-License-Identifier: ISC */
/*
 * The scanner's 128-bit kernels. sse2 is every x86-64's: the streamed
 * scanner skips strings 16 bytes at a time, and the block scanner compares
 * byte values one class at a time and checks UTF-8 one sequence at a time.
 * sse42 takes the same streamed scanner and the avx2 kernel's methods for
 * the block scanner.
 */
#include "compat.h"

#include <stdint.h>
#include <string.h>

#include "jscan.h"
#include "jscan_priv.h"

/* x86 only: elsewhere jscan_kern.h, unused, would warn of its helpers. */
#ifdef JSCAN_X86
#include "jscan_kern.h"

#define JSCAN_FEED	feed_sse2
#define JSCAN_ATTR
#define JSCAN_SKIP	skip_sse2
#include "jscan_core.h"
#undef JSCAN_FEED
#undef JSCAN_ATTR
#undef JSCAN_SKIP

static inline __attribute__((always_inline)) void
classify_sse2(const unsigned char *p, struct blk *b)
{
	const __m128i q = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
	const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	const __m128i x20 = _mm_set1_epi8(0x20), lb = _mm_set1_epi8('{');
	const __m128i rb = _mm_set1_epi8('}'), co = _mm_set1_epi8(':');
	const __m128i cm = _mm_set1_epi8(',');
	unsigned	k;

	memset(b, 0, sizeof *b);
	for (k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + 16 * k));
		__m128i l = _mm_or_si128(v, x20);
		__m128i n = _mm_cmpeq_epi8(v, lf);
		unsigned hi = (unsigned)_mm_movemask_epi8(v);

		b->quote |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, q)) << (16 * k);
		b->bs |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, bsl)) << (16 * k);
		b->ws |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)),
		    _mm_or_si128(n, _mm_cmpeq_epi8(v, cr)))) << (16 * k);
		b->op |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(l, lb), _mm_cmpeq_epi8(l, rb)),
		    _mm_or_si128(_mm_cmpeq_epi8(v, co), _mm_cmpeq_epi8(v, cm))))
		    << (16 * k);
		b->ctrl |= (uint64_t)((unsigned)_mm_movemask_epi8(
		    _mm_cmplt_epi8(v, x20)) & ~hi) << (16 * k);
		b->high |= (uint64_t)hi << (16 * k);
		b->nl |= (uint64_t)(unsigned)_mm_movemask_epi8(n) << (16 * k);
	}
}

static inline void
partial_sse2(const unsigned char *buf, size_t n, size_t off, struct blk *b)
{
	PARTIAL(classify_sse2, buf, n, off, b);
}

static inline int
boring_sse2(const unsigned char *p)
{
	const __m128i q = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\');
	const __m128i x20 = _mm_set1_epi8(0x20);
	__m128i m = _mm_setzero_si128();
	unsigned k;

	for (k = 0; k < 64; k += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + k));

		/* Signed: bytes >= 0x80 are below 0x20 too. */
		m = _mm_or_si128(m, _mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bsl)),
		    _mm_cmplt_epi8(v, x20)));
	}
	return _mm_movemask_epi8(m) == 0;
}

#define JSCAN_FAST	fast_sse2
#define JSCAN_LINES	lines_sse2
#define JSCAN_RUN	run_sse2
#define JSCAN_WALK	walk_sse2
#define JSCAN_STAGE1	stage1_sse2
#define JSCAN_PARTIAL	partial_sse2
#define JSCAN_BORING	boring_sse2
#define JSCAN_ATTR
#define JSCAN_CLASSIFY	classify_sse2
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

/*
 * SSE4.2 (with SSSE3's pshufb and PCLMULQDQ, as every CPU with SSE4.2
 * since 2010 has): the avx2 kernel's methods on 16 bytes at a time, the
 * nibble lookups for whitespace and structure and the Keiser-Lemire
 * UTF-8 check, where sse2 compares byte values one class at a time and
 * checks UTF-8 one sequence at a time.
 */
__attribute__((target("sse4.2"), always_inline)) static inline void
classify_sse42(const unsigned char *p, struct blk *b)
{
	const __m128i lo = _mm_setr_epi8(NIB_LO), hi = _mm_setr_epi8(NIB_HI);
	const __m128i f = _mm_set1_epi8(0x0f), x20 = _mm_set1_epi8(0x20);
	const __m128i q = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\');
	const __m128i wsb = _mm_set1_epi8(NIB_WS), opb = _mm_set1_epi8(NIB_OP);
	const __m128i lf = _mm_set1_epi8('\n'), z = _mm_setzero_si128();
	unsigned	k;

	memset(b, 0, sizeof *b);
	for (k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + 16 * k));
		__m128i c = _mm_and_si128(_mm_shuffle_epi8(lo,
		    _mm_and_si128(v, f)), _mm_shuffle_epi8(hi,
		    _mm_and_si128(_mm_srli_epi16(v, 4), f)));
		unsigned h = (unsigned)_mm_movemask_epi8(v);

		b->high |= (uint64_t)h << (16 * k);
		b->quote |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, q)) << (16 * k);
		b->bs |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, bsl)) << (16 * k);
		b->ws |= (uint64_t)(~(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_and_si128(c, wsb), z)) & 0xffff) <<
		    (16 * k);
		b->op |= (uint64_t)(~(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_and_si128(c, opb), z)) & 0xffff) <<
		    (16 * k);
		b->ctrl |= (uint64_t)((unsigned)_mm_movemask_epi8(
		    _mm_cmplt_epi8(v, x20)) & ~h) << (16 * k);
		b->nl |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, lf)) << (16 * k);
	}
}

__attribute__((target("sse4.2"))) static inline void
partial_sse42(const unsigned char *buf, size_t n, size_t off, struct blk *b)
{
	PARTIAL(classify_sse42, buf, n, off, b);
}

__attribute__((target("sse4.2"))) static inline __m128i
utf8_err_sse42(const unsigned char *p)
{
	const __m128i t1h = _mm_loadu_si128((const __m128i *)(const void *)
	    u8_b1_high);
	const __m128i t1l = _mm_loadu_si128((const __m128i *)(const void *)
	    u8_b1_low);
	const __m128i t2h = _mm_loadu_si128((const __m128i *)(const void *)
	    u8_b2_high);
	const __m128i f = _mm_set1_epi8(0x0f);
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i p1 = _mm_loadu_si128((const __m128i *)(const void *)(p - 1));
	__m128i p2 = _mm_loadu_si128((const __m128i *)(const void *)(p - 2));
	__m128i p3 = _mm_loadu_si128((const __m128i *)(const void *)(p - 3));
	__m128i sc = _mm_and_si128(_mm_and_si128(
	    _mm_shuffle_epi8(t1h, _mm_and_si128(_mm_srli_epi16(p1, 4), f)),
	    _mm_shuffle_epi8(t1l, _mm_and_si128(p1, f))),
	    _mm_shuffle_epi8(t2h, _mm_and_si128(_mm_srli_epi16(v, 4), f)));
	__m128i m23 = _mm_and_si128(_mm_or_si128(
	    _mm_subs_epu8(p2, _mm_set1_epi8(0x60)),
	    _mm_subs_epu8(p3, _mm_set1_epi8(0x70))),
	    _mm_set1_epi8((char)0x80));

	return _mm_xor_si128(sc, m23);
}

__attribute__((target("sse4.2"))) static inline int
utf8_sse42(const unsigned char *buf, size_t n, size_t base, uint64_t high,
    struct jscan_run *t)
{
	unsigned char		 tmp[3 + 64];
	const unsigned char	*p = utf8_window(buf, n, base, tmp);
	__m128i			 e = _mm_or_si128(_mm_or_si128(
				    utf8_err_sse42(p), utf8_err_sse42(p + 16)),
				    _mm_or_si128(utf8_err_sse42(p + 32),
				    utf8_err_sse42(p + 48)));

	(void)high;
	if (!_mm_testz_si128(e, e))
		return -1;
	t->u8pend = utf8_runs_on(p);
	return 0;
}

#define JSCAN_FAST	fast_sse42
#define JSCAN_LINES	lines_sse42
#define JSCAN_RUN	run_sse42
#define JSCAN_WALK	walk_sse42
#define JSCAN_STAGE1	stage1_sse42
#define JSCAN_PARTIAL	partial_sse42
#define JSCAN_BORING	boring_sse2
#define JSCAN_ATTR	__attribute__((target("sse4.2,pclmul")))
#define JSCAN_CLASSIFY	classify_sse42
#define JSCAN_PXOR	pxor_clmul
#define JSCAN_UTF8	utf8_sse42
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
const struct jscan_kernel jscan_kernel_sse2 = {
	"sse2", feed_sse2, fast_sse2, lines_sse2, run_sse2
};

const struct jscan_kernel jscan_kernel_sse42 = {
	"sse42", feed_sse2, fast_sse42, lines_sse42, run_sse42
};
#endif
