/* SPDX-License-Identifier: ISC */
/*
 * The end of input of one child. Once every input line is in its channel
 * (delivered), the --eof policy says what ends its input: the notice for
 * Node with ipcrun's preload (it unrefs the channel and drains), a
 * half-close for anything else, the idle rule (close after a quiet
 * spell) for Node without the preload, or the user's choice. Around it
 * run the clocks that judge the child: --eof-timeout, the hint for a
 * child that keeps itself alive, the read of its channel after its exit.
 * Those stop while ipcrun's own stdout is full, since the channel is then
 * not read and the time is not the child's (drain_hold).
 *
 * It is a state x event table, as s6-supervise is: one state, and one
 * deadline whose meaning the state gives. The events are drain_step's,
 * and drain_noticed (the notice queued) and drain_exited.
 *
 * state      deadline DELIVERED ANNOUNCED RX       CLOSED   notice   exit
 * FEEDING    -        (1)       -         -        -        TOLD     EXITED_FED
 * TOLD       hint(2)  NOTICED   -         hint+3s  no hint  hint(3)  EXITED
 * LOOKING    look     -         WAITING   -        WAITING  NOTICED  EXITED
 * BARE       look     -         WAITING   -        WAITING  NOTICED  EXITED
 * IDLING     tick     -         -         -        WAITING  NOTICED  EXITED
 * QUIET      tick     -         -         IDLING   WAITING  NOTICED  EXITED
 * NOTICED    hint(2)  -         -         hint+3s  no hint  hint(3)  EXITED
 * WAITING    -        -         -         -        -        NOTICED  EXITED
 * EXITED_FED read(4)  EXITED(5) -         read+kt  no read  EXITED   -
 * EXITED     read(4)  -         -         read+kt  no read  -        -
 *
 * (1) stdio: WAITING, a half-close. --eof close: WAITING, close. --eof
 *     idle: IDLING. --eof wait: WAITING. --eof auto: the notice if the
 *     preload announced itself (WAITING until it is queued), else
 *     LOOKING and a look now.
 * (2) DRAIN_HINT_AFTER after the notice, unless --eof-timeout bounds the
 *     wait; at it, DRAIN_WEIGH: drain_weighed says whether to hint.
 * (3) another Node on the channel announced itself: a notice again, and
 *     the hint armed again.
 * (4) kill_timeout after its exit, or after its last bytes since.
 * (5) the policy's one-time action (a half-close, a close, the notice);
 *     the looks and the idle rule are for a live child and do not start.
 *
 * The timeout: a look (DRAIN_LOOK, answered by drain_looked), a tick of
 * the idle rule (DRAIN_TICK, drain_ticked), the hint's time (DRAIN_WEIGH,
 * drain_weighed), the read's end (DRAIN_EXIT_TIMEOUT). The looks and
 * ticks run while stdout is full (the idle rule's quiet includes stdout
 * taking data); the hint and the read, which judge the child, are held.
 *
 * --eof-timeout (eof_at) runs beside the state: it starts at the end of
 * input whatever the state is then, and outlives all of them but the
 * exit. It cannot share the state's deadline: it is held while the looks
 * and ticks are not, and it is a fixed end while they are periodic, so
 * neither could be told back from the earlier of the two. The wake-up
 * (drain_deadline) is the earlier of them; what a timeout means is the
 * state's to say, in the order the timer pass always took them: a look
 * or a tick, the hint, --eof-timeout, the read after the exit.
 *
 * Here is only the state and the decisions: the relay looks at /proc,
 * asks the socket, writes and closes, and passes in what it saw. Tested
 * in test/unit/drain_test.c.
 */
#include "compat.h"

#include "drain.h"
#include "ev.h"

/* Its deadline judges the child: held while stdout is full. */
static int
drain_judging(const struct drain *d)
{
	switch (d->state) {
	case DRAIN_TOLD:
	case DRAIN_NOTICED:
	case DRAIN_EXITED_FED:
	case DRAIN_EXITED:
		return 1;
	default:
		return 0;
	}
}

/* The next wake-up, or 0; held: stdout is full, the judges wait. */
int64_t
drain_deadline(const struct drain *d, int held)
{
	if (held)
		return drain_judging(d) ? 0 : d->deadline;
	return ev_deadline_min(d->deadline, d->eof_at);
}

/* stdout was full for delta ns: the deadlines that judge the child move. */
void
drain_hold(struct drain *d, int64_t delta)
{
	if (d->deadline != 0 && drain_judging(d))
		d->deadline += delta;
	if (d->eof_at != 0)
		d->eof_at += delta;
}

/* All its input is in the channel (or never will be): the policy. */
static enum drain_action
drain_delivered(struct drain *d, const struct drain_policy *pol,
    int64_t now)
{
	switch (d->state) {
	case DRAIN_FEEDING:
		break;
	case DRAIN_TOLD:
		d->state = DRAIN_NOTICED;
		return DRAIN_NONE;
	case DRAIN_EXITED_FED:
		d->state = DRAIN_EXITED;
		/* A child that is gone is not looked at, nor idle. */
		if (!pol->node)
			return DRAIN_HALF_CLOSE;
		if (pol->eof == DRAIN_EOF_CLOSE)
			return DRAIN_CLOSE;
		if (pol->eof == DRAIN_EOF_AUTO && d->ready)
			return DRAIN_NOTICE;
		return DRAIN_NONE;
	default:
		return DRAIN_NONE;
	}
	d->state = DRAIN_WAITING;
	/* A stdio child reads EOF on its stdin; replies still flow. */
	if (!pol->node)
		return DRAIN_HALF_CLOSE;
	switch (pol->eof) {
	case DRAIN_EOF_CLOSE:
		return DRAIN_CLOSE;
	case DRAIN_EOF_IDLE:
		d->state = DRAIN_IDLING;
		d->deadline = now;
		return DRAIN_IDLE;
	case DRAIN_EOF_AUTO:
		if (d->ready)
			return DRAIN_NOTICE;
		d->state = DRAIN_LOOKING;
		return DRAIN_LOOK;
	default:
		return DRAIN_NONE;
	}
}

/*
 * The deadline has come. Several things may be due at once: each call
 * returns one and spends it, and the relay calls again until DRAIN_NONE.
 */
static enum drain_action
drain_timeout(struct drain *d, int64_t now, int held)
{
	int	due = d->deadline != 0 && now >= d->deadline;

	if (due && !drain_judging(d)) {
		d->deadline = 0;
		return d->state == DRAIN_IDLING || d->state == DRAIN_QUIET ?
		    DRAIN_TICK : DRAIN_LOOK;
	}
	if (held)
		return DRAIN_NONE;
	if (due && (d->state == DRAIN_TOLD || d->state == DRAIN_NOTICED)) {
		d->deadline = 0;
		return DRAIN_WEIGH;
	}
	if (d->eof_at != 0 && now >= d->eof_at) {
		d->eof_at = 0;
		return DRAIN_EOF_TIMEOUT;
	}
	if (due) {
		d->deadline = 0;
		return DRAIN_EXIT_TIMEOUT;
	}
	return DRAIN_NONE;
}

enum drain_action
drain_step(struct drain *d, const struct drain_policy *pol,
    enum drain_event ev, int64_t now)
{
	switch (ev) {
	case DRAIN_EV_DELIVERED:
		return drain_delivered(d, pol, now);
	case DRAIN_EV_ANNOUNCED:
		/* It will take the notice: no more looks. */
		d->ready = 1;
		if (drain_looking(d)) {
			d->state = DRAIN_WAITING;
			d->deadline = 0;
		}
		break;
	case DRAIN_EV_INPUT_ENDED:
		/* now is when input ended; set once. */
		if (pol->eof_timeout != 0 && d->eof_at == 0)
			d->eof_at = now + pol->eof_timeout;
		break;
	case DRAIN_EV_RX:
		/* It is not silent, nor is its channel stuck, nor quiet. */
		if (d->state == DRAIN_QUIET)
			d->state = DRAIN_IDLING;
		else if (d->deadline != 0 && (d->state == DRAIN_TOLD ||
		    d->state == DRAIN_NOTICED))
			d->deadline = now + DRAIN_HINT_AFTER;
		else if (d->deadline != 0 && drain_judging(d))
			d->deadline = now + pol->kill_timeout;
		break;
	case DRAIN_EV_CLOSED:
		/* No rule runs any more; --eof-timeout still ends the child. */
		switch (d->state) {
		case DRAIN_LOOKING:
		case DRAIN_BARE:
		case DRAIN_IDLING:
		case DRAIN_QUIET:
			d->state = DRAIN_WAITING;
			break;
		default:
			break;
		}
		d->deadline = 0;
		break;
	case DRAIN_EV_TIMEOUT:
	case DRAIN_EV_TIMEOUT_HELD:
		return drain_timeout(d, now, ev == DRAIN_EV_TIMEOUT_HELD);
	}
	return DRAIN_NONE;
}

/*
 * DRAIN_LOOK, in LOOKING or BARE: what a look at the child's group
 * found. Node with the preload will announce (it may be slow to start):
 * look again. Node without it gets the idle rule. Anything else gets a
 * half-close, but not while it has input to read (busy), while a shell
 * in the group has forked and not exec'd (busy too), nor while it is
 * younger than DRAIN_SETTLE (age): a wrapper may be about to start Node
 * on the channel. Each look reads /proc: less often as it goes on.
 *
 * Node without the preload is believed on the second look in a row
 * only (BARE, then the idle rule): in the middle of an execve, /proc
 * already names the new program while its environment still reads empty
 * (the kernel sets its bounds later), so a Node with the preload, caught
 * starting, looks bare.
 */
enum drain_action
drain_looked(struct drain *d, int64_t now, enum drain_seen seen, int busy,
    int64_t age)
{
	if (!drain_looking(d))
		return DRAIN_NONE;
	d->look_every = d->look_every == 0 ? DRAIN_LOOK_EVERY :
	    d->look_every * 2 > DRAIN_LOOK_MAX ? DRAIN_LOOK_MAX :
	    d->look_every * 2;
	d->deadline = now + d->look_every;
	switch (seen) {
	case DRAIN_SEEN_NODE_DRAIN:
		d->state = DRAIN_LOOKING;
		return DRAIN_NONE;
	case DRAIN_SEEN_NODE_PLAIN:
		if (d->state == DRAIN_LOOKING) {
			d->state = DRAIN_BARE;
			return DRAIN_NONE;
		}
		d->state = DRAIN_IDLING;
		d->deadline = now;
		return DRAIN_IDLE_PLAIN;
	default:
		d->state = DRAIN_LOOKING;
		if (busy || age < DRAIN_SETTLE)
			return DRAIN_NONE;
		d->state = DRAIN_WAITING;
		d->deadline = 0;
		return DRAIN_HALF_CLOSE;
	}
}

/*
 * DRAIN_TICK, in IDLING or QUIET: quiet is the relay's word that nothing
 * is in flight either way. Quiet for idle_ns without a byte from the
 * child in between (that takes QUIET back to IDLING): close. The next tick
 * comes a tenth of the spell later, within 5 to 50 ms.
 */
enum drain_action
drain_ticked(struct drain *d, const struct drain_policy *pol, int64_t now,
    int quiet)
{
	int64_t	tick;

	if (d->state != DRAIN_IDLING && d->state != DRAIN_QUIET)
		return DRAIN_NONE;
	if (!quiet)
		d->state = DRAIN_IDLING;
	else if (d->state == DRAIN_IDLING) {
		d->state = DRAIN_QUIET;
		d->since = now;
	} else if (now - d->since >= pol->idle_ns) {
		d->state = DRAIN_WAITING;
		d->deadline = 0;
		return DRAIN_CLOSE;
	}
	tick = pol->idle_ns / 10;
	if (tick < 5000000)
		tick = 5000000;
	if (tick > 50000000)
		tick = 50000000;
	d->deadline = now + tick;
	return DRAIN_NONE;
}

/*
 * DRAIN_WEIGH, in TOLD or NOTICED: the hint's time has come. Not while
 * it still reads its input or computes (busy, or more CPU time than when
 * armed), which is work, not a child keeping itself alive.
 */
enum drain_action
drain_weighed(struct drain *d, int64_t now, int busy, long long cpu)
{
	if (d->state != DRAIN_TOLD && d->state != DRAIN_NOTICED)
		return DRAIN_NONE;
	if (busy || cpu > d->hint_cpu) {
		d->deadline = now + DRAIN_HINT_AFTER;
		d->hint_cpu = cpu;
		return DRAIN_NONE;
	}
	d->deadline = 0;
	return DRAIN_HINT;
}

/*
 * The notice is queued (again, when another Node process announced
 * itself on the same channel: sh -c 'node a; node b'). Unless
 * --eof-timeout bounds the wait, a hint is armed for a child that then
 * stays alive and silent; cpu is its group's CPU time now. A child that
 * is gone gets no hint.
 */
void
drain_noticed(struct drain *d, const struct drain_policy *pol, int64_t now,
    long long cpu)
{
	switch (d->state) {
	case DRAIN_EXITED_FED:
		d->state = DRAIN_EXITED;
		return;
	case DRAIN_EXITED:
		return;
	case DRAIN_FEEDING:
	case DRAIN_TOLD:
		d->state = DRAIN_TOLD;
		break;
	default:
		d->state = DRAIN_NOTICED;
		break;
	}
	d->deadline = 0;
	if (pol->eof_timeout == 0) {
		d->deadline = now + DRAIN_HINT_AFTER;
		d->hint_cpu = cpu;
	}
}

/*
 * The child exited. The rules stop, --eof-timeout too; what it wrote
 * before is still read (Bun #37849), but not for ever: kill_timeout from
 * its last bytes. Input routed to it while it was fed waits for its
 * next start, hence EXITED_FED.
 */
void
drain_exited(struct drain *d, const struct drain_policy *pol, int64_t now,
    int chan_open)
{
	if (d->state != DRAIN_EXITED_FED)
		d->state = d->state == DRAIN_FEEDING ? DRAIN_EXITED_FED :
		    DRAIN_EXITED;
	d->eof_at = 0;
	d->deadline = chan_open ? now + pol->kill_timeout : 0;
}

/* It takes input lines: its end of input has not come. */
int
drain_takes_input(const struct drain *d)
{
	return d->state == DRAIN_FEEDING || d->state == DRAIN_EXITED_FED;
}

/* The policy is still to be applied (DRAIN_EV_DELIVERED). */
int
drain_undelivered(const struct drain *d)
{
	return d->state == DRAIN_FEEDING || d->state == DRAIN_TOLD ||
	    d->state == DRAIN_EXITED_FED;
}

/* The notice is queued: at most one at a time. */
int
drain_notice_queued(const struct drain *d)
{
	return d->state == DRAIN_TOLD || d->state == DRAIN_NOTICED;
}

/* --eof auto is looking at what runs (drain_looked). */
int
drain_looking(const struct drain *d)
{
	return d->state == DRAIN_LOOKING || d->state == DRAIN_BARE;
}

/* The preload announced itself on the channel. */
int
drain_ready(const struct drain *d)
{
	return d->ready;
}
