/* SPDX-License-Identifier: ISC */
/*
 * The JSON strings of a line the scanner found valid: decoded to UTF-8
 * (as a wanted key is matched), tested for Node's internal messages, and
 * made safe for a one-line report.
 */
#include "compat.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"
#include "jscan_priv.h"

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
