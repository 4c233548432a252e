/* SPDX-License-Identifier: ISC */
/*
 * The JSON subset of V8's ValueSerializer format (version 15, what Node's
 * 'advanced' channel speaks), both ways and without I/O: a payload decodes
 * to the JSON text JSON.stringify would give, and JSON text encodes to a
 * payload V8 reads back as the same value. Anything outside the subset is
 * refused with the name of its type.
 *
 * This file decodes; v8ser_encode.c encodes.
 */
#include "compat.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "v8ser.h"
#include "v8ser_priv.h"

static const char E_TRUNC[] = "truncated";
static const char E_VARINT[] = "bad varint";
static const char E_VERSION[] = "no version header";
static const char E_OLD[] = "serializer version older than 13";
static const char E_DEEP[] = "nested deeper than 1000 levels";
static const char E_BIG[] = "too large";
static const char E_UTF16[] = "odd length of a two-byte string";
static const char E_UTF8[] = "invalid UTF-8 in a string";
static const char E_KEY[] = "a key that is not a string or a number";
static const char E_COUNT[] = "property count does not match";
static const char E_REF[] = "back-reference to an unknown object";
static const char E_CYCLE[] = "a circular reference";
static const char E_UNDEF[] = "undefined";
static const char E_DROPREF[] = "back-reference to a property JSON leaves out";
static const char E_SPARSE[] = "sparse array elements out of order";
static const char E_TAG[] = "unknown tag";
static const char E_NOMEM[] = "out of memory";

/* Decoder */

struct v8ser_obj {
	size_t	start, end;	/* its JSON text in out, once done */
	int	done;
};

struct v8ser_rd {
	const uint8_t	*p;
	size_t		 n, i;
	struct buf	*out;
	size_t		 base, max;
	struct v8ser_obj *ids;
	size_t		 nids, capids;
	struct v8ser_err *e;
};

static int
rd_fail(struct v8ser_rd *r, const char *what, size_t off)
{
	if (r->e->what == NULL) {
		r->e->what = what;
		r->e->off = off;
	}
	return -1;
}

static int
rd_put(struct v8ser_rd *r, const void *s, size_t n)
{
	if (r->out->len - r->base + n > r->max)
		return rd_fail(r, E_BIG, r->i);
	if (buf_append(r->out, s, n) == -1)
		return rd_fail(r, E_NOMEM, r->i);
	return 0;
}

static int
rd_varint(struct v8ser_rd *r, uint64_t *v, int bits)
{
	unsigned	shift = 0;
	size_t		start = r->i;
	uint8_t		b;

	*v = 0;
	do {
		if (r->i >= r->n)
			return rd_fail(r, E_TRUNC, r->i);
		b = r->p[r->i++];
		if (shift < (unsigned)bits)
			*v |= (uint64_t)(b & 0x7f) << shift;
		else if (shift >= 70)
			return rd_fail(r, E_VARINT, start);
		shift += 7;
	} while (b & 0x80);
	if (bits < 64)
		*v &= (UINT64_C(1) << bits) - 1;
	return 0;
}

/* The next tag, padding skipped; -1 at the end. */
static int
rd_peek(struct v8ser_rd *r)
{
	while (r->i < r->n && r->p[r->i] == T_PADDING)
		r->i++;
	return r->i < r->n ? r->p[r->i] : -1;
}

static int
rd_hex4(struct v8ser_rd *r, unsigned u)
{
	char	t[7];

	snprintf(t, sizeof t, "\\u%04x", u);
	return rd_put(r, t, 6);
}

/* One UTF-16 code unit sequence as JSON.stringify writes it. */
static int
rd_cp(struct v8ser_rd *r, uint32_t cp)
{
	char	u[4];
	size_t	k;

	switch (cp) {
	case '"':
		return rd_put(r, "\\\"", 2);
	case '\\':
		return rd_put(r, "\\\\", 2);
	case '\b':
		return rd_put(r, "\\b", 2);
	case '\f':
		return rd_put(r, "\\f", 2);
	case '\n':
		return rd_put(r, "\\n", 2);
	case '\r':
		return rd_put(r, "\\r", 2);
	case '\t':
		return rd_put(r, "\\t", 2);
	}
	if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff))
		return rd_hex4(r, cp);
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
	return rd_put(r, u, k);
}

/* Bytes of a string body: the length, checked against what is left. */
static int
rd_len(struct v8ser_rd *r, size_t *len)
{
	uint64_t	v;

	if (rd_varint(r, &v, 32) == -1)
		return -1;
	if (v > r->n - r->i)
		return rd_fail(r, E_TRUNC, r->n);
	*len = (size_t)v;
	return 0;
}

static int
rd_string(struct v8ser_rd *r, int tag)
{
	const uint8_t	*p, *e;
	size_t		 len = 0, i;
	uint32_t	 u, u2;
	long		 cp;

	if (rd_len(r, &len) == -1)
		return -1;
	p = r->p + r->i;
	e = p + len;
	if (rd_put(r, "\"", 1) == -1)
		return -1;
	if (tag == T_ONEBYTE) {
		for (i = 0; i < len; i++) {
			if (rd_cp(r, p[i]) == -1)
				return -1;
		}
	} else if (tag == T_TWOBYTE) {
		if (len % 2 != 0)
			return rd_fail(r, E_UTF16, r->i);
		for (i = 0; i < len; i += 2) {
			u = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
			if (u >= 0xd800 && u <= 0xdbff && i + 3 < len) {
				u2 = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
				if (u2 >= 0xdc00 && u2 <= 0xdfff) {
					u = 0x10000 + ((u - 0xd800) << 10) +
					    (u2 - 0xdc00);
					i += 2;
				}
			}
			if (rd_cp(r, u) == -1)
				return -1;
		}
	} else {
		while (p < e) {
			if ((cp = v8ser_utf8(&p, e)) < 0)
				return rd_fail(r, E_UTF8,
				    (size_t)(p - r->p));
			if (rd_cp(r, (uint32_t)cp) == -1)
				return -1;
		}
	}
	r->i += len;
	return rd_put(r, "\"", 1);
}

/*
 * A number as JavaScript's Number::toString writes it (what
 * JSON.stringify uses): the shortest digits that read back as d.
 */
size_t
v8ser_number(double d, char *buf, size_t len)
{
	char	 t[40], digits[24], *q;
	int	 p, k, n, exp, i, o = 0;

	if (!isfinite(d))
		return (size_t)snprintf(buf, len, "null");
	if (d == 0)
		return (size_t)snprintf(buf, len, "0");
	for (p = 1; p <= 17; p++) {
		snprintf(t, sizeof t, "%.*e", p - 1, d);
		if (strtod(t, NULL) == d)
			break;
	}
	q = t;
	if (*q == '-')
		q++;
	for (k = 0; *q != 'e'; q++) {
		if (*q != '.')
			digits[k++] = *q;
	}
	while (k > 1 && digits[k - 1] == '0')
		k--;
	exp = atoi(q + 1);
	n = exp + 1;
	char	out[48];
	if (d < 0)
		out[o++] = '-';
	if (k <= n && n <= 21) {
		memcpy(out + o, digits, (size_t)k);
		o += k;
		for (i = k; i < n; i++)
			out[o++] = '0';
	} else if (0 < n && n <= 21) {
		memcpy(out + o, digits, (size_t)n);
		o += n;
		out[o++] = '.';
		memcpy(out + o, digits + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -n; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)k);
		o += k;
	} else {
		out[o++] = digits[0];
		if (k > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += snprintf(out + o, sizeof out - (size_t)o, "e%c%d",
		    n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
	out[o] = '\0';
	return (size_t)snprintf(buf, len, "%s", out);
}

static int
rd_double(struct v8ser_rd *r, double *d)
{
	uint64_t	u = 0;
	int		i;

	if (r->n - r->i < 8)
		return rd_fail(r, E_TRUNC, r->n);
	for (i = 7; i >= 0; i--)
		u = u << 8 | r->p[r->i + (size_t)i];
	r->i += 8;
	memcpy(d, &u, sizeof *d);
	return 0;
}

static int	rd_value(struct v8ser_rd *, size_t, int);

/* A new object or array: its id, in the order V8 numbers them. */
static int
rd_newid(struct v8ser_rd *r, size_t *id)
{
	struct v8ser_obj	*o;
	size_t			 cap;

	if (r->nids == r->capids) {
		cap = r->capids ? r->capids * 2 : 16;
		if ((o = reallocarray(r->ids, cap, sizeof *o)) == NULL)
			return rd_fail(r, E_NOMEM, r->i);
		r->ids = o;
		r->capids = cap;
	}
	*id = r->nids++;
	r->ids[*id].start = r->out->len;
	r->ids[*id].done = 0;
	return 0;
}

/*
 * Output from mark on is cut (an undefined member, a named property of an
 * array): the objects written there are gone from the text, so a later
 * back-reference to one of them cannot be written out.
 */
static void
rd_cut(struct v8ser_rd *r, size_t mark)
{
	size_t	i;

	for (i = r->nids; i > 0 && r->ids[i - 1].start >= mark; i--)
		r->ids[i - 1].done = 2;
	r->out->len = mark;
}

static void
rd_doneid(struct v8ser_rd *r, size_t id)
{
	r->ids[id].end = r->out->len;
	r->ids[id].done = 1;
}

/*
 * A property key, as a JSON string. *index gets its value when it is an
 * array index (a number, or a string of one), else -1.
 */
static int
rd_key(struct v8ser_rd *r, int64_t *index)
{
	char		 t[40];
	size_t		 at = r->i, start;
	uint64_t	 v;
	double		 d;
	int		 tag = rd_peek(r);
	const char	*s;

	*index = -1;
	if (tag == -1)
		return rd_fail(r, E_TRUNC, r->n);
	r->i++;
	switch (tag) {
	case T_INT32:
		if (rd_varint(r, &v, 32) == -1)
			return -1;
		d = (double)(int32_t)((uint32_t)(v >> 1) ^ -(uint32_t)(v & 1));
		break;
	case T_UINT32:
		if (rd_varint(r, &v, 32) == -1)
			return -1;
		d = (double)(uint32_t)v;
		break;
	case T_DOUBLE:
		if (rd_double(r, &d) == -1)
			return -1;
		break;
	case T_ONEBYTE:
	case T_TWOBYTE:
	case T_UTF8:
		start = r->out->len;
		if (rd_string(r, tag) == -1)
			return -1;
		/* "12" names element 12 as much as 12 does. */
		s = r->out->p + r->out->off + start + 1;
		if (r->out->len - start > 2 && r->out->len - start < 13 &&
		    (s[0] != '0' || r->out->len - start == 3)) {
			v = 0;
			for (; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint64_t)(*s - '0');
			if (*s == '"' && v < UINT32_MAX)
				*index = (int64_t)v;
		}
		return 0;
	default:
		return rd_fail(r, E_KEY, at);
	}
	if (d >= 0 && d < UINT32_MAX && d == floor(d))
		*index = (int64_t)d;
	t[0] = '"';
	v8ser_number(d, t + 1, sizeof t - 2);
	strcat(t, "\"");
	return rd_put(r, t, strlen(t));
}

/* Properties up to the end tag; 1 member written (for commas) or 0. */
static int
rd_props(struct v8ser_rd *r, size_t depth, int endtag, int keep,
    uint64_t *count)
{
	size_t		 mark;
	int64_t		 index;
	int		 tag, first = 1;

	*count = 0;
	for (;;) {
		if ((tag = rd_peek(r)) == -1)
			return rd_fail(r, E_TRUNC, r->n);
		if (tag == endtag) {
			r->i++;
			return 0;
		}
		mark = r->out->len;
		if (keep && !first && rd_put(r, ",", 1) == -1)
			return -1;
		if (rd_key(r, &index) == -1 || (keep && rd_put(r, ":", 1) == -1))
			return -1;
		tag = rd_value(r, depth, 1);
		if (tag == -1)
			return -1;
		/* undefined members are left out, as JSON.stringify does. */
		if (tag == 0 || !keep)
			rd_cut(r, mark);
		else
			first = 0;
		(*count)++;
	}
}

static int
rd_dense(struct v8ser_rd *r, size_t depth)
{
	uint64_t	 len, i, n, np, len2;
	size_t		 id;

	if (rd_varint(r, &len, 32) == -1 || rd_newid(r, &id) == -1)
		return -1;
	if (len > r->n - r->i)
		return rd_fail(r, E_TRUNC, r->n);
	if (rd_put(r, "[", 1) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		if (i > 0 && rd_put(r, ",", 1) == -1)
			return -1;
		if (rd_peek(r) == T_HOLE) {
			/* A hole reads as undefined, and stringifies as null. */
			r->i++;
			if (rd_put(r, "null", 4) == -1)
				return -1;
			continue;
		}
		if (rd_value(r, depth, 0) == -1)
			return -1;
	}
	/* Named properties of an array: JSON.stringify ignores them. */
	if (rd_props(r, depth, T_END_DENSE, 0, &np) == -1 ||
	    rd_varint(r, &n, 32) == -1 || rd_varint(r, &len2, 32) == -1)
		return -1;
	if (n != np || len2 != len)
		return rd_fail(r, E_COUNT, r->i);
	if (rd_put(r, "]", 1) == -1)
		return -1;
	rd_doneid(r, id);
	return 0;
}

static int
rd_sparse(struct v8ser_rd *r, size_t depth)
{
	uint64_t	 len, next = 0, n, np = 0, len2;
	size_t		 id, mark, at;
	int64_t		 index;
	int		 tag;

	if (rd_varint(r, &len, 32) == -1 || rd_newid(r, &id) == -1)
		return -1;
	/* Every missing element costs 5 bytes of output ("null,"). */
	if (len > r->max / 5)
		return rd_fail(r, E_BIG, r->i);
	if (rd_put(r, "[", 1) == -1)
		return -1;
	for (;;) {
		if ((tag = rd_peek(r)) == -1)
			return rd_fail(r, E_TRUNC, r->n);
		if (tag == T_END_SPARSE) {
			r->i++;
			break;
		}
		at = r->i;
		mark = r->out->len;
		/* The key goes into the output, then is cut out again. */
		if (rd_key(r, &index) == -1)
			return -1;
		r->out->len = mark;
		np++;
		if (index < 0 || (uint64_t)index >= len) {
			if (rd_value(r, depth, 1) == -1)
				return -1;
			rd_cut(r, mark);
			continue;
		}
		if ((uint64_t)index < next)
			return rd_fail(r, E_SPARSE, at);
		for (; next < (uint64_t)index; next++) {
			if (rd_put(r, next > 0 ? ",null" : "null",
			    next > 0 ? 5 : 4) == -1)
				return -1;
		}
		if (next > 0 && rd_put(r, ",", 1) == -1)
			return -1;
		if (rd_value(r, depth, 0) == -1)
			return -1;
		next++;
	}
	for (; next < len; next++) {
		if (rd_put(r, next > 0 ? ",null" : "null", next > 0 ? 5 : 4)
		    == -1)
			return -1;
	}
	if (rd_varint(r, &n, 32) == -1 || rd_varint(r, &len2, 32) == -1)
		return -1;
	if (n != np || len2 != len)
		return rd_fail(r, E_COUNT, r->i);
	if (rd_put(r, "]", 1) == -1)
		return -1;
	rd_doneid(r, id);
	return 0;
}

/*
 * One value. In an object (member), undefined is left out and 0 is
 * returned; elsewhere it is refused. 1 when a value was written.
 */
static int
rd_value(struct v8ser_rd *r, size_t depth, int member)
{
	char		 t[40];
	uint64_t	 v, np;
	double		 d;
	size_t		 at, id, len;
	int		 tag;
	const char	*name;

	if ((tag = rd_peek(r)) == -1)
		return rd_fail(r, E_TRUNC, r->n);
	at = r->i++;
	switch (tag) {
	case T_UNDEFINED:
		if (member)
			return 0;
		r->e->type = 1;
		return rd_fail(r, E_UNDEF, at);
	case T_NULL:
		return rd_put(r, "null", 4) == -1 ? -1 : 1;
	case T_TRUE:
		return rd_put(r, "true", 4) == -1 ? -1 : 1;
	case T_FALSE:
		return rd_put(r, "false", 5) == -1 ? -1 : 1;
	case T_INT32:
		if (rd_varint(r, &v, 32) == -1)
			return -1;
		len = (size_t)snprintf(t, sizeof t, "%ld", (long)(int32_t)
		    ((uint32_t)(v >> 1) ^ -(uint32_t)(v & 1)));
		return rd_put(r, t, len) == -1 ? -1 : 1;
	case T_UINT32:
		if (rd_varint(r, &v, 32) == -1)
			return -1;
		len = (size_t)snprintf(t, sizeof t, "%lu", (unsigned long)v);
		return rd_put(r, t, len) == -1 ? -1 : 1;
	case T_DOUBLE:
		if (rd_double(r, &d) == -1)
			return -1;
		len = v8ser_number(d, t, sizeof t);
		return rd_put(r, t, len) == -1 ? -1 : 1;
	case T_ONEBYTE:
	case T_TWOBYTE:
	case T_UTF8:
		return rd_string(r, tag) == -1 ? -1 : 1;
	case T_OBJECT:
		if (depth >= V8SER_MAXDEPTH)
			return rd_fail(r, E_DEEP, at);
		if (rd_newid(r, &id) == -1 || rd_put(r, "{", 1) == -1 ||
		    rd_props(r, depth + 1, T_END_OBJECT, 1, &np) == -1 ||
		    rd_varint(r, &v, 32) == -1)
			return -1;
		if (v != np)
			return rd_fail(r, E_COUNT, r->i);
		if (rd_put(r, "}", 1) == -1)
			return -1;
		rd_doneid(r, id);
		return 1;
	case T_DENSE:
		if (depth >= V8SER_MAXDEPTH)
			return rd_fail(r, E_DEEP, at);
		return rd_dense(r, depth + 1) == -1 ? -1 : 1;
	case T_SPARSE:
		if (depth >= V8SER_MAXDEPTH)
			return rd_fail(r, E_DEEP, at);
		return rd_sparse(r, depth + 1) == -1 ? -1 : 1;
	case T_REF:
		if (rd_varint(r, &v, 32) == -1)
			return -1;
		if (v >= r->nids)
			return rd_fail(r, E_REF, at);
		if (r->ids[v].done == 0)
			return rd_fail(r, E_CYCLE, at);
		if (r->ids[v].done == 2)
			return rd_fail(r, E_DROPREF, at);
		/* JSON.stringify writes a shared object out again. */
		len = r->ids[v].end - r->ids[v].start;
		if (r->out->len - r->base + len > r->max)
			return rd_fail(r, E_BIG, at);
		{
			char	*copy = malloc(len ? len : 1);

			if (copy == NULL)
				return rd_fail(r, E_NOMEM, at);
			memcpy(copy, r->out->p + r->out->off + r->ids[v].start,
			    len);
			if (rd_put(r, copy, len) == -1) {
				free(copy);
				return -1;
			}
			free(copy);
		}
		return 1;
	default:
		if ((name = v8ser_tag_name(tag)) != NULL) {
			r->e->type = tag != T_HOLE && tag != T_END_OBJECT &&
			    tag != T_END_DENSE && tag != T_END_SPARSE;
			return rd_fail(r, name, at);
		}
		return rd_fail(r, E_TAG, at);
	}
}

/*
 * Decode one payload (after the length prefix) and append its JSON text
 * to out, at most max bytes of it. Returns 0, or -1 with *e saying what
 * and where (out is then as it was). e->tag is the tag found there.
 */
int
v8ser_decode(const void *p, size_t n, struct buf *out, size_t max,
    struct v8ser_err *e)
{
	struct v8ser_rd	r;
	uint64_t	v;
	int		rc = -1;

	memset(e, 0, sizeof *e);
	memset(&r, 0, sizeof r);
	r.p = p;
	r.n = n;
	r.out = out;
	r.base = out->len;
	r.max = max;
	r.e = e;
	if (rd_peek(&r) != T_VERSION)
		rd_fail(&r, E_VERSION, r.i);
	else if (r.i++, rd_varint(&r, &v, 32) == -1)
		;
	else if (v < 13)
		rd_fail(&r, E_OLD, 1);
	else if (rd_value(&r, 0, 0) != -1)
		rc = 0;
	if (rc == -1) {
		out->len = r.base;
		e->tag = e->off < n ? ((const uint8_t *)p)[e->off] : -1;
	}
	free(r.ids);
	return rc;
}
