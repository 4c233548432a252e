/* SPDX-License-Identifier: ISC */
/*
 * Private to the scanner's files (lib/jscan*.c): the states of the
 * streamed scanner, the reasons for a bad line, the literals, two decoders
 * that more than one file needs, and the kernels that jscan.c picks from
 * at run time, one per instruction set.
 */
#ifndef JSCAN_PRIV_H
#define JSCAN_PRIV_H

#include <stdint.h>

#include "jscan.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define JSCAN_X86 1
#endif

enum {
	ST_TOPSTART, ST_VALUE, ST_OBJ_FIRST, ST_OBJ_KEY, ST_COLON,
	ST_ARR_FIRST, ST_OBJ_AFTER, ST_ARR_AFTER, ST_TRAIL, ST_STR, ST_MKEY,
	ST_ESC, ST_HEX, ST_UTF8, ST_NUM_MINUS, ST_NUM_ZERO, ST_NUM_INT,
	ST_NUM_DOT, ST_NUM_FRAC, ST_NUM_E, ST_NUM_ESIGN, ST_NUM_EXP, ST_LIT,
	ST_FAILED
};

/*
 * The data shared between the scanner's files is hidden: defined in this
 * program, not in a shared library, so that clang with -fPIE loads it
 * directly as it did a static, not through the GOT.
 */
#pragma GCC visibility push(hidden)

/* Literals: s->aux holds id << 3 | bytes matched so far. */
#define LIT_TRUE	(0 << 3)
#define LIT_FALSE	(1 << 3)
#define LIT_NULL	(2 << 3)
static const char *const lit_str[] = { "true", "false", "null" };
static const size_t lit_len[] = { 4, 5, 4 };
/*
 * The four bytes after an f, or the whole of true and null, as loaded
 * (set by jscan_init, in jscan.c).
 */
extern uint32_t jscan_lit_word[3];

/*
 * The reasons for a bad line (s->err), defined once in jscan.c: a kernel
 * sets them and jscan_strerror() tells some apart by their address.
 */
extern const char jscan_err_bom[], jscan_err_value[], jscan_err_lit[],
    jscan_err_key[], jscan_err_colon[], jscan_err_obj_after[],
    jscan_err_arr_after[], jscan_err_trail[], jscan_err_ctrl[],
    jscan_err_utf8[], jscan_err_esc[], jscan_err_hex[], jscan_err_num[],
    jscan_err_zero[], jscan_err_deep[], jscan_err_eol[], jscan_err_unterm[];

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

/*
 * A kernel: one instruction set's copy of the streamed scanner
 * (jscan_core.h) and of the block scanner (jscan_fast.h). The kernels give
 * the same verdicts; only their speed differs.
 */
struct jscan_kernel {
	const char	*name;
	int		(*feed)(struct jscan *, const char *, size_t);
	int		(*fast)(struct jscan *, const unsigned char *, size_t);
	int		(*lines)(struct jscan *, struct jscan_run *, size_t *);
	int		(*run)(struct jscan *, struct jscan_run *, size_t,
			    size_t, uint64_t *, size_t *);
};

/* jscan_scalar.c */
extern const struct jscan_kernel jscan_kernel_scalar;
#ifdef JSCAN_X86
/* jscan_sse.c */
extern const struct jscan_kernel jscan_kernel_sse2, jscan_kernel_sse42;
/* jscan_avx.c */
extern const struct jscan_kernel jscan_kernel_avx2, jscan_kernel_avx512;
#endif

#pragma GCC visibility pop

#endif
