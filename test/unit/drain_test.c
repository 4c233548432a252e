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

int
main(void)
{
	delivered();
	looks();
	idle();
	hint();
	held();
	return done();
}
