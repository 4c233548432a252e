/* SPDX-License-Identifier: ISC */
/*
 * route_key_parse, route_key, route_pick and route_rr: key paths and
 * their refusals, hashes that agree on decoded strings and are pinned
 * across versions, a consistent and even pick, round robin. TAP.
 */
#include "compat.h"

#include <errno.h>
#include <stdlib.h>

#include "route.h"
#include "tap.h"

/* Parse PATH and compare its members with WANT, separated by '|'. */
static void
path_ok(const char *path, const char *want)
{
	struct route_key	 k;
	const char		*cause = NULL;
	char			 got[512];
	size_t			 n = 0;
	unsigned		 i;

	if (route_key_parse(&k, path, &cause) == -1) {
		ok(0, "path %s: %s", path, cause);
		return;
	}
	got[0] = '\0';
	for (i = 0; i < k.n; i++)
		n += (size_t)snprintf(got + n, sizeof got - n, "%s%.*s",
		    i ? "|" : "", (int)k.len[i], k.name + k.off[i]);
	is_str(got, want, path);
}

static void
path_bad(const char *path, const char *want)
{
	struct route_key	 k;
	const char		*cause = NULL;
	char			 what[600];

	snprintf(what, sizeof what, "path refused: %.500s", path);
	if (route_key_parse(&k, path, &cause) != -1) {
		ok(0, "%s: accepted", what);
		return;
	}
	is_str(cause, want, what);
}

/*
 * The hash of PATH's member in LINE, and route_key's verdict in *r: -3
 * when LINE padded past 128 bytes (the block scanner's size) disagrees.
 */
static uint64_t
hash_of(const char *path, const char *line, int *r)
{
	struct route_key	 k;
	const char		*cause;
	uint64_t		 h = 0, h2 = 0;
	size_t			 n = strlen(line);
	char			*pad;
	int			 r2;

	if (route_key_parse(&k, path, &cause) == -1) {
		*r = -2;
		return 0;
	}
	*r = route_key(&k, line, n, &h);
	if ((pad = malloc(n + 200)) == NULL)
		abort();
	memcpy(pad, line, n);
	memset(pad + n, ' ', 200);
	r2 = route_key(&k, pad, n + 200, &h2);
	if (r2 != *r || h2 != h)
		*r = -3;
	free(pad);
	return h;
}

static void
same(const char *path, const char *a, const char *b)
{
	int		ra, rb;
	uint64_t	ha = hash_of(path, a, &ra), hb = hash_of(path, b, &rb);

	ok(ra == 1 && rb == 1 && ha == hb, "%s: %s and %s hash alike", path,
	    a, b);
}

static void
differ(const char *path, const char *a, const char *b)
{
	int		ra, rb;
	uint64_t	ha = hash_of(path, a, &ra), hb = hash_of(path, b, &rb);

	ok(ra == 1 && rb == 1 && ha != hb, "%s: %s and %s differ", path, a,
	    b);
}

static void
found(const char *path, const char *line, int want)
{
	int	r;

	hash_of(path, line, &r);
	ok(r == want, "%s in %s: %d (want %d)", path, line, r, want);
}

/* A string of n '0's, as it is and with every byte escaped. */
static void
same_long(int n)
{
	char	a[4000], b[4000];
	int	i;

	snprintf(a, sizeof a, "{\"k\":\"%0*d\"}", n, 0);
	memcpy(b, "{\"k\":\"", 6);
	for (i = 0; i < n; i++)
		memcpy(b + 6 + 6 * i, "\\u0030", 6);
	memcpy(b + 6 + 6 * n, "\"}", 3);
	same(".k", a, b);
}

static int
can_take(void *arg, unsigned i)
{
	return (*(unsigned *)arg >> i) & 1;
}

static void
test_pick(void)
{
	unsigned	count[4] = { 0 }, i, moved = 0, wrong = 0, p4, p5;
	char		line[64];
	uint64_t	h;
	int		r;

	is_int(route_pick(0x7cc3307b4942c4cULL, 100), 99, "pick pinned: 100");
	is_int(route_pick(0x456fc2181822c4dbULL, 8), 7, "pick pinned: 8");
	is_int(route_pick(0x456fc2181822c4dbULL, 3), 1, "pick pinned: 3");
	is_int(route_pick(0xd2e73717d6b74841ULL, 3), 2, "pick pinned: 3'");
	is_int(route_pick(0x456fc2181822c4dbULL, 1), 0, "one child: 0");
	is_int(route_pick(0x456fc2181822c4dbULL, 0), 0, "no child: 0");
	for (i = 0; i < 10000; i++) {
		snprintf(line, sizeof line, "{\"id\":\"user%u\"}", i);
		h = hash_of(".id", line, &r);
		count[p4 = route_pick(h, 4)]++;
		p5 = route_pick(h, 5);
		if (p4 != p5) {
			moved++;
			wrong += p5 != 4;
		}
	}
	for (i = 0; i < 4; i++)
		ok(count[i] >= 2250 && count[i] <= 2750,
		    "10000 keys over 4: child %u has %u, within 10%%", i,
		    count[i]);
	ok(wrong == 0 && moved >= 1800 && moved <= 2200,
	    "from 4 to 5 children, %u keys of 10000 move, %u elsewhere than "
	    "to the new one", moved, wrong);
}

static void
test_rr(void)
{
	unsigned	cur = 0, mask = 0x7, n;
	int		got[6], i;

	for (i = 0; i < 4; i++)
		got[i] = route_rr(&cur, 3, can_take, &mask);
	ok(got[0] == 0 && got[1] == 1 && got[2] == 2 && got[3] == 0 &&
	    cur == 1, "rr: 0 1 2 0, all free");
	mask = 0x5;			/* 1 is full */
	for (i = 0; i < 3; i++)
		got[i] = route_rr(&cur, 3, can_take, &mask);
	ok(got[0] == 2 && got[1] == 0 && got[2] == 2 && cur == 0,
	    "rr: a full child is skipped: 2 0 2");
	mask = 0;
	ok(route_rr(&cur, 3, can_take, &mask) == -1 && cur == 0,
	    "rr: none free: -1, the cursor stays");
	mask = 0x7;
	ok(route_rr(&cur, 0, can_take, &mask) == -1, "rr: no child: -1");
	cur = 7;
	n = (unsigned)route_rr(&cur, 3, can_take, &mask);
	ok(n == 1 && cur == 2, "rr: a cursor past the end wraps");
}

int
main(void)
{
	char	long_ok[300], long_bad[300], deep[64], deeper[80];
	int	i, r;

	path_ok(".a", "a");
	path_ok(".user.id", "user|id");
	path_ok(".a-b_9.Z", "a-b_9|Z");
	path_ok(".\"a b\".c", "a b|c");
	path_ok(".\"\\u00e9\\\"\"", "\xc3\xa9\"");
	path_ok(".\"\".x", "|x");
	path_ok(".\"a.b\"", "a.b");
	path_bad("", "a key path starts with '.', as in .user.id");
	path_bad("user.id", "a key path starts with '.', as in .user.id");
	path_bad(".", "an empty member name in the key path");
	path_bad(".a.", "an empty member name in the key path");
	path_bad(".a..b", "an empty member name in the key path");
	path_bad(".a b", "a member name is letters, digits, '_' and '-', or "
	    "a JSON string: .\"a b\"");
	path_bad(".a[0]", "a member name is letters, digits, '_' and '-', or "
	    "a JSON string: .\"a b\"");
	path_bad(".a\"b\"", "a member name is letters, digits, '_' and '-', "
	    "or a JSON string: .\"a b\"");
	path_bad(".$", "a member name is letters, digits, '_' and '-', or a "
	    "JSON string: .\"a b\"");
	path_bad(".\"ab", "an unterminated or invalid JSON string in the key "
	    "path");
	path_bad(".\"a\\x\"", "an unterminated or invalid JSON string in the "
	    "key path");
	path_bad(".\"a\tb\"", "an unterminated or invalid JSON string in the "
	    "key path");
	path_bad(".\"\xff\"", "an unterminated or invalid JSON string in the "
	    "key path");
	for (i = 0; i < 16; i++)
		memcpy(deep + 2 * i, ".a", 2);
	deep[32] = '\0';
	snprintf(deeper, sizeof deeper, "%s.b", deep);
	ok(route_key_parse(&(struct route_key){ 0 }, deep,
	    &(const char *){ NULL }) == 0, "16 members");
	path_bad(deeper, "more than 16 members in the key path");
	long_ok[0] = '.';
	memset(long_ok + 1, 'a', 255);
	long_ok[256] = '\0';
	ok(route_key_parse(&(struct route_key){ 0 }, long_ok,
	    &(const char *){ NULL }) == 0, "255 bytes of names");
	snprintf(long_bad, sizeof long_bad, "%.256s.b", long_ok);
	path_bad(long_bad, "a key path longer than 255 bytes");
	long_ok[256] = 'a';
	long_ok[257] = '\0';
	path_bad(long_ok, "a key path longer than 255 bytes");

	/* Pinned: FNV-1a 64 of '"' and the decoded string, or raw bytes. */
	is_int((int64_t)hash_of(".k", "{\"k\":\"a\"}", &r),
	    (int64_t)0x7cc3307b4942c4cULL, "hash of \"a\" pinned");
	is_int((int64_t)hash_of(".k", "{\"k\":123}\n", &r),
	    (int64_t)0x456fc2181822c4dbULL, "hash of 123 pinned");
	found(".user.id", "{\"user\":{\"id\":7}}", 1);
	found(".user.id", "{\"x\":1}", 0);
	found(".user.id", "{\"user\":5}", 0);
	found(".user.id", "{\"user\":[{\"id\":1}]}", 0);
	found(".user.id", "{\"user\":{\"ids\":1}}", 0);
	found(".a", "[{\"a\":1}]", 0);
	found(".a", "\"a\"", 0);
	found(".a", "  ", 0);
	found(".a", "{\"a\":", -1);
	ok(errno == EINVAL, "errno EINVAL for a line that is not JSON");
	found(".\"\\u00e9\"", "{\"\xc3\xa9\":1}", 1);
	found(".k", "{\"\\u006b\":1}", 1);
	same(".k", "{\"k\":\"\xc3\xa9\"}", "{\"k\":\"\\u00e9\"}");
	same(".k", "{\"k\":\"\xf0\x9f\x98\x80\"}",
	    "{\"k\":\"\\ud83d\\ude00\"}");
	same(".k", "{\"k\":\"x\"}", "{ \"k\" : \"x\" ,\"j\":[1]}\n");
	same(".k", "{\"k\":1,\"k\":2}", "{\"k\":2}");
	same(".a.b", "{\"a\":{\"b\":true}}",
	    "{\"z\":0,\"a\":{\"c\":1,\"b\":true}}");
	differ(".k", "{\"k\":1}", "{\"k\":1.0}");
	differ(".k", "{\"k\":\"1\"}", "{\"k\":1}");
	differ(".k", "{\"k\":{\"a\":1}}", "{\"k\":{ \"a\":1}}");
	differ(".k", "{\"k\":\"a\"}", "{\"k\":\"b\"}");
	differ(".k", "{\"k\":\"\\ud800\"}", "{\"k\":\"\\udc00\"}");
	/* Over 256 decoded bytes, the string is decoded on the heap. */
	for (i = 255; i <= 600; i += i < 257 ? 1 : 343)
		same_long(i);

	test_pick();
	test_rr();
	return done();
}
