/* SPDX-License-Identifier: ISC */
/*
 * color.c: the one decision on colour. always and never are what they
 * say; auto colours a terminal, unless NO_COLOR is set and not empty
 * (no-color.org) or TERM is dumb or unset.
 */
#include "compat.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "color.h"

/* --color WHEN: 0, or -1 for a word that is none of the three. */
int
color_parse(const char *s, enum color_mode *m)
{
	if (strcmp(s, "auto") == 0)
		*m = COLOR_AUTO;
	else if (strcmp(s, "always") == 0)
		*m = COLOR_ALWAYS;
	else if (strcmp(s, "never") == 0)
		*m = COLOR_NEVER;
	else
		return -1;
	return 0;
}

/* Colour what goes to fd? */
int
color_on(enum color_mode m, int fd)
{
	const char	*nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (m != COLOR_AUTO)
		return m == COLOR_ALWAYS;
	if (nc != NULL && *nc != '\0')
		return 0;
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fd);
}
