/* SPDX-License-Identifier: ISC */
/*
 * words.c: a command line split as sh(1) would, without expansions, and
 * the name a command goes by.
 */
#ifndef WORDS_H
#define WORDS_H

#include <stddef.h>

#define WORDS_NAME_MAX	64	/* bytes in a -c NAME */

int		 words_split(const char *, char ***, char *, size_t);
int		 words_name_cmd(const char *, char **, char ***, char *,
		    size_t);
const char	*words_cmd_name(char *const *, size_t *);

#endif
