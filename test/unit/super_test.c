/* SPDX-License-Identifier: ISC */
/*
 * The supervision table (lib/super.c): every state against every event,
 * the kill escalation with its one deadline, restarts with backoff and
 * the give-up tally, the rule that a child ipcrun signalled is never
 * restarted, the join of its exit with the end of its channel, and the
 * STOP and RESTART commands. Times are passed in. TAP.
 */
#include "compat.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "restart.h"
#include "super.h"
#include "tap.h"

#define MS	INT64_C(1000000)
#define SEC	(1000 * MS)
#define MID	0x80000000U	/* a random value that adds no jitter */
#define EXITED(c)	((c) << 8)	/* a wait status: exit code c */
#define KILLED(s)	(s)		/* a wait status: signal s */

static const struct restart_backoff backoff = { 100, 10000, 0 };

static void
start(struct super *s, const struct super_policy *pol, unsigned max,
    int64_t window)
{
	if (super_init(s, pol, &backoff, max, window) == -1) {
		ok(0, "super_init");
		exit(1);
	}
}

/*
 * The exit of a child whose channel was read to its end first (the
 * order that finishes it at once; join() takes the other one).
 */
static enum super_action
drained_exit(struct super *s, const struct super_policy *pol, int status,
    int may, int64_t now, uint32_t rnd)
{
	(void)super_step(s, pol, SUPER_EV_DRAINED, now);
	return super_exited(s, pol, status, may, now, rnd);
}

static void
is_state(const struct super *s, enum super_state want, const char *what)
{
	is_str(super_state_name(s->state), super_state_name(want), what);
}

/* The escalation: a grace, SIGTERM, a wait, SIGKILL; one deadline. */
static void
escalation(void)
{
	struct super_policy	pol = { RESTART_NO, 5 * SEC, 0 };
	struct super		s;

	start(&s, &pol, 0, 0);
	is_state(&s, SUPER_DOWN, "a new child is down");
	ok(!super_alive(&s), "and not alive");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 10 * SEC), SUPER_NONE,
	    "down: a timeout does nothing");
	super_spawned(&s, 1 * SEC);
	is_state(&s, SUPER_UP, "spawned: up");
	ok(super_alive(&s), "up is alive");
	is_int(super_deadline(&s), 0, "up has no deadline");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 100 * SEC), SUPER_NONE,
	    "up: a timeout does nothing");

	is_int(super_step(&s, &pol, SUPER_EV_CLOSED, 2 * SEC), SUPER_NONE,
	    "channel closed: nothing yet");
	is_state(&s, SUPER_GRACE, "closed: grace");
	is_int(super_deadline(&s), 7 * SEC, "grace ends kill_timeout later");
	is_int(super_step(&s, &pol, SUPER_EV_STOP, 3 * SEC), SUPER_NONE,
	    "a stop in grace");
	is_int(super_deadline(&s), 7 * SEC, "keeps the grace's pace");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 6 * SEC), SUPER_NONE,
	    "a timeout before the deadline does nothing");
	is_state(&s, SUPER_GRACE, "still in grace");
	is_int(s.stopped, 0, "nothing sent yet");

	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 7 * SEC),
	    SUPER_SEND_TERM, "grace over: SIGTERM");
	is_state(&s, SUPER_TERM, "term");
	is_int(s.stopped, SIGTERM, "stopped by ipcrun with SIGTERM");
	is_int(super_deadline(&s), 12 * SEC, "SIGKILL kill_timeout later");
	is_int(super_step(&s, &pol, SUPER_EV_CLOSED, 8 * SEC), SUPER_NONE,
	    "term: closed does nothing");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 12 * SEC),
	    SUPER_SEND_KILL, "ignored SIGTERM: SIGKILL");
	is_state(&s, SUPER_KILL, "kill");
	is_int(s.stopped, SIGKILL, "stopped by ipcrun with SIGKILL");
	is_int(super_deadline(&s), 0, "kill: nothing more to time");
	ok(super_alive(&s), "alive until reaped");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 100 * SEC), SUPER_NONE,
	    "kill: a timeout does nothing");

	is_int(drained_exit(&s, &pol, KILLED(SIGKILL), 1, 13 * SEC, MID),
	    SUPER_ENDED, "reaped: ended");
	is_state(&s, SUPER_DONE, "done");
	ok(!super_alive(&s), "done is not alive");
	is_int(s.status, KILLED(SIGKILL), "its status kept");
	is_int(super_exited(&s, &pol, 0, 1, 14 * SEC, MID), SUPER_NONE,
	    "a second exit is ignored");
	is_int(s.status, KILLED(SIGKILL), "and changes nothing");
	is_int(super_step(&s, &pol, SUPER_EV_CANCEL, 15 * SEC), SUPER_NONE,
	    "done: cancel does nothing");
	super_release(&s);
}

/* A stop is at once: SIGTERM at the next timer pass. */
static void
stop(void)
{
	struct super_policy	pol = { RESTART_ALWAYS, 5 * SEC, 0 };
	struct super		s;

	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	super_step(&s, &pol, SUPER_EV_STOP, 4 * SEC);
	is_state(&s, SUPER_GRACE, "stop: grace");
	is_int(super_deadline(&s), 4 * SEC, "of no length");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 4 * SEC),
	    SUPER_SEND_TERM, "SIGTERM at once");
	is_int(drained_exit(&s, &pol, KILLED(SIGTERM), 1, 5 * SEC, MID),
	    SUPER_ENDED, "stopped by ipcrun: never restarted, even always");
	is_int(s.restarts, 0, "no restart counted");
	super_release(&s);

	/* Exiting in grace, before any signal: its own exit. */
	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	super_step(&s, &pol, SUPER_EV_CLOSED, 1 * SEC);
	is_int(drained_exit(&s, &pol, EXITED(3), 1, 2 * SEC, MID),
	    SUPER_RESTART, "exit in grace: restarted");
	is_int(s.stopped, 0, "not stopped by ipcrun");
	super_release(&s);
}

/* Restarts: policy, the relay's veto, backoff, the deadline, spawn. */
static void
restarts(void)
{
	struct super_policy	pol = { RESTART_ON_FAILURE, 5 * SEC, 0 };
	struct super		s;

	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	is_int(drained_exit(&s, &pol, 0, 1, 1 * SEC, MID), SUPER_ENDED,
	    "on-failure: status 0 ends it");
	super_release(&s);

	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	is_int(drained_exit(&s, &pol, EXITED(1), 0, 1 * SEC, MID),
	    SUPER_ENDED, "the relay says no: ended");
	super_release(&s);

	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	is_int(drained_exit(&s, &pol, KILLED(SIGSEGV), 1, 1 * SEC, MID),
	    SUPER_RESTART, "a signal is a failure: restart");
	is_state(&s, SUPER_BACKOFF, "backoff");
	ok(!super_alive(&s), "backoff is not alive");
	is_int(s.delay_ms, 100, "the first delay is MIN");
	is_int(super_deadline(&s), 1 * SEC + 100 * MS, "due after it");
	is_int(s.restarts, 1, "one restart");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 1 * SEC + 50 * MS),
	    SUPER_NONE, "not before the delay");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 1 * SEC + 100 * MS),
	    SUPER_SPAWN, "then spawn");
	is_state(&s, SUPER_BACKOFF, "still backoff until it is started");
	super_spawned(&s, 1 * SEC + 120 * MS);
	is_state(&s, SUPER_UP, "up again");
	is_int(drained_exit(&s, &pol, EXITED(2), 1, 1 * SEC + 200 * MS, MID),
	    SUPER_RESTART, "again");
	is_int(s.delay_ms, 200, "the delay doubles");
	is_int(s.restarts, 2, "two restarts");
	is_int(super_step(&s, &pol, SUPER_EV_CLOSED, 2 * SEC), SUPER_NONE,
	    "backoff: closed does nothing");
	is_int(super_step(&s, &pol, SUPER_EV_CANCEL, 2 * SEC),
	    SUPER_CANCELLED, "cancel: the restart will not happen");
	is_state(&s, SUPER_DONE, "done");
	is_int(super_deadline(&s), 0, "no deadline");
	is_int(s.status, EXITED(2), "the last status decides");
	super_release(&s);

	pol.restart = RESTART_NO;
	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	is_int(drained_exit(&s, &pol, EXITED(1), 1, 1 * SEC, MID),
	    SUPER_ENDED, "--restart no: ended");
	super_release(&s);
}

/* --max-restarts 2/1m: the third death within the minute gives up. */
static void
giveup(void)
{
	struct super_policy	pol = { RESTART_ALWAYS, 5 * SEC, 1 * SEC };
	struct super		s;
	int64_t			t = 1 * SEC;
	int			i;

	start(&s, &pol, 2, 60000);
	for (i = 0; i < 2; i++) {
		super_spawned(&s, t);
		t += 1 * SEC;
		is_int(drained_exit(&s, &pol, 0, 1, t, MID), SUPER_RESTART,
		    "always: status 0 restarted too");
	}
	super_spawned(&s, t);
	t += 1 * SEC;
	is_int(drained_exit(&s, &pol, 0, 1, t, MID), SUPER_GIVEUP,
	    "the third death within the window: given up");
	is_state(&s, SUPER_DONE, "done");
	is_int(s.restarts, 2, "after two restarts");
	super_release(&s);

	/* Deaths spread wider than the window never give up. */
	start(&s, &pol, 2, 60000);
	for (i = 0, t = 1 * SEC; i < 6; i++) {
		super_spawned(&s, t);
		t += 31 * SEC;
		if (drained_exit(&s, &pol, EXITED(1), 1, t, MID) !=
		    SUPER_RESTART)
			break;
	}
	is_int(i, 6, "a death every 31 s under 2/1m: always restarted");
	super_release(&s);
}

/*
 * The exit and the end of the channel in either order: the child is
 * finished (and its exit reported) only when both have come.
 */
static void
join(void)
{
	struct super_policy	pol = { RESTART_ON_FAILURE, 5 * SEC, 0 };
	struct super		s;

	/* Exit first: EXITED until the channel is read to its end. */
	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	is_int(super_exited(&s, &pol, EXITED(3), 1, 1 * SEC, MID),
	    SUPER_NONE, "exit with the channel open: nothing to report yet");
	is_state(&s, SUPER_EXITED, "exited");
	ok(!super_alive(&s), "exited is not alive");
	is_int(super_deadline(&s), 0, "exited has no deadline of its own");
	is_int(s.status, EXITED(3), "its status kept");
	is_int(s.restarts, 1, "the restart is decided at the exit");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 100 * SEC), SUPER_NONE,
	    "exited: a timeout does nothing");
	is_int(super_step(&s, &pol, SUPER_EV_STOP, 2 * SEC), SUPER_NONE,
	    "exited: stop does nothing");
	is_int(super_step(&s, &pol, SUPER_EV_CLOSED, 2 * SEC), SUPER_NONE,
	    "exited: ipcrun closing the channel is not its end yet");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 3 * SEC), SUPER_RESTART,
	    "drained: finished, restarted");
	is_state(&s, SUPER_BACKOFF, "backoff");
	is_int(super_deadline(&s), 3 * SEC + 100 * MS,
	    "the delay counts from the finish: no wait for the old channel");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 4 * SEC), SUPER_NONE,
	    "a second end of channel is ignored");
	super_release(&s);

	/* Channel first: the exit finishes it at once. */
	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 1 * SEC), SUPER_NONE,
	    "the child closed its channel while running");
	is_state(&s, SUPER_UP, "still up");
	is_int(super_exited(&s, &pol, EXITED(0), 1, 2 * SEC, MID),
	    SUPER_ENDED, "then exits: finished at once");
	is_state(&s, SUPER_DONE, "done");
	super_release(&s);

	/* Given up, when the channel drains. */
	start(&s, &pol, 0, 60000);
	super_spawned(&s, 0);
	is_int(super_exited(&s, &pol, EXITED(1), 1, 1 * SEC, MID),
	    SUPER_NONE, "a last death, channel open");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 2 * SEC), SUPER_GIVEUP,
	    "drained: given up");
	is_state(&s, SUPER_DONE, "done");
	super_release(&s);

	/* ipcrun stops while the channel is read: no restart after all. */
	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	(void)super_exited(&s, &pol, EXITED(1), 1, 1 * SEC, MID);
	is_int(super_step(&s, &pol, SUPER_EV_CANCEL, 2 * SEC),
	    SUPER_CANCELLED, "cancel while exited: its restart is off");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 3 * SEC), SUPER_ENDED,
	    "drained: ended");
	is_state(&s, SUPER_DONE, "done");
	is_int(super_step(&s, &pol, SUPER_EV_CANCEL, 4 * SEC), SUPER_NONE,
	    "done: cancel does nothing");
	super_release(&s);

	/* Stopped by ipcrun with the channel still open. */
	start(&s, &pol, 5, 60000);
	super_spawned(&s, 0);
	(void)super_step(&s, &pol, SUPER_EV_STOP, 1 * SEC);
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 1 * SEC),
	    SUPER_SEND_TERM, "stop: SIGTERM");
	is_int(super_exited(&s, &pol, KILLED(SIGTERM), 1, 2 * SEC, MID),
	    SUPER_NONE, "its exit waits for the channel");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 3 * SEC), SUPER_ENDED,
	    "then ends: stopped by ipcrun, never restarted");
	is_int(s.stopped, SIGTERM, "stopped with SIGTERM");
	super_release(&s);
}

/* The commands: STOP and RESTART, in every state they can meet. */
static void
commands(void)
{
	struct super_policy	pol = { RESTART_NO, 5 * SEC, 0 };
	struct super		s;

	/* RESTART a running child: stopped, then started whatever the policy. */
	start(&s, &pol, 0, 0);
	super_spawned(&s, 0);
	is_int(super_step(&s, &pol, SUPER_EV_RESTART, 1 * SEC), SUPER_NONE,
	    "restart: a stop first");
	is_state(&s, SUPER_GRACE, "grace of no length");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 1 * SEC),
	    SUPER_SEND_TERM, "SIGTERM");
	is_int(super_exited(&s, &pol, KILLED(SIGTERM), 1, 2 * SEC, MID),
	    SUPER_NONE, "exited, channel open");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 2 * SEC), SUPER_RESTART,
	    "finished: restarted, though --restart no and stopped by ipcrun");
	is_int(s.delay_ms, 0, "with no delay");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 2 * SEC), SUPER_SPAWN,
	    "spawned at the next timer pass");
	super_spawned(&s, 3 * SEC);
	is_int(s.stopped, 0, "the new one is its own");
	is_int(super_exited(&s, &pol, EXITED(1), 1, 4 * SEC, MID), SUPER_NONE,
	    "the next exit");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 4 * SEC), SUPER_ENDED,
	    "follows the policy again");
	is_state(&s, SUPER_DONE, "done");

	/* RESTART a child that is done: started at the next pass. */
	is_int(super_step(&s, &pol, SUPER_EV_RESTART, 5 * SEC), SUPER_NONE,
	    "restart when done");
	is_state(&s, SUPER_BACKOFF, "backoff");
	is_int(super_deadline(&s), 5 * SEC, "due now");
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 5 * SEC), SUPER_SPAWN,
	    "spawn");

	/* STOP one waiting for its restart: it stays down. */
	is_int(super_step(&s, &pol, SUPER_EV_STOP, 5 * SEC), SUPER_CANCELLED,
	    "stop in backoff: cancelled");
	is_state(&s, SUPER_DONE, "done");
	is_int(super_step(&s, &pol, SUPER_EV_STOP, 6 * SEC), SUPER_NONE,
	    "stop when done does nothing");

	/* RESTART one that exited, channel open: a restart once it drains. */
	super_spawned(&s, 7 * SEC);
	(void)super_exited(&s, &pol, EXITED(0), 1, 8 * SEC, MID);
	is_int(super_step(&s, &pol, SUPER_EV_RESTART, 8 * SEC), SUPER_NONE,
	    "restart while exited");
	is_int(super_step(&s, &pol, SUPER_EV_DRAINED, 9 * SEC), SUPER_RESTART,
	    "drained: restarted");
	is_int(super_deadline(&s), 9 * SEC, "at once");

	/* RELOAD (serve's rolling restart): the grace first, then as RESTART. */
	super_release(&s);
	start(&s, &pol, 0, 0);
	super_spawned(&s, 0);
	pol.kill_timeout = 3 * SEC;
	is_int(super_step(&s, &pol, SUPER_EV_RELOAD, 1 * SEC), SUPER_NONE,
	    "reload: a graceful stop first");
	is_state(&s, SUPER_GRACE, "grace");
	is_int(super_deadline(&s), 4 * SEC, "of --kill-timeout");
	is_int(drained_exit(&s, &pol, EXITED(0), 1, 2 * SEC, MID),
	    SUPER_RESTART, "ended by itself in the grace: restarted");
	is_int(s.delay_ms, 0, "with no delay");
	pol.kill_timeout = 0;

	/* A restart whose exec fails: down for good, with that status. */
	super_release(&s);
	start(&s, &pol, 0, 0);
	super_spawned(&s, 0);
	(void)super_step(&s, &pol, SUPER_EV_RESTART, 1 * SEC);
	(void)super_step(&s, &pol, SUPER_EV_TIMEOUT, 1 * SEC);
	(void)drained_exit(&s, &pol, KILLED(SIGTERM), 1, 2 * SEC, MID);
	is_int(super_step(&s, &pol, SUPER_EV_TIMEOUT, 2 * SEC), SUPER_SPAWN,
	    "restart: spawn");
	super_start_failed(&s, EXITED(127));
	is_state(&s, SUPER_DONE, "exec failed: done");
	is_int(s.status, EXITED(127), "with its status");
	is_int(super_deadline(&s), 0, "and no deadline");

	/* RESTART before the first start does nothing. */
	super_release(&s);
	start(&s, &pol, 0, 0);
	is_int(super_step(&s, &pol, SUPER_EV_RESTART, 1 * SEC), SUPER_NONE,
	    "restart when down");
	is_state(&s, SUPER_DOWN, "still down");
	super_release(&s);
}

int
main(void)
{
	escalation();
	stop();
	restarts();
	giveup();
	join();
	commands();
	return done();
}
