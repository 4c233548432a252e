/* SPDX-License-Identifier: ISC */
/*
 * Private to the V8 serializer codec (v8ser_decode.c, v8ser_encode.c):
 * the format's version and tags, and the UTF-8 reader both directions
 * use.
 */
#ifndef V8SER_PRIV_H
#define V8SER_PRIV_H

#include <stdint.h>

#define V8_VERSION	15

int	v8ser_unit(const unsigned char **, const unsigned char *, uint16_t[2]);
const char *v8ser_tag_name(int);	/* v8ser_names.c */

/* Tags of the format (v8/src/objects/value-serializer.cc). */
enum {
	T_PADDING = 0x00, T_VERSION = 0xff, T_UNDEFINED = '_', T_NULL = '0',
	T_TRUE = 'T', T_FALSE = 'F', T_INT32 = 'I', T_UINT32 = 'U',
	T_DOUBLE = 'N', T_ONEBYTE = '"', T_TWOBYTE = 'c', T_UTF8 = 'S',
	T_OBJECT = 'o', T_END_OBJECT = '{', T_DENSE = 'A', T_END_DENSE = '$',
	T_SPARSE = 'a', T_END_SPARSE = '@', T_HOLE = '-', T_REF = '^'
};

/*
 * A UTF-8 code point at *pp, before e: -1 when invalid (Table 3-7). A copy
 * in each file that uses it (v8tag_encode.c does not), kept out of line
 * as the one copy both directions called was: with one caller per file
 * the compiler would inline it.
 */
static __attribute__((noinline, unused)) long
v8ser_utf8(const uint8_t **pp, const uint8_t *e)
{
	const uint8_t	*p = *pp;
	uint32_t	 cp, lo = 0x80, hi = 0xbf;
	int		 need, i;

	if (*p < 0x80) {
		*pp = p + 1;
		return *p;
	}
	if (*p >= 0xc2 && *p <= 0xdf) {
		need = 1;
		cp = *p & 0x1f;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		need = 2;
		cp = *p & 0x0f;
		if (*p == 0xe0)
			lo = 0xa0;
		else if (*p == 0xed)
			hi = 0x9f;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		need = 3;
		cp = *p & 0x07;
		if (*p == 0xf0)
			lo = 0x90;
		else if (*p == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	p++;
	for (i = 0; i < need; i++, p++) {
		if (p >= e || *p < lo || *p > hi)
			return -1;
		cp = cp << 6 | (*p & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*pp = p;
	return cp;
}

#endif
