/* SPDX-License-Identifier: ISC */
/*
 * Bytes of a refused line made safe to show: as a JSON string, or as one
 * line for a terminal with the column of a fault in display columns, cut
 * around it when the line is long. Neither trusts the bytes to be UTF-8.
 */
#include "compat.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "excerpt.h"

#define EXCERPT_UNITS	4096	/* most characters looked at for a line */
#define EXCERPT_CUT	"..."

/*
 * The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF), with its code point in
 * *cp; 0 when the bytes at p are not one.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		need, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		*cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		*cp = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		*cp = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	return need;
}

/*
 * Write P (N bytes, at most MAX of them) to OUT as a JSON string, quotes
 * included, always NUL-terminated. Valid UTF-8 is kept, control bytes are
 * escaped and each byte of invalid UTF-8 becomes U+FFFD, so the result is
 * valid JSON whatever the input. A character that MAX or OUTLEN would cut
 * is left out whole. Returns the input bytes taken.
 */
size_t
excerpt_json(const char *p, size_t n, size_t max, char *out, size_t outlen)
{
	const unsigned char	*s = (const unsigned char *)p;
	char			 esc[8];
	const char		*put;
	size_t			 i = 0, k, o = 0, plen;
	uint32_t		 cp;

	if (outlen < 3) {
		if (outlen > 0)
			*out = '\0';
		return 0;
	}
	out[o++] = '"';
	while (i < n && i < max) {
		k = utf8_seq(s + i, n - i, &cp);
		put = (const char *)s + i;
		plen = k;
		if (k == 0) {
			put = "\\ufffd";
			plen = 6;
			k = 1;
		} else if (i + k > max) {
			break;
		} else if (cp == '"' || cp == '\\') {
			snprintf(esc, sizeof esc, "\\%c", (int)cp);
			put = esc;
			plen = 2;
		} else if (cp < 0x20 || cp == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
			put = esc;
			plen = 6;
		}
		if (o + plen + 2 > outlen)
			break;
		memcpy(out + o, put, plen);
		o += plen;
		i += k;
	}
	out[o++] = '"';
	out[o] = '\0';
	return i;
}

/*
 * One character of a line as a terminal should see it, in TXT (at least
 * 12 bytes): printable ASCII and printable UTF-8 as they are, anything
 * else (control bytes, invalid UTF-8, what the locale cannot show) as
 * <1b> or <U+0085>, so no byte can move the cursor or recolour the
 * screen. Sets *w to its display columns; returns the bytes it took.
 */
static size_t
excerpt_char(const unsigned char *s, size_t n, char *txt, size_t *w)
{
	uint32_t	cp;
	size_t		k;
	int		cw;

	if (s[0] >= 0x20 && s[0] < 0x7f) {
		txt[0] = (char)s[0];
		txt[1] = '\0';
		*w = 1;
		return 1;
	}
	if (s[0] < 0x80 || (k = utf8_seq(s, n, &cp)) == 0) {
		snprintf(txt, 12, "<%02x>", s[0]);
		*w = 4;
		return 1;
	}
	/* wcwidth takes a code point: glibc's wchar_t is UCS-4. */
	if ((cw = wcwidth((wchar_t)cp)) < 0) {
		*w = (size_t)snprintf(txt, 12, "<U+%04X>", (unsigned)cp);
		return k;
	}
	memcpy(txt, s, k);
	txt[k] = '\0';
	*w = (size_t)cw;
	return k;
}

struct excerpt_unit {
	uint16_t	off;	/* from the window's start */
	uint8_t		len;	/* bytes */
	uint8_t		w;	/* display columns */
};

/*
 * Render line P (N bytes buffered, its '\n' left out; MORE: it goes on
 * past them) in at most WIDTH display columns (20 to 256) around byte OFF,
 * cuts marked with "...". Writes the text to OUT (OUTLEN at least 16 times
 * WIDTH) and returns the display column, 0-based, under which OFF is shown:
 * one past the end when OFF is the end of the line.
 */
size_t
excerpt_line(const char *p, size_t n, int more, size_t off, size_t width,
    char *out, size_t outlen)
{
	const unsigned char	*s = (const unsigned char *)p, *base;
	struct excerpt_unit	 u[EXCERPT_UNITS];
	char			 txt[12];
	size_t			 a, b, i, k, w, nu = 0, c, st, e, acc, col;
	size_t			 left, cutw = strlen(EXCERPT_CUT), o = 0;
	int			 lcut, rcut;

	if (width < 20)
		width = 20;
	if (width > 256)
		width = 256;
	/* A window of bytes that holds whatever can be shown. */
	if (off > n)
		off = n;
	a = off > 4 * width ? off - 4 * width : 0;
	b = n - off > 4 * width ? off + 4 * width : n;
	/* Start on a character, not inside one. */
	for (k = 0; a > 0 && k < 3 && a < b && (s[a] & 0xc0) == 0x80; k++)
		a++;
	base = s + a;
	for (i = a; i < b && nu < EXCERPT_UNITS; nu++) {
		k = excerpt_char(s + i, b - i, txt, &w);
		u[nu].off = (uint16_t)(i - a);
		u[nu].len = (uint8_t)k;
		u[nu].w = (uint8_t)w;
		i += k;
	}
	if (i < b)
		b = i;
	/* The character holding OFF, or nu when OFF is the end. */
	for (c = 0; c < nu && a + u[c].off + u[c].len <= off; c++)
		;
	/*
	 * Everything before the caret if it fits with room for the caret
	 * and a cut at the end; otherwise a third of the width before it.
	 */
	for (acc = 0, k = 0; k < c; k++)
		acc += u[k].w;
	lcut = a > 0 || acc + 1 + cutw > width;
	st = c;
	if (lcut) {
		left = width / 3 - cutw;
		for (acc = 0; st > 0 && acc + u[st - 1].w <= left; st--)
			acc += u[st - 1].w;
	} else
		st = 0;
	/* Then as much after it as fits. */
	col = (lcut ? cutw : 0) + acc;
	for (acc = col, k = c; k < nu; k++)
		acc += u[k].w;
	rcut = more || b < n || acc + (c == nu) > width;
	for (acc = lcut ? cutw : 0, e = st; e < nu; e++) {
		if (acc + u[e].w + (rcut ? cutw : 0) > width && e > c)
			break;
		acc += u[e].w;
	}
	if (e < nu)
		rcut = 1;

	if (lcut)
		o += (size_t)snprintf(out + o, outlen - o, "%s", EXCERPT_CUT);
	for (k = st; k < e && o + 16 < outlen; k++) {
		excerpt_char(base + u[k].off, (size_t)(s + b - base) - u[k].off,
		    txt, &w);
		o += (size_t)snprintf(out + o, outlen - o, "%s", txt);
	}
	if (rcut && o + cutw < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "%s", EXCERPT_CUT);
	out[o < outlen ? o : outlen - 1] = '\0';
	return col;
}
