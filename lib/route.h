/* SPDX-License-Identifier: ISC */
/*
 * route.c: which child takes a line: key paths, stable hashes, rr.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define ROUTE_KEY_DEPTH	16	/* members in a key path */
#define ROUTE_KEY_BYTES	256	/* their decoded names, NULs included */

struct route_key {
	unsigned	 n;				/* members */
	uint16_t	 off[ROUTE_KEY_DEPTH];		/* in name */
	uint16_t	 len[ROUTE_KEY_DEPTH];
	char		 name[ROUTE_KEY_BYTES];	/* decoded, NUL after each */
};

int		 route_key_parse(struct route_key *, const char *,
		    const char **);
int		 route_key(const struct route_key *, const char *, size_t,
		    uint64_t *);
unsigned	 route_pick(uint64_t, unsigned);
int		 route_rr(unsigned *, unsigned, int (*)(void *, unsigned),
		    void *);

#endif
