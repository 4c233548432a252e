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
 *
 * This file holds the interface: the choice of kernel (one per instruction
 * set, in jscan_scalar.c, jscan_sse.c and jscan_avx.c, picked at run time)
 * and the calls that feed it a line, a piece of one or a run of lines.
 * jscan_str.c decodes the strings of a valid line.
 */
#include "compat.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"
#include "jscan_priv.h"

uint32_t jscan_lit_word[3];

const char jscan_err_bom[] = "byte order mark";
const char jscan_err_value[] = "expected a value";
const char jscan_err_lit[] = "invalid literal";
const char jscan_err_key[] = "expected a string key";
const char jscan_err_colon[] = "expected ':'";
const char jscan_err_obj_after[] = "expected ',' or '}'";
const char jscan_err_arr_after[] = "expected ',' or ']'";
const char jscan_err_trail[] = "more than one value";
const char jscan_err_ctrl[] = "control character in string";
const char jscan_err_utf8[] = "invalid UTF-8";
const char jscan_err_esc[] = "invalid escape";
const char jscan_err_hex[] = "invalid \\u escape";
const char jscan_err_num[] = "invalid number";
const char jscan_err_zero[] = "leading zero in number";
const char jscan_err_deep[] = "nesting too deep";
const char jscan_err_eol[] = "unexpected end of line";
const char jscan_err_unterm[] = "unterminated string";

/* In order of preference: "auto" takes the first this CPU has. */
static const struct jscan_kernel *const impls[] = {
#ifdef JSCAN_X86
	&jscan_kernel_avx512,
	&jscan_kernel_avx2,
	&jscan_kernel_sse42,
	&jscan_kernel_sse2,
#endif
	&jscan_kernel_scalar
};

static const struct jscan_kernel *impl_cur;

static int
impl_supported(const struct jscan_kernel *im)
{
#ifdef JSCAN_X86
	if (im == &jscan_kernel_avx512)
		return __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("pclmul");
	if (im == &jscan_kernel_avx2)
		return __builtin_cpu_supports("avx2") &&
		    __builtin_cpu_supports("pclmul");
	if (im == &jscan_kernel_sse42)
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
		if (!impl_supported(impls[i]))
			continue;
		if (strcmp(name, "auto") == 0 ||
		    strcmp(name, impls[i]->name) == 0) {
			impl_cur = impls[i];
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
		memcpy(&jscan_lit_word[i], lit_str[i] + (i == 1), 4);
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
		s->err = jscan_err_unterm;
		goto bad;
	}
	s->err = jscan_err_eol;
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
	else if (c < 0 || s->err == jscan_err_bom || s->err == jscan_err_deep)
		n = snprintf(buf, len, "%s", s->err);
	else if (s->err == jscan_err_esc && c > 0x20 && c < 0x7f)
		n = snprintf(buf, len, "%s '\\%c'", s->err, c);
	else if (c == '\'')
		n = snprintf(buf, len, "%s, found \"'\"", s->err);
	else if (c > 0x20 && c < 0x7f)
		n = snprintf(buf, len, "%s, found '%c'", s->err, c);
	else
		n = snprintf(buf, len, "%s, found byte 0x%02x", s->err, c);
	return n < 0 ? 0 : (size_t)n;
}
