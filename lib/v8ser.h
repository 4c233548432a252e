/* SPDX-License-Identifier: ISC */
/*
 * v8ser_decode.c, v8ser_encode.c: the JSON subset of V8's serializer
 * (Node's 'advanced' mode).
 */
#ifndef V8SER_H
#define V8SER_H

#include <stddef.h>

struct buf;

#define V8SER_MAXDEPTH	1000	/* objects and arrays nested, either way */

struct v8ser_err {
	const char	*what;	/* the reason, or the type outside the subset */
	size_t		 off;	/* byte of the payload (decode) or text */
	int		 tag;	/* decode: the byte at off, or -1 */
	int		 type;	/* what names a type outside the subset */
};

int		 v8ser_decode(const void *, size_t, struct buf *, size_t,
		    struct v8ser_err *);
int		 v8ser_encode(const char *, size_t, struct buf *,
		    struct v8ser_err *);
size_t		 v8ser_number(double, char *, size_t);

#endif
