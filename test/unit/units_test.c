/* SPDX-License-Identifier: ISC */
/*
 * units_duration and units_size: the forms options take, exact to the
 * nanosecond, and every refusal with its cause. TAP.
 */
#include "compat.h"

#include <stdlib.h>

#include "units.h"
#include "tap.h"

static const char E_DUR[] = "not a duration (seconds, or with a unit: "
    "500ms, 2s, 1m)";
static const char E_BIG[] = "too large (at most 1000000 seconds)";

static void
dur(const char *s, int64_t want_ns, const char *want_cause)
{
	const char	*cause = NULL;
	int64_t		 ns = -1;
	char		 what[80];
	int		 r = units_duration(s, &ns, &cause);

	snprintf(what, sizeof what, "duration '%s'", s);
	if (want_cause != NULL)
		is_str(r == -1 ? cause : "(accepted)", want_cause, what);
	else
		is_int(r == 0 ? ns : -1, want_ns, what);
}

static void
size(const char *s, size_t want, const char *want_cause)
{
	const char	*cause = NULL;
	size_t		 n = 0;
	char		 what[80];
	int		 r = units_size(s, &n, &cause);

	snprintf(what, sizeof what, "size '%s'", s);
	if (want_cause != NULL)
		is_str(r == -1 ? cause : "(accepted)", want_cause, what);
	else
		is_int(r == 0 ? (int64_t)n : -1, (int64_t)want, what);
}

int
main(void)
{
	dur("3", 3000000000LL, NULL);
	dur("0.25", 250000000, NULL);
	dur("500ms", 500000000, NULL);
	dur("2s", 2000000000LL, NULL);
	dur("1m", 60000000000LL, NULL);
	dur("0.5s", 500000000, NULL);
	dur("1.5ms", 1500000, NULL);
	dur(".5", 500000000, NULL);
	dur("7.", 7000000000LL, NULL);
	dur("0.0000000015", 2, NULL);
	dur("0", 0, NULL);
	dur("1000000", 1000000000000000LL, NULL);
	dur("", 0, E_DUR);
	dur(".", 0, E_DUR);
	dur("x", 0, E_DUR);
	dur("-1", 0, E_DUR);
	dur("+1", 0, E_DUR);
	dur("1h", 0, E_DUR);
	dur("1 s", 0, E_DUR);
	dur(" 1", 0, E_DUR);
	dur("1e3", 0, E_DUR);
	dur("ms", 0, E_DUR);
	dur("1000001", 0, E_BIG);
	dur("1000000.5", 0, E_BIG);
	dur("16667m", 0, E_BIG);
	dur("99999999999999999999999", 0, E_BIG);

	size("1", 1, NULL);
	size("4k", 4096, NULL);
	size("4K", 4096, NULL);
	size("2M", 2 * 1024 * 1024, NULL);
	size("1g", 1024 * 1024 * 1024, NULL);
	size("0", 0, "must be at least 1");
	size("", 0, "not a byte count");
	size("x", 0, "not a byte count");
	size("-1", 0, "not a byte count");
	size("1kb", 0, "not a byte count");
	size("1T", 0, "not a byte count");
	size("99999999999999999999999", 0, "too large");
	size("99999999999G", 0, "too large");
	return done();
}
