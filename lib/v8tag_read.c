/* SPDX-License-Identifier: ISC */
/*
 * The reading end of v8tag_decode.c: V8's varints, strings and doubles
 * read with their bounds checked, and the scalars JSON has no word for
 * (BigInt, Date, bytes, NaN and -0) written as their tagged text. Also
 * Node's table of ArrayBufferView kinds, both directions' index.
 */
#include "compat.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "v8ser.h"
#include "v8ser_priv.h"
#include "v8tag.h"
#include "v8tag_priv.h"

const char *const v8tag_views[V8TAG_NVIEWS] = {
	"int8array", "uint8array", "uint8clampedarray", "int16array",
	"uint16array", "int32array", "uint32array", "float32array",
	"float64array", "dataview", "buffer", "bigint64array",
	"biguint64array"
};
const unsigned char v8tag_view_size[V8TAG_NVIEWS] = {
	1, 1, 1, 2, 2, 4, 4, 4, 8, 1, 1, 8, 8
};

static const char E_TRUNC[] = "truncated";
static const char E_VARINT[] = "bad varint";
static const char E_BIG[] = "too large";
static const char E_UTF16[] = "odd length of a two-byte string";
static const char E_UTF8[] = "invalid UTF-8 in a string";
static const char E_TAG[] = "unknown tag";
static const char E_NOMEM[] = "out of memory";

int
tg_fail(struct tg_rd *r, const char *what, size_t off)
{
	if (r->e->what == NULL) {
		r->e->what = what;
		r->e->off = off;
	}
	return -1;
}

int
tg_put(struct tg_rd *r, const void *s, size_t n)
{
	if (r->out->len - r->base + n > r->max)
		return tg_fail(r, E_BIG, r->i);
	if (buf_append(r->out, s, n) == -1)
		return tg_fail(r, E_NOMEM, r->i);
	return 0;
}

int
tg_puts(struct tg_rd *r, const char *s)
{
	return tg_put(r, s, strlen(s));
}

int
tg_varint(struct tg_rd *r, uint64_t *v, int bits)
{
	unsigned	shift = 0;
	size_t		start = r->i;
	uint8_t		b;

	*v = 0;
	do {
		if (r->i >= r->n)
			return tg_fail(r, E_TRUNC, r->i);
		b = r->p[r->i++];
		if (shift < (unsigned)bits)
			*v |= (uint64_t)(b & 0x7f) << shift;
		else if (shift >= 70)
			return tg_fail(r, E_VARINT, start);
		shift += 7;
	} while (b & 0x80);
	if (bits < 64)
		*v &= (UINT64_C(1) << bits) - 1;
	return 0;
}

int
tg_peek(struct tg_rd *r)
{
	while (r->i < r->n && r->p[r->i] == T_PADDING)
		r->i++;
	return r->i < r->n ? r->p[r->i] : -1;
}

/* n raw bytes at the reader, checked against what is left. */
int
tg_bytes(struct tg_rd *r, uint64_t n, const uint8_t **p)
{
	if (n > r->n - r->i)
		return tg_fail(r, E_TRUNC, r->n);
	*p = r->p + r->i;
	r->i += (size_t)n;
	return 0;
}

/* One code point (or a lone surrogate) as JSON.stringify writes it. */
static int
tg_cp(struct tg_rd *r, uint32_t cp)
{
	static const char	esc[] = "\"\"\\\\\bb\ff\nn\rr\tt";
	char			u[8];
	size_t			k;

	for (k = 0; k < sizeof esc - 1; k += 2) {
		if ((uint32_t)(unsigned char)esc[k] == cp) {
			u[0] = '\\';
			u[1] = esc[k + 1];
			return tg_put(r, u, 2);
		}
	}
	if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) {
		snprintf(u, sizeof u, "\\u%04x", (unsigned)cp);
		return tg_put(r, u, 6);
	}
	if (cp < 0x80) {
		u[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	return tg_put(r, u, k);
}

/*
 * A string after its tag, quoted. With dollar, one more '$' in front of
 * a leading '$': a key of the message's own, escaped.
 */
int
tg_string(struct tg_rd *r, int tag, int dollar)
{
	const uint8_t	*p, *e;
	uint64_t	 len;
	size_t		 i;
	uint32_t	 u, u2;
	long		 cp;

	if (tg_varint(r, &len, 32) == -1 || tg_bytes(r, len, &p) == -1)
		return -1;
	e = p + len;
	if (tg_put(r, "\"", 1) == -1)
		return -1;
	if (tag == T_TWOBYTE) {
		if (len % 2 != 0)
			return tg_fail(r, E_UTF16, r->i);
		if (dollar && len >= 2 && p[0] == '$' && p[1] == 0 &&
		    tg_put(r, "$", 1) == -1)
			return -1;
		for (i = 0; i < len; i += 2) {
			u = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
			if (u >= 0xd800 && u <= 0xdbff && i + 3 < len) {
				u2 = (uint32_t)p[i + 2] |
				    (uint32_t)p[i + 3] << 8;
				if (u2 >= 0xdc00 && u2 <= 0xdfff) {
					u = 0x10000 + ((u - 0xd800) << 10) +
					    (u2 - 0xdc00);
					i += 2;
				}
			}
			if (tg_cp(r, u) == -1)
				return -1;
		}
		return tg_put(r, "\"", 1);
	}
	if (dollar && len > 0 && p[0] == '$' && tg_put(r, "$", 1) == -1)
		return -1;
	while (p < e) {
		if (tag == T_ONEBYTE)
			cp = *p++;
		else if ((cp = v8ser_utf8(&p, e)) < 0)
			return tg_fail(r, E_UTF8, (size_t)(p - r->p));
		if (tg_cp(r, (uint32_t)cp) == -1)
			return -1;
	}
	return tg_put(r, "\"", 1);
}

/* A string value, whatever its tag; refused when it is none. */
int
tg_string_value(struct tg_rd *r)
{
	int	tag = tg_peek(r);

	if (tag != T_ONEBYTE && tag != T_TWOBYTE && tag != T_UTF8)
		return tg_fail(r, E_TAG, r->i);
	r->i++;
	return tg_string(r, tag, 0);
}

int
tg_double(struct tg_rd *r, double *d)
{
	const uint8_t	*p;
	uint64_t	 u = 0;
	int		 i;

	if (tg_bytes(r, 8, &p) == -1)
		return -1;
	for (i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	memcpy(d, &u, sizeof *d);
	return 0;
}

/* A number: JSON's when it has one, else {"$number":"NaN"} and such. */
int
tg_number(struct tg_rd *r, double d)
{
	char	t[40];

	if (isnan(d))
		return tg_puts(r, "{\"$number\":\"NaN\"}");
	if (isinf(d))
		return tg_puts(r, d > 0 ? "{\"$number\":\"Infinity\"}" :
		    "{\"$number\":\"-Infinity\"}");
	if (d == 0 && signbit(d))
		return tg_puts(r, "{\"$number\":\"-0\"}");
	return tg_put(r, t, v8ser_number(d, t, sizeof t));
}

/*
 * A BigInt's bitfield and digits (little-endian bytes) as a quoted
 * decimal: the digits are divided by 10 in place, from the top.
 */
int
tg_bigint(struct tg_rd *r)
{
	const uint8_t	*p;
	uint8_t		*w;
	char		*dec;
	uint64_t	 bits;
	size_t		 len, n, k = 0, i;
	unsigned	 rem;
	int		 rc;

	if (tg_varint(r, &bits, 32) == -1 ||
	    tg_bytes(r, bits >> 1, &p) == -1)
		return -1;
	len = (size_t)(bits >> 1);
	if (len > 1024 * 1024)
		return tg_fail(r, E_BIG, r->i);
	if ((w = malloc(len + 1)) == NULL ||
	    (dec = malloc(len * 3 + 4)) == NULL) {
		free(w);
		return tg_fail(r, E_NOMEM, r->i);
	}
	memcpy(w, p, len);
	for (n = len; n > 0 && w[n - 1] == 0; n--)
		;
	while (n > 0) {
		rem = 0;
		for (i = n; i > 0; i--) {
			rem = rem << 8 | w[i - 1];
			w[i - 1] = (uint8_t)(rem / 10);
			rem %= 10;
		}
		dec[k++] = (char)('0' + rem);
		while (n > 0 && w[n - 1] == 0)
			n--;
	}
	if (k == 0)
		dec[k++] = '0';
	else if (bits & 1)
		dec[k++] = '-';
	for (i = 0; i < k / 2; i++) {
		char	c = dec[i];

		dec[i] = dec[k - 1 - i];
		dec[k - 1 - i] = c;
	}
	rc = tg_puts(r, "{\"$bigint\":\"") == -1 || tg_put(r, dec, k) == -1 ||
	    tg_puts(r, "\"}") == -1 ? -1 : 0;
	free(w);
	free(dec);
	return rc;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void
tg_civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* A Date as toISOString() writes it; null for an invalid one. */
int
tg_date(struct tg_rd *r, double t)
{
	char		 s[64];
	int64_t		 ms, days, y;
	int		 m, d, rest;

	if (isnan(t) || fabs(t) > 8.64e15)
		return tg_puts(r, "{\"$date\":null}");
	ms = (int64_t)trunc(t);
	days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	rest = (int)(ms - days * 86400000);
	tg_civil(days, &y, &m, &d);
	snprintf(s, sizeof s, y >= 0 && y <= 9999 ? "%04" PRId64 :
	    "%+07" PRId64, y);
	snprintf(s + strlen(s), sizeof s - strlen(s),
	    "-%02d-%02dT%02d:%02d:%02d.%03dZ", m, d, rest / 3600000,
	    rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
	return tg_puts(r, "{\"$date\":\"") == -1 || tg_puts(r, s) == -1 ||
	    tg_puts(r, "\"}") == -1 ? -1 : 0;
}

/* Raw bytes as base64, quoted. */
int
tg_base64(struct tg_rd *r, const uint8_t *p, size_t n)
{
	static const char	a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			t[4];
	uint32_t		v;
	size_t			i;

	if (n / 3 * 4 + 6 > r->max)
		return tg_fail(r, E_BIG, r->i);
	if (tg_put(r, "\"", 1) == -1)
		return -1;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		t[0] = a[v >> 18];
		t[1] = a[v >> 12 & 63];
		t[2] = i + 1 < n ? a[v >> 6 & 63] : '=';
		t[3] = i + 2 < n ? a[v & 63] : '=';
		if (tg_put(r, t, 4) == -1)
			return -1;
	}
	return tg_put(r, "\"", 1);
}

/*
 * A RegExp's identity for struct v8tag_seen: its source as UTF-16 units
 * (however its JSON text escapes them), then V8's flag bits.
 */
uint64_t
v8tag_re_hash(const uint16_t *u, size_t n)
{
	uint64_t	h = UINT64_C(14695981039346656037);
	size_t		i;

	for (i = 0; i < n; i++) {
		h = (h ^ (u[i] & 0xff)) * UINT64_C(1099511628211);
		h = (h ^ (u[i] >> 8)) * UINT64_C(1099511628211);
	}
	return h;
}

uint64_t
v8tag_re_key(uint64_t h, uint64_t flags)
{
	return (h ^ (flags + 1)) * UINT64_C(1099511628211);
}
