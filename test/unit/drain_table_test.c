/* SPDX-License-Identifier: ISC */
/*
 * The drain's table (lib/drain.c): every state a drain reaches against
 * every event, as the relay sees it, with and without --eof-timeout.
 * The scenarios are in drain_test.c. Times are passed in. TAP.
 */
#include "compat.h"

#include <string.h>

#include "drain.h"
#include "tap.h"

#define MS	INT64_C(1000000)
#define SEC	(1000 * MS)

static struct drain_policy
policy(enum drain_eof eof, int node, int64_t eof_timeout)
{
	struct drain_policy	pol;

	memset(&pol, 0, sizeof pol);
	pol.eof = eof;
	pol.node = node;
	pol.idle_ns = 500 * MS;
	pol.eof_timeout = eof_timeout;
	pol.kill_timeout = 5 * SEC;
	return pol;
}

/*
 * The table: each place a drain can be in, against each event, as the
 * relay sees it: the action, the next wake-up (held and not), and the
 * questions the relay asks. The places are reached through the
 * functions, as the relay reaches them; only the adapters know how the
 * functions are called, so that the rows hold whatever the code inside.
 */
#define T0	(10 * SEC)
#define T1	(T0 + 10 * MS)

enum place {
	P_FEEDING,	/* input goes in */
	P_TOLD,		/* the notice is queued behind the last lines */
	P_LOOKING,	/* delivered, unannounced: looks */
	P_BARE,		/* a look found Node without the preload */
	P_IDLE,		/* the idle rule, not quiet yet */
	P_QUIET,	/* the idle rule, quiet since T0 */
	P_NOTICED,	/* delivered, the notice sent */
	P_WAITING,	/* delivered, half-closed: nothing runs */
	P_EXITED,	/* exited while fed, its channel read */
	P_EXITED_LATE,	/* exited after the notice, its channel read */
	P_EXITED_SHUT,	/* exited while fed, its channel closed */
	P_N
};

static const char *const place_name[P_N] = {
	"feeding", "told", "looking", "bare", "idle", "quiet", "noticed",
	"waiting", "exited", "exited late", "exited shut"
};

/* What a timeout asks of the relay. */
enum { T_NONE, T_LOOK, T_TICK, T_HINT, T_EOF, T_EXIT };

static const char *const t_name[] = {
	"none", "look", "tick", "hint", "eof-timeout", "read after exit"
};

/* The adapters. */
static enum drain_action
a_delivered(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	return drain_step(d, pol, DRAIN_EV_DELIVERED, now);
}

static void
a_announced(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_step(d, pol, DRAIN_EV_ANNOUNCED, now);
}

static void
a_rx(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_step(d, pol, DRAIN_EV_RX, now);
}

static void
a_closed(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_step(d, pol, DRAIN_EV_CLOSED, now);
}

static void
a_input_ended(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_step(d, pol, DRAIN_EV_INPUT_ENDED, now);
}

static void
a_noticed(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_noticed(d, pol, now, 7);
}

static void
a_exited(struct drain *d, const struct drain_policy *pol, int64_t now,
    int open)
{
	drain_exited(d, pol, now, open);
}

static enum drain_action
a_looked(struct drain *d, int64_t now, enum drain_seen seen, int busy)
{
	return drain_looked(d, now, seen, busy, SEC);
}

/* The drain starts the idle rule itself now. */
static void
a_idle_started(struct drain *d, int64_t now)
{
	(void)d;
	(void)now;
}

static enum drain_action
a_ticked(struct drain *d, const struct drain_policy *pol, int64_t now,
    int quiet)
{
	return drain_ticked(d, pol, now, quiet);
}

/* One timeout: what is due first, as the timer pass takes it. */
static int
a_timeout(struct drain *d, int64_t now, int held)
{
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 0);

	switch (drain_step(d, &pol, held ? DRAIN_EV_TIMEOUT_HELD :
	    DRAIN_EV_TIMEOUT, now)) {
	case DRAIN_LOOK:
		return T_LOOK;
	case DRAIN_TICK:
		return T_TICK;
	case DRAIN_WEIGH:
		return T_HINT;
	case DRAIN_EOF_TIMEOUT:
		return T_EOF;
	case DRAIN_EXIT_TIMEOUT:
		return T_EXIT;
	default:
		return T_NONE;
	}
}

static int
q_takes(const struct drain *d)
{
	return drain_takes_input(d);
}

static int
q_undelivered(const struct drain *d)
{
	return drain_undelivered(d);
}

static int
q_queued(const struct drain *d)
{
	return drain_notice_queued(d);
}

static int
q_ready(const struct drain *d)
{
	return drain_ready(d);
}

static void
reach(struct drain *d, const struct drain_policy *pol, enum place p)
{
	memset(d, 0, sizeof *d);
	switch (p) {
	case P_FEEDING:
		break;
	case P_TOLD:
		a_announced(d, pol, T0);
		a_noticed(d, pol, T0);
		break;
	case P_LOOKING:
		a_delivered(d, pol, T0);
		a_looked(d, T0, DRAIN_SEEN_OTHER, 1);
		break;
	case P_BARE:
		a_delivered(d, pol, T0);
		a_looked(d, T0, DRAIN_SEEN_NODE_PLAIN, 0);
		break;
	case P_IDLE:
	case P_QUIET:
		a_delivered(d, pol, T0 - 100 * MS);
		a_looked(d, T0 - 100 * MS, DRAIN_SEEN_NODE_PLAIN, 0);
		a_timeout(d, T0, 0);
		a_looked(d, T0, DRAIN_SEEN_NODE_PLAIN, 0);
		a_idle_started(d, T0);
		if (p == P_QUIET) {
			a_timeout(d, T0, 0);
			a_ticked(d, pol, T0, 1);
		}
		break;
	case P_NOTICED:
	case P_EXITED_LATE:
		a_announced(d, pol, T0);
		a_delivered(d, pol, T0);
		a_noticed(d, pol, T0);
		if (p == P_EXITED_LATE)
			a_exited(d, pol, T0, 1);
		break;
	case P_WAITING:
		a_delivered(d, pol, T0);
		a_looked(d, T0, DRAIN_SEEN_OTHER, 0);
		break;
	case P_EXITED:
	case P_EXITED_SHUT:
		a_exited(d, pol, T0, p == P_EXITED);
		break;
	default:
		break;
	}
}

static void
row_deadline(const struct drain_policy *pol, const char *ev,
    void (*fn)(struct drain *, const struct drain_policy *, int64_t),
    int64_t at, const int64_t want[P_N], const int64_t held[P_N])
{
	struct drain	d;
	char		what[128];
	int		p;

	for (p = 0; p < P_N; p++) {
		reach(&d, pol, p);
		if (fn != NULL)
			fn(&d, pol, at);
		snprintf(what, sizeof what, "%s, %s: next wake-up",
		    place_name[p], ev);
		is_int(drain_deadline(&d, 0), want[p], what);
		if (held == NULL)
			continue;
		snprintf(what, sizeof what, "%s, %s: held", place_name[p], ev);
		is_int(drain_deadline(&d, 1), held[p], what);
	}
}

static void
table(void)
{
	static const int64_t	at_reach[P_N] = {
		0, T0 + 3 * SEC, T0 + 100 * MS, T0 + 100 * MS, T0,
		T0 + 50 * MS, T0 + 3 * SEC, 0, T0 + 5 * SEC, T0 + 5 * SEC, 0
	}, at_reach_held[P_N] = {
		0, 0, T0 + 100 * MS, T0 + 100 * MS, T0, T0 + 50 * MS, 0, 0,
		0, 0, 0
	}, after_announced[P_N] = {
		0, T0 + 3 * SEC, 0, 0, T0, T0 + 50 * MS, T0 + 3 * SEC, 0,
		T0 + 5 * SEC, T0 + 5 * SEC, 0
	}, after_rx[P_N] = {
		0, T1 + 3 * SEC, T0 + 100 * MS, T0 + 100 * MS, T0,
		T0 + 50 * MS, T1 + 3 * SEC, 0, T1 + 5 * SEC, T1 + 5 * SEC, 0
	}, none[P_N], after_delivered[P_N] = {
		0, T0 + 3 * SEC, T0 + 100 * MS, T0 + 100 * MS, T0,
		T0 + 50 * MS, T0 + 3 * SEC, 0, T0 + 5 * SEC, T0 + 5 * SEC, 0
	}, after_hold[P_N] = {
		0, T0 + 4 * SEC, T0 + 100 * MS, T0 + 100 * MS, T0,
		T0 + 50 * MS, T0 + 4 * SEC, 0, T0 + 6 * SEC, T0 + 6 * SEC, 0
	}, after_noticed[P_N] = {
		/* A gone child gets no hint: the relay never said it to one. */
		T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC,
		T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC,
		T0 + 5 * SEC, T0 + 5 * SEC, 0
	};
	/*
	 * Told: the notice is queued already (the relay queued no second
	 * one). Exited: a gone child is not looked at (the relay did not).
	 */
	static const enum drain_action delivered_act[P_N] = {
		DRAIN_LOOK, DRAIN_NONE, DRAIN_NONE, DRAIN_NONE, DRAIN_NONE,
		DRAIN_NONE, DRAIN_NONE, DRAIN_NONE, DRAIN_NONE, DRAIN_NONE,
		DRAIN_NONE
	};
	static const int	timeout[P_N] = {
		T_NONE, T_HINT, T_LOOK, T_LOOK, T_TICK, T_TICK, T_HINT, T_NONE,
		T_EXIT, T_EXIT, T_NONE
	}, timeout_held[P_N] = {
		T_NONE, T_NONE, T_LOOK, T_LOOK, T_TICK, T_TICK, T_NONE, T_NONE,
		T_NONE, T_NONE, T_NONE
	};
	/*
	 * The questions: takes input, undelivered, notice queued, ready.
	 * After the exit a notice is not counted as queued (the one thing
	 * that asked was a second Node announcing on the gone child's
	 * channel, for a notice again), and once queued its input counts
	 * as delivered: the exited states keep only whether it was fed.
	 */
	static const int	q[P_N][4] = {
		{ 1, 1, 0, 0 }, { 0, 1, 1, 1 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 },
		{ 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 1, 1 }, { 0, 0, 0, 0 },
		{ 1, 1, 0, 0 }, { 0, 0, 0, 1 }, { 1, 1, 0, 0 }
	}, q_noticed[P_N][4] = {
		{ 0, 1, 1, 0 }, { 0, 1, 1, 1 }, { 0, 0, 1, 0 }, { 0, 0, 1, 0 },
		{ 0, 0, 1, 0 }, { 0, 0, 1, 0 }, { 0, 0, 1, 1 }, { 0, 0, 1, 0 },
		{ 0, 0, 0, 0 }, { 0, 0, 0, 1 }, { 0, 0, 0, 0 }
	};
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	struct drain		d;
	char			what[128];
	int64_t			t;
	int			p, i, got;

	for (p = 0; p < P_N; p++) {
		reach(&d, &pol, p);
		snprintf(what, sizeof what, "%s: takes input, undelivered, "
		    "notice queued, ready", place_name[p]);
		is_int(q_takes(&d) << 3 | q_undelivered(&d) << 2 |
		    q_queued(&d) << 1 | q_ready(&d), q[p][0] << 3 |
		    q[p][1] << 2 | q[p][2] << 1 | q[p][3], what);
		a_noticed(&d, &pol, T1);
		snprintf(what, sizeof what, "%s, the notice queued: takes "
		    "input, undelivered, notice queued, ready", place_name[p]);
		is_int(q_takes(&d) << 3 | q_undelivered(&d) << 2 |
		    q_queued(&d) << 1 | q_ready(&d), q_noticed[p][0] << 3 |
		    q_noticed[p][1] << 2 | q_noticed[p][2] << 1 |
		    q_noticed[p][3], what);
		snprintf(what, sizeof what, "%s, the notice queued: next "
		    "wake-up", place_name[p]);
		is_int(drain_deadline(&d, 0), after_noticed[p], what);

		reach(&d, &pol, p);
		snprintf(what, sizeof what, "%s, delivered: the action",
		    place_name[p]);
		is_int(a_delivered(&d, &pol, T1), delivered_act[p], what);
		snprintf(what, sizeof what, "%s, delivered: next wake-up",
		    place_name[p]);
		is_int(drain_deadline(&d, 0), after_delivered[p], what);

		/* The timeout: not before the deadline, once at it. */
		reach(&d, &pol, p);
		t = drain_deadline(&d, 0);
		if (t == 0)
			t = T1;
		snprintf(what, sizeof what, "%s: nothing 1 ns before",
		    place_name[p]);
		is_int(a_timeout(&d, t - 1, 0), T_NONE, what);
		got = a_timeout(&d, t, 0);
		snprintf(what, sizeof what, "%s: the timeout asks for %s "
		    "(got %s)", place_name[p], t_name[timeout[p]], t_name[got]);
		is_int(got, timeout[p], what);
		snprintf(what, sizeof what, "%s: and is spent", place_name[p]);
		is_int(a_timeout(&d, t, 0), T_NONE, what);
		reach(&d, &pol, p);
		got = a_timeout(&d, t, 1);
		snprintf(what, sizeof what, "%s: held, the timeout asks for "
		    "%s (got %s)", place_name[p], t_name[timeout_held[p]],
		    t_name[got]);
		is_int(got, timeout_held[p], what);

		reach(&d, &pol, p);
		drain_hold(&d, SEC);
		snprintf(what, sizeof what, "%s, held 1 s: next wake-up",
		    place_name[p]);
		is_int(drain_deadline(&d, 0), after_hold[p], what);
	}
	row_deadline(&pol, "as reached", NULL, 0, at_reach, at_reach_held);
	row_deadline(&pol, "announced", a_announced, T1, after_announced,
	    NULL);
	row_deadline(&pol, "bytes from the child", a_rx, T1, after_rx, NULL);
	row_deadline(&pol, "closed", a_closed, T1, none, none);
	/* A child exits once: the places before it. */
	for (p = 0; p < P_EXITED; p++) {
		reach(&d, &pol, p);
		a_exited(&d, &pol, T1, 1);
		snprintf(what, sizeof what, "%s, exited: the read after it",
		    place_name[p]);
		is_int(drain_deadline(&d, 0), T1 + 5 * SEC, what);
		snprintf(what, sizeof what, "%s, exited: held", place_name[p]);
		is_int(drain_deadline(&d, 1), 0, what);
		reach(&d, &pol, p);
		a_exited(&d, &pol, T1, 0);
		snprintf(what, sizeof what, "%s, exited, channel closed: "
		    "nothing", place_name[p]);
		is_int(drain_deadline(&d, 0), 0, what);
	}

	/* --eof-timeout 2 s: it runs beside whatever the place runs. */
	{
		static const int64_t	eof_end[P_N] = {
			T0 + 2 * SEC, T0 + 2 * SEC, T0 + 100 * MS,
			T0 + 100 * MS, T0, T0 + 50 * MS, T0 + 2 * SEC,
			T0 + 2 * SEC, T0 + 2 * SEC, T0 + 2 * SEC, T0 + 2 * SEC
		}, eof_held[P_N] = {
			0, 0, T0 + 100 * MS, T0 + 100 * MS, T0, T0 + 50 * MS,
			0, 0, 0, 0, 0
		}, eof_hold[P_N] = {
			T0 + 3 * SEC, T0 + 3 * SEC, T0 + 100 * MS,
			T0 + 100 * MS, T0, T0 + 50 * MS, T0 + 3 * SEC,
			T0 + 3 * SEC, T0 + 3 * SEC, T0 + 3 * SEC, T0 + 3 * SEC
		};
		/* Timeouts at T0 + 6 s, one after the other. */
		static const int	eof_seq[P_N][3] = {
			{ T_EOF, T_NONE }, { T_EOF, T_NONE },
			{ T_LOOK, T_EOF, T_NONE }, { T_LOOK, T_EOF, T_NONE },
			{ T_TICK, T_EOF, T_NONE }, { T_TICK, T_EOF, T_NONE },
			{ T_EOF, T_NONE }, { T_EOF, T_NONE },
			{ T_EOF, T_EXIT, T_NONE }, { T_EOF, T_EXIT, T_NONE },
			{ T_EOF, T_NONE }
		};

		pol = policy(DRAIN_EOF_AUTO, 1, 2 * SEC);
		for (p = 0; p < P_N; p++) {
			reach(&d, &pol, p);
			a_input_ended(&d, &pol, T0);
			snprintf(what, sizeof what, "%s, input ended: "
			    "next wake-up", place_name[p]);
			is_int(drain_deadline(&d, 0), eof_end[p], what);
			snprintf(what, sizeof what, "%s, input ended: held",
			    place_name[p]);
			is_int(drain_deadline(&d, 1), eof_held[p], what);
			for (i = 0; i < 3; i++) {
				got = a_timeout(&d, T0 + 6 * SEC, 0);
				snprintf(what, sizeof what, "%s, input ended, "
				    "at 6 s: %s (got %s)", place_name[p],
				    t_name[eof_seq[p][i]], t_name[got]);
				is_int(got, eof_seq[p][i], what);
				if (got == T_NONE)
					break;
			}

			reach(&d, &pol, p);
			a_input_ended(&d, &pol, T0);
			drain_hold(&d, SEC);
			snprintf(what, sizeof what, "%s, input ended, held "
			    "1 s: next wake-up", place_name[p]);
			is_int(drain_deadline(&d, 0), eof_hold[p], what);

			reach(&d, &pol, p);
			a_input_ended(&d, &pol, T0);
			a_closed(&d, &pol, T1);
			snprintf(what, sizeof what, "%s, input ended, "
			    "closed: --eof-timeout still runs", place_name[p]);
			is_int(drain_deadline(&d, 0), T0 + 2 * SEC, what);

			reach(&d, &pol, p);
			a_input_ended(&d, &pol, T0);
			a_exited(&d, &pol, T1, 1);
			snprintf(what, sizeof what, "%s, input ended, "
			    "exited: the read after it only", place_name[p]);
			is_int(drain_deadline(&d, 0), T1 + 5 * SEC, what);
		}
	}
}

int
main(void)
{
	table();
	return done();
}
