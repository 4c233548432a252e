/* SPDX-License-Identifier: ISC */
/*
 * envelope.c: {"to":...,"msg":M} in, {"from":...,"pid":...,"msg":M} out.
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>
#include <sys/types.h>

#include "jscan.h"

#define ENVELOPE_MAXTO	1024	/* names in one "to" list */

struct envelope_to {
	const char	*name;	/* decoded, NUL-terminated (may hold NULs) */
	size_t		 len;	/* decoded bytes */
	struct jscan_span span;	/* the JSON string in the line */
};

struct envelope {
	struct jscan_span msg;	/* M: its original bytes in the line */
	int		 all;	/* "to":"*" */
	size_t		 nto;	/* names in to[], when not all */
	struct envelope_to *to;

	/* Private: kept across lines, so parsing allocates once. */
	struct jscan	 js;
	size_t		 capto;
	char		*names;
	size_t		 capnames;
};

void		 envelope_init(struct envelope *);
void		 envelope_release(struct envelope *);
int		 envelope_parse(struct envelope *, const char *, size_t,
		    const char **);
size_t		 envelope_prefix(char *, size_t, const char *, pid_t);
size_t		 envelope_quote(char *, size_t, const char *);

#endif
