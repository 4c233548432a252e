/*
 * What ipcrun knows of Node's channel: the environment a Node child needs
 * (NODE_CHANNEL_FD, json mode, the drain preload through NODE_OPTIONS),
 * and the internal messages of ipcrun's end-of-input protocol.
 */
#include "compat.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcrun.h"

#ifndef IPCRUN_DATADIR
#define IPCRUN_DATADIR "/usr/local/share/ipcrun"
#endif

extern char **environ;

static int
nodechan_env_is(const char *entry, const char *name)
{
	size_t	n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Variables a child must never inherit from ipcrun's own environment. */
static int
nodechan_env_stale(const char *e, int node)
{
	if (nodechan_env_is(e, "NODE_CHANNEL_FD") ||
	    nodechan_env_is(e, "NODE_CHANNEL_SERIALIZATION_MODE") ||
	    nodechan_env_is(e, NODECHAN_ENV_OPTIONS) ||
	    nodechan_env_is(e, NODECHAN_ENV_CHANNEL))
		return 1;
	return node && nodechan_env_is(e, "NODE_OPTIONS");
}

static char *
nodechan_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
nodechan_strf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r == -1 ? NULL : s;
}

/*
 * NODE_OPTIONS takes double-quoted values with \" and \\ escapes (single
 * quotes and backslash-space do not work). Returns a new string.
 */
char *
nodechan_quote(const char *path)
{
	size_t	 n = 3;
	char	*q, *o;
	const char *p;

	for (p = path; *p != '\0'; p++)
		n += (*p == '"' || *p == '\\') ? 2 : 1;
	if ((q = malloc(n)) == NULL)
		return NULL;
	o = q;
	*o++ = '"';
	for (p = path; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/*
 * The environment of a child: ipcrun's own, without any inherited
 * channel variables. chan_fd >= 0 adds the Node channel; preload, if not
 * NULL, is appended to NODE_OPTIONS as --require, with the user's value
 * kept in NODECHAN_ENV_OPTIONS (absent if NODE_OPTIONS was unset) so that
 * the preload can put it back exactly. ino names ipcrun's channel for the
 * preload. Returns a NULL-terminated array for nodechan_env_free.
 */
char **
nodechan_env(int chan_fd, const char *preload, unsigned long long ino)
{
	char		**env, **ep;
	const char	*user = getenv("NODE_OPTIONS");
	size_t		 n = 0, i = 0;
	char		*q;

	for (ep = environ; *ep != NULL; ep++)
		n++;
	if ((env = calloc(n + 6, sizeof *env)) == NULL)
		return NULL;
	for (ep = environ; *ep != NULL; ep++) {
		if (nodechan_env_stale(*ep, preload != NULL))
			continue;
		if ((env[i++] = strdup(*ep)) == NULL)
			goto fail;
	}
	if (chan_fd >= 0) {
		if ((env[i++] = nodechan_strf("NODE_CHANNEL_FD=%d",
		    chan_fd)) == NULL)
			goto fail;
		if ((env[i++] = strdup("NODE_CHANNEL_SERIALIZATION_MODE=json"))
		    == NULL)
			goto fail;
	}
	if (preload != NULL) {
		if ((q = nodechan_quote(preload)) == NULL)
			goto fail;
		env[i] = nodechan_strf("NODE_OPTIONS=%s%s--require %s",
		    user ? user : "", user && *user ? " " : "", q);
		free(q);
		if (env[i++] == NULL)
			goto fail;
		if (user != NULL && (env[i++] = nodechan_strf("%s=%s",
		    NODECHAN_ENV_OPTIONS, user)) == NULL)
			goto fail;
		if ((env[i++] = nodechan_strf("%s=%llu", NODECHAN_ENV_CHANNEL,
		    ino)) == NULL)
			goto fail;
	}
	env[i] = NULL;
	return env;
fail:
	nodechan_env_free(env);
	return NULL;
}

void
nodechan_env_free(char **env)
{
	char	**ep;

	if (env == NULL)
		return;
	for (ep = env; *ep != NULL; ep++)
		free(*ep);
	free(env);
}

/*
 * Where the drain preload is: $IPCRUN_PRELOAD if set, else next to the
 * binary in a build tree (<dir of the binary>/share/), else the installed
 * copy under IPCRUN_DATADIR. Fills buf with the first candidate that is
 * readable; returns -1 with errno (and buf naming the last candidate)
 * when none is.
 */
int
nodechan_preload_path(char *buf, size_t len)
{
	char		 exe[PATH_MAX], *slash;
	const char	*env = getenv("IPCRUN_PRELOAD");
	ssize_t		 r;

	if (env != NULL && *env != '\0') {
		/*
		 * Absolute, or node would take "dir/x.js" for a module
		 * name and refuse to start.
		 */
		if ((size_t)snprintf(buf, len, "%s", env) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (access(buf, R_OK) == -1)
			return -1;
		if (len >= PATH_MAX && realpath(env, exe) != NULL)
			snprintf(buf, len, "%s", exe);
		return 0;
	}
	r = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (r > 0) {
		exe[r] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			/* ./ipcrun, or build/{release,debug}/ipcrun */
			static const char *const rel[] = { "", "/../.." };
			size_t i;

			*slash = '\0';
			for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
				if ((size_t)snprintf(buf, len, "%s%s/share/%s",
				    exe, rel[i], NODECHAN_PRELOAD) < len &&
				    access(buf, R_OK) == 0)
					return 0;
			}
		}
	}
	if ((size_t)snprintf(buf, len, "%s/%s", IPCRUN_DATADIR,
	    NODECHAN_PRELOAD) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return access(buf, R_OK);
}

/*
 * Whether the JSON string at span (quotes included) decodes to exactly
 * name. Used on the top-level cmd of a child's internal message.
 */
int
nodechan_cmd_is(const char *span, size_t n, const char *name)
{
	char	out[64];
	ssize_t	r;
	size_t	len = strlen(name);

	if (len >= sizeof out)
		return 0;
	r = jscan_unescape(span, n, out, sizeof out);
	return r >= 0 && (size_t)r == len && memcmp(out, name, len) == 0;
}
