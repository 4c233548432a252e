/* SPDX-License-Identifier: ISC */
/*
 * JSON text to V8's ValueSerializer format (version 15), the other way
 * from v8ser_decode.c: one valid JSON text (as jscan checks it) becomes a
 * payload that V8 reads back as the same value, with strings one byte per
 * unit when all fit in Latin-1 and integers as int32 where V8 would use
 * them. A key that comes twice in an object is written once, as
 * JSON.parse keeps it: V8 refuses a payload with the key twice.
 */
#include "compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "v8ser.h"
#include "v8ser_priv.h"

static const char E_DEEP[] = "nested deeper than 1000 levels";
static const char E_BIG[] = "too large";
static const char E_NOMEM[] = "out of memory";
static const char E_JSON[] = "invalid JSON";

/*
 * Offsets in the text and in the payload are 32-bit, to keep a key's
 * record small in an object of millions of keys: a text is at most
 * V8SER_MAXTEXT bytes (V8's strings end at 512 Mi units anyway), and its
 * payload at most four times that.
 */
#define V8SER_MAXTEXT	(UINT32_MAX / 8)

/* A key of an object being written: its bytes in the payload, its text. */
struct wr_key {
	uint32_t	 out;		/* key bytes, from the payload's start */
	uint32_t	 len;
	uint32_t	 hash;
	uint32_t	 ktext;		/* the key's opening quote */
	uint32_t	 vtext;		/* its value; UINT32_MAX: dropped */
};

/* An object with a duplicate key: its members as JSON.parse keeps them. */
struct wr_obj {
	uint32_t	 at;		/* the text's '{' */
	uint32_t	 end;		/* after its '}' */
	size_t		 first;		/* in mems */
	size_t		 n;
};

struct wr_mem {
	uint32_t	 ktext, vtext;
};

struct v8ser_wr {
	const unsigned char	*p, *e;
	const unsigned char	*start;
	struct buf		*out;
	size_t			 base;	/* the payload's start in out */
	struct v8ser_err	*err;

	/*
	 * First pass: the keys of the objects being written (a stack, each
	 * object's on top of its parent's) and the objects found to have a
	 * duplicate key. Second pass (dedup), only then: those objects are
	 * written from their table, every other one as it is.
	 */
	int			 dedup;
	struct wr_key		*keys;
	size_t			 nkeys, capkeys;
	struct wr_obj		*objs;
	size_t			 nobjs, capobjs;
	struct wr_mem		*mems;
	size_t			 nmems, capmems;
};

static int
wr_fail(struct v8ser_wr *w, const char *what)
{
	if (w->err->what == NULL) {
		w->err->what = what;
		w->err->off = (size_t)(w->p - w->start);
	}
	return -1;
}

static int
wr_put(struct v8ser_wr *w, const void *s, size_t n)
{
	if (buf_append(w->out, s, n) == -1)
		return wr_fail(w, E_NOMEM);
	return 0;
}

/* Room for one more of n elements of size sz at *pp (capacity *cap). */
static int
wr_grow(struct v8ser_wr *w, void **pp, size_t *cap, size_t n, size_t sz)
{
	void	*np;
	size_t	 nc;

	if (n < *cap)
		return 0;
	nc = *cap < 16 ? 16 : *cap * 2;
	if ((np = reallocarray(*pp, nc, sz)) == NULL)
		return wr_fail(w, E_NOMEM);
	*pp = np;
	*cap = nc;
	return 0;
}

static const unsigned char *
wr_keybytes(const struct v8ser_wr *w, const struct wr_key *k)
{
	return (const unsigned char *)w->out->p + w->out->off + w->base +
	    k->out;
}

/* Keys compare by their encoded bytes: equal strings, equal bytes. */
static int
wr_keyeq(const struct v8ser_wr *w, const struct wr_key *x,
    const struct wr_key *y)
{
	return x->hash == y->hash && x->len == y->len &&
	    memcmp(wr_keybytes(w, x), wr_keybytes(w, y), x->len) == 0;
}

static int
wr_keycmp(const void *a, const void *b, void *arg)
{
	const struct v8ser_wr	*w = arg;
	const struct wr_key	*x = a, *y = b;
	int			 c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(wr_keybytes(w, x), wr_keybytes(w, y), x->len)) != 0)
		return c;
	/* Then in the order they came (out grows with it). */
	return x->out < y->out ? -1 : x->out > y->out;
}

static int
wr_ordercmp(const void *a, const void *b)
{
	const struct wr_key	*x = a, *y = b;

	return x->out < y->out ? -1 : x->out > y->out;
}

static int
wr_objcmp(const void *a, const void *b)
{
	const struct wr_obj	*x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* The key just written, from byte at of the payload, onto the stack. */
static int
wr_key_push(struct v8ser_wr *w, size_t at, size_t ktext)
{
	struct wr_key	*k;
	const uint8_t	*b;
	uint32_t	 h = 2166136261u;
	size_t		 i;

	if (wr_grow(w, (void **)&w->keys, &w->capkeys, w->nkeys,
	    sizeof *w->keys) == -1)
		return -1;
	k = &w->keys[w->nkeys++];
	k->out = (uint32_t)(at - w->base);
	k->len = (uint32_t)(w->out->len - at);
	k->ktext = (uint32_t)ktext;
	b = wr_keybytes(w, k);
	for (i = 0; i < k->len; i++)	/* FNV-1a */
		h = (h ^ b[i]) * 16777619u;
	k->hash = h;
	return 0;
}

/*
 * The value that follows the key on top of the stack starts at vtext.
 */
static void
wr_key_value(struct v8ser_wr *w, size_t vtext)
{
	w->keys[w->nkeys - 1].vtext = (uint32_t)vtext;
}

/*
 * The object from text at to end has written its keys from mark on: if
 * one came twice, its members as JSON.parse keeps them (each key where
 * it came first, with the value it had last) go into the table for the
 * second pass. Sorted, not compared pairwise, beyond a few keys: an
 * object of 100,000 keys costs no more than sorting them.
 */
static int
wr_obj_end(struct v8ser_wr *w, size_t mark, size_t at, size_t end)
{
	struct wr_key	*k = w->keys + mark, *g;
	struct wr_obj	*o;
	size_t		 n = w->nkeys - mark, i, j;
	int		 dup = 0;

	if (n > 8)
		dup = 1;	/* not known yet: the sort says */
	for (i = 0; i < n && !dup; i++)
		for (j = i + 1; j < n && !dup; j++)
			dup = wr_keyeq(w, &k[i], &k[j]);
	if (!dup)
		goto out;
	qsort_r(k, n, sizeof *k, wr_keycmp, w);
	dup = 0;
	for (i = 0; i < n; i = j) {
		/* A run of one key: the first keeps its place, the last value. */
		for (j = i + 1; j < n && wr_keyeq(w, &k[i], &k[j]); j++) {
			k[i].vtext = k[j].vtext;
			k[j].vtext = UINT32_MAX;
			dup = 1;
		}
	}
	if (!dup)
		goto out;
	qsort(k, n, sizeof *k, wr_ordercmp);
	if (wr_grow(w, (void **)&w->objs, &w->capobjs, w->nobjs,
	    sizeof *w->objs) == -1)
		return -1;
	o = &w->objs[w->nobjs++];
	o->at = (uint32_t)at;
	o->end = (uint32_t)end;
	o->first = w->nmems;
	o->n = 0;
	for (g = k; g < k + n; g++) {
		if (g->vtext == UINT32_MAX)
			continue;
		if (wr_grow(w, (void **)&w->mems, &w->capmems, w->nmems,
		    sizeof *w->mems) == -1)
			return -1;
		w->mems[w->nmems].ktext = g->ktext;
		w->mems[w->nmems++].vtext = g->vtext;
		o->n++;
	}
out:
	w->nkeys = mark;
	return 0;
}

static int	wr_value(struct v8ser_wr *, size_t);
static int	wr_string(struct v8ser_wr *);
static int	wr_varint(struct v8ser_wr *, uint64_t);

/*
 * Second pass, an object of the table: its members in JSON.parse's order
 * and values, the text resumed after its '}'.
 */
static int
wr_obj_dedup(struct v8ser_wr *w, const struct wr_obj *o, size_t depth)
{
	const struct wr_mem	*m;
	uint8_t			 b = T_OBJECT;

	if (wr_put(w, &b, 1) == -1)
		return -1;
	for (m = w->mems + o->first; m < w->mems + o->first + o->n; m++) {
		w->p = w->start + m->ktext;
		if (wr_string(w) == -1)
			return -1;
		w->p = w->start + m->vtext;
		if (wr_value(w, depth + 1) == -1)
			return -1;
	}
	w->p = w->start + o->end;
	b = T_END_OBJECT;
	if (wr_put(w, &b, 1) == -1)
		return -1;
	return wr_varint(w, o->n);
}

static int
wr_varint(struct v8ser_wr *w, uint64_t v)
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
	return wr_put(w, b, k);
}

static void
wr_ws(struct v8ser_wr *w)
{
	while (w->p < w->e && (*w->p == ' ' || *w->p == '\t' ||
	    *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

static int
wr_hex(const unsigned char *p)
{
	int	i, v = 0, c;

	for (i = 0; i < 4; i++) {
		c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return -1;
		v = v << 4 | c;
	}
	return v;
}

/*
 * The next UTF-16 unit(s) of a JSON string body at *pp: 1 or 2 units in
 * u, 0 at the closing quote, -1 when invalid. v8tag_encode.c reads its
 * strings with it too.
 */
int
v8ser_unit(const unsigned char **pp, const unsigned char *e, uint16_t u[2])
{
	const unsigned char	*p = *pp;
	long			 cp;
	int			 h;

	if (p >= e)
		return -1;
	if (*p == '"')
		return 0;
	if (*p == '\\') {
		if (p + 1 >= e)
			return -1;
		switch (p[1]) {
		case '"': case '\\': case '/':
			u[0] = p[1];
			break;
		case 'b':
			u[0] = '\b';
			break;
		case 'f':
			u[0] = '\f';
			break;
		case 'n':
			u[0] = '\n';
			break;
		case 'r':
			u[0] = '\r';
			break;
		case 't':
			u[0] = '\t';
			break;
		case 'u':
			if (e - p < 6 || (h = wr_hex(p + 2)) < 0)
				return -1;
			u[0] = (uint16_t)h;
			*pp = p + 6;
			return 1;
		default:
			return -1;
		}
		*pp = p + 2;
		return 1;
	}
	if (*p < 0x20)
		return -1;
	if ((cp = v8ser_utf8(&p, e)) < 0)
		return -1;
	*pp = p;
	if (cp >= 0x10000) {
		cp -= 0x10000;
		u[0] = (uint16_t)(0xd800 + (cp >> 10));
		u[1] = (uint16_t)(0xdc00 + (cp & 0x3ff));
		return 2;
	}
	u[0] = (uint16_t)cp;
	return 1;
}

/* A JSON string: one byte per unit when all fit in Latin-1, else UTF-16. */
static int
wr_string(struct v8ser_wr *w)
{
	const unsigned char	*q;
	uint16_t		 u[2];
	uint8_t			 b[4];
	size_t			 units = 0;
	int			 k, wide = 0, i;

	w->p++;		/* the opening quote */
	for (q = w->p; (k = v8ser_unit(&q, w->e, u)) > 0;) {
		units += (size_t)k;
		if (u[0] > 0xff || k == 2)
			wide = 1;
	}
	if (k < 0) {
		w->p = q;
		return wr_fail(w, E_JSON);
	}
	b[0] = wide ? T_TWOBYTE : T_ONEBYTE;
	if (wr_put(w, b, 1) == -1 || wr_varint(w, wide ? units * 2 : units)
	    == -1)
		return -1;
	while ((k = v8ser_unit(&w->p, w->e, u)) > 0) {
		for (i = 0; i < k; i++) {
			b[0] = (uint8_t)(u[i] & 0xff);
			b[1] = (uint8_t)(u[i] >> 8);
			if (wr_put(w, b, wide ? 2 : 1) == -1)
				return -1;
		}
	}
	w->p++;		/* the closing quote */
	return 0;
}

static int
wr_number(struct v8ser_wr *w)
{
	const unsigned char	*s = w->p;
	char			 small[64], *t = small;
	uint8_t			 b[9];
	uint64_t		 u;
	size_t			 n;
	long long		 v;
	double			 d;
	int			 integer = 1, i;

	while (w->p < w->e && ((*w->p >= '0' && *w->p <= '9') ||
	    *w->p == '-' || *w->p == '+' || *w->p == '.' || *w->p == 'e' ||
	    *w->p == 'E')) {
		if (*w->p == '.' || *w->p == 'e' || *w->p == 'E')
			integer = 0;
		w->p++;
	}
	n = (size_t)(w->p - s);
	if (n == 0 || (n == 1 && *s == '-'))
		return wr_fail(w, E_JSON);
	if (n >= sizeof small && (t = malloc(n + 1)) == NULL)
		return wr_fail(w, E_NOMEM);
	memcpy(t, s, n);
	t[n] = '\0';
	/* An integer that fits is what V8 writes as a Smi; -0 is a double. */
	if (integer && n <= 11 && !(*s == '-' && s[1] == '0')) {
		v = strtoll(t, NULL, 10);
		if (v >= INT32_MIN && v <= INT32_MAX) {
			if (t != small)
				free(t);
			b[0] = T_INT32;
			if (wr_put(w, b, 1) == -1)
				return -1;
			return wr_varint(w, (uint32_t)(((uint32_t)v << 1) ^
			    (uint32_t)((int32_t)v >> 31)));
		}
	}
	d = strtod(t, NULL);
	if (t != small)
		free(t);
	memcpy(&u, &d, sizeof u);
	b[0] = T_DOUBLE;
	for (i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(u >> (8 * i));
	return wr_put(w, b, 9);
}

static int
wr_value(struct v8ser_wr *w, size_t depth)
{
	uint8_t		 b[8];
	uint64_t	 count;
	size_t		 lenat, at, mark, kout, ktext;
	int		 i;

	wr_ws(w);
	if (w->p >= w->e)
		return wr_fail(w, E_JSON);
	switch (*w->p) {
	case '{':
		if (depth >= V8SER_MAXDEPTH)
			return wr_fail(w, E_DEEP);
		at = (size_t)(w->p - w->start);
		if (w->dedup) {
			struct wr_obj	 key, *o;

			key.at = (uint32_t)at;
			if ((o = bsearch(&key, w->objs, w->nobjs, sizeof key,
			    wr_objcmp)) != NULL)
				return wr_obj_dedup(w, o, depth);
		}
		mark = w->nkeys;
		w->p++;
		b[0] = T_OBJECT;
		if (wr_put(w, b, 1) == -1)
			return -1;
		count = 0;
		wr_ws(w);
		if (w->p < w->e && *w->p == '}')
			w->p++;
		else for (;;) {
			wr_ws(w);
			if (w->p >= w->e || *w->p != '"')
				return wr_fail(w, E_JSON);
			kout = w->out->len;
			ktext = (size_t)(w->p - w->start);
			if (wr_string(w) == -1 || (!w->dedup &&
			    wr_key_push(w, kout, ktext) == -1))
				return -1;
			wr_ws(w);
			if (w->p >= w->e || *w->p++ != ':')
				return wr_fail(w, E_JSON);
			if (!w->dedup)
				wr_key_value(w, (size_t)(w->p - w->start));
			if (wr_value(w, depth + 1) == -1)
				return -1;
			count++;
			wr_ws(w);
			if (w->p < w->e && *w->p == ',') {
				w->p++;
				continue;
			}
			if (w->p < w->e && *w->p == '}') {
				w->p++;
				break;
			}
			return wr_fail(w, E_JSON);
		}
		if (!w->dedup && wr_obj_end(w, mark, at,
		    (size_t)(w->p - w->start)) == -1)
			return -1;
		b[0] = T_END_OBJECT;
		if (wr_put(w, b, 1) == -1)
			return -1;
		return wr_varint(w, count);
	case '[':
		if (depth >= V8SER_MAXDEPTH)
			return wr_fail(w, E_DEEP);
		w->p++;
		/*
		 * The length comes first and is known only at the end: a
		 * 5-byte varint is kept for it (V8 reads one that is not
		 * minimal) and filled in afterwards.
		 */
		b[0] = T_DENSE;
		memset(b + 1, 0x80, 4);
		b[5] = 0;
		if (wr_put(w, b, 6) == -1)
			return -1;
		lenat = w->out->len - 5;
		count = 0;
		wr_ws(w);
		if (w->p < w->e && *w->p == ']')
			w->p++;
		else for (;;) {
			if (wr_value(w, depth + 1) == -1)
				return -1;
			count++;
			wr_ws(w);
			if (w->p < w->e && *w->p == ',') {
				w->p++;
				continue;
			}
			if (w->p < w->e && *w->p == ']') {
				w->p++;
				break;
			}
			return wr_fail(w, E_JSON);
		}
		if (count > UINT32_MAX)
			return wr_fail(w, E_BIG);
		for (i = 0; i < 5; i++)
			w->out->p[w->out->off + lenat + (size_t)i] =
			    (char)(((count >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
		b[0] = T_END_DENSE;
		b[1] = 0;
		if (wr_put(w, b, 2) == -1)
			return -1;
		return wr_varint(w, count);
	case '"':
		return wr_string(w);
	case 't':
		if (w->e - w->p < 4 || memcmp(w->p, "true", 4) != 0)
			return wr_fail(w, E_JSON);
		w->p += 4;
		b[0] = T_TRUE;
		return wr_put(w, b, 1);
	case 'f':
		if (w->e - w->p < 5 || memcmp(w->p, "false", 5) != 0)
			return wr_fail(w, E_JSON);
		w->p += 5;
		b[0] = T_FALSE;
		return wr_put(w, b, 1);
	case 'n':
		if (w->e - w->p < 4 || memcmp(w->p, "null", 4) != 0)
			return wr_fail(w, E_JSON);
		w->p += 4;
		b[0] = T_NULL;
		return wr_put(w, b, 1);
	default:
		return wr_number(w);
	}
}

/*
 * Encode one JSON text (valid, as jscan checks it; surrounding whitespace
 * allowed) and append the payload, version header included, to out.
 * Returns 0, or -1 with *e (out is then as it was). An object with a
 * duplicate key is found only once written: then the text is written
 * again, each such object from the table the first pass made.
 */
int
v8ser_encode(const char *json, size_t n, struct buf *out,
    struct v8ser_err *e)
{
	struct v8ser_wr	w;
	static const uint8_t hdr[2] = { T_VERSION, V8_VERSION };
	size_t		base = out->len;
	int		rc = -1;

	memset(e, 0, sizeof *e);
	memset(&w, 0, sizeof w);
	w.start = (const unsigned char *)json;
	w.e = w.start + n;
	w.out = out;
	w.base = base;
	w.err = e;
	if (n > V8SER_MAXTEXT) {
		w.p = w.start;
		wr_fail(&w, E_BIG);
		goto fail;
	}
	for (;;) {
		w.p = w.start;
		if (wr_put(&w, hdr, sizeof hdr) == -1 || wr_value(&w, 0) == -1)
			goto fail;
		wr_ws(&w);
		if (w.p != w.e) {
			wr_fail(&w, E_JSON);
			goto fail;
		}
		if (w.dedup || w.nobjs == 0)
			break;
		qsort(w.objs, w.nobjs, sizeof *w.objs, wr_objcmp);
		w.dedup = 1;
		out->len = base;
	}
	rc = 0;
	goto out;
fail:
	out->len = base;
	e->tag = -1;
out:
	free(w.keys);
	free(w.objs);
	free(w.mems);
	return rc;
}
