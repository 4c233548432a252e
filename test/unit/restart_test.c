/* SPDX-License-Identifier: ISC */
/*
 * restart_parse, restart_wanted, the backoff (parse, growth, jitter,
 * bounds, reset after a stable run) and the give-up tally, with every
 * refusal and its cause. Times and randomness are passed in. TAP.
 */
#include "compat.h"

#include <limits.h>
#include <stdlib.h>

#include "restart.h"
#include "tap.h"

#define MID	0x80000000U	/* a random value that adds no jitter */
#define TOP	0xffffffffU

static const char E_DUR[] = "not a duration (seconds, or with a unit: "
    "500ms, 2s, 1m)";
static const char E_BACKOFF[] = "not MIN:MAX or a single delay "
    "(durations: 500ms, 2s, 1m)";

static void
policy(void)
{
	static const char *const bad[] = { "yes", "", "On-failure", "no ",
	    "on_failure", NULL };
	const char	*cause;
	int		 p = -1, i;

	ok(restart_parse("no", &p, &cause) == 0 && p == RESTART_NO, "no");
	ok(restart_parse("on-failure", &p, &cause) == 0 &&
	    p == RESTART_ON_FAILURE, "on-failure");
	ok(restart_parse("always", &p, &cause) == 0 && p == RESTART_ALWAYS,
	    "always");
	for (i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		ok(restart_parse(bad[i], &p, &cause) == -1 && cause != NULL &&
		    strcmp(cause, "not no, on-failure or always") == 0,
		    "--restart '%s' refused", bad[i]);
	}
	ok(!restart_wanted(RESTART_NO, 0) && !restart_wanted(RESTART_NO, 1),
	    "no: never");
	ok(!restart_wanted(RESTART_ON_FAILURE, 0) &&
	    restart_wanted(RESTART_ON_FAILURE, 1), "on-failure: on failure");
	ok(restart_wanted(RESTART_ALWAYS, 0) && restart_wanted(RESTART_ALWAYS,
	    1), "always: always");
}

static void
backoff_ok(const char *s, int64_t min, int64_t max)
{
	struct restart_backoff	 b = { 0, 0, 7 };
	const char		*cause = NULL;

	if (restart_backoff_parse(&b, s, &cause) == -1) {
		ok(0, "--backoff %s: %s", s, cause);
		return;
	}
	ok(b.min == min && b.max == max && b.attempt == 0,
	    "--backoff %s: %lld:%lld", s, (long long)b.min, (long long)b.max);
}

static void
backoff_bad(const char *s, const char *want)
{
	struct restart_backoff	 b;
	const char		*cause = NULL;
	char			 what[100];

	snprintf(what, sizeof what, "--backoff '%s' refused", s);
	if (restart_backoff_parse(&b, s, &cause) != -1)
		ok(0, "%s: accepted", what);
	else
		is_str(cause, want, what);
}

static void
backoff(void)
{
	struct restart_backoff	b;
	const char		*cause;
	int64_t			want[] = { 100, 200, 400, 800, 1600, 3200,
				    6400, 10000, 10000 };
	char			what[64];
	unsigned		i;

	backoff_ok("100ms:10s", 100, 10000);
	backoff_ok("1s", 1000, 1000);
	backoff_ok("0.5ms:1", 1, 1000);
	backoff_ok("0.0005:0.0011", 1, 2);
	backoff_ok("1m:1m", 60000, 60000);
	backoff_bad("", E_BACKOFF);
	backoff_bad(":1s", E_BACKOFF);
	backoff_bad("1s:", E_BACKOFF);
	backoff_bad("x:1s", E_DUR);
	backoff_bad("1s:x", E_DUR);
	backoff_bad("-1s:1s", E_DUR);
	backoff_bad("1s:2s:3s", E_DUR);
	backoff_bad("1234567890123456789012345678901234567890:1s", E_DUR);
	backoff_bad("0:1s", "MIN must be more than 0");
	backoff_bad("0ms", "MIN must be more than 0");
	backoff_bad("2s:1s", "MAX is less than MIN");
	backoff_bad("1s:2000000", "too large (at most 1000000 seconds)");

	restart_backoff_parse(&b, "100ms:10s", &cause);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(what, sizeof what, "restart %u: %lld ms", i + 1,
		    (long long)want[i]);
		is_int(restart_backoff_next(&b, 0, MID), want[i], what);
	}
	is_int(b.attempt, 9, "nine attempts counted");
	/* The jitter: a quarter below to a quarter above, within MIN:MAX. */
	b.attempt = 2;
	is_int(restart_backoff_next(&b, 0, 0), 300, "400 less a quarter");
	b.attempt = 2;
	is_int(restart_backoff_next(&b, 0, TOP), 499, "400 and a quarter");
	b.attempt = 0;
	is_int(restart_backoff_next(&b, 0, 0), 100, "never under MIN");
	b.attempt = 0;
	is_int(restart_backoff_next(&b, 0, TOP), 124, "MIN and a quarter");
	b.attempt = 20;
	is_int(restart_backoff_next(&b, 0, 0), 7500, "MAX less a quarter");
	b.attempt = 20;
	is_int(restart_backoff_next(&b, 0, TOP), 10000, "never over MAX");
	b.attempt = UINT_MAX - 1;
	restart_backoff_next(&b, 0, MID);
	ok(restart_backoff_next(&b, 0, MID) == 10000 && b.attempt == UINT_MAX,
	    "the attempt count stops at its top");
	/* A child up for 10 s (MAX is shorter) was healthy: back to MIN. */
	b.attempt = 5;
	is_int(restart_backoff_next(&b, 9999, MID), 3200, "up 9.999 s: "
	    "no reset");
	is_int(restart_backoff_next(&b, 10000, MID), 100, "up 10 s: reset");
	is_int(b.attempt, 1, "reset: attempt 1");
	/* With MAX above 10 s, it takes MAX. */
	restart_backoff_parse(&b, "1s:1m", &cause);
	b.attempt = 3;
	is_int(restart_backoff_next(&b, 10000, MID), 8000, "MAX 1m, up 10 s: "
	    "no reset");
	is_int(restart_backoff_next(&b, 60000, MID), 1000, "MAX 1m, up 1m: "
	    "reset");
	restart_backoff_parse(&b, "3", &cause);
	ok(restart_backoff_next(&b, 0, 0) == 3000 &&
	    restart_backoff_next(&b, 0, TOP) == 3000, "a constant delay");
}

static void
tally_ok(const char *s, unsigned n, int64_t window)
{
	const char	*cause = NULL;
	unsigned	 gn = 99;
	int64_t		 gw = 99;

	if (restart_tally_parse(s, &gn, &gw, &cause) == -1)
		ok(0, "--max-restarts %s: %s", s, cause);
	else
		ok(gn == n && gw == window, "--max-restarts %s: %u/%lld", s,
		    gn, (long long)gw);
}

static void
tally_bad(const char *s, const char *want)
{
	const char	*cause = NULL;
	unsigned	 n;
	int64_t		 w;
	char		 what[100];

	snprintf(what, sizeof what, "--max-restarts '%s' refused", s);
	if (restart_tally_parse(s, &n, &w, &cause) != -1)
		ok(0, "%s: accepted", what);
	else
		is_str(cause, want, what);
}

/* Deaths at the times in T (ms); WANT: the verdict of each, as "0010". */
static void
deaths(unsigned n, int64_t window, const int64_t *t, const char *want)
{
	struct restart_tally	tl;
	char			got[32];
	size_t			i;

	if (restart_tally_init(&tl, n, window) == -1) {
		ok(0, "tally_init");
		return;
	}
	for (i = 0; i < strlen(want); i++)
		got[i] = (char)('0' + restart_tally_add(&tl, t[i]));
	got[i] = '\0';
	is_str(got, want, "give-up verdicts");
	restart_tally_release(&tl);
	restart_tally_release(&tl);
}

static void
tally(void)
{
	static const int64_t	quick[] = { 0, 100, 200, 300 };
	static const int64_t	spread[] = { 0, 600, 1200, 1300 };
	static const int64_t	edge[] = { 0, 500, 1000, 1001 };
	static const int64_t	run[] = { 0, 1000000000, 2000000000 };

	tally_ok("5/1m", 5, 60000);
	tally_ok("0/10s", 0, 10000);
	tally_ok("3", 3, 0);
	tally_ok("10000/0.5ms", 10000, 1);
	tally_bad("", "not N/WINDOW (N restarts within WINDOW, as 5/1m)");
	tally_bad("/1s", "not N/WINDOW (N restarts within WINDOW, as 5/1m)");
	tally_bad("10001/1s", "N is not a count from 0 to 10000");
	tally_bad("-1/1s", "N is not a count from 0 to 10000");
	tally_bad("x/1s", "N is not a count from 0 to 10000");
	tally_bad("12345678901234567890/1s", "N is not a count from 0 to "
	    "10000");
	tally_bad("5/", E_DUR);
	tally_bad("5/x", E_DUR);
	tally_bad("5/1s/2s", E_DUR);
	tally_bad("5/0", "WINDOW must be more than 0");
	tally_bad("5/0s", "WINDOW must be more than 0");

	deaths(2, 1000, quick, "0011");
	deaths(2, 1000, spread, "0001");
	deaths(2, 1000, edge, "0001");
	deaths(0, 1000, quick, "1111");
	deaths(2, 0, run, "001");
	deaths(3, 1, quick, "0000");
}

int
main(void)
{
	policy();
	backoff();
	tally();
	return done();
}
