/* SPDX-License-Identifier: ISC */
/*
 * The units options are written in: durations (timeout(1)'s forms) and
 * byte counts. Shared by cmd/ and by the restart policy's parsers.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "units.h"

/*
 * Parse a duration: a decimal number of seconds ("3", "0.25"), or one
 * with a unit, ms, s or m ("500ms", "2s", "1m", "0.5s"), as timeout(1)
 * takes them. Sets *ns, rounded to the nanosecond; returns -1 with *cause
 * set when S is not one. No sign, exponent or blank is taken, and no
 * strtod, whose reading depends on the locale.
 */
#define DURATION_MAX	1000000		/* seconds, about 11 days */

int
units_duration(const char *s, int64_t *ns, const char **cause)
{
	const int64_t	 max = (int64_t)DURATION_MAX * 1000000000;
	const char	*p, *frac = NULL;
	int64_t		 whole = 0, part = 0, mult, scale;
	int		 digits = 0;

	for (p = s; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole <= max)
			whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		frac = ++p;
		for (; *p >= '0' && *p <= '9'; p++)
			digits++;
	}
	if (strcmp(p, "") == 0 || strcmp(p, "s") == 0)
		mult = 1000000000;
	else if (strcmp(p, "ms") == 0)
		mult = 1000000;
	else if (strcmp(p, "m") == 0)
		mult = (int64_t)60 * 1000000000;
	else
		digits = 0;
	if (digits == 0) {
		*cause = "not a duration (seconds, or with a unit: "
		    "500ms, 2s, 1m)";
		return -1;
	}
	if (whole > max / mult) {
		*cause = "too large (at most 1000000 seconds)";
		return -1;
	}
	/* The fraction, digit by digit, exact down to the nanosecond. */
	scale = mult;
	for (p = frac; p != NULL && *p >= '0' && *p <= '9'; p++) {
		if (scale % 10 != 0) {
			part += ((*p - '0') * scale + 5) / 10;
			break;
		}
		scale /= 10;
		part += (*p - '0') * scale;
	}
	if (whole * mult + part > max) {
		*cause = "too large (at most 1000000 seconds)";
		return -1;
	}
	*ns = whole * mult + part;
	return 0;
}

/*
 * Parse a byte count: digits with an optional K, M or G suffix (powers of
 * 1024). Returns -1 with *cause set when the value is not one.
 */
int
units_size(const char *s, size_t *out, const char **cause)
{
	char		*end;
	uintmax_t	 v, mult = 1;

	if (*s < '0' || *s > '9') {
		*cause = "not a byte count";
		return -1;
	}
	errno = 0;
	v = strtoumax(s, &end, 10);
	if (errno != 0) {
		*cause = "too large";
		return -1;
	}
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024;
		break;
	case 'm': case 'M':
		mult = 1024 * 1024;
		break;
	case 'g': case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		*cause = "not a byte count";
		return -1;
	}
	if (*end != '\0' && end[1] != '\0') {
		*cause = "not a byte count";
		return -1;
	}
	if (v > SIZE_MAX / 4 / mult) {
		*cause = "too large";
		return -1;
	}
	if (v == 0) {
		*cause = "must be at least 1";
		return -1;
	}
	*out = (size_t)(v * mult);
	return 0;
}
