/* SPDX-License-Identifier: ISC */
/*
 * Which child takes an input line: the hash of a member found by key
 * path over the scanner's byte spans (no tree), a consistent pick among
 * N children, and round robin over those that can take more.
 */
#include "compat.h"

#include <errno.h>
#include <string.h>

#include "jscan.h"
#include "route.h"

#define FNV_BASIS	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static const char E_PLAIN[] = "a member name is letters, digits, '_' and "
    "'-', or a JSON string: .\"a b\"";

/* FNV-1a, 64 bits: no seed, so the same on every run and machine. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*b = p;

	while (n-- > 0)
		h = (h ^ *b++) * FNV_PRIME;
	return h;
}

static int
plain_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A JSON string member name at p: its length in the path, or 0. */
static size_t
quoted(const char *p, char *out, size_t outsz, ssize_t *dec)
{
	struct jscan	 js;
	const char	*q = p + 1;

	while (*q != '\0' && *q != '"') {
		if (*q == '\\' && q[1] != '\0')
			q++;
		q++;
	}
	if (*q != '"')
		return 0;
	jscan_init(&js);
	if (jscan_line(&js, p, (size_t)(q + 1 - p)) != JSCAN_GOOD)
		return 0;
	*dec = jscan_unescape(p, (size_t)(q + 1 - p), out, outsz);
	return (size_t)(q + 1 - p);
}

/*
 * Parse a key path PATH for --route key=PATH: one or more members, each
 * '.' then a name of letters, digits, '_' and '-' (.user.id) or a JSON
 * string for any other name (."user name"."\u00e9"). Array indices are
 * not paths. At most ROUTE_KEY_DEPTH members, whose decoded names with a
 * NUL after each fit in ROUTE_KEY_BYTES. Returns 0, or -1 with *cause.
 */
int
route_key_parse(struct route_key *k, const char *path, const char **cause)
{
	const char	*p = path;
	size_t		 used = 0, n, room;
	ssize_t		 dec;

	memset(k, 0, sizeof *k);
	if (*p != '.') {
		*cause = "a key path starts with '.', as in .user.id";
		return -1;
	}
	while (*p != '\0') {
		if (*p++ != '.') {
			*cause = E_PLAIN;
			return -1;
		}
		if (k->n == ROUTE_KEY_DEPTH) {
			*cause = "more than 16 members in the key path";
			return -1;
		}
		if (used >= sizeof k->name) {
			*cause = "a key path longer than 255 bytes";
			return -1;
		}
		room = sizeof k->name - used - 1;
		if (*p == '"') {
			if ((n = quoted(p, k->name + used, room, &dec)) == 0) {
				*cause = "an unterminated or invalid JSON "
				    "string in the key path";
				return -1;
			}
		} else {
			for (n = 0; plain_char((unsigned char)p[n]); n++)
				;
			if (n == 0) {
				*cause = p[0] == '\0' || p[0] == '.' ?
				    "an empty member name in the key path" :
				    E_PLAIN;
				return -1;
			}
			dec = (ssize_t)n;
			if (n <= room)
				memcpy(k->name + used, p, n);
		}
		if ((size_t)dec > room) {
			*cause = "a key path longer than 255 bytes";
			return -1;
		}
		k->off[k->n] = (uint16_t)used;
		k->len[k->n++] = (uint16_t)dec;
		used += (size_t)dec + 1;	/* the NUL is already there */
		p += n;
	}
	return 0;
}

/*
 * Find K's member in LINE (len bytes, a trailing '\n' allowed) and hash
 * its value into *hash: a string on its decoded bytes, after a '"' (so
 * "\u00e9" and "é" agree, and the string "1" differs from the number 1),
 * anything else on its raw bytes (so 1 and 1.0 differ, and {"a":1} and
 * { "a": 1 } too). The hash is FNV-1a 64 with no seed: the same on every
 * run and machine. Returns 1 found; 0 absent, or a level that is not an
 * object; -1 with errno: EINVAL for a line that is not JSON or nests
 * deeper than the scanner's 4096 levels, ENOMEM.
 */
int
route_key(const struct route_key *k, const char *line, size_t len,
    uint64_t *hash)
{
	struct jscan	 js;
	char		 small[256], *dec = small;
	ssize_t		 n;
	unsigned	 i;
	int		 r;

	for (i = 0; i < k->n; i++) {
		/* Each level rescans the span of the one above it. */
		jscan_init(&js);
		jscan_want(&js, k->name + k->off[i], k->len[i]);
		if ((r = jscan_line(&js, line, len)) == JSCAN_BAD) {
			errno = EINVAL;
			return -1;
		}
		if (r != JSCAN_GOOD || js.top != '{' || js.span[0].len == 0)
			return 0;
		line += js.span[0].off;
		len = js.span[0].len;
	}
	if (*line != '"') {
		*hash = fnv(FNV_BASIS, line, len);
		return 1;
	}
	n = jscan_unescape(line, len, dec, sizeof small);
	if ((size_t)n > sizeof small) {
		if ((dec = malloc((size_t)n)) == NULL)
			return -1;
		jscan_unescape(line, len, dec, (size_t)n);
	}
	*hash = fnv(fnv(FNV_BASIS, "\"", 1), dec, (size_t)n);
	if (dec != small)
		free(dec);
	return 1;
}

/*
 * Pick one of N children (N >= 1) for HASH: Lamping and Veach's jump
 * consistent hash, in integers. Plain modulo would do for a fixed N, but
 * with jump only 1/N of the keys move when N changes (-n 4 to -n 5 in the
 * next run, or a later resize), so workers that cache per key keep most
 * of their caches. The same on every machine; 0 when N is 0.
 */
unsigned
route_pick(uint64_t hash, unsigned n)
{
	uint64_t	b = 0, j = 0;

	while (j < n) {
		b = j;
		hash = hash * 2862933555777941757ULL + 1;
		j = ((b + 1) << 31) / ((hash >> 33) + 1);
	}
	return (unsigned)b;
}

/*
 * Round robin: the first child from *cursor on (wrapping, among N) for
 * which can_take(arg, i) is true; *cursor moves past it. Returns its
 * index, or -1 (cursor unmoved) when none can take more.
 */
int
route_rr(unsigned *cursor, unsigned n, int (*can_take)(void *, unsigned),
    void *arg)
{
	unsigned	k, i;

	for (k = 0; k < n; k++) {
		i = (*cursor + k) % n;
		if (can_take(arg, i)) {
			*cursor = (i + 1) % n;
			return (int)i;
		}
	}
	return -1;
}
