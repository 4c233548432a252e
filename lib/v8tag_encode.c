/* SPDX-License-Identifier: ISC */
/*
 * Tagged JSON text (v8tag.h) to a V8 payload, the other way from
 * v8tag_decode.c. The text has been checked as JSON already; what is
 * refused here is a tag used wrongly, and what a Node parent would throw
 * on: V8's deserializer throws, uncaught, on a payload it cannot take,
 * and the parent dies. So a key twice in an object is refused (V8 takes
 * no duplicate), as is a RegExp the parent did not send: only JavaScript
 * can check its pattern.
 */
#include "compat.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "v8ser.h"
#include "v8ser_priv.h"
#include "v8tag.h"
#include "v8tag_priv.h"

static const char E_JSON[] = "invalid JSON";
static const char E_DEEP[] = "nested deeper than 1000 levels";
static const char E_NOMEM[] = "out of memory";
static const char E_BIG[] = "too large";
static const char E_TWICE[] = "a key twice in an object (tagged types "
    "take each key once)";
static const char E_DOLLAR[] = "a key that starts with '$' among others "
    "(write '$$' for a '$' of its own)";
static const char E_MORE[] = "a \"$\" tag with other keys beside it";
static const char E_UNKNOWN[] = "an unknown \"$\" tag";
static const char E_TRUE[] = "this tag takes true";
static const char E_NUMBER[] = "$number takes \"NaN\", \"Infinity\", "
    "\"-Infinity\" or \"-0\"";
static const char E_BIGINT[] = "$bigint takes a string of decimal digits";
static const char E_DATE[] = "$date takes null or a string as "
    "toISOString() writes it";
static const char E_B64[] = "invalid base64";
static const char E_REGEXP[] = "a RegExp the parent did not send (only "
    "JavaScript can check a pattern, and a bad one crashes the parent)";
static const char E_RESHAPE[] = "$regexp takes an object of source and "
    "flags";
static const char E_HOLE[] = "$hole outside an array";
static const char E_MAP[] = "$map takes an array of [key, value] arrays";
static const char E_SET[] = "$set takes an array";
static const char E_ERROR[] = "$error takes an object of name, message, "
    "stack and cause";
static const char E_ERRNAME[] = "an Error name that V8 does not carry";
static const char E_BOXED[] = "$object takes a string, a number, a "
    "boolean, $number or $bigint";

#define TW_ARRAY	0x1	/* an element: $hole allowed */
#define TW_BOXED	0x2	/* $object's value: a primitive wrapper */

static int	tw_value(struct tw *, size_t, int);

static uint64_t
tw_hash(const unsigned char *p, size_t n)
{
	uint64_t	h = UINT64_C(14695981039346656037);

	while (n-- > 0)
		h = (h ^ *p++) * UINT64_C(1099511628211);
	return h;
}

static int
tw_keycmp(const void *a, const void *b)
{
	const struct tw_key	*x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

/* The keys of the object that ends: each once, as V8 takes them. */
static int
tw_keys_once(struct tw *w, size_t mark)
{
	const unsigned char	*o = (const unsigned char *)w->out->p +
	    w->out->off + w->base;
	struct tw_key		*k, *x, *y;
	size_t			 n = w->nkeys - mark, i, j;

	/* No keys, no table (keys may still be NULL). */
	if (n < 2) {
		w->nkeys = mark;
		return 0;
	}
	k = w->keys + mark;
	qsort(k, n, sizeof *k, tw_keycmp);
	for (i = 0; i + 1 < n; i = j) {
		for (j = i + 1; j < n && k[j].hash == k[i].hash; j++) {
			x = k + i;
			y = k + j;
			if (x->len == y->len &&
			    memcmp(o + x->off, o + y->off, x->len) == 0) {
				/* Reported at the later of the two. */
				w->p = w->start + (x->text > y->text ?
				    x->text : y->text);
				return tw_fail(w, E_TWICE);
			}
		}
	}
	w->nkeys = mark;
	return 0;
}

static int
tw_key_push(struct tw *w, size_t from, const unsigned char *text)
{
	struct tw_key	*k;
	size_t		 at = w->out->len, cap;

	if (tw_put_units(w, from) == -1)
		return -1;
	if (w->nkeys == w->capkeys) {
		cap = w->capkeys ? w->capkeys * 2 : 16;
		if ((k = reallocarray(w->keys, cap, sizeof *k)) == NULL)
			return tw_fail(w, E_NOMEM);
		w->keys = k;
		w->capkeys = cap;
	}
	k = w->keys + w->nkeys++;
	k->off = at - w->base;
	k->len = w->out->len - at;
	k->text = (size_t)(text - w->start);
	k->hash = tw_hash((const unsigned char *)w->out->p + w->out->off + at,
	    k->len);
	return 0;
}

/* A tag's value that must be a string: read into w->u. */
static int
tw_tagstr(struct tw *w, const char *what)
{
	return w->p < w->e && *w->p == '"' ? tw_str(w) : tw_fail(w, what);
}

/* $map's [[k, v], ...] or $set's [v, ...]. */
static int
tw_collection(struct tw *w, size_t depth, int map)
{
	const char	*what = map ? E_MAP : E_SET;
	uint64_t	 n = 0;

	if (tw_tag(w, map ? ';' : '\'') == -1 || tw_expect(w, '[', what))
		return -1;
	while (w->p < w->e && *w->p != ']') {
		if (n > 0 && tw_expect(w, ',', what) == -1)
			return -1;
		if (map && tw_expect(w, '[', what) == -1)
			return -1;
		if (tw_value(w, depth, 0) == -1 ||
		    (map && (tw_expect(w, ',', what) == -1 ||
		    tw_value(w, depth, 0) == -1 ||
		    tw_expect(w, ']', what) == -1)))
			return -1;
		tw_ws(w);
		n += map ? 2 : 1;
	}
	if (w->p >= w->e)
		return tw_fail(w, what);
	w->p++;
	return tw_tag(w, map ? ':' : ',') == -1 ? -1 : tw_varint(w, n);
}

/*
 * $regexp's object, source and flags in either order: V8's tag, the
 * source, the flag bits. Only a RegExp the parent sent may go back.
 */
static int
tw_regexp(struct tw *w)
{
	static const char	 letters[] = "gimyusdv";
	const unsigned char	*at = w->p;
	const char		*c;
	uint64_t		 flags = 0, bit, h = 0;
	size_t			 i;
	int			 first = 1, source = 0, given = 0;

	if (tw_tag(w, 'R') == -1 || tw_expect(w, '{', E_RESHAPE) == -1)
		return -1;
	while (w->p < w->e && *w->p != '}') {
		if ((!first && tw_expect(w, ',', E_RESHAPE) == -1) ||
		    tw_tagstr(w, E_RESHAPE) == -1 ||
		    tw_expect(w, ':', E_RESHAPE) == -1)
			return -1;
		first = 0;
		if (tw_is(w, "source") && !source) {
			if (tw_tagstr(w, E_RESHAPE) == -1 ||
			    tw_put_units(w, 0) == -1)
				return -1;
			h = v8tag_re_hash(w->u, w->nu);
			source = 1;
		} else if (tw_is(w, "flags") && !given) {
			if (tw_tagstr(w, E_RESHAPE) == -1)
				return -1;
			given = 1;
			/* V8's bits: g1 i2 m4 y8 u16 s32, then d128 v256. */
			for (i = 0; i < w->nu; i++) {
				c = w->u[i] > 0 && w->u[i] <= 0x7f ?
				    strchr(letters, (char)w->u[i]) : NULL;
				if (c == NULL)
					return tw_fail(w, E_RESHAPE);
				bit = UINT64_C(1) << (c - letters +
				    (c - letters >= 6));
				if (flags & bit)
					return tw_fail(w, E_RESHAPE);
				flags |= bit;
			}
		} else
			return tw_fail(w, E_RESHAPE);
		tw_ws(w);
	}
	if (w->p >= w->e || !source)
		return tw_fail(w, E_RESHAPE);
	w->p++;
	h = v8tag_re_key(h, flags);
	for (i = 0; w->seen != NULL && i < w->seen->n; i++) {
		if (w->seen->hash[i] == h)
			return tw_varint(w, flags);
	}
	w->p = at;
	return tw_fail(w, E_REGEXP);
}

/* $error's object: its members in V8's sub-tags, in any order. */
static int
tw_error(struct tw *w, size_t depth)
{
	static const char	 kinds[] = "ERFSTU";
	static const char *const names[] = { "EvalError", "RangeError",
	    "ReferenceError", "SyntaxError", "TypeError", "URIError" };
	int			 first = 1, i;

	if (tw_tag(w, 'r') == -1 || tw_expect(w, '{', E_ERROR) == -1)
		return -1;
	while (w->p < w->e && *w->p != '}') {
		if ((!first && tw_expect(w, ',', E_ERROR) == -1) ||
		    tw_tagstr(w, E_ERROR) == -1 ||
		    tw_expect(w, ':', E_ERROR) == -1)
			return -1;
		first = 0;
		if (tw_is(w, "cause")) {
			if (tw_tag(w, 'c') == -1 || tw_value(w, depth, 0) == -1)
				return -1;
		} else if (tw_is(w, "message") || tw_is(w, "stack")) {
			if (tw_tag(w, w->u[0] == 'm' ? 'm' : 's') == -1 ||
			    tw_tagstr(w, E_ERROR) == -1 || tw_put_units(w, 0))
				return -1;
		} else if (tw_is(w, "name")) {
			if (tw_tagstr(w, E_ERROR) == -1)
				return -1;
			for (i = 0; i < 6 && !tw_is(w, names[i]); i++)
				;
			if (i == 6 && !tw_is(w, "Error"))
				return tw_fail(w, E_ERRNAME);
			if (i < 6 && tw_tag(w, kinds[i]) == -1)
				return -1;
		} else
			return tw_fail(w, E_ERROR);
		tw_ws(w);
	}
	if (w->p >= w->e)
		return tw_fail(w, E_ERROR);
	w->p++;
	return tw_tag(w, '.');
}

/* The value of a "$" tag named t, and the payload it stands for. */
static int
tw_tagged(struct tw *w, const char *t, size_t depth, int ctx)
{
	double		d;
	size_t		len, i;

	if (strcmp(t, "number") == 0) {
		if (tw_tagstr(w, E_NUMBER) == -1)
			return -1;
		if (tw_is(w, "NaN"))
			d = NAN;
		else if (tw_is(w, "Infinity") || tw_is(w, "-Infinity"))
			d = w->u[0] == '-' ? -INFINITY : INFINITY;
		else if (tw_is(w, "-0"))
			d = -0.0;
		else
			return tw_fail(w, E_NUMBER);
		return tw_double(w, ctx & TW_BOXED ? 'n' : T_DOUBLE, d);
	}
	if (strcmp(t, "bigint") == 0)
		return tw_tagstr(w, E_BIGINT) == -1 ? -1 :
		    tw_bigint(w, ctx & TW_BOXED ? 'z' : 'Z');
	if (ctx & TW_BOXED)
		return tw_fail(w, E_BOXED);
	if (strcmp(t, "undefined") == 0 || strcmp(t, "hole") == 0) {
		if (t[0] == 'h' && !(ctx & TW_ARRAY))
			return tw_fail(w, E_HOLE);
		if (tw_literal(w, "true") == -1)
			return tw_fail(w, E_TRUE);
		return tw_tag(w, t[0] == 'h' ? T_HOLE : T_UNDEFINED);
	}
	if (strcmp(t, "date") == 0) {
		if (tw_literal(w, "null") == 0)
			return tw_double(w, 'D', NAN);
		return tw_tagstr(w, E_DATE) == -1 || tw_date(w, &d) == -1 ? -1 :
		    tw_double(w, 'D', d);
	}
	if (strcmp(t, "map") == 0 || strcmp(t, "set") == 0)
		return tw_collection(w, depth, t[0] == 'm');
	if (strcmp(t, "error") == 0)
		return tw_error(w, depth);
	if (strcmp(t, "object") == 0)
		return tw_value(w, depth, TW_BOXED);
	if (strcmp(t, "regexp") == 0)
		return tw_regexp(w);
	if (strcmp(t, "arraybuffer") == 0)
		return tw_tagstr(w, E_B64) == -1 || tw_tag(w, 'B') == -1 ?
		    -1 : tw_base64(w, 1, &len);
	for (i = 0; i < V8TAG_NVIEWS; i++) {
		if (strcmp(t, v8tag_views[i]) == 0)
			break;
	}
	if (i == V8TAG_NVIEWS)
		return tw_fail(w, E_UNKNOWN);
	/* Node's host object: 0 for a view, its kind, then the bytes. */
	if (tw_tagstr(w, E_B64) == -1 || tw_tag(w, '\\') == -1 ||
	    tw_varint(w, 0) == -1 || tw_varint(w, i) == -1)
		return -1;
	return tw_base64(w, v8tag_view_size[i], &len);
}

/*
 * An object: a "$" tag when its first key has one '$', else an object
 * whose "$$" keys lose their first '$'.
 */
static int
tw_object(struct tw *w, size_t depth, int ctx)
{
	const unsigned char	*at;
	char			 t[24];
	size_t			 mark = w->nkeys;
	uint64_t		 n = 0;

	w->p++;
	tw_ws(w);
	if (w->p < w->e && *w->p == '"') {
		at = w->p;
		if (tw_str(w) == -1)
			return -1;
		if (w->nu > 0 && w->u[0] == '$' &&
		    (w->nu == 1 || w->u[1] != '$')) {
			if (tw_ascii(w, t, sizeof t) == -1) {
				w->p = at;
				return tw_fail(w, E_UNKNOWN);
			}
			if (tw_expect(w, ':', E_JSON) == -1)
				return -1;
			if (tw_tagged(w, t + 1, depth, ctx) == -1) {
				/* An unknown tag is reported at its key. */
				if (w->err->what == E_UNKNOWN)
					w->err->off = (size_t)(at - w->start);
				return -1;
			}
			return tw_expect(w, '}', E_MORE);
		}
		w->p = at;
	}
	if (ctx & TW_BOXED)
		return tw_fail(w, E_BOXED);
	if (tw_tag(w, T_OBJECT) == -1)
		return -1;
	while (w->p < w->e && *w->p != '}') {
		if (n > 0 && tw_expect(w, ',', E_JSON) == -1)
			return -1;
		at = w->p;
		if (tw_str(w) == -1)
			return -1;
		if (w->nu > 0 && w->u[0] == '$' &&
		    (w->nu == 1 || w->u[1] != '$')) {
			w->p = at;
			return tw_fail(w, E_DOLLAR);
		}
		if (tw_key_push(w, w->nu > 0 && w->u[0] == '$', at) == -1 ||
		    tw_expect(w, ':', E_JSON) == -1 ||
		    tw_value(w, depth, 0) == -1)
			return -1;
		tw_ws(w);
		n++;
	}
	if (w->p >= w->e)
		return tw_fail(w, E_JSON);
	w->p++;
	if (tw_keys_once(w, mark) == -1)
		return -1;
	return tw_tag(w, T_END_OBJECT) == -1 ? -1 : tw_varint(w, n);
}

/* An array, dense: its length goes first, so it is patched in after. */
static int
tw_array(struct tw *w, size_t depth)
{
	static const uint8_t	 pad[5] = { 0x80, 0x80, 0x80, 0x80, 0 };
	uint8_t			*h;
	uint64_t		 n = 0;
	size_t			 at;
	int			 i;

	w->p++;
	if (tw_tag(w, T_DENSE) == -1)
		return -1;
	at = w->out->len;
	if (tw_put(w, pad, sizeof pad) == -1)
		return -1;
	tw_ws(w);
	while (w->p < w->e && *w->p != ']') {
		if ((n > 0 && tw_expect(w, ',', E_JSON) == -1) ||
		    tw_value(w, depth, TW_ARRAY) == -1)
			return -1;
		tw_ws(w);
		if (++n > UINT32_MAX)
			return tw_fail(w, E_BIG);
	}
	if (w->p >= w->e)
		return tw_fail(w, E_JSON);
	w->p++;
	/* A varint of five bytes, which V8 reads as any other. */
	h = (uint8_t *)w->out->p + w->out->off + at;
	for (i = 0; i < 5; i++)
		h[i] = (uint8_t)((n >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
	return tw_tag(w, T_END_DENSE) == -1 || tw_varint(w, 0) == -1 ?
	    -1 : tw_varint(w, n);
}

static int
tw_value(struct tw *w, size_t depth, int ctx)
{
	int	yes;

	tw_ws(w);
	if (w->p >= w->e)
		return tw_fail(w, E_JSON);
	if (depth >= V8SER_MAXDEPTH)
		return tw_fail(w, E_DEEP);
	switch (*w->p) {
	case '{':
		return tw_object(w, depth + 1, ctx);
	case '[':
		return ctx & TW_BOXED ? tw_fail(w, E_BOXED) :
		    tw_array(w, depth + 1);
	case '"':
		if (tw_str(w) == -1)
			return -1;
		if ((ctx & TW_BOXED) && tw_tag(w, 's') == -1)
			return -1;
		return tw_put_units(w, 0);
	case 't':
	case 'f':
		yes = *w->p == 't';
		if (tw_literal(w, yes ? "true" : "false") == -1)
			return tw_fail(w, E_JSON);
		if (ctx & TW_BOXED)
			return tw_tag(w, yes ? 'y' : 'x');
		return tw_tag(w, yes ? T_TRUE : T_FALSE);
	case 'n':
		if (ctx & TW_BOXED)
			return tw_fail(w, E_BOXED);
		return tw_literal(w, "null") == -1 ? tw_fail(w, E_JSON) :
		    tw_tag(w, T_NULL);
	default:
		return tw_number(w, ctx & TW_BOXED);
	}
}

/*
 * Encode one tagged JSON text as a V8 payload appended to out. Returns 0,
 * or -1 with *e saying what and at which byte of the text (out is then
 * as it was).
 */
int
v8tag_encode(const char *json, size_t n, struct buf *out,
    struct v8ser_err *e, const struct v8tag_seen *seen)
{
	struct tw	w;
	uint8_t		h[2] = { T_VERSION, V8_VERSION };
	int		rc;

	memset(e, 0, sizeof *e);
	e->tag = -1;
	memset(&w, 0, sizeof w);
	w.p = w.start = (const unsigned char *)json;
	w.e = w.p + n;
	w.out = out;
	w.base = out->len;
	w.err = e;
	w.seen = seen;
	rc = tw_put(&w, h, sizeof h) == -1 || tw_value(&w, 0, 0) == -1 ?
	    -1 : 0;
	if (rc == 0) {
		tw_ws(&w);
		if (w.p != w.e)
			rc = tw_fail(&w, E_JSON);
	}
	if (rc == 0 && out->len - w.base > (size_t)UINT32_MAX)
		rc = tw_fail(&w, E_BIG);
	if (rc == -1)
		out->len = w.base;
	free(w.keys);
	free(w.u);
	return rc;
}
