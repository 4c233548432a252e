/* SPDX-License-Identifier: ISC */
/*
 * The end of input of one child (lib/drain.c): what each --eof policy
 * does once the input is delivered, the looks at an unannounced child and
 * their backoff, the idle rule's quiet spell, the hint, --eof-timeout,
 * the read after the exit, and the deadlines held while stdout is full.
 * Times are passed in. TAP.
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

static void
delivered(void)
{
	struct drain_policy	pol;
	struct drain		d;

	pol = policy(DRAIN_EOF_AUTO, 0, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_delivered(&d, &pol), DRAIN_HALF_CLOSE,
	    "stdio: a half-close, whatever --eof says");
	ok(d.delivered, "delivered");
	is_int(drain_delivered(&d, &pol), DRAIN_NONE, "once only");

	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_delivered(&d, &pol), DRAIN_LOOK,
	    "auto, not announced: look at what runs");
	memset(&d, 0, sizeof d);
	drain_announced(&d);
	is_int(drain_delivered(&d, &pol), DRAIN_NOTICE,
	    "auto, announced: the notice");
	memset(&d, 0, sizeof d);
	d.notice = 1;
	is_int(drain_delivered(&d, &pol), DRAIN_NONE,
	    "auto, the notice already queued: nothing more");

	pol = policy(DRAIN_EOF_IDLE, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_delivered(&d, &pol), DRAIN_IDLE, "idle: the idle rule");
	pol = policy(DRAIN_EOF_WAIT, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_delivered(&d, &pol), DRAIN_NONE, "wait: nothing");
	pol = policy(DRAIN_EOF_CLOSE, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_delivered(&d, &pol), DRAIN_CLOSE, "close: at once");
}

static void
looks(void)
{
	static const int64_t	every[] = { 100, 200, 400, 800, 1000, 1000 };
	struct drain		d;
	int64_t			now = 10 * SEC;
	char			what[64];
	unsigned		i;

	memset(&d, 0, sizeof d);
	for (i = 0; i < sizeof every / sizeof every[0]; i++) {
		snprintf(what, sizeof what, "Node with the preload: look "
		    "again in %lld ms", (long long)every[i]);
		is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_DRAIN, 0, SEC),
		    DRAIN_NONE, "Node with the preload: wait for it");
		is_int(d.look_at - now, every[i] * MS, what);
		ok(!drain_due(&d.look_at, d.look_at - 1), "not due before");
		ok(drain_due(&d.look_at, d.look_at), "due then");
		is_int(d.look_at, 0, "and spent");
	}
	memset(&d, 0, sizeof d);
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_PLAIN, 0, SEC),
	    DRAIN_NONE, "Node without the preload, once: look again");
	is_int(d.look_at, now + 100 * MS, "soon");
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_DRAIN, 0, SEC),
	    DRAIN_NONE, "then with it (caught in its execve): wait for it");
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_PLAIN, 0, SEC),
	    DRAIN_NONE, "bare again, once: look again");
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_PLAIN, 0, SEC),
	    DRAIN_IDLE_PLAIN, "bare twice in a row: the idle rule");
	memset(&d, 0, sizeof d);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, SEC),
	    DRAIN_HALF_CLOSE, "no Node: a half-close");
	memset(&d, 0, sizeof d);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 1, SEC), DRAIN_NONE,
	    "no Node, input still unread: not yet");
	is_int(d.look_at, now + 100 * MS, "look again");
	memset(&d, 0, sizeof d);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, 499 * MS),
	    DRAIN_NONE, "no Node, younger than DRAIN_SETTLE: not yet");
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, 500 * MS),
	    DRAIN_HALF_CLOSE, "old enough: a half-close");
	memset(&d, 0, sizeof d);
	d.look_at = now;
	drain_announced(&d);
	ok(d.announced && d.look_at == 0, "announced: no more looks");
}

/* Quiet for idle_ns with nothing from the child in between: close. */
static void
idle(void)
{
	struct drain_policy	pol = policy(DRAIN_EOF_IDLE, 1, 0);
	struct drain		d;
	int64_t			t = 1 * SEC;

	memset(&d, 0, sizeof d);
	drain_idle_start(&d, t);
	ok(d.idle && d.idle_tick == t, "started: a tick now");
	is_int(drain_deadline(&d, 0), t, "the tick is the deadline");
	is_int(drain_idle_step(&d, &pol, t, 1), DRAIN_NONE, "quiet: counted");
	is_int(d.idle_tick, t + 50 * MS, "next tick a tenth of 500 ms later");
	is_int(drain_idle_step(&d, &pol, t + 400 * MS, 1), DRAIN_NONE,
	    "quiet 400 ms: not yet");
	drain_rx(&d, &pol, t + 450 * MS);
	is_int(drain_idle_step(&d, &pol, t + 500 * MS, 1), DRAIN_NONE,
	    "bytes from the child in between: the spell starts again");
	is_int(drain_idle_step(&d, &pol, t + 900 * MS, 0), DRAIN_NONE,
	    "not quiet (in flight): not counted");
	is_int(d.quiet_since, 0, "the spell is broken");
	is_int(drain_idle_step(&d, &pol, t + 1000 * MS, 1), DRAIN_NONE,
	    "quiet again");
	is_int(drain_idle_step(&d, &pol, t + 1499 * MS, 1), DRAIN_NONE,
	    "499 ms: not yet");
	is_int(drain_idle_step(&d, &pol, t + 1500 * MS, 1), DRAIN_CLOSE,
	    "500 ms of quiet: close");
	ok(!d.idle, "the rule stops");
	is_int(drain_deadline(&d, 0), 0, "no deadline left");

	pol.idle_ns = 10 * MS;
	drain_idle_start(&d, t);
	drain_idle_step(&d, &pol, t, 1);
	is_int(d.idle_tick, t + 5 * MS, "short spells tick every 5 ms");
}

/* The hint after the notice; --eof-timeout instead of it. */
static void
hint(void)
{
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	struct drain		d;
	int64_t			t = 2 * SEC;

	memset(&d, 0, sizeof d);
	d.idle = 1;
	d.look_at = t;
	drain_noticed(&d, &pol, t, 40);
	ok(d.notice && !d.idle && d.look_at == 0,
	    "the notice: no idle rule, no looks");
	is_int(d.hint_at, t + 3 * SEC, "the hint armed 3 s later");
	drain_rx(&d, &pol, t + 1 * SEC);
	is_int(d.hint_at, t + 4 * SEC, "a reply pushes it on");
	ok(!drain_due(&d.hint_at, t + 4 * SEC - 1), "not due before");
	ok(drain_due(&d.hint_at, t + 4 * SEC), "due");
	is_int(drain_hint_step(&d, t + 4 * SEC, 0, 41), DRAIN_NONE,
	    "it used CPU: work, not a hang");
	is_int(d.hint_at, t + 7 * SEC, "look again 3 s later");
	drain_due(&d.hint_at, t + 7 * SEC);
	is_int(drain_hint_step(&d, t + 7 * SEC, 1, 41), DRAIN_NONE,
	    "input still unread: not yet");
	drain_due(&d.hint_at, t + 10 * SEC);
	is_int(drain_hint_step(&d, t + 10 * SEC, 0, 41), DRAIN_HINT,
	    "silent, idle, nothing to read: the hint");
	is_int(d.hint_at, 0, "once");
	drain_renotice(&d);
	ok(!d.notice, "a second Node on the channel: a notice may go again");
	drain_noticed(&d, &pol, t + 11 * SEC, 0);
	ok(d.notice, "and is sent");

	pol = policy(DRAIN_EOF_AUTO, 1, 2 * SEC);
	memset(&d, 0, sizeof d);
	drain_noticed(&d, &pol, t, 0);
	is_int(d.hint_at, 0, "with --eof-timeout: no hint");
	drain_input_ended(&d, &pol, t);
	is_int(d.eof_deadline, t + 2 * SEC, "--eof-timeout from the end");
	drain_input_ended(&d, &pol, t + SEC);
	is_int(d.eof_deadline, t + 2 * SEC, "set once");
	pol.eof_timeout = 0;
	memset(&d, 0, sizeof d);
	drain_input_ended(&d, &pol, t);
	is_int(d.eof_deadline, 0, "no --eof-timeout: none");
}

/* Stdout full: the judges' deadlines wait, the looks and ticks do not. */
static void
held(void)
{
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 2 * SEC);
	struct drain		d;

	memset(&d, 0, sizeof d);
	drain_input_ended(&d, &pol, 1 * SEC);
	is_int(drain_deadline(&d, 0), 3 * SEC, "--eof-timeout is due");
	is_int(drain_deadline(&d, 1), 0, "not while held");
	d.look_at = 4 * SEC;
	is_int(drain_deadline(&d, 1), 4 * SEC, "a look is not held");
	drain_hold(&d, 10 * SEC);
	is_int(d.eof_deadline, 13 * SEC, "moved on by the time held");
	is_int(d.look_at, 4 * SEC, "the look is not moved");

	/* The exit: the rules stop, the rest of the channel is read. */
	d.idle = 1;
	d.hint_at = 5 * SEC;
	drain_exited(&d, &pol, 20 * SEC, 1);
	ok(!d.idle && d.hint_at == 0 && d.look_at == 0 &&
	    d.eof_deadline == 0, "exited: no rule runs");
	is_int(d.exit_deadline, 25 * SEC, "the read after it: kill_timeout");
	drain_rx(&d, &pol, 24 * SEC);
	is_int(d.exit_deadline, 29 * SEC, "what still flows moves it on");
	drain_hold(&d, 1 * SEC);
	is_int(d.exit_deadline, 30 * SEC, "and is held like the others");
	drain_closed(&d);
	is_int(drain_deadline(&d, 0), 0, "closed: nothing left to time");
	memset(&d, 0, sizeof d);
	drain_exited(&d, &pol, 20 * SEC, 0);
	is_int(d.exit_deadline, 0, "exited with the channel closed: none");
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
	(void)now;
	return drain_delivered(d, pol);
}

static void
a_announced(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	(void)pol;
	(void)now;
	drain_announced(d);
}

static void
a_rx(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_rx(d, pol, now);
}

static void
a_closed(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	(void)pol;
	(void)now;
	drain_closed(d);
}

static void
a_input_ended(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	drain_input_ended(d, pol, now);
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

/* The relay starts the idle rule when told to. */
static void
a_idle_started(struct drain *d, int64_t now)
{
	drain_idle_start(d, now);
}

static enum drain_action
a_ticked(struct drain *d, const struct drain_policy *pol, int64_t now,
    int quiet)
{
	return drain_idle_step(d, pol, now, quiet);
}

/* One timeout: what is due first, as the timer pass takes it. */
static int
a_timeout(struct drain *d, int64_t now, int held)
{
	if (d->idle && drain_due(&d->idle_tick, now))
		return T_TICK;
	if (drain_due(&d->look_at, now))
		return T_LOOK;
	if (held)
		return T_NONE;
	if (drain_due(&d->hint_at, now))
		return T_HINT;
	if (drain_due(&d->eof_deadline, now))
		return T_EOF;
	if (drain_due(&d->exit_deadline, now))
		return T_EXIT;
	return T_NONE;
}

static int
q_takes(const struct drain *d)
{
	return !d->notice && !d->delivered;
}

static int
q_undelivered(const struct drain *d)
{
	return !d->delivered;
}

static int
q_queued(const struct drain *d)
{
	return d->notice;
}

static int
q_ready(const struct drain *d)
{
	return d->announced;
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
		T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC,
		T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC,
		T1 + 3 * SEC, T1 + 3 * SEC, T1 + 3 * SEC
	};
	static const enum drain_action delivered_act[P_N] = {
		DRAIN_LOOK, DRAIN_NOTICE, DRAIN_NONE, DRAIN_NONE, DRAIN_NONE,
		DRAIN_NONE, DRAIN_NONE, DRAIN_NONE, DRAIN_LOOK, DRAIN_NONE,
		DRAIN_LOOK
	};
	static const int	timeout[P_N] = {
		T_NONE, T_HINT, T_LOOK, T_LOOK, T_TICK, T_TICK, T_HINT, T_NONE,
		T_EXIT, T_EXIT, T_NONE
	}, timeout_held[P_N] = {
		T_NONE, T_NONE, T_LOOK, T_LOOK, T_TICK, T_TICK, T_NONE, T_NONE,
		T_NONE, T_NONE, T_NONE
	};
	/* The questions: takes input, undelivered, notice queued, ready. */
	static const int	q[P_N][4] = {
		{ 1, 1, 0, 0 }, { 0, 1, 1, 1 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 },
		{ 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 1, 1 }, { 0, 0, 0, 0 },
		{ 1, 1, 0, 0 }, { 0, 0, 1, 1 }, { 1, 1, 0, 0 }
	}, q_noticed[P_N][4] = {
		{ 0, 1, 1, 0 }, { 0, 1, 1, 1 }, { 0, 0, 1, 0 }, { 0, 0, 1, 0 },
		{ 0, 0, 1, 0 }, { 0, 0, 1, 0 }, { 0, 0, 1, 1 }, { 0, 0, 1, 0 },
		{ 0, 1, 1, 0 }, { 0, 0, 1, 1 }, { 0, 1, 1, 0 }
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
	delivered();
	looks();
	idle();
	hint();
	held();
	table();
	return done();
}
