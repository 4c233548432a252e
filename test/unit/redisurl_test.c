/* SPDX-License-Identifier: ISC */
/*
 * redisurl_parse: every form of a Redis address, where the socket path
 * ends, the options, and each refusal with its reason. TAP.
 */
#include "compat.h"

#include <stdlib.h>

#include "redisurl.h"
#include "tap.h"

static struct redisurl u;
static char err[256];

static int
good(const char *s)
{
	err[0] = '\0';
	if (redisurl_parse(&u, s, err, sizeof err) == -1) {
		ok(0, "'%s' accepted (refused: %s)", s, err);
		return 0;
	}
	return 1;
}

static void
bad(const char *s, const char *want)
{
	char	what[300];

	snprintf(what, sizeof what, "'%s' refused", s);
	if (redisurl_parse(&u, s, err, sizeof err) == 0)
		is_str("(accepted)", want, what);
	else
		is_str(err, want, what);
}

int
main(void)
{
	size_t	off, n;

	if (good("redis://localhost/jobs")) {
		is_str(u.host, "localhost", "host");
		is_int(u.port, 6379, "default port");
		is_int(u.db, -1, "no db");
		is_str(u.name, "jobs", "name");
		is_int(u.mode, REDISURL_STREAM, "stream by default");
		is_str(u.field, "msg", "field msg by default");
		is_int(u.has_pass, 0, "no password");
	}
	if (good("redis://bob:s%40cret@10.0.0.1:7000/3/a/b?mode=list")) {
		is_str(u.user, "bob", "user");
		is_str(u.pass, "s@cret", "password, %-decoded");
		is_str(u.host, "10.0.0.1", "ip");
		is_int(u.port, 7000, "port");
		is_int(u.db, 3, "db before NAME");
		is_str(u.name, "a/b", "NAME after the db keeps its '/'");
		is_int(u.mode, REDISURL_LIST, "mode=list");
	}
	if (good("redis://pw@[::1]:6380/7")) {
		is_str(u.pass, "pw", "a password alone");
		is_str(u.host, "::1", "IPv6 without brackets");
		is_int(u.port, 6380, "IPv6 port");
		is_str(u.name, "7", "a digits-only NAME is a NAME");
		is_int(u.db, -1, "and not a db");
	}
	if (good("redis://:6390/q"))
		is_str(u.host, "localhost", "empty host is localhost");
	if (good("redis+unix:///tmp/r/redis.sock/jobs?group=g&consumer=c1"
	    "&count=10&block=250ms&claim-idle=2s&max-deliveries=3")) {
		is_int(u.unix_, 1, "unix");
		is_str(u.path, "/tmp/r/redis.sock", "socket: all but the last "
		    "segment");
		is_str(u.name, "jobs", "NAME: the last segment");
		is_str(u.group, "g", "group");
		is_str(u.consumer, "c1", "consumer");
		is_int(u.count, 10, "count");
		is_int(u.block_ms, 250, "block in ms");
		is_int(u.claim_idle_ms, 2000, "claim-idle");
		is_int(u.max_deliveries, 3, "max-deliveries");
	}
	if (good("redis+unix:///a:b@x/jobs?path=/run/r.sock")) {
		is_str(u.path, "/run/r.sock", "?path= names the socket");
		is_str(u.name, "a:b@x/jobs", "and the whole path is NAME");
	}
	if (good("redis+unix://u:p@/s.sock/n?db=2&mode=pubsub")) {
		is_str(u.pass, "p", "unix with a password");
		is_int(u.db, 2, "?db=");
		is_int(u.mode, REDISURL_PUBSUB, "pubsub");
	}
	if (good("redis://h/s?maxlen=~1000&from=0&until=now&field=m&ack=none")) {
		is_int((int64_t)u.maxlen, 1000, "maxlen");
		is_int(u.maxlen_approx, 1, "maxlen ~");
		is_str(u.from, "0", "from");
		is_int(u.until_now, 1, "until=now");
		is_str(u.field, "m", "field");
		is_int(u.ack, REDISURL_ACK_NONE, "ack=none");
	}

	bad("http://h/x", "not redis://HOST[:PORT][/DB]/NAME or "
	    "redis+unix:///SOCKET/NAME");
	bad("redis://h", "no NAME (the key or channel)");
	bad("redis://h/", "no NAME (the key or channel)");
	bad("redis://h:0/x", "port '0': not a number from 1 to 65535");
	bad("redis://h:99999/x", "port '99999': not a number from 1 to 65535");
	bad("redis://h:ab/x", "port 'ab': not a number from 1 to 65535");
	bad("redis://[::1/x", "'[' without ']' in the host");
	bad("redis://h/x?mode=queue", "mode 'queue': not stream, list or "
	    "pubsub");
	bad("redis://h/x?colour=red", "unknown option 'colour' (known: mode, "
	    "field, group, consumer, from, until, count, block, maxlen, ack, "
	    "claim-idle, max-deliveries, db, path)");
	bad("redis://h/x?mode", "option 'mode': not NAME=VALUE");
	bad("redis://h/x?from=abc", "from 'abc': not a stream id (0, $, MS "
	    "or MS-SEQ)");
	bad("redis://h/x?until=later", "until 'later': only 'now' is known");
	bad("redis://h/x?count=0", "count '0': not a number from 1 to 100000");
	bad("redis://h/x?block=0", "block '0': at least 1ms");
	bad("redis://h/x?maxlen=~", "maxlen '~': not N or ~N, N above 0");
	bad("redis://h/x?mode=list&group=g", "group= is for mode=stream");
	bad("redis://h/x?mode=pubsub&until=now", "until=now: a channel has "
	    "no end");
	bad("redis://h/x?path=/s", "path= is for redis+unix://");
	bad("redis+unix://host/s/x", "redis+unix:// takes no host: "
	    "redis+unix:///SOCKET/NAME");
	bad("redis+unix:///x", "no socket path before NAME: "
	    "redis+unix:///SOCKET/NAME");
	bad("redis://h/x%zz", "bad NAME");
	bad("redis://h/x%00", "bad NAME");

	off = redisurl_pass_span("redis://u:secret@h/x", &n);
	is_int((int64_t)off, 10, "password offset");
	is_int((int64_t)n, 6, "password length");
	off = redisurl_pass_span("redis+unix://pw@/s/x?a=b@c", &n);
	is_int((int64_t)off, 13, "a password alone: offset");
	is_int((int64_t)n, 2, "a password alone: length");
	redisurl_pass_span("redis://h/x?a=u:p@c", &n);
	is_int((int64_t)n, 0, "an '@' in the query is no password");
	return done();
}
