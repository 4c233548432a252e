/* SPDX-License-Identifier: ISC */
/*
 * The Redis bus seen from cmd/: an address from the command line (its
 * password from REDISCLI_AUTH, and wiped from what ps shows), and the
 * reports pub, sub and run share.
 */
#ifndef BUS_H
#define BUS_H

#include "rbus.h"
#include "redisurl.h"

struct cmd_entry;

int		 bus_addr(const struct cmd_entry *, struct redisurl *, char *,
		    char *, size_t);
const char	*bus_err(const struct rconn *, const char *);

#endif
