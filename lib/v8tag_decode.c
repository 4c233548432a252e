/* SPDX-License-Identifier: ISC */
/*
 * A V8 payload (version 13 to 15, as Node's 'advanced' channel writes
 * it) to tagged JSON text (v8tag.h): what JSON can say is written as
 * JSON.stringify would, everything else as a one-key "$" object. A shared
 * object is written out again at each place; a cycle is refused, as
 * NDJSON has no way to say it. So is an array with named properties,
 * which a tagged array cannot carry.
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

static const char E_TRUNC[] = "truncated";
static const char E_VERSION[] = "no version header";
static const char E_OLD[] = "serializer version older than 13";
static const char E_DEEP[] = "nested deeper than 1000 levels";
static const char E_BIG[] = "too large";
static const char E_KEY[] = "a key that is not a string or a number";
static const char E_COUNT[] = "property count does not match";
static const char E_REF[] = "back-reference to an unknown object";
static const char E_CYCLE[] = "a circular reference";
static const char E_NAMED[] = "an array with named properties";
static const char E_SPARSE[] = "sparse array elements out of order";
static const char E_VIEW[] = "an unknown kind of typed array";
static const char E_VIEWLEN[] = "a typed array of part of an element";
static const char E_ERRTAG[] = "an unknown field of an Error";
static const char E_REFLAG[] = "a RegExp flag without a letter here";
static const char E_TAG[] = "unknown tag";
static const char E_NOMEM[] = "out of memory";

#define TG_MAXSPARSE	(1 << 24)	/* a sparse array: holes written */

static int	tg_value(struct tg_rd *, size_t);

/* A new object's id, in the order V8 numbers them. */
static int
tg_newid(struct tg_rd *r, size_t *id)
{
	struct tg_obj	*o;
	size_t		 cap;

	if (r->nids == r->capids) {
		cap = r->capids ? r->capids * 2 : 16;
		if ((o = reallocarray(r->ids, cap, sizeof *o)) == NULL)
			return tg_fail(r, E_NOMEM, r->i);
		r->ids = o;
		r->capids = cap;
	}
	*id = r->nids++;
	r->ids[*id].start = r->out->len;
	r->ids[*id].done = 0;
	return 0;
}

static int
tg_doneid(struct tg_rd *r, size_t id)
{
	r->ids[id].end = r->out->len;
	r->ids[id].done = 1;
	return 0;
}

/* A back-reference: the object written out again. */
static int
tg_ref(struct tg_rd *r, size_t at)
{
	uint64_t	 v;
	size_t		 len;
	char		*copy;
	int		 rc;

	if (tg_varint(r, &v, 32) == -1)
		return -1;
	if (v >= r->nids)
		return tg_fail(r, E_REF, at);
	if (!r->ids[v].done)
		return tg_fail(r, E_CYCLE, at);
	len = r->ids[v].end - r->ids[v].start;
	if (r->out->len - r->base + len > r->max)
		return tg_fail(r, E_BIG, at);
	if ((copy = malloc(len ? len : 1)) == NULL)
		return tg_fail(r, E_NOMEM, at);
	memcpy(copy, r->out->p + r->out->off + r->ids[v].start, len);
	rc = tg_put(r, copy, len);
	free(copy);
	return rc;
}

/* A property key, quoted; *index gets an array index, else -1. */
static int
tg_key(struct tg_rd *r, int64_t *index)
{
	char		 t[40];
	size_t		 at = r->i;
	uint64_t	 v;
	double		 d;
	int		 tag = tg_peek(r);

	*index = -1;
	if (tag == -1)
		return tg_fail(r, E_TRUNC, r->n);
	r->i++;
	switch (tag) {
	case T_INT32:
		if (tg_varint(r, &v, 32) == -1)
			return -1;
		d = (double)(int32_t)((uint32_t)(v >> 1) ^ -(uint32_t)(v & 1));
		break;
	case T_UINT32:
		if (tg_varint(r, &v, 32) == -1)
			return -1;
		d = (double)(uint32_t)v;
		break;
	case T_DOUBLE:
		if (tg_double(r, &d) == -1)
			return -1;
		break;
	case T_ONEBYTE:
	case T_TWOBYTE:
	case T_UTF8:
		return tg_string(r, tag, 1);
	default:
		return tg_fail(r, E_KEY, at);
	}
	if (d >= 0 && d < UINT32_MAX && d == floor(d))
		*index = (int64_t)d;
	t[0] = '"';
	v8ser_number(d, t + 1, sizeof t - 2);
	strcat(t, "\"");
	return tg_puts(r, t);
}

/* An object's properties up to its end tag and their count. */
static int
tg_props(struct tg_rd *r, size_t depth)
{
	uint64_t	 n = 0, v;
	int64_t		 index;
	int		 tag;

	for (;;) {
		if ((tag = tg_peek(r)) == -1)
			return tg_fail(r, E_TRUNC, r->n);
		if (tag == T_END_OBJECT)
			break;
		if ((n > 0 && tg_put(r, ",", 1) == -1) ||
		    tg_key(r, &index) == -1 || tg_put(r, ":", 1) == -1 ||
		    tg_value(r, depth) == -1)
			return -1;
		n++;
	}
	r->i++;
	if (tg_varint(r, &v, 32) == -1)
		return -1;
	return v == n ? 0 : tg_fail(r, E_COUNT, r->i);
}

/* An array's end: no named properties, the counts as they should be. */
static int
tg_array_end(struct tg_rd *r, int endtag, uint64_t np, uint64_t len)
{
	uint64_t	n, len2;

	if (tg_peek(r) != endtag)
		return tg_fail(r, r->i < r->n ? E_NAMED : E_TRUNC, r->i);
	r->i++;
	if (tg_varint(r, &n, 32) == -1 || tg_varint(r, &len2, 32) == -1)
		return -1;
	if (n != np || len2 != len)
		return tg_fail(r, E_COUNT, r->i);
	return tg_put(r, "]", 1);
}

static int
tg_dense(struct tg_rd *r, size_t depth)
{
	uint64_t	len, i;

	if (tg_varint(r, &len, 32) == -1)
		return -1;
	if (len > r->n - r->i)
		return tg_fail(r, E_TRUNC, r->n);
	if (tg_put(r, "[", 1) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		if (i > 0 && tg_put(r, ",", 1) == -1)
			return -1;
		if (tg_peek(r) == T_HOLE) {
			r->i++;
			if (tg_puts(r, "{\"$hole\":true}") == -1)
				return -1;
		} else if (tg_value(r, depth) == -1)
			return -1;
	}
	return tg_array_end(r, T_END_DENSE, 0, len);
}

static int
tg_sparse(struct tg_rd *r, size_t depth)
{
	uint64_t	 len, next = 0, np = 0;
	size_t		 at, mark;
	int64_t		 index;

	if (tg_varint(r, &len, 32) == -1)
		return -1;
	if (len > TG_MAXSPARSE)
		return tg_fail(r, E_BIG, r->i);
	if (tg_put(r, "[", 1) == -1)
		return -1;
	while (tg_peek(r) != T_END_SPARSE) {
		if (r->i >= r->n)
			return tg_fail(r, E_TRUNC, r->n);
		at = r->i;
		mark = r->out->len;
		if (tg_key(r, &index) == -1)
			return -1;
		r->out->len = mark;
		if (index < 0 || (uint64_t)index >= len)
			return tg_fail(r, E_NAMED, at);
		if ((uint64_t)index < next)
			return tg_fail(r, E_SPARSE, at);
		for (; next <= (uint64_t)index; next++) {
			if (next > 0 && tg_put(r, ",", 1) == -1)
				return -1;
			if (next < (uint64_t)index &&
			    tg_puts(r, "{\"$hole\":true}") == -1)
				return -1;
		}
		if (tg_value(r, depth) == -1)
			return -1;
		np++;
	}
	for (; next < len; next++) {
		if (tg_puts(r, next > 0 ? ",{\"$hole\":true}" :
		    "{\"$hole\":true}") == -1)
			return -1;
	}
	return tg_array_end(r, T_END_SPARSE, np, len);
}

/* Map entries (key, value, ...) up to ':', or Set values up to ','. */
static int
tg_collection(struct tg_rd *r, size_t depth, int map)
{
	uint64_t	n = 0, v;
	int		tag;

	if (tg_puts(r, map ? "{\"$map\":[" : "{\"$set\":[") == -1)
		return -1;
	for (;;) {
		if ((tag = tg_peek(r)) == -1)
			return tg_fail(r, E_TRUNC, r->n);
		if (tag == (map ? ':' : ','))
			break;
		if (n > 0 && tg_put(r, ",", 1) == -1)
			return -1;
		if (map && (tg_put(r, "[", 1) == -1 ||
		    tg_value(r, depth) == -1 || tg_put(r, ",", 1) == -1))
			return -1;
		if (tg_value(r, depth) == -1 ||
		    (map && tg_put(r, "]", 1) == -1))
			return -1;
		n += map ? 2 : 1;
	}
	r->i++;
	if (tg_varint(r, &v, 32) == -1)
		return -1;
	if (v != n)
		return tg_fail(r, E_COUNT, r->i);
	return tg_puts(r, "]}");
}

/*
 * Note a RegExp the parent sent, by its source (the JSON string written
 * from at) and flags, so that CMD may send it back.
 */
static int
tg_seen(struct tg_rd *r, size_t at, uint64_t flags)
{
	const unsigned char	*p, *e;
	uint16_t		*u, pair[2];
	size_t			 n = 0;
	int			 k;

	if (r->seen == NULL)
		return 0;
	p = (const unsigned char *)r->out->p + r->out->off + at + 1;
	e = (const unsigned char *)r->out->p + r->out->off + r->out->len;
	if ((u = reallocarray(NULL, (size_t)(e - p) + 1, sizeof *u)) == NULL)
		return tg_fail(r, E_NOMEM, r->i);
	while ((k = v8ser_unit(&p, e, pair)) > 0) {
		u[n++] = pair[0];
		if (k == 2)
			u[n++] = pair[1];
	}
	r->seen->hash[r->seen->next] = v8tag_re_key(v8tag_re_hash(u, n),
	    flags);
	r->seen->next = (r->seen->next + 1) % V8TAG_NSEEN;
	if (r->seen->n < V8TAG_NSEEN)
		r->seen->n++;
	free(u);
	return 0;
}

/* A RegExp: its source, then its flags as the letters JavaScript uses. */
static int
tg_regexp(struct tg_rd *r)
{
	static const struct { unsigned bit; char c; } fl[] = {
		{ 128, 'd' }, { 1, 'g' }, { 2, 'i' }, { 4, 'm' }, { 32, 's' },
		{ 16, 'u' }, { 256, 'v' }, { 8, 'y' }
	};
	char		 f[16];
	uint64_t	 v;
	size_t		 i, k = 0, at;

	if (tg_puts(r, "{\"$regexp\":{\"source\":") == -1)
		return -1;
	at = r->out->len;
	if (tg_string_value(r) == -1 || tg_varint(r, &v, 32) == -1)
		return -1;
	/* 'l' (64), V8's experimental engine, and others have no letter. */
	if (v & ~UINT64_C(0x1bf))
		return tg_fail(r, E_REFLAG, r->i);
	if (tg_seen(r, at, v) == -1)
		return -1;
	for (i = 0; i < sizeof fl / sizeof fl[0]; i++) {
		if (v & fl[i].bit)
			f[k++] = fl[i].c;
	}
	f[k] = '\0';
	return tg_puts(r, ",\"flags\":\"") == -1 || tg_puts(r, f) == -1 ||
	    tg_puts(r, "\"}}") == -1 ? -1 : 0;
}

/* An Error: its kind, message, stack and cause, in V8's sub-tags. */
static int
tg_error(struct tg_rd *r, size_t depth)
{
	static const char	 kinds[] = "ERFSTU";
	static const char *const names[] = { "EvalError", "RangeError",
	    "ReferenceError", "SyntaxError", "TypeError", "URIError" };
	const char		*name = "Error", *k;
	size_t			 at;
	int			 tag;

	if (tg_puts(r, "{\"$error\":{") == -1)
		return -1;
	for (;;) {
		at = r->i;
		if ((tag = tg_peek(r)) == -1)
			return tg_fail(r, E_TRUNC, r->n);
		r->i++;
		if (tag == '.')
			break;
		if (tag != 0 && (k = strchr(kinds, tag)) != NULL)
			name = names[k - kinds];
		else if (tag == 'm' || tag == 's') {
			if (tg_puts(r, tag == 'm' ? "\"message\":" :
			    "\"stack\":") == -1 || tg_string_value(r) == -1 ||
			    tg_put(r, ",", 1) == -1)
				return -1;
		} else if (tag == 'c') {
			if (tg_puts(r, "\"cause\":") == -1 ||
			    tg_value(r, depth) == -1 || tg_put(r, ",", 1) == -1)
				return -1;
		} else
			return tg_fail(r, E_ERRTAG, at);
	}
	return tg_puts(r, "\"name\":\"") == -1 || tg_puts(r, name) == -1 ||
	    tg_puts(r, "\"}}") == -1 ? -1 : 0;
}

/* Node's host objects: a typed array or Buffer (0), or an object (1). */
static int
tg_host(struct tg_rd *r, size_t depth, size_t at)
{
	const uint8_t	*p;
	uint64_t	 kind, type, len;

	if (tg_varint(r, &kind, 32) == -1)
		return -1;
	if (kind == 1)
		return tg_value(r, depth);
	if (kind != 0 || tg_varint(r, &type, 32) == -1)
		return kind != 0 ? tg_fail(r, E_VIEW, at) : -1;
	if (type >= V8TAG_NVIEWS)
		return tg_fail(r, E_VIEW, at);
	if (tg_varint(r, &len, 32) == -1 || tg_bytes(r, len, &p) == -1)
		return -1;
	/* Node would throw on it, and CMD could not send it back. */
	if (len % v8tag_view_size[type] != 0)
		return tg_fail(r, E_VIEWLEN, at);
	return tg_puts(r, "{\"$") == -1 ||
	    tg_puts(r, v8tag_views[type]) == -1 ||
	    tg_puts(r, "\":") == -1 || tg_base64(r, p, (size_t)len) == -1 ||
	    tg_put(r, "}", 1) == -1 ? -1 : 0;
}

/* Values that are objects in V8: each takes the next id. */
static int
tg_object(struct tg_rd *r, size_t depth, int tag, size_t at)
{
	const uint8_t	*p;
	uint64_t	 v;
	double		 d;
	size_t		 id = 0;
	int		 rc;

	if (depth >= V8SER_MAXDEPTH)
		return tg_fail(r, E_DEEP, at);
	if (tg_newid(r, &id) == -1)
		return -1;
	depth++;
	switch (tag) {
	case T_OBJECT:
		rc = tg_put(r, "{", 1) == -1 || tg_props(r, depth) == -1 ||
		    tg_put(r, "}", 1) == -1 ? -1 : 0;
		break;
	case T_DENSE:
		rc = tg_dense(r, depth);
		break;
	case T_SPARSE:
		rc = tg_sparse(r, depth);
		break;
	case 'D':
		rc = tg_double(r, &d) == -1 ? -1 : tg_date(r, d);
		break;
	case 'R':
		rc = tg_regexp(r);
		break;
	case ';':
	case '\'':
		rc = tg_collection(r, depth, tag == ';');
		break;
	case 'B':
		rc = tg_varint(r, &v, 32) == -1 || tg_bytes(r, v, &p) == -1 ||
		    tg_puts(r, "{\"$arraybuffer\":") == -1 ||
		    tg_base64(r, p, (size_t)v) == -1 ||
		    tg_put(r, "}", 1) == -1 ? -1 : 0;
		break;
	case 'r':
		rc = tg_error(r, depth);
		break;
	case '\\':
		rc = tg_host(r, depth, at);
		break;
	case 's':
		rc = tg_puts(r, "{\"$object\":") == -1 ||
		    tg_string_value(r) == -1 ||
		    tg_put(r, "}", 1) == -1 ? -1 : 0;
		break;
	case 'n':
		rc = tg_puts(r, "{\"$object\":") == -1 ||
		    tg_double(r, &d) == -1 || tg_number(r, d) == -1 ||
		    tg_put(r, "}", 1) == -1 ? -1 : 0;
		break;
	case 'y':
	case 'x':
		rc = tg_puts(r, tag == 'y' ? "{\"$object\":true}" :
		    "{\"$object\":false}");
		break;
	default:	/* 'z' */
		rc = tg_puts(r, "{\"$object\":") == -1 || tg_bigint(r) == -1 ||
		    tg_put(r, "}", 1) == -1 ? -1 : 0;
		break;
	}
	return rc == -1 ? -1 : tg_doneid(r, id);
}

static int
tg_value(struct tg_rd *r, size_t depth)
{
	char		 t[40];
	uint64_t	 v;
	double		 d;
	size_t		 at;
	int		 tag;

	if ((tag = tg_peek(r)) == -1)
		return tg_fail(r, E_TRUNC, r->n);
	at = r->i++;
	switch (tag) {
	case T_UNDEFINED:
		return tg_puts(r, "{\"$undefined\":true}");
	case T_NULL:
		return tg_puts(r, "null");
	case T_TRUE:
		return tg_puts(r, "true");
	case T_FALSE:
		return tg_puts(r, "false");
	case T_INT32:
		if (tg_varint(r, &v, 32) == -1)
			return -1;
		snprintf(t, sizeof t, "%ld", (long)(int32_t)
		    ((uint32_t)(v >> 1) ^ -(uint32_t)(v & 1)));
		return tg_puts(r, t);
	case T_UINT32:
		if (tg_varint(r, &v, 32) == -1)
			return -1;
		snprintf(t, sizeof t, "%lu", (unsigned long)v);
		return tg_puts(r, t);
	case T_DOUBLE:
		return tg_double(r, &d) == -1 ? -1 : tg_number(r, d);
	case 'Z':
		return tg_bigint(r);
	case T_ONEBYTE:
	case T_TWOBYTE:
	case T_UTF8:
		return tg_string(r, tag, 0);
	case T_REF:
		return tg_ref(r, at);
	case T_OBJECT: case T_DENSE: case T_SPARSE: case 'D': case 'R':
	case ';': case '\'': case 'B': case 'r': case '\\': case 's':
	case 'n': case 'y': case 'x': case 'z':
		return tg_object(r, depth, tag, at);
	default:
		return tg_fail(r, E_TAG, at);
	}
}

/*
 * Decode one payload (after the length prefix) and append its tagged
 * JSON text to out, at most max bytes of it. Returns 0, or -1 with *e
 * saying what and where (out is then as it was).
 */
int
v8tag_decode(const void *p, size_t n, struct buf *out, size_t max,
    struct v8ser_err *e, struct v8tag_seen *seen)
{
	struct tg_rd	r;
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
	r.seen = seen;
	if (tg_peek(&r) != T_VERSION)
		tg_fail(&r, E_VERSION, r.i);
	else if (r.i++, tg_varint(&r, &v, 32) == -1)
		;
	else if (v < 13)
		tg_fail(&r, E_OLD, 1);
	else if (tg_value(&r, 0) != -1)
		rc = 0;
	if (rc == -1) {
		out->len = r.base;
		e->tag = e->off < n ? ((const uint8_t *)p)[e->off] : -1;
	}
	free(r.ids);
	return rc;
}
