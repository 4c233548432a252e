/* SPDX-License-Identifier: ISC */
/*
 * The pieces that every kernel file (jscan_scalar.c, jscan_sse.c,
 * jscan_avx.c) builds its scanners on: key matching and the string fast
 * paths for the streamed scanner (jscan_core.h), the byte classes, the
 * number and literal check and the portable UTF-8 check for the block
 * scanner (jscan_fast.h), and the x86 pieces that more than one
 * instruction set shares. They are static in each file that includes
 * them, so that each kernel inlines them as it did when all were one file.
 */
#ifndef JSCAN_KERN_H
#define JSCAN_KERN_H

#include <string.h>

#include "jscan.h"
#include "jscan_priv.h"

/* JSON whitespace: space, tab, CR and (for callers that keep it) LF. */
static const unsigned char jscan_ws[256] = {
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1
};

/* Key matching: each decoded byte narrows the set of candidate keys. */
static inline void
key_byte(struct jscan *s, unsigned c)
{
	uint32_t	m = s->kmask;

	while (m != 0) {
		unsigned j = (unsigned)__builtin_ctz(m);

		m &= m - 1;
		if (s->kpos >= s->keylen[j] ||
		    (unsigned char)s->key[j][s->kpos] != c)
			s->kmask &= ~((uint32_t)1 << j);
	}
	s->kpos++;
}

static void
key_utf8(struct jscan *s, uint32_t cp)
{
	if (cp < 0x80)
		key_byte(s, cp);
	else if (cp < 0x800) {
		key_byte(s, 0xc0 | cp >> 6);
		key_byte(s, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		key_byte(s, 0xe0 | cp >> 12);
		key_byte(s, 0x80 | ((cp >> 6) & 0x3f));
		key_byte(s, 0x80 | (cp & 0x3f));
	} else {
		key_byte(s, 0xf0 | cp >> 18);
		key_byte(s, 0x80 | ((cp >> 12) & 0x3f));
		key_byte(s, 0x80 | ((cp >> 6) & 0x3f));
		key_byte(s, 0x80 | (cp & 0x3f));
	}
}

/* A high surrogate escape not followed by a low one stands alone. */
static inline void
key_flush_hi(struct jscan *s)
{
	if (s->uhi != 0) {
		key_utf8(s, s->uhi);
		s->uhi = 0;
	}
}

/*
 * A \uXXXX escape in a key; surrogate pairs become one character. Out of
 * line, as it was when the three streamed scanners shared one copy: with
 * one caller per file the compiler would inline this rare path into the
 * state machine.
 */
static __attribute__((noinline)) void
key_codepoint(struct jscan *s, uint32_t cp)
{
	if (cp >= 0xdc00 && cp <= 0xdfff && s->uhi != 0) {
		key_utf8(s, 0x10000 + ((s->uhi - 0xd800) << 10) + (cp - 0xdc00));
		s->uhi = 0;
		return;
	}
	key_flush_hi(s);
	if (cp >= 0xd800 && cp <= 0xdbff)
		s->uhi = cp;
	else
		key_utf8(s, cp);
}

static inline void
key_done(struct jscan *s)
{
	uint32_t	m = s->kmask;

	s->curkey = -1;
	while (m != 0) {
		unsigned j = (unsigned)__builtin_ctz(m);

		m &= m - 1;
		if (s->keylen[j] == s->kpos) {
			s->curkey = (int)j;
			return;
		}
	}
}

/*
 * String fast paths: return the first byte in [p, e) that a string cannot
 * simply skip: '"', '\\', a control character or a byte >= 0x80.
 */
static inline const unsigned char *
skip_scalar(const unsigned char *p, const unsigned char *e,
    const unsigned char *start)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;

	/*
	 * Eight bytes at a time. The lowest flagged byte of each test is
	 * exact (borrows only spill upwards), so ctz finds the first one.
	 */
	while (e - p >= 8) {
		uint64_t x, q, b, m;

		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		m = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
		    ((b - ones) & ~b) | x;
		m &= high;
		if (m != 0)
			return p + (__builtin_ctzll(m) >> 3);
		p += 8;
	}
#endif
	(void)start;
	while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/*
 * The whole-line scanner (jscan_fast.h): stage 1 over 64-byte blocks,
 * stage 2 over the events only.
 */

/* One 64-byte block: bit i describes byte i. */
struct blk {
	uint64_t	quote, bs, ws, op, ctrl, high, nl;
};

#define EVEN_BITS	0x5555555555555555ULL
#define ODD_BITS	0xaaaaaaaaaaaaaaaaULL

/* Byte classes for the scalar classifier and the token checks. */
#define C_QUOTE	0x01
#define C_BS	0x02
#define C_WS	0x04
#define C_OP	0x08
#define C_CTRL	0x10
#define C_HIGH	0x20
#define C_NL	0x40
static const unsigned char jscan_cls[256] = {
	[0x00 ... 0x08] = C_CTRL, [0x0b ... 0x0c] = C_CTRL,
	[0x0e ... 0x1f] = C_CTRL,
	['\t'] = C_CTRL | C_WS, ['\n'] = C_CTRL | C_WS | C_NL,
	['\r'] = C_CTRL | C_WS,
	[' '] = C_WS, ['"'] = C_QUOTE, ['\\'] = C_BS,
	['{'] = C_OP, ['}'] = C_OP, ['['] = C_OP, [']'] = C_OP,
	[':'] = C_OP, [','] = C_OP,
	[0x80 ... 0xff] = C_HIGH
};

/* What may follow a number or a literal: the end, whitespace, ops, '"'. */
#define DELIM(c)	((jscan_cls[(unsigned char)(c)] & \
			    (C_WS | C_OP | C_QUOTE)) != 0)

/* The letters that may follow a backslash; 2 for u (four hex digits). */
static const unsigned char jscan_escok[256] = {
	['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1,
	['r'] = 1, ['t'] = 1, ['u'] = 2
};

/* Escaped bytes of the block at base (bits of m): valid escape letters? */
static inline int
check_escapes(const unsigned char *buf, size_t n, size_t base, uint64_t m)
{
	while (m != 0) {
		size_t j = base + (size_t)__builtin_ctzll(m);

		m &= m - 1;
		if (j >= n)
			return -1;
		switch (jscan_escok[buf[j]]) {
		case 1:
			break;
		case 2:
			if (n - j < 5 || (hexval(buf[j + 1]) | hexval(buf[j + 2]) |
			    hexval(buf[j + 3]) | hexval(buf[j + 4])) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Past the decimal digits at p. */
static inline __attribute__((always_inline)) const unsigned char *
skip_digits(const unsigned char *p, const unsigned char *e)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t	f0 = 0xf0f0f0f0f0f0f0f0ULL, d = 0x3030303030303030ULL;

	/*
	 * A digit is 0x3N with N + 6 < 16. The lowest non-digit is exact
	 * (carries only spill upwards), so ctz finds it.
	 */
	while (e - p >= 8) {
		uint64_t x, m;

		memcpy(&x, p, 8);
		m = ((x & f0) ^ d) | (((x + 0x0606060606060606ULL) & f0) ^ d);
		if (m != 0)
			return p + (__builtin_ctzll(m) >> 3);
		p += 8;
	}
#endif
	while (p < e && (unsigned)(*p - '0') < 10)
		p++;
	return p;
}

/*
 * A number or a literal at buf[i]: the offset just past it, or 0 when it
 * is invalid or runs into a byte that cannot follow it.
 */
static inline __attribute__((always_inline)) size_t
scan_scalar(const unsigned char *buf, size_t n, size_t i)
{
	const unsigned char	*p = buf + i, *e = buf + n;
	uint32_t		 w;

	switch (*p) {
	case 't':
	case 'n':
		if (e - p < 4)
			return 0;
		memcpy(&w, p, 4);
		if (w != jscan_lit_word[*p == 'n' ? 2 : 0])
			return 0;
		p += 4;
		break;
	case 'f':
		if (e - p < 5)
			return 0;
		memcpy(&w, p + 1, 4);
		if (w != jscan_lit_word[1])
			return 0;
		p += 5;
		break;
	default:
		if (*p == '-' && ++p == e)
			return 0;
		if (*p == '0')
			p++;
		else if ((unsigned)(*p - '1') < 9)
			p = skip_digits(p + 1, e);
		else
			return 0;
		if (p < e && *p == '.') {
			if (++p == e || (unsigned)(*p - '0') >= 10)
				return 0;
			p = skip_digits(p + 1, e);
		}
		if (p < e && (*p | 0x20) == 'e') {
			if (++p < e && (*p == '+' || *p == '-'))
				p++;
			if (p == e || (unsigned)(*p - '0') >= 10)
				return 0;
			p = skip_digits(p + 1, e);
		}
		break;
	}
	if (p < e && !DELIM(*p))
		return 0;
	return (size_t)(p - buf);
}

/*
 * A top-level key (its bytes between the quotes) against the wanted ones:
 * the index, -1 for none, -2 when it is too long to decode here.
 */
static int
key_match(const struct jscan *s, const unsigned char *p, size_t len)
{
	char		 dec[256];
	const char	*k = (const char *)p;
	ssize_t		 d;
	unsigned	 j;

	if (memchr(p, '\\', len) != NULL) {
		d = jscan_unescape(k - 1, len + 2, dec, sizeof dec);
		if (d < 0 || (size_t)d > sizeof dec)
			return -2;
		k = dec;
		len = (size_t)d;
	}
	for (j = 0; j < s->nkeys; j++) {
		if (s->keylen[j] == len && memcmp(s->key[j], k, len) == 0)
			return (int)j;
	}
	return -1;
}

/* One UTF-8 sequence at p, avail bytes readable: its length, or 0. */
static inline int
utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char	q[4] = { 0, 0, 0, 0 };
	int		k;

	if (avail >= 4)
		return utf8_check(p) > 0 ? utf8_check(p) : 0;
	memcpy(q, p, avail);
	k = utf8_check(q);
	return k > 0 && (size_t)k <= avail ? k : 0;
}

/* The bytes >= 0x80 of a block (bits of high at base), one at a time. */
static inline int
utf8_scalar(const unsigned char *buf, size_t n, size_t base, uint64_t high,
    struct jscan_run *t)
{
	size_t	*done = &t->u8done;

	while (high != 0) {
		unsigned	b = (unsigned)__builtin_ctzll(high);
		size_t		j = base + b;
		int		k;

		high &= high - 1;
		if (j < *done)
			continue;
		if ((k = utf8_seq(buf + j, n - j)) == 0)
			return -1;
		*done = j + (size_t)k;
		/* Its continuation bytes are checked: skip their bits. */
		if (b + (unsigned)k >= 64)
			break;
		high &= ~(((uint64_t)1 << (b + (unsigned)k)) - 1);
	}
	return 0;
}

static inline uint64_t
pxor_portable(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

/*
 * The last n - off < 64 bytes of a line: classified as a block padded
 * with spaces, read from the line's last 64 bytes when it has them.
 */
#define PARTIAL(classify, buf, n, off, b) do {				\
	size_t		 rem_ = (n) - (off);				\
	uint64_t	 valid_ = ((uint64_t)1 << rem_) - 1;		\
									\
	if ((n) >= 64) {						\
		classify((buf) + (n) - 64, (b));			\
		(b)->quote >>= 64 - rem_;				\
		(b)->bs >>= 64 - rem_;					\
		(b)->ws >>= 64 - rem_;					\
		(b)->op >>= 64 - rem_;					\
		(b)->ctrl >>= 64 - rem_;				\
		(b)->high >>= 64 - rem_;				\
		(b)->nl >>= 64 - rem_;					\
	} else {							\
		unsigned char tail_[64];				\
									\
		memset(tail_, ' ', sizeof tail_);			\
		memcpy(tail_, (buf) + (off), rem_);			\
		classify(tail_, (b));					\
	}								\
	(b)->ws |= ~valid_;						\
} while (0)

#ifdef JSCAN_X86
/*
 * x86: the sse2 string skip (the avx2 one falls back to it), and what the
 * kernels with nibble lookups (sse42, avx2, avx512) share.
 */
static inline const unsigned char *
skip_sse2(const unsigned char *p, const unsigned char *e,
    const unsigned char *start)
{
	const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(0x20);

	while (e - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* Signed: bytes >= 0x80 are negative, so below 0x20 too. */
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q),
		    _mm_cmpeq_epi8(v, b)), _mm_cmplt_epi8(v, sp));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
	/*
	 * Fewer than 16 bytes left: load the last 16 of the piece instead
	 * (never past its end) and ignore what lies before p.
	 */
	if (p < e && e - start >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (e - 16));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q),
		    _mm_cmpeq_epi8(v, b)), _mm_cmplt_epi8(v, sp));
		unsigned mask = (unsigned)_mm_movemask_epi8(m) >>
		    (16 - (e - p));

		return mask != 0 ? p + __builtin_ctz(mask) : e;
	}
	return skip_scalar(p, e, start);
}

__attribute__((target("pclmul"))) static inline uint64_t
pxor_clmul(uint64_t x)
{
	return (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(
	    _mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xff), 0));
}

/*
 * Whitespace and structural characters by two nibble lookups: a byte is
 * in the class when the entries for its low and high nibble share a bit.
 * 0x01 ' ', 0x02 TAB LF CR, 0x04 ',', 0x08 ':', 0x10 [ ] { }.
 */
#define NIB_LO	0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x0a, 0x10, 0x04, 0x12, 0, 0
#define NIB_HI	0x02, 0, 0x05, 0x08, 0, 0x10, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0
#define NIB_WS	0x03
#define NIB_OP	0x1c

/*
 * UTF-8 by vector lookups (Keiser and Lemire, "Validating UTF-8 in less
 * than one instruction per byte", 2021): each byte is checked against the
 * one before it by three 16-entry tables (high and low nibble of the byte
 * before, high nibble of this one), whose entries share a bit only for an
 * invalid pair; 3- and 4-byte sequences add the bytes two and three back.
 * Exactly the well-formed sequences of Unicode's table 3-7 pass, as in
 * utf8_check(). The bytes before the line count as ASCII, and so do the
 * bytes after it: a sequence cut by the end fails.
 */
#define U8_TOO_SHORT	0x01
#define U8_TOO_LONG	0x02
#define U8_OVERLONG_3	0x04
#define U8_TOO_LARGE	0x08
#define U8_SURROGATE	0x10
#define U8_OVERLONG_2	0x20
#define U8_TOO_LARGE_1000 0x40
#define U8_OVERLONG_4	0x40
#define U8_TWO_CONTS	0x80
#define U8_CARRY	(U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS)
#define U8_B1_HIGH \
	U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, \
	U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, \
	U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, \
	U8_TOO_SHORT | U8_OVERLONG_2, \
	U8_TOO_SHORT, \
	U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE, \
	U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4
#define U8_B1_LOW \
	U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4, \
	U8_CARRY | U8_OVERLONG_2, \
	U8_CARRY, U8_CARRY, \
	U8_CARRY | U8_TOO_LARGE, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_SURROGATE, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, \
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000
#define U8_B2_HIGH \
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, \
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, \
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | \
	    U8_TOO_LARGE_1000 | U8_OVERLONG_4, \
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | \
	    U8_TOO_LARGE, \
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | \
	    U8_TOO_LARGE, \
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | \
	    U8_TOO_LARGE, \
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT

static const unsigned char u8_b1_high[16] = { U8_B1_HIGH };
static const unsigned char u8_b1_low[16] = { U8_B1_LOW };
static const unsigned char u8_b2_high[16] = { U8_B2_HIGH };

/*
 * The block at base with the three bytes before it, from the line when
 * they are all in it, else copied with zeros (ASCII) around.
 */
static inline const unsigned char *
utf8_window(const unsigned char *buf, size_t n, size_t base,
    unsigned char tmp[3 + 64])
{
	size_t	pre = base < 3 ? base : 3, len = n - base < 64 ? n - base : 64;

	if (pre == 3 && len == 64)
		return buf + base;
	memset(tmp, 0, 3 + 64);
	memcpy(tmp + 3 - pre, buf + base - pre, pre + len);
	return tmp + 3;
}

/* A sequence that the block's last bytes start runs into the next one. */
static inline int
utf8_runs_on(const unsigned char *p)
{
	return p[63] >= 0xc0 || p[62] >= 0xe0 || p[61] >= 0xf0;
}

#endif /* JSCAN_X86 */

#endif
