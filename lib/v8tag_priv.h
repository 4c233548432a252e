/* SPDX-License-Identifier: ISC */
/*
 * Private to the tagged codec (v8tag.h). Each direction is two files:
 * v8tag_read.c reads V8's bytes and writes the scalars as tagged text,
 * for v8tag_decode.c, which walks the values; v8tag_write.c reads the
 * text and writes the scalars as V8's bytes, for v8tag_encode.c.
 */
#ifndef V8TAG_PRIV_H
#define V8TAG_PRIV_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct v8ser_err;

/* Decoding: a V8 payload read, tagged text written. */
struct tg_obj {
	size_t	start, end;	/* its text in out, once done */
	int	done;
};

struct tg_rd {
	const uint8_t	*p;
	size_t		 n, i;
	struct buf	*out;
	size_t		 base, max;
	struct tg_obj	*ids;
	size_t		 nids, capids;
	struct v8ser_err *e;
	struct v8tag_seen *seen;	/* RegExps noted, or NULL */
};

int	tg_fail(struct tg_rd *, const char *, size_t);
int	tg_put(struct tg_rd *, const void *, size_t);
int	tg_puts(struct tg_rd *, const char *);
int	tg_varint(struct tg_rd *, uint64_t *, int);
int	tg_peek(struct tg_rd *);
int	tg_bytes(struct tg_rd *, uint64_t, const uint8_t **);
int	tg_string(struct tg_rd *, int, int);
int	tg_string_value(struct tg_rd *);
int	tg_double(struct tg_rd *, double *);
int	tg_number(struct tg_rd *, double);
int	tg_bigint(struct tg_rd *);
int	tg_date(struct tg_rd *, double);
int	tg_base64(struct tg_rd *, const uint8_t *, size_t);
uint64_t v8tag_re_hash(const uint16_t *, size_t);
uint64_t v8tag_re_key(uint64_t, uint64_t);

/* Encoding: tagged text read, a V8 payload written. */
struct tw_key {
	uint64_t	hash;
	size_t		off, len;	/* its bytes, from base */
	size_t		text;		/* its quote in the text */
};

struct tw {
	const unsigned char	*p, *e, *start;
	struct buf		*out;
	size_t			 base;
	struct v8ser_err	*err;
	struct tw_key		*keys;	/* each object's on top */
	size_t			 nkeys, capkeys;
	uint16_t		*u;	/* the last string read, as UTF-16 */
	size_t			 nu, capu;
	const struct v8tag_seen	*seen;	/* RegExps that may go, or NULL */
};

int	tw_fail(struct tw *, const char *);
int	tw_put(struct tw *, const void *, size_t);
int	tw_tag(struct tw *, int);
int	tw_varint(struct tw *, uint64_t);
int	tw_double(struct tw *, int, double);
void	tw_ws(struct tw *);
int	tw_expect(struct tw *, int, const char *);
int	tw_literal(struct tw *, const char *);
int	tw_str(struct tw *);
int	tw_put_units(struct tw *, size_t);
int	tw_is(const struct tw *, const char *);
int	tw_ascii(const struct tw *, char *, size_t);
int	tw_number(struct tw *, int);
int	tw_base64(struct tw *, size_t, size_t *);
int	tw_date(struct tw *, double *);
int	tw_bigint(struct tw *, int);

#endif
