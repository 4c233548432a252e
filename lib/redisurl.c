/* SPDX-License-Identifier: ISC */
/*
 * Redis addresses. The rule for where the socket path ends: in
 * redis+unix:// the last path segment is NAME and everything before it
 * the socket, unless ?path= names the socket, and then the whole path is
 * NAME (a NAME with a '/' in it needs ?path=). In redis:// a first
 * segment of digits followed by another is the database number.
 */
#include "compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisurl.h"
#include "units.h"

#define TCP_PREFIX	"redis://"
#define UNIX_PREFIX	"redis+unix://"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* Does s look like a Redis address (and not unix:, tcp:, fd:)? */
int
redisurl_is(const char *s)
{
	return strncmp(s, TCP_PREFIX, strlen(TCP_PREFIX)) == 0 ||
	    strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0 ||
	    strncmp(s, "redis", 5) == 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [p, p + n) into dst (size len); no NUL may result. */
static int
decode(char *dst, size_t len, const char *p, size_t n)
{
	size_t	i, o = 0;
	int	hi, lo, c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(p[i + 1])) == -1 ||
			    (lo = hexval(p[i + 2])) == -1)
				return -1;
			c = hi << 4 | lo;
			if (c == 0)
				return -1;
			i += 2;
		}
		if (o + 1 >= len)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
number(const char *s, size_t n, long long min, long long max, long long *v)
{
	char	 tmp[32], *end;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (tmp[0] < '0' || tmp[0] > '9')
		return -1;
	errno = 0;
	*v = strtoll(tmp, &end, 10);
	if (*end != '\0' || errno != 0 || *v < min || *v > max)
		return -1;
	return 0;
}

/* A stream id: ms or ms-seq, digits only, or 0 / $. */
static int
stream_id(const char *s)
{
	const char	*p = s;

	if (strcmp(s, "$") == 0)
		return 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '-') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0' ? 0 : -1;
}

static int
option(struct redisurl *u, const char *k, size_t kn, const char *v,
    char *err, size_t len)
{
	const char	*cause;
	int64_t		 ns;
	long long	 n;

#define IS(s)	(kn == strlen(s) && memcmp(k, s, kn) == 0)
	if (IS("mode")) {
		if (strcmp(v, "stream") == 0)
			u->mode = REDISURL_STREAM;
		else if (strcmp(v, "list") == 0)
			u->mode = REDISURL_LIST;
		else if (strcmp(v, "pubsub") == 0)
			u->mode = REDISURL_PUBSUB;
		else
			return fail(err, len, "mode '%s': not stream, list or "
			    "pubsub", v);
	} else if (IS("field")) {
		if (*v == '\0' || strlen(v) >= sizeof u->field)
			return fail(err, len, "field '%s': empty or too long",
			    v);
		strlcpy(u->field, v, sizeof u->field);
	} else if (IS("group")) {
		if (*v == '\0' || strlen(v) >= sizeof u->group)
			return fail(err, len, "group '%s': empty or too long",
			    v);
		strlcpy(u->group, v, sizeof u->group);
	} else if (IS("consumer")) {
		if (*v == '\0' || strlen(v) >= sizeof u->consumer)
			return fail(err, len, "consumer '%s': empty or too "
			    "long", v);
		strlcpy(u->consumer, v, sizeof u->consumer);
	} else if (IS("from")) {
		if (stream_id(v) == -1 || strlen(v) >= sizeof u->from)
			return fail(err, len, "from '%s': not a stream id "
			    "(0, $, MS or MS-SEQ)", v);
		strlcpy(u->from, v, sizeof u->from);
	} else if (IS("until")) {
		if (strcmp(v, "now") != 0)
			return fail(err, len, "until '%s': only 'now' is "
			    "known", v);
		u->until_now = 1;
	} else if (IS("count")) {
		if (number(v, strlen(v), 1, 100000, &n) == -1)
			return fail(err, len, "count '%s': not a number from "
			    "1 to 100000", v);
		u->count = (unsigned)n;
	} else if (IS("block")) {
		if (units_duration(v, &ns, &cause) == -1)
			return fail(err, len, "block '%s': %s", v, cause);
		if (ns < 1000000)
			return fail(err, len, "block '%s': at least 1ms", v);
		u->block_ms = ns / 1000000;
	} else if (IS("maxlen")) {
		u->maxlen_approx = *v == '~';
		if (number(v + u->maxlen_approx, strlen(v + u->maxlen_approx),
		    1, INT64_MAX, &n) == -1)
			return fail(err, len, "maxlen '%s': not N or ~N, N "
			    "above 0", v);
		u->maxlen = (uint64_t)n;
	} else if (IS("ack")) {
		if (strcmp(v, "none") == 0)
			u->ack = REDISURL_ACK_NONE;
		else if (strcmp(v, "reply") == 0)
			u->ack = REDISURL_ACK_REPLY;
		else
			return fail(err, len, "ack '%s': not none or reply",
			    v);
	} else if (IS("claim-idle")) {
		if (units_duration(v, &ns, &cause) == -1)
			return fail(err, len, "claim-idle '%s': %s", v, cause);
		if (ns < 1000000)
			return fail(err, len, "claim-idle '%s': at least 1ms",
			    v);
		u->claim_idle_ms = ns / 1000000;
	} else if (IS("max-deliveries")) {
		if (number(v, strlen(v), 1, 1000000, &n) == -1)
			return fail(err, len, "max-deliveries '%s': not a "
			    "number from 1 to 1000000", v);
		u->max_deliveries = (unsigned)n;
	} else if (IS("db")) {
		if (number(v, strlen(v), 0, 1000000, &n) == -1)
			return fail(err, len, "db '%s': not a number", v);
		u->db = (int)n;
	} else if (IS("path")) {
		if (!u->unix_)
			return fail(err, len, "path= is for redis+unix://");
		if (*v != '/' || strlen(v) >= sizeof u->path)
			return fail(err, len, "path '%s': not an absolute path "
			    "shorter than %zu bytes", v, sizeof u->path);
		strlcpy(u->path, v, sizeof u->path);
	} else
		return fail(err, len, "unknown option '%.*s' (known: mode, "
		    "field, group, consumer, from, until, count, block, "
		    "maxlen, ack, claim-idle, max-deliveries, db, path)",
		    (int)kn, k);
#undef IS
	return 0;
}

static int
options(struct redisurl *u, const char *q, char *err, size_t len)
{
	const char	*amp, *eq;
	char		 v[512];
	size_t		 n;

	while (*q != '\0') {
		amp = strchr(q, '&');
		n = amp != NULL ? (size_t)(amp - q) : strlen(q);
		if ((eq = memchr(q, '=', n)) == NULL)
			return fail(err, len, "option '%.*s': not NAME=VALUE",
			    (int)n, q);
		if (decode(v, sizeof v, eq + 1, n - (size_t)(eq + 1 - q)) == -1)
			return fail(err, len, "option '%.*s': bad %%-escape "
			    "or too long", (int)n, q);
		if (option(u, q, (size_t)(eq - q), v, err, len) == -1)
			return -1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* user:pass@ in [p, p + n), if any. */
static int
userinfo(struct redisurl *u, const char *p, size_t n, char *err, size_t len)
{
	const char	*colon;

	if ((colon = memchr(p, ':', n)) == NULL) {
		/* redis://pass@host, as redis-cli -u takes it. */
		if (decode(u->pass, sizeof u->pass, p, n) == -1)
			return fail(err, len, "bad password (a %%-escape, or "
			    "too long)");
		u->has_pass = 1;
		return 0;
	}
	if (decode(u->user, sizeof u->user, p, (size_t)(colon - p)) == -1)
		return fail(err, len, "bad user name");
	if (decode(u->pass, sizeof u->pass, colon + 1,
	    n - (size_t)(colon + 1 - p)) == -1)
		return fail(err, len, "bad password (a %%-escape, or too "
		    "long)");
	u->has_pass = 1;
	return 0;
}

/* host[:port] or [v6][:port] in [p, p + n). */
static int
hostport(struct redisurl *u, const char *p, size_t n, char *err, size_t len)
{
	const char	*end = p + n, *colon = NULL, *h = p;
	size_t		 hn;
	long long	 v;

	if (n > 0 && *p == '[') {
		const char *rb = memchr(p, ']', n);
		if (rb == NULL)
			return fail(err, len, "'[' without ']' in the host");
		h = p + 1;
		hn = (size_t)(rb - h);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return fail(err, len, "junk after ']'");
			colon = rb + 1;
		}
	} else {
		colon = memchr(p, ':', n);
		hn = colon != NULL ? (size_t)(colon - p) : n;
	}
	if (hn == 0)
		strlcpy(u->host, "localhost", sizeof u->host);
	else if (hn >= sizeof u->host)
		return fail(err, len, "host name too long");
	else {
		memcpy(u->host, h, hn);
		u->host[hn] = '\0';
	}
	if (colon != NULL) {
		if (number(colon + 1, (size_t)(end - colon - 1), 1, 65535,
		    &v) == -1)
			return fail(err, len, "port '%.*s': not a number "
			    "from 1 to 65535", (int)(end - colon - 1),
			    colon + 1);
		u->port = (int)v;
	}
	return 0;
}

/*
 * Parse s into u. Returns -1 with a one-line reason in err (without the
 * address itself, which the caller names) when it is not one.
 */
int
redisurl_parse(struct redisurl *u, const char *s, char *err, size_t len)
{
	const char	*p, *q, *slash, *at, *auth_end, *path, *last;
	char		 pathbuf[1024];
	size_t		 n;
	long long	 v;

	memset(u, 0, sizeof *u);
	u->port = REDISURL_PORT;
	u->db = -1;
	u->count = REDISURL_COUNT;
	u->block_ms = REDISURL_BLOCK_MS;
	strlcpy(u->field, "msg", sizeof u->field);
	if (strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0) {
		u->unix_ = 1;
		p = s + strlen(UNIX_PREFIX);
	} else if (strncmp(s, TCP_PREFIX, strlen(TCP_PREFIX)) == 0)
		p = s + strlen(TCP_PREFIX);
	else
		return fail(err, len, "not redis://HOST[:PORT][/DB]/NAME or "
		    "redis+unix:///SOCKET/NAME");
	/* The query first: a '?' ends the path whatever precedes it. */
	q = strchr(p, '?');
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	if (n >= sizeof pathbuf)
		return fail(err, len, "address too long");
	memcpy(pathbuf, p, n);
	pathbuf[n] = '\0';
	if (q != NULL && options(u, q + 1, err, len) == -1)
		return -1;

	/* [user:pass@] before the first '/'. */
	slash = strchr(pathbuf, '/');
	auth_end = slash != NULL ? slash : pathbuf + n;
	at = NULL;
	for (p = pathbuf; p < auth_end; p++)
		if (*p == '@')
			at = p;
	p = pathbuf;
	if (at != NULL) {
		if (userinfo(u, p, (size_t)(at - p), err, len) == -1)
			return -1;
		p = at + 1;
	}
	if (u->unix_) {
		if (p != auth_end)
			return fail(err, len, "redis+unix:// takes no host: "
			    "redis+unix:///SOCKET/NAME");
		if (slash == NULL)
			return fail(err, len, "no NAME (the key or channel)");
		path = slash;
		if (u->path[0] != '\0') {
			/* ?path= names the socket: the path is all NAME. */
			if (decode(u->name, sizeof u->name, path + 1,
			    strlen(path + 1)) == -1)
				return fail(err, len, "bad NAME");
		} else {
			last = strrchr(path, '/');
			if (last == path)
				return fail(err, len, "no socket path before "
				    "NAME: redis+unix:///SOCKET/NAME");
			if ((size_t)(last - path) >= sizeof u->path)
				return fail(err, len, "socket path too long");
			memcpy(u->path, path, (size_t)(last - path));
			u->path[last - path] = '\0';
			if (decode(u->name, sizeof u->name, last + 1,
			    strlen(last + 1)) == -1)
				return fail(err, len, "bad NAME");
		}
	} else {
		if (hostport(u, p, (size_t)(auth_end - p), err, len) == -1)
			return -1;
		if (slash == NULL)
			return fail(err, len, "no NAME (the key or channel)");
		path = slash + 1;
		last = strchr(path, '/');
		if (last != NULL && last[1] != '\0' &&
		    number(path, (size_t)(last - path), 0, 1000000, &v) == 0) {
			if (u->db != -1)
				return fail(err, len, "the database given "
				    "twice");
			u->db = (int)v;
			path = last + 1;
		}
		if (decode(u->name, sizeof u->name, path, strlen(path)) == -1)
			return fail(err, len, "bad NAME");
	}
	if (u->name[0] == '\0')
		return fail(err, len, "no NAME (the key or channel)");
	if (u->group[0] != '\0' && u->mode != REDISURL_STREAM)
		return fail(err, len, "group= is for mode=stream");
	if (u->until_now && u->mode == REDISURL_PUBSUB)
		return fail(err, len, "until=now: a channel has no end");
	if (u->maxlen != 0 && u->mode != REDISURL_STREAM)
		return fail(err, len, "maxlen= is for mode=stream");
	return 0;
}

const char *
redisurl_mode_name(enum redisurl_mode m)
{
	switch (m) {
	case REDISURL_LIST:
		return "list";
	case REDISURL_PUBSUB:
		return "pubsub";
	default:
		return "stream";
	}
}

/*
 * Where the password of address s lies, to wipe it from the command line
 * that ps shows: returns its offset and sets *n, or returns 0 with *n 0.
 */
size_t
redisurl_pass_span(const char *s, size_t *n)
{
	const char	*p, *end, *at = NULL, *colon;

	*n = 0;
	if ((p = strstr(s, "://")) == NULL)
		return 0;
	p += 3;
	end = p + strcspn(p, "/?");
	for (colon = p; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	if (at == NULL)
		return 0;
	if ((colon = memchr(p, ':', (size_t)(at - p))) != NULL)
		p = colon + 1;
	*n = (size_t)(at - p);
	return (size_t)(p - s);
}
