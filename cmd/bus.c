/* SPDX-License-Identifier: ISC */
/*
 * A Redis address as the user gave it: parsed, its password taken from
 * REDISCLI_AUTH when the address has none, and its password wiped from
 * the command line. Shared by pub, sub and run's --from and --to.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "bus.h"

/*
 * Parse arg into u. name gets the address as it may be shown, without
 * its password. Returns -1 after a one-line error (the caller exits 125).
 */
int
bus_addr(const struct cmd_entry *ce, struct redisurl *u, char *arg,
    char *name, size_t len)
{
	const char	*env;
	char		 err[300], copy[2048];
	size_t		 off, n;
	int		 r;

	if (strlcpy(copy, arg, sizeof copy) >= sizeof copy) {
		cmd_warnx(ce, "'%.40s...': address too long", arg);
		return -1;
	}
	/* Off the command line that ps shows, before anything can fail. */
	off = redisurl_pass_span(arg, &n);
	if (n > 0)
		memset(arg + off, '*', n);
	snprintf(name, len, "%s", arg);
	r = redisurl_parse(u, copy, err, sizeof err);
	explicit_bzero(copy, sizeof copy);
	if (r == -1) {
		cmd_warnx(ce, "'%s': %s", name, err);
		return -1;
	}
	if (!u->has_pass && (env = getenv("REDISCLI_AUTH")) != NULL &&
	    *env != '\0') {
		if (strlen(env) >= sizeof u->pass) {
			cmd_warnx(ce, "REDISCLI_AUTH: too long");
			return -1;
		}
		strlcpy(u->pass, env, sizeof u->pass);
		u->has_pass = 1;
	}
	if (!rbus_available(err, sizeof err)) {
		cmd_warnx(ce, "'%s': %s", name, err);
		return -1;
	}
	return 0;
}

/* What went wrong with a connection, in one phrase. */
const char *
bus_err(const struct rconn *c, const char *own)
{
	if (own != NULL && *own != '\0')
		return own;
	return c->err[0] != '\0' ? c->err : "connection failed";
}
