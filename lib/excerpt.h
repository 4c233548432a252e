/* SPDX-License-Identifier: ISC */
/*
 * excerpt.c: a refused line made safe to show.
 */
#ifndef EXCERPT_H
#define EXCERPT_H

#include <stddef.h>

size_t		 excerpt_json(const char *, size_t, size_t, char *, size_t);
size_t		 excerpt_line(const char *, size_t, int, size_t, size_t, char *,
		    size_t);

#endif
