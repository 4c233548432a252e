/*
 * Validate-only JSON scanner. It accepts exactly what JSON.parse accepts,
 * plus the rule that raw bytes are valid UTF-8, builds no tree, allocates
 * nothing and can be fed a line in pieces. It also reports the byte spans
 * of wanted top-level members (such as "cmd") without a second parse.
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

struct impl {
	const char	*name;
	int		(*feed)(struct jscan *, const char *, size_t);
};

static const struct impl impls[] = {
#ifdef JSCAN_X86
	{ "avx2", feed_avx2 },
	{ "sse2", feed_sse2 },
#endif
	{ "scalar", feed_scalar }
};

static const struct impl *impl_cur;

static int
impl_supported(const struct impl *im)
{
#ifdef JSCAN_X86
	if (im->feed == feed_avx2)
		return __builtin_cpu_supports("avx2");
#endif
	(void)im;
	return 1;
}

/* Pick the scanner's instruction set: "auto", "avx2", "sse2", "scalar". */
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

int
jscan_line(struct jscan *s, const char *p, size_t n)
{
	jscan_reset(s);
	if (impl_cur->feed(s, p, n) == JSCAN_BAD)
		return JSCAN_BAD;
	return jscan_finish(s);
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
static int
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
