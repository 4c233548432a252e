/* SPDX-License-Identifier: ISC */
/*
 * envelope_parse and envelope_prefix: M comes back as its original bytes
 * (odd spacing, key order, "\ud800", 1e400, 20-digit integers), names
 * decoded, every refusal with its cause; the prefix is valid JSON
 * whatever the name holds. TAP.
 */
#include "compat.h"

#include <errno.h>
#include <stdlib.h>

#include "envelope.h"
#include "jscan.h"
#include "tap.h"

static struct envelope	env;

/* The names and M's bytes of the last parse of LINE, as text. */
static void
show(const char *line, char *m, size_t msz, char *got, size_t gotsz)
{
	size_t	i, k = 0;

	snprintf(m, msz, "%.*s", (int)env.msg.len, line + env.msg.off);
	got[0] = '\0';
	if (env.all)
		snprintf(got, gotsz, "*");
	for (i = 0; i < env.nto; i++) {
		/* Each name's span is its JSON string in the line. */
		if (line[env.to[i].span.off] != '"' ||
		    line[env.to[i].span.off + env.to[i].span.len - 1] != '"') {
			snprintf(got, gotsz, "(bad span)");
			return;
		}
		k += (size_t)snprintf(got + k, gotsz - k, "%s%s", i ? "|" : "",
		    env.to[i].name);
	}
}

/*
 * Parse LINE; check M's bytes and the names (WANT: '|'-separated, or *),
 * then the same with LINE padded past 128 bytes (the block scanner).
 */
static void
parse_ok(const char *line, const char *msg, const char *want)
{
	const char	*cause = NULL;
	char		 got[512], m[512], pad[512];
	size_t		 n = strlen(line);
	int		 i;

	snprintf(pad, sizeof pad, "%s%200s", line, "");
	for (i = 0; i < 2; i++) {
		if (envelope_parse(&env, i ? pad : line, i ? n + 200 : n,
		    &cause) == -1) {
			ok(0, "parse %s%s: %s", line, i ? " (padded)" : "",
			    cause);
			return;
		}
		show(i ? pad : line, m, sizeof m, got, sizeof got);
		if (!ok(strcmp(m, msg) == 0 && strcmp(got, want) == 0,
		    "parse %s%s", line, i ? " (padded)" : ""))
			printf("#   got:  %s to %s\n#   want: %s to %s\n", m,
			    got, msg, want);
	}
}

static void
parse_bad(const char *line, size_t len, const char *want)
{
	const char	*cause = NULL;
	char		 what[100];

	snprintf(what, sizeof what, "refused %.60s%s", line,
	    len > 60 ? "..." : "");
	errno = 0;
	if (envelope_parse(&env, line, len, &cause) != -1) {
		ok(0, "%s: accepted", what);
		return;
	}
	is_str(cause, want, what);
	ok(errno == EINVAL, "errno EINVAL: %s", what);
}

/* A "to" list of n names, a0 a1 ...; *star: with "*" at the end. */
static char *
list_of(int n, int star)
{
	char	*s = malloc((size_t)n * 8 + 64);
	size_t	 k;
	int	 i;

	k = (size_t)sprintf(s, "{\"msg\":0,\"to\":[");
	for (i = 0; i < n; i++)
		k += (size_t)sprintf(s + k, "%s\"a%d\"", i ? "," : "", i);
	sprintf(s + k, "%s]}", star ? ",\"*\"" : "");
	return s;
}

static void
test_parse(void)
{
	const char	*cause;
	char		*s;
	const char	*nul;

	parse_ok("{\"to\":\"db\",\"msg\":{\"q\":1}}", "{\"q\":1}", "db");
	parse_ok("{\"msg\":[1,2],\"to\":[\"a\",\"b\",\"a\"]}\n", "[1,2]",
	    "a|b|a");
	parse_ok("{\"to\": [ \"a\" ,\t\"b\" ] ,\"msg\":0}", "0", "a|b");
	parse_ok("{\"to\":\"*\",\"msg\":1}", "1", "*");
	parse_ok("{\"to\":\"\\u002a\",\"msg\":1}", "1", "*");
	parse_ok("{\"to\":\"\\u0064b\",\"msg\":null}", "null", "db");
	parse_ok("{\"to\":\"x\",\"msg\": {\"b\" : 1 ,\"a\":\"\\ud800\","
	    "\"n\":1e400,\"i\":123456789012345678901}  }",
	    "{\"b\" : 1 ,\"a\":\"\\ud800\",\"n\":1e400,"
	    "\"i\":123456789012345678901}", "x");
	parse_ok("{\"to\":\"x\",\"msg\":\"}\\\",\\\"to\\\":\\\"y\"}",
	    "\"}\\\",\\\"to\\\":\\\"y\"", "x");
	parse_ok("{\"to\":\"a\",\"msg\":1,\"id\":7,\"from\":\"z\"}", "1", "a");
	parse_ok("{\"to\":\"a\",\"msg\":1,\"to\":[\"b\"],\"msg\":2}", "2",
	    "b");
	parse_ok("{\"msg\":{\"to\":\"x\"},\"to\":\"y\"}", "{\"to\":\"x\"}",
	    "y");
	parse_ok("{\"to\":\"caf\\u00e9\",\"msg\":-0.5e-3}", "-0.5e-3",
	    "caf\xc3\xa9");
	parse_ok("{\"to\":\"\",\"msg\":1}", "1", "");
	nul = "{\"to\":\"a\\u0000b\",\"msg\":1}";
	if (envelope_parse(&env, nul, strlen(nul), &cause) == 0)
		ok(env.nto == 1 && env.to[0].len == 3 &&
		    memcmp(env.to[0].name, "a\0b", 4) == 0,
		    "a name with a NUL keeps its length");
	else
		ok(0, "a name with a NUL: %s", cause);
	s = list_of(ENVELOPE_MAXTO, 0);
	ok(envelope_parse(&env, s, strlen(s), &cause) == 0 &&
	    env.nto == ENVELOPE_MAXTO &&
	    strcmp(env.to[1023].name, "a1023") == 0, "1024 names");
	free(s);
	/* The buffers of a long list serve the next, shorter line. */
	parse_ok("{\"to\":[\"p\",\"q\"],\"msg\":true}", "true", "p|q");

	parse_bad("[1]", 3, "not a JSON object");
	parse_bad("\"x\"", 3, "not a JSON object");
	parse_bad(" \r", 2, "not a JSON object");
	parse_bad("{\"to\":\"a\",\"msg\":", 16, "unexpected end of line");
	parse_bad("{\"to\":\"a\",\"msg\":1}x", 19, "more than one value");
	parse_bad("{\"msg\":1}", 9, "no \"to\" member");
	parse_bad("{}", 2, "no \"to\" member");
	parse_bad("{\"to\":\"a\"}", 10, "no \"msg\" member");
	parse_bad("{\"to\":1,\"msg\":1}", 16,
	    "\"to\" is not a name, a list of names or \"*\"");
	parse_bad("{\"to\":null,\"msg\":1}", 19,
	    "\"to\" is not a name, a list of names or \"*\"");
	parse_bad("{\"to\":{\"a\":1},\"msg\":1}", 22,
	    "\"to\" is not a name, a list of names or \"*\"");
	parse_bad("{\"to\":[\"a\",1],\"msg\":1}", 22,
	    "\"to\" is not a name, a list of names or \"*\"");
	parse_bad("{\"to\":[[\"a\"]],\"msg\":1}", 22,
	    "\"to\" is not a name, a list of names or \"*\"");
	parse_bad("{\"to\":[],\"msg\":1}", 17, "\"to\" is an empty list");
	parse_bad("{\"to\":[ ],\"msg\":1}", 18, "\"to\" is an empty list");
	parse_bad("{\"to\":[\"a\",\"*\"],\"msg\":1}", 24,
	    "\"*\" in a \"to\" list: \"to\":\"*\" alone means every child");
	s = list_of(ENVELOPE_MAXTO + 1, 0);
	parse_bad(s, strlen(s), "\"to\" lists more than 1024 names");
	free(s);
	s = list_of(3, 1);
	parse_bad(s, strlen(s),
	    "\"*\" in a \"to\" list: \"to\":\"*\" alone means every child");
	free(s);
}

/* The prefix for NAME, completed with M, must be this line and valid. */
static void
prefix_is(const char *name, pid_t pid, const char *want)
{
	struct jscan	js;
	char		buf[512], what[100];
	size_t		n = envelope_prefix(buf, sizeof buf, name, pid);

	snprintf(what, sizeof what, "prefix for %s", name);
	memcpy(buf + n, "1}", 3);
	is_str(buf, want, what);
	jscan_init(&js);
	ok(jscan_line(&js, buf, n + 2) == JSCAN_GOOD, "valid JSON: %s", what);
	ok(n <= strlen(name) * 6 + 48, "within the bound: %s", what);
}

static void
test_prefix(void)
{
	char	buf[64];
	size_t	n;

	prefix_is("db", 4242, "{\"from\":\"db\",\"pid\":4242,\"msg\":1}");
	prefix_is("a\"b\\c\nd\x01", 1, "{\"from\":\"a\\\"b\\\\c\\u000ad"
	    "\\u0001\",\"pid\":1,\"msg\":1}");
	prefix_is("caf\xc3\xa9 \xf0\x9f\x98\x80", 7, "{\"from\":\"caf\xc3\xa9 "
	    "\xf0\x9f\x98\x80\",\"pid\":7,\"msg\":1}");
	prefix_is("\xff", 2, "{\"from\":\"\\ufffd\",\"pid\":2,\"msg\":1}");
	prefix_is("x\xc3", 2, "{\"from\":\"x\\ufffd\",\"pid\":2,\"msg\":1}");
	prefix_is("\xc0\x80", 2, "{\"from\":\"\\ufffd\\ufffd\",\"pid\":2,"
	    "\"msg\":1}");
	prefix_is("\xed\xa0\x80", 2, "{\"from\":\"\\ufffd\\ufffd\\ufffd\","
	    "\"pid\":2,\"msg\":1}");
	prefix_is("\x1f\x1f\x1f", 2147483647, "{\"from\":\"\\u001f\\u001f"
	    "\\u001f\",\"pid\":2147483647,\"msg\":1}");
	prefix_is("", 3, "{\"from\":\"\",\"pid\":3,\"msg\":1}");
	n = envelope_prefix(NULL, 0, "db", 4242);
	is_int((int64_t)n, 30, "cap 0 (buf NULL): the length only");
	memset(buf, '#', sizeof buf);
	n = envelope_prefix(buf, 10, "db", 4242);
	ok(n == 30 && memcmp(buf, "{\"from\":\"d#", 11) == 0,
	    "a short buffer: cap bytes written, the full length returned");
}

int
main(void)
{
	envelope_init(&env);
	test_parse();
	test_prefix();
	envelope_release(&env);
	envelope_release(&env);
	return done();
}
