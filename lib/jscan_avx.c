/* SPDX-License-Identifier: ISC */
/*
 * The scanner's 256- and 512-bit kernels. avx2: the streamed scanner skips
 * strings 32 bytes at a time, and the block scanner classifies bytes by
 * nibble lookups and checks UTF-8 by the Keiser-Lemire tables
 * (jscan_kern.h). avx512 takes the same streamed scanner, and a block
 * scanner that classifies a whole block with one load and reads nothing
 * past a line's end.
 */
#include "compat.h"

#include <stdint.h>
#include <string.h>

#include "jscan.h"
#include "jscan_priv.h"

/* x86 only: elsewhere jscan_kern.h, unused, would warn of its helpers. */
#ifdef JSCAN_X86
#include "jscan_kern.h"

__attribute__((target("avx2"))) static inline const unsigned char *
skip_avx2(const unsigned char *p, const unsigned char *e,
    const unsigned char *start)
{
	const __m256i q = _mm256_set1_epi8('"'), b = _mm256_set1_epi8('\\');
	const __m256i sp = _mm256_set1_epi8(0x20);

	while (e - p >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i m = _mm256_or_si256(_mm256_or_si256(
		    _mm256_cmpeq_epi8(v, q), _mm256_cmpeq_epi8(v, b)),
		    _mm256_cmpgt_epi8(sp, v));
		unsigned mask = (unsigned)_mm256_movemask_epi8(m);

		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 32;
	}
	if (p < e && e - start >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)
		    (e - 32));
		__m256i m = _mm256_or_si256(_mm256_or_si256(
		    _mm256_cmpeq_epi8(v, q), _mm256_cmpeq_epi8(v, b)),
		    _mm256_cmpgt_epi8(sp, v));
		unsigned mask = (unsigned)_mm256_movemask_epi8(m) >>
		    (32 - (e - p));

		return mask != 0 ? p + __builtin_ctz(mask) : e;
	}
	return skip_sse2(p, e, start);
}

#define JSCAN_FEED	feed_avx2
#define JSCAN_ATTR	__attribute__((target("avx2")))
#define JSCAN_SKIP	skip_avx2
#include "jscan_core.h"
#undef JSCAN_FEED
#undef JSCAN_ATTR
#undef JSCAN_SKIP

__attribute__((target("avx2"))) static inline uint64_t
mask_avx2(__m256i lo, __m256i hi)
{
	return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

__attribute__((target("avx2"), always_inline)) static inline void
classify_avx2(const unsigned char *p, struct blk *b)
{
	const __m256i lo = _mm256_setr_epi8(NIB_LO, NIB_LO);
	const __m256i hi = _mm256_setr_epi8(NIB_HI, NIB_HI);
	const __m256i f = _mm256_set1_epi8(0x0f), x20 = _mm256_set1_epi8(0x20);
	const __m256i q = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\');
	const __m256i wsb = _mm256_set1_epi8(NIB_WS), opb = _mm256_set1_epi8(NIB_OP);
	const __m256i z = _mm256_setzero_si256();
	const __m256i lf = _mm256_set1_epi8('\n');
	__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)
	    (p + 32));
	__m256i c0 = _mm256_and_si256(
	    _mm256_shuffle_epi8(lo, _mm256_and_si256(v0, f)),
	    _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v0, 4), f)));
	__m256i c1 = _mm256_and_si256(
	    _mm256_shuffle_epi8(lo, _mm256_and_si256(v1, f)),
	    _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v1, 4), f)));

	b->high = mask_avx2(v0, v1);
	b->quote = mask_avx2(_mm256_cmpeq_epi8(v0, q), _mm256_cmpeq_epi8(v1, q));
	b->bs = mask_avx2(_mm256_cmpeq_epi8(v0, bsl),
	    _mm256_cmpeq_epi8(v1, bsl));
	b->ws = ~mask_avx2(_mm256_cmpeq_epi8(_mm256_and_si256(c0, wsb), z),
	    _mm256_cmpeq_epi8(_mm256_and_si256(c1, wsb), z));
	b->op = ~mask_avx2(_mm256_cmpeq_epi8(_mm256_and_si256(c0, opb), z),
	    _mm256_cmpeq_epi8(_mm256_and_si256(c1, opb), z));
	b->ctrl = mask_avx2(_mm256_cmpgt_epi8(x20, v0),
	    _mm256_cmpgt_epi8(x20, v1)) & ~b->high;
	b->nl = mask_avx2(_mm256_cmpeq_epi8(v0, lf), _mm256_cmpeq_epi8(v1, lf));
}

__attribute__((target("avx2"))) static inline void
partial_avx2(const unsigned char *buf, size_t n, size_t off, struct blk *b)
{
	PARTIAL(classify_avx2, buf, n, off, b);
}

__attribute__((target("avx2"))) static inline int
boring_avx2(const unsigned char *p)
{
	const __m256i q = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\');
	const __m256i x20 = _mm256_set1_epi8(0x20);
	__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)
	    (p + 32));
	__m256i m0 = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v0, q),
	    _mm256_cmpeq_epi8(v0, bsl)), _mm256_cmpgt_epi8(x20, v0));
	__m256i m1 = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v1, q),
	    _mm256_cmpeq_epi8(v1, bsl)), _mm256_cmpgt_epi8(x20, v1));

	return _mm256_testz_si256(_mm256_or_si256(m0, m1),
	    _mm256_or_si256(m0, m1));
}

__attribute__((target("avx2"))) static inline __m256i
utf8_err_avx2(const unsigned char *p)
{
	const __m256i t1h = _mm256_broadcastsi128_si256(_mm_loadu_si128(
	    (const __m128i *)(const void *)u8_b1_high));
	const __m256i t1l = _mm256_broadcastsi128_si256(_mm_loadu_si128(
	    (const __m128i *)(const void *)u8_b1_low));
	const __m256i t2h = _mm256_broadcastsi128_si256(_mm_loadu_si128(
	    (const __m128i *)(const void *)u8_b2_high));
	const __m256i f = _mm256_set1_epi8(0x0f);
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i p1 = _mm256_loadu_si256((const __m256i *)(const void *)(p - 1));
	__m256i p2 = _mm256_loadu_si256((const __m256i *)(const void *)(p - 2));
	__m256i p3 = _mm256_loadu_si256((const __m256i *)(const void *)(p - 3));
	__m256i sc = _mm256_and_si256(_mm256_and_si256(
	    _mm256_shuffle_epi8(t1h, _mm256_and_si256(_mm256_srli_epi16(p1, 4), f)),
	    _mm256_shuffle_epi8(t1l, _mm256_and_si256(p1, f))),
	    _mm256_shuffle_epi8(t2h, _mm256_and_si256(_mm256_srli_epi16(v, 4), f)));
	__m256i m23 = _mm256_and_si256(_mm256_or_si256(
	    _mm256_subs_epu8(p2, _mm256_set1_epi8(0x60)),
	    _mm256_subs_epu8(p3, _mm256_set1_epi8(0x70))),
	    _mm256_set1_epi8((char)0x80));

	return _mm256_xor_si256(sc, m23);
}

__attribute__((target("avx2"))) static inline int
utf8_avx2(const unsigned char *buf, size_t n, size_t base, uint64_t high,
    struct jscan_run *t)
{
	unsigned char		 tmp[3 + 64];
	const unsigned char	*p = utf8_window(buf, n, base, tmp);
	__m256i			 e = _mm256_or_si256(utf8_err_avx2(p),
				    utf8_err_avx2(p + 32));

	(void)high;
	if (!_mm256_testz_si256(e, e))
		return -1;
	t->u8pend = utf8_runs_on(p);
	return 0;
}

#define JSCAN_FAST	fast_avx2
#define JSCAN_LINES	lines_avx2
#define JSCAN_RUN	run_avx2
#define JSCAN_WALK	walk_avx2
#define JSCAN_STAGE1	stage1_avx2
#define JSCAN_PARTIAL	partial_avx2
#define JSCAN_BORING	boring_avx2
#define JSCAN_ATTR	__attribute__((target("avx2,pclmul")))
#define JSCAN_CLASSIFY	classify_avx2
#define JSCAN_PXOR	pxor_clmul
#define JSCAN_UTF8	utf8_avx2
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

__attribute__((target("avx512f,avx512bw"), always_inline)) static inline void
classify_v512(__m512i v, struct blk *b)
{
	const __m512i lo = _mm512_broadcast_i32x4(_mm_setr_epi8(NIB_LO));
	const __m512i hi = _mm512_broadcast_i32x4(_mm_setr_epi8(NIB_HI));
	const __m512i f = _mm512_set1_epi8(0x0f);
	__m512i c = _mm512_and_si512(
	    _mm512_shuffle_epi8(lo, _mm512_and_si512(v, f)),
	    _mm512_shuffle_epi8(hi, _mm512_and_si512(_mm512_srli_epi16(v, 4), f)));

	b->high = _mm512_movepi8_mask(v);
	b->quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
	b->bs = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
	b->ws = _mm512_test_epi8_mask(c, _mm512_set1_epi8(NIB_WS));
	b->op = _mm512_test_epi8_mask(c, _mm512_set1_epi8(NIB_OP));
	b->ctrl = _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20));
	b->nl = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
}

__attribute__((target("avx512f,avx512bw"), always_inline)) static inline void
classify_avx512(const unsigned char *p, struct blk *b)
{
	classify_v512(_mm512_loadu_si512((const void *)p), b);
}

/* A masked load reads nothing past the line's end. */
__attribute__((target("avx512f,avx512bw"))) static inline void
partial_avx512(const unsigned char *buf, size_t n, size_t off,
    struct blk *b)
{
	uint64_t valid = ((uint64_t)1 << (n - off)) - 1;

	classify_v512(_mm512_maskz_loadu_epi8(valid, buf + off), b);
	b->ws |= ~valid;
	b->ctrl &= valid;
}

__attribute__((target("avx512f,avx512bw"))) static inline int
boring_avx512(const unsigned char *p)
{
	__m512i v = _mm512_loadu_si512((const void *)p);

	/* Signed: bytes >= 0x80 are below 0x20 too. */
	return (_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')) |
	    _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) |
	    _mm512_cmplt_epi8_mask(v, _mm512_set1_epi8(0x20))) == 0;
}

__attribute__((target("avx512f,avx512bw"))) static inline int
utf8_avx512(const unsigned char *buf, size_t n, size_t base, uint64_t high,
    struct jscan_run *t)
{
	unsigned char		 tmp[3 + 64];
	const unsigned char	*p = utf8_window(buf, n, base, tmp);
	const __m512i t1h = _mm512_broadcast_i32x4(_mm_loadu_si128(
	    (const __m128i *)(const void *)u8_b1_high));
	const __m512i t1l = _mm512_broadcast_i32x4(_mm_loadu_si128(
	    (const __m128i *)(const void *)u8_b1_low));
	const __m512i t2h = _mm512_broadcast_i32x4(_mm_loadu_si128(
	    (const __m128i *)(const void *)u8_b2_high));
	const __m512i f = _mm512_set1_epi8(0x0f);
	__m512i v = _mm512_loadu_si512((const void *)p);
	__m512i p1 = _mm512_loadu_si512((const void *)(p - 1));
	__m512i p2 = _mm512_loadu_si512((const void *)(p - 2));
	__m512i p3 = _mm512_loadu_si512((const void *)(p - 3));
	__m512i sc = _mm512_and_si512(_mm512_and_si512(
	    _mm512_shuffle_epi8(t1h, _mm512_and_si512(_mm512_srli_epi16(p1, 4), f)),
	    _mm512_shuffle_epi8(t1l, _mm512_and_si512(p1, f))),
	    _mm512_shuffle_epi8(t2h, _mm512_and_si512(_mm512_srli_epi16(v, 4), f)));
	__m512i m23 = _mm512_and_si512(_mm512_or_si512(
	    _mm512_subs_epu8(p2, _mm512_set1_epi8(0x60)),
	    _mm512_subs_epu8(p3, _mm512_set1_epi8(0x70))),
	    _mm512_set1_epi8((char)0x80));

	(void)high;
	if (_mm512_test_epi8_mask(_mm512_xor_si512(sc, m23),
	    _mm512_set1_epi8((char)0xff)) != 0)
		return -1;
	t->u8pend = utf8_runs_on(p);
	return 0;
}

#define JSCAN_FAST	fast_avx512
#define JSCAN_LINES	lines_avx512
#define JSCAN_RUN	run_avx512
#define JSCAN_WALK	walk_avx512
#define JSCAN_STAGE1	stage1_avx512
#define JSCAN_PARTIAL	partial_avx512
#define JSCAN_BORING	boring_avx512
#define JSCAN_ATTR	__attribute__((target("avx2,avx512f,avx512bw,pclmul")))
#define JSCAN_CLASSIFY	classify_avx512
#define JSCAN_PXOR	pxor_clmul
#define JSCAN_UTF8	utf8_avx512
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

const struct jscan_kernel jscan_kernel_avx2 = {
	"avx2", feed_avx2, fast_avx2, lines_avx2, run_avx2
};

const struct jscan_kernel jscan_kernel_avx512 = {
	"avx512", feed_avx2, fast_avx512, lines_avx512, run_avx512
};
#endif
