/* SPDX-License-Identifier: ISC */
/*
 * The writing end of v8tag_encode.c: JSON text read (whitespace, strings
 * as UTF-16, numbers) and V8's tags, varints, strings and doubles
 * written; and the scalars a tag stands for (BigInt, Date, base64 bytes)
 * read from their text and checked, so that no payload reaches the
 * parent that V8 would throw on.
 */
#include "compat.h"

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

#define TW_MAXDIGITS	100000	/* of a $bigint */

static const char E_JSON[] = "invalid JSON";
static const char E_NOMEM[] = "out of memory";
static const char E_BIG[] = "too large";
static const char E_BIGINT[] = "$bigint takes a string of decimal digits";
static const char E_DATE[] = "$date takes null or a string as "
    "toISOString() writes it";
static const char E_B64[] = "invalid base64";
static const char E_VIEWLEN[] = "a byte count that is not a multiple of the "
    "element size";

int
tw_fail(struct tw *w, const char *what)
{
	if (w->err->what == NULL) {
		w->err->what = what;
		w->err->off = (size_t)(w->p - w->start);
	}
	return -1;
}

int
tw_put(struct tw *w, const void *s, size_t n)
{
	return buf_append(w->out, s, n) == -1 ? tw_fail(w, E_NOMEM) : 0;
}

int
tw_tag(struct tw *w, int tag)
{
	uint8_t	b = (uint8_t)tag;

	return tw_put(w, &b, 1);
}

int
tw_varint(struct tw *w, uint64_t v)
{
	uint8_t	b[10];
	size_t	k = 0;

	do {
		b[k] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[k] |= 0x80;
		k++;
	} while (v != 0);
	return tw_put(w, b, k);
}

int
tw_double(struct tw *w, int tag, double d)
{
	uint8_t		b[9];
	uint64_t	u;
	int		i;

	memcpy(&u, &d, sizeof u);
	b[0] = (uint8_t)tag;
	for (i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(u >> (8 * i));
	return tw_put(w, b, 9);
}

void
tw_ws(struct tw *w)
{
	while (w->p < w->e && (*w->p == ' ' || *w->p == '\t' ||
	    *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

int
tw_expect(struct tw *w, int c, const char *what)
{
	tw_ws(w);
	if (w->p >= w->e || *w->p != c)
		return tw_fail(w, what);
	w->p++;
	tw_ws(w);
	return 0;
}

int
tw_literal(struct tw *w, const char *lit)
{
	size_t	n = strlen(lit);

	if ((size_t)(w->e - w->p) < n || memcmp(w->p, lit, n) != 0)
		return -1;
	w->p += n;
	return 0;
}

/* The JSON string at w->p into w->u, as UTF-16 units. */
int
tw_str(struct tw *w)
{
	uint16_t	u[2], *nu;
	size_t		cap;
	int		k, i;

	if (w->p >= w->e || *w->p != '"')
		return tw_fail(w, E_JSON);
	w->p++;
	w->nu = 0;
	while ((k = v8ser_unit(&w->p, w->e, u)) > 0) {
		if (w->nu + 2 > w->capu) {
			cap = w->capu ? w->capu * 2 : 64;
			if ((nu = reallocarray(w->u, cap, sizeof *nu)) == NULL)
				return tw_fail(w, E_NOMEM);
			w->u = nu;
			w->capu = cap;
		}
		for (i = 0; i < k; i++)
			w->u[w->nu++] = u[i];
	}
	if (k < 0)
		return tw_fail(w, E_JSON);
	w->p++;
	return 0;
}

/* w->u from unit from on, as a V8 string: Latin-1 when all fit. */
int
tw_put_units(struct tw *w, size_t from)
{
	uint8_t	b[2];
	size_t	i;
	int	wide = 0;

	for (i = from; i < w->nu; i++) {
		if (w->u[i] > 0xff)
			wide = 1;
	}
	if (tw_tag(w, wide ? T_TWOBYTE : T_ONEBYTE) == -1 ||
	    tw_varint(w, (w->nu - from) * (wide ? 2 : 1)) == -1)
		return -1;
	for (i = from; i < w->nu; i++) {
		b[0] = (uint8_t)(w->u[i] & 0xff);
		b[1] = (uint8_t)(w->u[i] >> 8);
		if (tw_put(w, b, wide ? 2 : 1) == -1)
			return -1;
	}
	return 0;
}

/* w->u is exactly the ASCII s. */
int
tw_is(const struct tw *w, const char *s)
{
	size_t	i, n = strlen(s);

	if (w->nu != n)
		return 0;
	for (i = 0; i < n; i++) {
		if (w->u[i] != (unsigned char)s[i])
			return 0;
	}
	return 1;
}

/* w->u as ASCII in t (size n), or -1 when it is not short ASCII. */
int
tw_ascii(const struct tw *w, char *t, size_t n)
{
	size_t	i;

	if (w->nu >= n)
		return -1;
	for (i = 0; i < w->nu; i++) {
		if (w->u[i] == 0 || w->u[i] > 0x7e)
			return -1;
		t[i] = (char)w->u[i];
	}
	t[i] = '\0';
	return 0;
}

int
tw_number(struct tw *w, int boxed)
{
	const unsigned char	*s = w->p;
	char			 small[64], *t = small;
	size_t			 n;
	long long		 v;
	double			 d;
	int			 integer = 1;

	while (w->p < w->e && ((*w->p >= '0' && *w->p <= '9') ||
	    *w->p == '-' || *w->p == '+' || *w->p == '.' || *w->p == 'e' ||
	    *w->p == 'E')) {
		if (*w->p == '.' || *w->p == 'e' || *w->p == 'E')
			integer = 0;
		w->p++;
	}
	if ((n = (size_t)(w->p - s)) == 0)
		return tw_fail(w, E_JSON);
	if (n >= sizeof small && (t = malloc(n + 1)) == NULL)
		return tw_fail(w, E_NOMEM);
	memcpy(t, s, n);
	t[n] = '\0';
	d = strtod(t, NULL);
	v = integer && n <= 11 ? strtoll(t, NULL, 10) : 0;
	if (t != small)
		free(t);
	/* An int32 as V8 writes a Smi; -0 (JSON.parse keeps it) a double. */
	if (!boxed && integer && n <= 11 && !(d == 0 && signbit(d)) &&
	    v >= INT32_MIN && v <= INT32_MAX)
		return tw_tag(w, T_INT32) == -1 ? -1 :
		    tw_varint(w, (uint32_t)(((uint32_t)v << 1) ^
		    (uint32_t)((int32_t)v >> 31)));
	return tw_double(w, boxed ? 'n' : T_DOUBLE, d);
}

/* base64 in w->u: the byte count, then the bytes, after a header. */
int
tw_base64(struct tw *w, size_t unit, size_t *len)
{
	static const char	a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*c;
	uint32_t		 v = 0;
	uint8_t			 b;
	size_t			 n = w->nu, i, k = 0;

	while (n > 0 && w->u[n - 1] == '=' && w->nu - n < 2)
		n--;
	if (n % 4 == 1 || (n < w->nu && w->nu % 4 != 0))
		return tw_fail(w, E_B64);
	*len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (*len % unit != 0)
		return tw_fail(w, E_VIEWLEN);
	if (tw_varint(w, *len) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (w->u[i] == 0 || w->u[i] > 0x7f ||
		    (c = strchr(a, (char)w->u[i])) == NULL)
			return tw_fail(w, E_B64);
		v = v << 6 | (uint32_t)(c - a);
		if ((k += 6) >= 8) {
			k -= 8;
			b = (uint8_t)(v >> k);
			if (tw_put(w, &b, 1) == -1)
				return -1;
		}
	}
	return 0;
}

/* Days from 1970-01-01 to a civil date (proleptic Gregorian). */
static int64_t
tw_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* s has the form f: a letter a digit, '+' a sign, the rest as it is. */
static int
tw_shape(const char *s, const char *f)
{
	for (; *s != '\0' && *f != '\0'; s++, f++) {
		if (*f == '+' ? *s != '+' && *s != '-' : *f >= 'a' &&
		    *f <= 'z' ? *s < '0' || *s > '9' : *s != *f)
			return 0;
	}
	return *s == *f;
}

/* toISOString()'s form in w->u to milliseconds. */
int
tw_date(struct tw *w, double *t)
{
	static const int	mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	char			 s[40];
	long long		 y;
	int			 m, d, hh, mm, ss, ms, n = 0, leap;

	if (tw_ascii(w, s, sizeof s) == -1 ||
	    (!tw_shape(s, "yyyy-mm-ddThh:mm:ss.sssZ") &&
	    !tw_shape(s, "+yyyyyy-mm-ddThh:mm:ss.sssZ")))
		return tw_fail(w, E_DATE);
	n = sscanf(s, s[0] == '+' || s[0] == '-' ?
	    "%7lld-%2d-%2dT%2d:%2d:%2d.%3d" : "%4lld-%2d-%2dT%2d:%2d:%2d.%3d",
	    &y, &m, &d, &hh, &mm, &ss, &ms);
	if (n != 7)
		return tw_fail(w, E_DATE);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap) || hh > 23 || mm > 59 || ss > 59 ||
	    ms < 0 || hh < 0 || mm < 0 || ss < 0)
		return tw_fail(w, E_DATE);
	*t = (double)tw_days(y, m, d) * 86400000.0 +
	    (double)(((hh * 60 + mm) * 60 + ss) * 1000 + ms);
	return fabs(*t) > 8.64e15 ? tw_fail(w, E_DATE) : 0;
}

/* A decimal string in w->u to V8's BigInt: bitfield, 64-bit digits. */
int
tw_bigint(struct tw *w, int tag)
{
	uint32_t	*l;
	uint64_t	 v;
	uint8_t		 b;
	size_t		 n = 0, i, j, neg = 0;
	int		 rc = 0;

	if (w->nu > 0 && w->u[0] == '-')
		neg = 1;
	if (w->nu == neg)
		return tw_fail(w, E_BIGINT);
	if (w->nu > TW_MAXDIGITS)
		return tw_fail(w, E_BIG);
	for (i = neg; i < w->nu; i++) {
		if (w->u[i] < '0' || w->u[i] > '9')
			return tw_fail(w, E_BIGINT);
	}
	if ((l = calloc(w->nu / 9 + 2, sizeof *l)) == NULL)
		return tw_fail(w, E_NOMEM);
	for (i = neg; i < w->nu; i++) {
		v = w->u[i] - '0';
		for (j = 0; j < n; j++) {
			v += (uint64_t)l[j] * 10;
			l[j] = (uint32_t)v;
			v >>= 32;
		}
		if (v != 0)
			l[n++] = (uint32_t)v;
	}
	n = (n + 1) / 2 * 2;	/* whole 64-bit digits */
	if (tw_tag(w, tag) == -1 ||
	    tw_varint(w, (uint64_t)n * 4 << 1 | (n > 0 ? neg : 0)) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < n * 4; i++) {
		b = (uint8_t)(l[i / 4] >> (8 * (i % 4)));
		rc = tw_put(w, &b, 1);
	}
	free(l);
	return rc;
}
