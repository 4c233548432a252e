/* SPDX-License-Identifier: ISC */
/*
 * The restart policy of a supervised child: whether to restart, after
 * how long, and when to give up. Policy only: no clock is read and no
 * random number drawn here, the caller passes times (ms) and randomness
 * in, so that every decision can be tested exactly.
 */
#include "compat.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "restart.h"
#include "units.h"

static const char E_BACKOFF[] = "not MIN:MAX or a single delay "
    "(durations: 500ms, 2s, 1m)";

/* A duration as units_duration takes it, in whole ms rounded up. */
static int
duration_ms(const char *s, size_t n, int64_t *ms, const char **cause)
{
	char	tmp[32];
	int64_t	ns;

	if (n >= sizeof tmp) {
		*cause = "not a duration (seconds, or with a unit: 500ms, 2s, "
		    "1m)";
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (units_duration(tmp, &ns, cause) == -1)
		return -1;
	*ms = (ns + 999999) / 1000000;
	return 0;
}

/*
 * Parse --restart S: "no" (the default), "on-failure" (after an exit
 * status other than 0, or a signal) or "always". Sets *policy to
 * RESTART_NO, RESTART_ON_FAILURE or RESTART_ALWAYS; returns 0, or -1
 * with *cause.
 */
int
restart_parse(const char *s, int *policy, const char **cause)
{
	if (strcmp(s, "no") == 0)
		*policy = RESTART_NO;
	else if (strcmp(s, "on-failure") == 0)
		*policy = RESTART_ON_FAILURE;
	else if (strcmp(s, "always") == 0)
		*policy = RESTART_ALWAYS;
	else {
		*cause = "not no, on-failure or always";
		return -1;
	}
	return 0;
}

/*
 * Should a child that ended by itself be restarted under POLICY? failed
 * is true for an exit status other than 0 or a death by signal. (A child
 * that ipcrun stopped is not the policy's business.)
 */
int
restart_wanted(int policy, int failed)
{
	switch (policy) {
	case RESTART_ALWAYS:
		return 1;
	case RESTART_ON_FAILURE:
		return failed != 0;
	default:
		return 0;
	}
}

/*
 * Parse --backoff S: MIN:MAX, two durations (500ms, 2s, 1m, or seconds
 * as 0.5), or a single one for a constant delay (1s is 1s:1s). MIN is at
 * least 1ms (a fraction of a ms counts as 1ms) and MAX at least MIN.
 * Sets b->min and b->max in ms and the attempt count to 0; returns 0, or
 * -1 with *cause.
 */
int
restart_backoff_parse(struct restart_backoff *b, const char *s,
    const char **cause)
{
	const char	*colon = strchr(s, ':');
	size_t		 n = colon != NULL ? (size_t)(colon - s) : strlen(s);

	if (n == 0 || (colon != NULL && colon[1] == '\0')) {
		*cause = E_BACKOFF;
		return -1;
	}
	if (duration_ms(s, n, &b->min, cause) == -1)
		return -1;
	b->max = b->min;
	if (colon != NULL &&
	    duration_ms(colon + 1, strlen(colon + 1), &b->max, cause) == -1)
		return -1;
	if (b->min == 0) {
		*cause = "MIN must be more than 0";
		return -1;
	}
	if (b->max < b->min) {
		*cause = "MAX is less than MIN";
		return -1;
	}
	b->attempt = 0;
	return 0;
}

/*
 * The delay in ms before the next start of a child that was up for
 * UPTIME ms, with RND any 32-bit random value (for the jitter). Restart k
 * (b->attempt, counted here from 1) has a base of MIN * 2^(k-1), at most
 * MAX; the delay is that base, from 25% below to 25% above as RND says,
 * kept within MIN..MAX, so that children that died together do not all
 * come back together. A child up for MAX or RESTART_STABLE ms (10 s),
 * whichever is longer, was healthy: the count starts again from 1.
 */
int64_t
restart_backoff_next(struct restart_backoff *b, int64_t uptime, uint32_t rnd)
{
	int64_t		stable = b->max > RESTART_STABLE ? b->max :
			    RESTART_STABLE;
	int64_t		d = b->min;
	unsigned	i;

	if (uptime >= stable)
		b->attempt = 0;
	if (b->attempt < UINT_MAX)
		b->attempt++;
	for (i = 1; i < b->attempt && d < b->max; i++)
		d *= 2;
	if (d > b->max)
		d = b->max;
	d = d - d / 4 + (int64_t)(((uint64_t)(d / 2) * rnd) >> 32);
	if (d < b->min)
		d = b->min;
	if (d > b->max)
		d = b->max;
	return d;
}

/*
 * Parse --max-restarts S: N/WINDOW, at most N restarts (0 to
 * RESTART_TALLY_MAX) within any WINDOW (a duration, more than 0), or N
 * alone, at most N in the whole run. Sets *n, and *window in ms (0: the
 * whole run); returns 0, or -1 with *cause.
 */
int
restart_tally_parse(const char *s, unsigned *n, int64_t *window,
    const char **cause)
{
	const char	*slash = strchr(s, '/'), *errstr = NULL;
	char		 tmp[16];
	size_t		 len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	long long	 v;

	if (len == 0) {
		*cause = "not N/WINDOW (N restarts within WINDOW, as 5/1m)";
		return -1;
	}
	v = -1;
	if (len < sizeof tmp) {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		v = strtonum(tmp, 0, RESTART_TALLY_MAX, &errstr);
	}
	if (v == -1 || errstr != NULL) {
		*cause = "N is not a count from 0 to 10000";
		return -1;
	}
	*window = 0;
	if (slash != NULL) {
		if (duration_ms(slash + 1, strlen(slash + 1), window, cause) ==
		    -1)
			return -1;
		if (*window == 0) {
			*cause = "WINDOW must be more than 0";
			return -1;
		}
	}
	*n = (unsigned)v;
	return 0;
}

/*
 * A tally of a child's deaths, to give up after N restarts within WINDOW
 * ms (0: the whole run): a ring of the last N + 1 death times. Returns 0,
 * or -1 with errno (ENOMEM). restart_tally_release frees it.
 */
int
restart_tally_init(struct restart_tally *t, unsigned n, int64_t window)
{
	memset(t, 0, sizeof *t);
	if ((t->t = calloc((size_t)n + 1, sizeof *t->t)) == NULL)
		return -1;
	t->n = n;
	t->window = window;
	return 0;
}

void
restart_tally_release(struct restart_tally *t)
{
	free(t->t);
	t->t = NULL;
}

/*
 * Count a death at NOW (ms, monotonic). Returns 1 when this is the
 * (N + 1)th death within the window, the oldest of them less than WINDOW
 * ms before NOW: give up instead of restarting. Otherwise 0. With N 0,
 * the first death gives up.
 */
int
restart_tally_add(struct restart_tally *t, int64_t now)
{
	unsigned	slots = t->n + 1;

	t->t[t->head] = now;
	t->head = (t->head + 1) % slots;
	if (t->count < slots)
		t->count++;
	if (t->count < slots)
		return 0;
	/* Full: head is the oldest of the last N + 1. */
	return t->window == 0 || now - t->t[t->head] < t->window;
}
