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

/* A timeout at now, stdout taking data (held: not). */
static enum drain_action
due(struct drain *d, const struct drain_policy *pol, int64_t now, int held)
{
	return drain_step(d, pol, held ? DRAIN_EV_TIMEOUT_HELD :
	    DRAIN_EV_TIMEOUT, now);
}

static void
delivered(void)
{
	struct drain_policy	pol;
	struct drain		d;

	pol = policy(DRAIN_EOF_AUTO, 0, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_HALF_CLOSE,
	    "stdio: a half-close, whatever --eof says");
	ok(!drain_undelivered(&d) && d.state == DRAIN_WAITING, "delivered");
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NONE,
	    "once only");

	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_LOOK,
	    "auto, not announced: look at what runs");
	is_int(d.state, DRAIN_LOOKING, "looking");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_ANNOUNCED, SEC);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NOTICE,
	    "auto, announced: the notice");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_ANNOUNCED, SEC);
	drain_noticed(&d, &pol, SEC, 0);
	is_int(d.state, DRAIN_TOLD, "the notice before the last lines: told");
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NONE,
	    "auto, the notice already queued: nothing more");
	is_int(d.state, DRAIN_NOTICED, "noticed");

	pol = policy(DRAIN_EOF_IDLE, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_IDLE,
	    "idle: the idle rule");
	ok(d.state == DRAIN_IDLING && drain_deadline(&d, 0) == SEC,
	    "idling, a tick now");
	pol = policy(DRAIN_EOF_WAIT, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NONE,
	    "wait: nothing");
	pol = policy(DRAIN_EOF_CLOSE, 1, 0);
	memset(&d, 0, sizeof d);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_CLOSE,
	    "close: at once");

	/* Its input ended after its exit: a gone child is not looked at. */
	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	memset(&d, 0, sizeof d);
	drain_exited(&d, &pol, SEC, 1);
	ok(drain_takes_input(&d), "exited while fed: its lines wait for it");
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NONE,
	    "exited, auto: no look");
	is_int(d.state, DRAIN_EXITED, "exited");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_ANNOUNCED, SEC);
	drain_exited(&d, &pol, SEC, 1);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NOTICE,
	    "exited, announced: the notice still goes");
	pol = policy(DRAIN_EOF_IDLE, 1, 0);
	memset(&d, 0, sizeof d);
	drain_exited(&d, &pol, SEC, 1);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_NONE,
	    "exited, idle: no idle rule, the read after the exit bounds it");
	is_int(drain_deadline(&d, 0), 6 * SEC, "the read's end stays");
	pol = policy(DRAIN_EOF_CLOSE, 1, 0);
	memset(&d, 0, sizeof d);
	drain_exited(&d, &pol, SEC, 1);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_CLOSE,
	    "exited, close: closed");
	pol = policy(DRAIN_EOF_AUTO, 0, 0);
	memset(&d, 0, sizeof d);
	drain_exited(&d, &pol, SEC, 1);
	is_int(drain_step(&d, &pol, DRAIN_EV_DELIVERED, SEC), DRAIN_HALF_CLOSE,
	    "exited, stdio: a half-close");
}

static void
looks(void)
{
	static const int64_t	every[] = { 100, 200, 400, 800, 1000, 1000 };
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	struct drain		d;
	int64_t			now = 10 * SEC, t;
	char			what[64];
	unsigned		i;

	memset(&d, 0, sizeof d);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, SEC), DRAIN_NONE,
	    "fed: no look is taken");
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, now);
	for (i = 0; i < sizeof every / sizeof every[0]; i++) {
		snprintf(what, sizeof what, "Node with the preload: look "
		    "again in %lld ms", (long long)every[i]);
		is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_DRAIN, 0, SEC),
		    DRAIN_NONE, "Node with the preload: wait for it");
		t = drain_deadline(&d, 0);
		is_int(t - now, every[i] * MS, what);
		is_int(drain_deadline(&d, 1), t, "a look is not held");
		is_int(due(&d, &pol, t - 1, 0), DRAIN_NONE, "not due before");
		is_int(due(&d, &pol, t, 0), DRAIN_LOOK, "due then");
		is_int(drain_deadline(&d, 0), 0, "and spent");
	}
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, now);
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_PLAIN, 0, SEC),
	    DRAIN_NONE, "Node without the preload, once: look again");
	is_int(drain_deadline(&d, 0), now + 100 * MS, "soon");
	is_int(d.state, DRAIN_BARE, "bare");
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_DRAIN, 0, SEC),
	    DRAIN_NONE, "then with it (caught in its execve): wait for it");
	is_int(d.state, DRAIN_LOOKING, "looking");
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_PLAIN, 0, SEC),
	    DRAIN_NONE, "bare again, once: look again");
	is_int(drain_looked(&d, now, DRAIN_SEEN_NODE_PLAIN, 0, SEC),
	    DRAIN_IDLE_PLAIN, "bare twice in a row: the idle rule");
	ok(d.state == DRAIN_IDLING && drain_deadline(&d, 0) == now,
	    "idling, a tick now");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, now);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, SEC),
	    DRAIN_HALF_CLOSE, "no Node: a half-close");
	ok(d.state == DRAIN_WAITING && drain_deadline(&d, 0) == 0,
	    "and nothing more");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, now);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 1, SEC), DRAIN_NONE,
	    "no Node, input still unread: not yet");
	is_int(drain_deadline(&d, 0), now + 100 * MS, "look again");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, now);
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, 499 * MS),
	    DRAIN_NONE, "no Node, younger than DRAIN_SETTLE: not yet");
	is_int(drain_looked(&d, now, DRAIN_SEEN_OTHER, 0, 500 * MS),
	    DRAIN_HALF_CLOSE, "old enough: a half-close");
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, now);
	drain_looked(&d, now, DRAIN_SEEN_OTHER, 1, SEC);
	drain_step(&d, &pol, DRAIN_EV_ANNOUNCED, now);
	ok(drain_ready(&d) && !drain_looking(&d) && drain_deadline(&d, 0) == 0,
	    "announced: no more looks");
}

/* Quiet for idle_ns with nothing from the child in between: close. */
static void
idle(void)
{
	struct drain_policy	pol = policy(DRAIN_EOF_IDLE, 1, 0);
	struct drain		d;
	int64_t			t = 1 * SEC;

	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, t);
	ok(d.state == DRAIN_IDLING && drain_deadline(&d, 0) == t,
	    "started: a tick now");
	is_int(drain_deadline(&d, 1), t, "the tick is not held");
	is_int(due(&d, &pol, t, 1), DRAIN_TICK, "a tick, held or not");
	is_int(drain_ticked(&d, &pol, t, 1), DRAIN_NONE, "quiet: counted");
	is_int(d.state, DRAIN_QUIET, "quiet");
	is_int(drain_deadline(&d, 0), t + 50 * MS,
	    "next tick a tenth of 500 ms later");
	is_int(drain_ticked(&d, &pol, t + 400 * MS, 1), DRAIN_NONE,
	    "quiet 400 ms: not yet");
	drain_step(&d, &pol, DRAIN_EV_RX, t + 450 * MS);
	is_int(d.state, DRAIN_IDLING, "bytes from the child: not quiet");
	is_int(drain_ticked(&d, &pol, t + 500 * MS, 1), DRAIN_NONE,
	    "bytes from the child in between: the spell starts again");
	is_int(drain_ticked(&d, &pol, t + 900 * MS, 0), DRAIN_NONE,
	    "not quiet (in flight): not counted");
	is_int(d.state, DRAIN_IDLING, "the spell is broken");
	is_int(drain_ticked(&d, &pol, t + 1000 * MS, 1), DRAIN_NONE,
	    "quiet again");
	is_int(drain_ticked(&d, &pol, t + 1499 * MS, 1), DRAIN_NONE,
	    "499 ms: not yet");
	is_int(drain_ticked(&d, &pol, t + 1500 * MS, 1), DRAIN_CLOSE,
	    "500 ms of quiet: close");
	is_int(d.state, DRAIN_WAITING, "the rule stops");
	is_int(drain_deadline(&d, 0), 0, "no deadline left");
	is_int(drain_ticked(&d, &pol, t + 1600 * MS, 1), DRAIN_NONE,
	    "no tick after it");

	pol.idle_ns = 10 * MS;
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, t);
	drain_ticked(&d, &pol, t, 1);
	is_int(drain_deadline(&d, 0), t + 5 * MS, "short spells tick every 5 ms");
}

/* The hint after the notice; --eof-timeout instead of it. */
static void
hint(void)
{
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 0);
	struct drain		d;
	int64_t			t = 2 * SEC;

	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, t);
	drain_looked(&d, t, DRAIN_SEEN_NODE_PLAIN, 0, SEC);
	drain_looked(&d, t, DRAIN_SEEN_NODE_PLAIN, 0, SEC);
	drain_step(&d, &pol, DRAIN_EV_ANNOUNCED, t);
	is_int(d.state, DRAIN_IDLING, "the idle rule runs after a bare Node");
	drain_noticed(&d, &pol, t, 40);
	ok(drain_notice_queued(&d) && d.state == DRAIN_NOTICED,
	    "the notice: no idle rule, no looks");
	is_int(drain_deadline(&d, 0), t + 3 * SEC, "the hint armed 3 s later");
	drain_step(&d, &pol, DRAIN_EV_RX, t + 1 * SEC);
	is_int(drain_deadline(&d, 0), t + 4 * SEC, "a reply pushes it on");
	is_int(due(&d, &pol, t + 4 * SEC - 1, 0), DRAIN_NONE, "not due before");
	is_int(due(&d, &pol, t + 4 * SEC, 1), DRAIN_NONE, "not while held");
	is_int(due(&d, &pol, t + 4 * SEC, 0), DRAIN_WEIGH, "due");
	is_int(drain_weighed(&d, t + 4 * SEC, 0, 41), DRAIN_NONE,
	    "it used CPU: work, not a hang");
	is_int(drain_deadline(&d, 0), t + 7 * SEC, "look again 3 s later");
	due(&d, &pol, t + 7 * SEC, 0);
	is_int(drain_weighed(&d, t + 7 * SEC, 1, 41), DRAIN_NONE,
	    "input still unread: not yet");
	due(&d, &pol, t + 10 * SEC, 0);
	is_int(drain_weighed(&d, t + 10 * SEC, 0, 41), DRAIN_HINT,
	    "silent, idle, nothing to read: the hint");
	is_int(drain_deadline(&d, 0), 0, "once");
	drain_noticed(&d, &pol, t + 11 * SEC, 0);
	ok(drain_notice_queued(&d) && drain_deadline(&d, 0) == t + 14 * SEC,
	    "a second Node on the channel: the notice again, and the hint");

	pol = policy(DRAIN_EOF_AUTO, 1, 2 * SEC);
	memset(&d, 0, sizeof d);
	drain_noticed(&d, &pol, t, 0);
	is_int(drain_deadline(&d, 0), 0, "with --eof-timeout: no hint");
	drain_step(&d, &pol, DRAIN_EV_INPUT_ENDED, t);
	is_int(drain_deadline(&d, 0), t + 2 * SEC, "--eof-timeout from the end");
	drain_step(&d, &pol, DRAIN_EV_INPUT_ENDED, t + SEC);
	is_int(drain_deadline(&d, 0), t + 2 * SEC, "set once");
	is_int(due(&d, &pol, t + 2 * SEC, 0), DRAIN_EOF_TIMEOUT, "due");
	is_int(drain_deadline(&d, 0), 0, "and spent");
	pol.eof_timeout = 0;
	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_INPUT_ENDED, t);
	is_int(drain_deadline(&d, 0), 0, "no --eof-timeout: none");
}

/* Stdout full: the judges' deadlines wait, the looks and ticks do not. */
static void
held(void)
{
	struct drain_policy	pol = policy(DRAIN_EOF_AUTO, 1, 2 * SEC);
	struct drain		d;

	memset(&d, 0, sizeof d);
	drain_step(&d, &pol, DRAIN_EV_INPUT_ENDED, 1 * SEC);
	is_int(drain_deadline(&d, 0), 3 * SEC, "--eof-timeout is due");
	is_int(drain_deadline(&d, 1), 0, "not while held");
	drain_step(&d, &pol, DRAIN_EV_DELIVERED, 1 * SEC);
	drain_looked(&d, 3 * SEC + 900 * MS, DRAIN_SEEN_OTHER, 1, SEC);
	is_int(drain_deadline(&d, 1), 4 * SEC, "a look is not held");
	drain_hold(&d, 10 * SEC);
	is_int(drain_deadline(&d, 0), 4 * SEC, "the look is not moved");
	is_int(due(&d, &pol, 4 * SEC, 0), DRAIN_LOOK, "the look first");
	is_int(drain_deadline(&d, 0), 13 * SEC,
	    "--eof-timeout moved on by the time held");

	/* The exit: the rules stop, the rest of the channel is read. */
	drain_exited(&d, &pol, 20 * SEC, 1);
	ok(d.state == DRAIN_EXITED, "exited: no rule runs");
	is_int(drain_deadline(&d, 0), 25 * SEC,
	    "the read after it: kill_timeout, no --eof-timeout");
	drain_step(&d, &pol, DRAIN_EV_RX, 24 * SEC);
	is_int(drain_deadline(&d, 0), 29 * SEC, "what still flows moves it on");
	drain_hold(&d, 1 * SEC);
	is_int(drain_deadline(&d, 0), 30 * SEC, "and is held like the others");
	is_int(drain_deadline(&d, 1), 0, "not while held");
	is_int(due(&d, &pol, 30 * SEC, 0), DRAIN_EXIT_TIMEOUT, "due");
	drain_step(&d, &pol, DRAIN_EV_CLOSED, 30 * SEC);
	is_int(drain_deadline(&d, 0), 0, "closed: nothing left to time");
	memset(&d, 0, sizeof d);
	drain_exited(&d, &pol, 20 * SEC, 0);
	is_int(drain_deadline(&d, 0), 0, "exited with the channel closed: none");
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
