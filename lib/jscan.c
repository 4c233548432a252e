/* SPDX-License-Identifier: ISC */
/*
 * Validate-only JSON scanner. It accepts exactly what JSON.parse accepts,
 * plus the rule that raw bytes are valid UTF-8, builds no tree, allocates
 * nothing and can be fed a line in pieces. It also reports the byte spans
 * of wanted top-level members (such as "cmd") without a second parse.
 *
 * Two scanners, one verdict: jscan_feed() runs a byte-at-a-time state
 * machine (jscan_core.h) that takes a line in pieces; jscan_line() runs a
 * block scanner over a whole line (jscan_fast.h), and the state machine
 * again for any line the block scanner does not find good or blank, so
 * that the verdict and the error column are always the state machine's.
 */
#include "compat.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define JSCAN_X86 1
#endif

#include "ipcrun.h"

enum {
	ST_TOPSTART, ST_VALUE, ST_OBJ_FIRST, ST_OBJ_KEY, ST_COLON,
	ST_ARR_FIRST, ST_OBJ_AFTER, ST_ARR_AFTER, ST_TRAIL, ST_STR, ST_MKEY,
	ST_ESC, ST_HEX, ST_UTF8, ST_NUM_MINUS, ST_NUM_ZERO, ST_NUM_INT,
	ST_NUM_DOT, ST_NUM_FRAC, ST_NUM_E, ST_NUM_ESIGN, ST_NUM_EXP, ST_LIT,
	ST_FAILED
};

/* Literals: s->aux holds id << 3 | bytes matched so far. */
#define LIT_TRUE	(0 << 3)
#define LIT_FALSE	(1 << 3)
#define LIT_NULL	(2 << 3)
static const char *const lit_str[] = { "true", "false", "null" };
static const size_t lit_len[] = { 4, 5, 4 };
/* The four bytes after an f, or the whole of true and null, as loaded. */
static uint32_t lit_word[3];

/* JSON whitespace: space, tab, CR and (for callers that keep it) LF. */
static const unsigned char jscan_ws[256] = {
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1
};

static const char E_BOM[] = "byte order mark";
static const char E_VALUE[] = "expected a value";
static const char E_LIT[] = "invalid literal";
static const char E_KEY[] = "expected a string key";
static const char E_COLON[] = "expected ':'";
static const char E_OBJ_AFTER[] = "expected ',' or '}'";
static const char E_ARR_AFTER[] = "expected ',' or ']'";
static const char E_TRAIL[] = "more than one value";
static const char E_CTRL[] = "control character in string";
static const char E_UTF8[] = "invalid UTF-8";
static const char E_ESC[] = "invalid escape";
static const char E_HEX[] = "invalid \\u escape";
static const char E_NUM[] = "invalid number";
static const char E_ZERO[] = "leading zero in number";
static const char E_DEEP[] = "nesting too deep";
static const char E_EOL[] = "unexpected end of line";
static const char E_UNTERM[] = "unterminated string";

static inline int
hexval(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -1;
}

/*
 * Check one UTF-8 sequence at p (p[0] >= 0x80, four bytes readable).
 * Returns its length, or minus the offset of the first bad byte.
 */
static inline int
utf8_check(const unsigned char *p)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return -1;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return -i;
	}
	return n;
}

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

/* A \uXXXX escape in a key; surrogate pairs become one character. */
static void
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

#ifdef JSCAN_X86
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
#endif

#define JSCAN_FEED	feed_scalar
#define JSCAN_ATTR
#define JSCAN_SKIP	skip_scalar
#include "jscan_core.h"
#undef JSCAN_FEED
#undef JSCAN_ATTR
#undef JSCAN_SKIP

#ifdef JSCAN_X86
#define JSCAN_FEED	feed_sse2
#define JSCAN_ATTR
#define JSCAN_SKIP	skip_sse2
#include "jscan_core.h"
#undef JSCAN_FEED
#undef JSCAN_ATTR
#undef JSCAN_SKIP

#define JSCAN_FEED	feed_avx2
#define JSCAN_ATTR	__attribute__((target("avx2")))
#define JSCAN_SKIP	skip_avx2
#include "jscan_core.h"
#undef JSCAN_FEED
#undef JSCAN_ATTR
#undef JSCAN_SKIP
#endif

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
		if (w != lit_word[*p == 'n' ? 2 : 0])
			return 0;
		p += 4;
		break;
	case 'f':
		if (e - p < 5)
			return 0;
		memcpy(&w, p + 1, 4);
		if (w != lit_word[1])
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

#ifdef JSCAN_X86
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

__attribute__((target("pclmul"))) static inline uint64_t
pxor_clmul(uint64_t x)
{
	return (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(
	    _mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xff), 0));
}

__attribute__((target("avx2"))) static inline uint64_t
mask_avx2(__m256i lo, __m256i hi)
{
	return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
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
#endif

struct impl {
	const char	*name;
	int		(*feed)(struct jscan *, const char *, size_t);
	int		(*fast)(struct jscan *, const unsigned char *, size_t);
	int		(*lines)(struct jscan *, struct jscan_run *, size_t *);
	int		(*run)(struct jscan *, struct jscan_run *, size_t,
			    size_t, uint64_t *, size_t *);
};

/* In order of preference: "auto" takes the first this CPU has. */
static const struct impl impls[] = {
#ifdef JSCAN_X86
	{ "avx512", feed_avx2, fast_avx512, lines_avx512, run_avx512 },
	{ "avx2", feed_avx2, fast_avx2, lines_avx2, run_avx2 },
	{ "sse42", feed_sse2, fast_sse42, lines_sse42, run_sse42 },
	{ "sse2", feed_sse2, fast_sse2, lines_sse2, run_sse2 },
#endif
	{ "scalar", feed_scalar, fast_scalar, lines_scalar, run_scalar }
};

static const struct impl *impl_cur;

static int
impl_supported(const struct impl *im)
{
#ifdef JSCAN_X86
	if (im->fast == fast_avx512)
		return __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("pclmul");
	if (im->fast == fast_avx2)
		return __builtin_cpu_supports("avx2") &&
		    __builtin_cpu_supports("pclmul");
	if (im->fast == fast_sse42)
		return __builtin_cpu_supports("sse4.2") &&
		    __builtin_cpu_supports("pclmul");
#endif
	(void)im;
	return 1;
}

/*
 * Pick the scanner's instruction set: "auto", "avx512", "avx2", "sse42",
 * "sse2" or "scalar".
 */
int
jscan_set_impl(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof impls / sizeof impls[0]; i++) {
		if (!impl_supported(&impls[i]))
			continue;
		if (strcmp(name, "auto") == 0 || strcmp(name, impls[i].name) == 0) {
			impl_cur = &impls[i];
			return 0;
		}
	}
	errno = ENOTSUP;
	return -1;
}

const char *
jscan_impl(void)
{
	if (impl_cur == NULL)
		jscan_set_impl("auto");
	return impl_cur->name;
}

void
jscan_init(struct jscan *s)
{
	size_t	i;

	for (i = 0; i < 3; i++)
		memcpy(&lit_word[i], lit_str[i] + (i == 1), 4);
	memset(s, 0, sizeof *s);
	s->stack = s->inl;
	s->maxdepth = JSCAN_INLINE * 64;
	if (impl_cur == NULL)
		jscan_set_impl("auto");
	jscan_reset(s);
}

/* Ask for the span of a top-level member; returns its index or -1. */
int
jscan_want(struct jscan *s, const char *key, size_t len)
{
	if (s->nkeys == JSCAN_MAXKEYS) {
		errno = ENOSPC;
		return -1;
	}
	s->key[s->nkeys] = key;
	s->keylen[s->nkeys] = len;
	s->span[s->nkeys].len = 0;
	return (int)s->nkeys++;
}

/* Room for deeper nesting: nwords * 64 levels, owned by the caller. */
void
jscan_set_stack(struct jscan *s, uint64_t *words, size_t nwords)
{
	if (words == NULL || nwords <= JSCAN_INLINE) {
		s->stack = s->inl;
		s->maxdepth = JSCAN_INLINE * 64;
	} else {
		s->stack = words;
		s->maxdepth = nwords * 64;
	}
}

void
jscan_reset(struct jscan *s)
{
	unsigned	i;

	s->state = ST_TOPSTART;
	s->base = 0;
	s->depth = 0;
	s->curkey = -1;
	s->top = 0;
	s->err = NULL;
	s->err_off = 0;
	s->err_byte = -1;
	for (i = 0; i < s->nkeys; i++)
		s->span[i].len = 0;
}

int
jscan_feed(struct jscan *s, const char *p, size_t n)
{
	return impl_cur->feed(s, p, n);
}

/* The line is complete: give the verdict. */
int
jscan_finish(struct jscan *s)
{
	switch (s->state) {
	case ST_TOPSTART:
		return JSCAN_BLANK;
	case ST_TRAIL:
		return JSCAN_GOOD;
	case ST_NUM_ZERO:
	case ST_NUM_INT:
	case ST_NUM_FRAC:
	case ST_NUM_EXP:
		if (s->depth == 0)
			return JSCAN_GOOD;
		break;
	case ST_FAILED:
		return JSCAN_BAD;
	case ST_STR:
	case ST_MKEY:
	case ST_ESC:
	case ST_HEX:
	case ST_UTF8:
		s->err = E_UNTERM;
		goto bad;
	}
	s->err = E_EOL;
bad:
	s->err_off = s->base;
	s->err_byte = -1;
	s->state = ST_FAILED;
	return JSCAN_BAD;
}

/*
 * A whole line at once: the block scanner, and for a line it does not
 * find good or blank, the streamed scanner for the verdict and the column.
 */
/*
 * Lines shorter than this take the state machine in jscan_line: the block
 * scanner's set-up costs more than it saves there (100-byte lines: 2.9
 * against 4.3 GB/s; no difference on the mixed and dense files). The
 * fuzzer sets 0, to try the block scanner on every input.
 */
static size_t	jscan_fast_min = 128;

void
jscan_set_fast_min(size_t n)
{
	jscan_fast_min = n;
}

int
jscan_line(struct jscan *s, const char *p, size_t n)
{
	int	r;

	jscan_reset(s);
	/*
	 * A short line is over before the block scanner's set-up pays for
	 * itself: the state machine takes it (the same verdict either way).
	 */
	if (n < jscan_fast_min) {
		if (impl_cur->feed(s, p, n) == JSCAN_BAD)
			return JSCAN_BAD;
		return jscan_finish(s);
	}
	r = impl_cur->fast(s, (const unsigned char *)p, n);
	if (r != JSCAN_BAD) {
		s->state = r == JSCAN_GOOD ? ST_TRAIL : ST_TOPSTART;
		s->base = n;
		return r;
	}
	jscan_reset(s);
	if (impl_cur->feed(s, p, n) == JSCAN_BAD)
		return JSCAN_BAD;
	return jscan_finish(s);
}

/*
 * Go on with run where it stopped when off is where it said the next line
 * starts in the same buffer; else start it afresh at off.
 */
static void
jscan_run_begin(struct jscan *s, struct jscan_run *run,
    const unsigned char *b, size_t n, size_t off)
{
	jscan_reset(s);
	if (run->buf == b && run->n == n && run->at == off)
		return;
	memset(run, 0, sizeof *run);
	run->buf = b;
	run->n = n;
	run->at = off;
	run->next = off;
	run->base = off;
	run->nlev = ~(uint64_t)0;
}

/*
 * The next line of buf, whose n bytes end in a newline, starting at off:
 * GOOD or BLANK with its length (newline excluded) in *len, when the block
 * scanner is sure; JSCAN_BAD when it is not (the line may still be good:
 * jscan_line on the line gives the verdict). Stage 1 goes on from the line
 * before when run says it ended just here, else it starts afresh.
 */
int
jscan_lines(struct jscan *s, struct jscan_run *run, const char *buf,
    size_t n, size_t off, size_t *len)
{
	const unsigned char	*b = (const unsigned char *)buf;
	size_t			 end;
	int			 r;

	jscan_run_begin(s, run, b, n, off);
	r = impl_cur->lines(s, run, &end);
	if (r == JSCAN_BAD) {
		run->buf = NULL;
		return JSCAN_BAD;
	}
	*len = end - off;
	run->at = end + 1;
	s->state = r == JSCAN_GOOD ? ST_TRAIL : ST_TOPSTART;
	s->base = *len;
	return r;
}

/*
 * jscan_lines over a run: the good lines from off on that end before lim
 * and are at most maxline long are counted in *count without a call each,
 * and *good is where they end. The line after them is then given as
 * jscan_lines gives one (its verdict, its length in *len); JSCAN_END when
 * the buffer's lines ran out first.
 */
int
jscan_lines_run(struct jscan *s, struct jscan_run *run, const char *buf,
    size_t n, size_t off, size_t lim, size_t maxline, uint64_t *count,
    size_t *good, size_t *len)
{
	const unsigned char	*b = (const unsigned char *)buf;
	size_t			 end;
	int			 r;

	jscan_run_begin(s, run, b, n, off);
	r = impl_cur->run(s, run, lim, maxline, count, &end);
	*good = run->at;
	if (r == JSCAN_END)
		return JSCAN_END;
	if (r == JSCAN_BAD) {
		run->buf = NULL;
		return JSCAN_BAD;
	}
	*len = end - run->at;
	run->at = end + 1;
	s->state = r == JSCAN_GOOD ? ST_TRAIL : ST_TOPSTART;
	s->base = *len;
	return r;
}

/* The reason for a bad line, with the offending byte where it helps. */
size_t
jscan_strerror(const struct jscan *s, char *buf, size_t len)
{
	int	c = s->err_byte;
	int	n;

	if (s->err == NULL)
		n = snprintf(buf, len, "no error");
	else if (c < 0 || s->err == E_BOM || s->err == E_DEEP)
		n = snprintf(buf, len, "%s", s->err);
	else if (s->err == E_ESC && c > 0x20 && c < 0x7f)
		n = snprintf(buf, len, "%s '\\%c'", s->err, c);
	else if (c == '\'')
		n = snprintf(buf, len, "%s, found \"'\"", s->err);
	else if (c > 0x20 && c < 0x7f)
		n = snprintf(buf, len, "%s, found '%c'", s->err, c);
	else
		n = snprintf(buf, len, "%s, found byte 0x%02x", s->err, c);
	return n < 0 ? 0 : (size_t)n;
}

/*
 * Decode the next character of a valid JSON string body at *pp; returns
 * the code point (a lone surrogate as itself), or -1 at the closing quote.
 */
static long
str_next(const unsigned char **pp, const unsigned char *e)
{
	const unsigned char	*p = *pp;
	long			 cp;
	int			 i, n;

	if (p >= e || *p == '"')
		return -1;
	if (*p == '\\') {
		if (p + 1 >= e)
			return -1;
		switch (p[1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (e - p < 6)
				return -1;
			for (cp = 0, i = 2; i < 6; i++)
				cp = cp << 4 | hexval(p[i]);
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u') {
				long lo = 0;

				for (i = 2; i < 6; i++)
					lo = lo << 4 | hexval(p[i]);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					p += 6;
				}
			}
			*pp = p;
			return cp;
		default: cp = p[1]; break;
		}
		*pp = p + 2;
		return cp;
	}
	cp = *p;
	n = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
	if (n > 1)
		cp &= 0x3f >> (n - 1);
	for (i = 1; i < n && p + i < e; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	*pp = p + n;
	return cp;
}

/*
 * Decode the JSON string at p (a span the scanner found valid, quotes
 * included) into out as UTF-8 (lone surrogates as WTF-8). Returns the
 * full decoded length, which may exceed outsz, or -1 if not a string.
 */
ssize_t
jscan_unescape(const char *span, size_t n, char *out, size_t outsz)
{
	const unsigned char	*p = (const unsigned char *)span;
	const unsigned char	*e = p + n;
	size_t			 len = 0;
	long			 cp;

	if (n < 2 || *p != '"')
		return -1;
	p++;
	while ((cp = str_next(&p, e)) >= 0) {
		unsigned char	u[4];
		size_t		k, i;

		if (cp < 0x80) {
			u[0] = (unsigned char)cp;
			k = 1;
		} else if (cp < 0x800) {
			u[0] = (unsigned char)(0xc0 | cp >> 6);
			u[1] = (unsigned char)(0x80 | (cp & 0x3f));
			k = 2;
		} else if (cp < 0x10000) {
			u[0] = (unsigned char)(0xe0 | cp >> 12);
			u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			u[2] = (unsigned char)(0x80 | (cp & 0x3f));
			k = 3;
		} else {
			u[0] = (unsigned char)(0xf0 | cp >> 18);
			u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			u[3] = (unsigned char)(0x80 | (cp & 0x3f));
			k = 4;
		}
		for (i = 0; i < k; i++, len++) {
			if (len < outsz)
				out[len] = (char)u[i];
		}
	}
	return (ssize_t)len;
}

/*
 * Node treats an object whose "cmd" is a string longer than five
 * characters starting NODE_ as an internal message (NODE-IPC.md §4):
 * it consumes it, or crashes on it. Is this value span such a cmd?
 */
int
jscan_node_internal(const char *span, size_t n)
{
	const unsigned char	*p = (const unsigned char *)span;
	const unsigned char	*e = p + n;
	const char		*want = "NODE_";
	int			 i;

	if (n < 2 || *p != '"')
		return 0;
	p++;
	for (i = 0; i < 5; i++) {
		if (str_next(&p, e) != want[i])
			return 0;
	}
	return str_next(&p, e) >= 0;
}

/*
 * Is code point c one that must not reach a terminal as it is: C1
 * controls (NEL), line and paragraph separators, bidi and other format
 * controls that reorder or hide text, and lone surrogates (from escapes)?
 */
int
jscan_hostile(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xad || c == 0x61c ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || (c >= 0xd800 && c <= 0xdfff) ||
	    c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	    (c >= 0xe0000 && c <= 0xe007f);
}

/*
 * The decoded JSON string at span (quotes included), made safe for a
 * one-line report: controls, quotes and backslashes as \xNN, code points
 * that break or reorder a line as \uXXXX, invalid bytes as \xNN, cut
 * with "..." when long. Returns the length written to buf (NUL ended).
 */
size_t
jscan_printable(const char *span, size_t n, char *buf, size_t len)
{
	char		 raw[64];
	ssize_t		 got = jscan_unescape(span, n, raw, sizeof raw);
	const unsigned char *p = (const unsigned char *)raw, *e;
	size_t		 k = 0, i, need;
	uint32_t	 c;
	int		 cut = 0;

	if (len == 0)
		return 0;
	if (got < 0)
		got = 0;
	if ((size_t)got > sizeof raw) {
		got = (ssize_t)sizeof raw;
		cut = 1;
	}
	e = p + got;
	while (p < e) {
		need = *p < 0x80 ? 1 : *p >= 0xc2 && *p < 0xe0 ? 2 :
		    *p >= 0xe0 && *p < 0xf0 ? 3 : *p >= 0xf0 && *p < 0xf5 ?
		    4 : 0;
		if (need > 1 && (size_t)(e - p) < need) {
			cut = 1;	/* a character cut off by raw's size */
			break;
		}
		c = need == 1 ? *p : need == 2 ? *p & 0x1f : need == 3 ?
		    *p & 0x0f : *p & 0x07;
		for (i = 1; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			c = c << 6 | (p[i] & 0x3f);
		}
		if (i < need || need == 0 || (need == 3 && c < 0x800) ||
		    (need == 4 && (c < 0x10000 || c > 0x10ffff)))
			need = 0;
		if (k + 12 >= len) {
			cut = 1;
			break;
		}
		if (need == 0 || (need == 1 && (c < 0x20 || c == 0x7f ||
		    c == '"' || c == '\\'))) {
			k += (size_t)snprintf(buf + k, len - k, "\\x%02x", *p);
			p++;
			continue;
		}
		if (jscan_hostile(c))
			k += (size_t)snprintf(buf + k, len - k, c > 0xffff ?
			    "\\U%08X" : "\\u%04X", (unsigned)c);
		else {
			memcpy(buf + k, p, need);
			k += need;
		}
		p += need;
	}
	if (cut && k + 4 < len)
		k += (size_t)snprintf(buf + k, len - k, "...");
	buf[k] = '\0';
	return k;
}

/*
 * The length of the valid UTF-8 character at p, 1 for ASCII, or 0 when
 * p does not start one (surrogates and overlong forms included). p is
 * NUL-terminated, or has four bytes readable: reading stops at the first
 * byte that fails.
 */
int
jscan_utf8_len(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;
	int			 n;

	if (*u < 0x80)
		return 1;
	n = utf8_check(u);
	return n > 0 ? n : 0;
}
