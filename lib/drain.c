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
 * Here is only the state and the decisions: the relay looks at /proc,
 * asks the socket, writes and closes, and passes in what it saw. Tested
 * in test/unit/drain_test.c.
 */
#include "compat.h"


#include "drain.h"
#include "ev.h"

/* The earliest deadline, or 0; held: stdout is full, the judges wait. */
int64_t
drain_deadline(const struct drain *d, int held)
{
	int64_t	t = 0;

	if (d->idle)
		t = d->idle_tick;
	if (!held) {
		t = ev_deadline_min(t, d->eof_deadline);
		t = ev_deadline_min(t, d->hint_at);
		t = ev_deadline_min(t, d->exit_deadline);
	}
	return ev_deadline_min(t, d->look_at);
}

/* stdout was full for delta ns: the deadlines that judge the child move. */
void
drain_hold(struct drain *d, int64_t delta)
{
	if (d->hint_at != 0)
		d->hint_at += delta;
	if (d->eof_deadline != 0)
		d->eof_deadline += delta;
	if (d->exit_deadline != 0)
		d->exit_deadline += delta;
}

/* Has the deadline *t come? Then it is spent (0). */
int
drain_due(int64_t *t, int64_t now)
{
	if (*t == 0 || now < *t)
		return 0;
	*t = 0;
	return 1;
}

/* All its input is in the channel (or never will be): the policy. */
enum drain_action
drain_delivered(struct drain *d, const struct drain_policy *pol)
{
	if (d->delivered)
		return DRAIN_NONE;
	d->delivered = 1;
	/* A stdio child reads EOF on its stdin; replies still flow. */
	if (!pol->node)
		return DRAIN_HALF_CLOSE;
	switch (pol->eof) {
	case DRAIN_EOF_CLOSE:
		return DRAIN_CLOSE;
	case DRAIN_EOF_IDLE:
		return DRAIN_IDLE;
	case DRAIN_EOF_AUTO:
		if (d->announced)
			return DRAIN_NOTICE;
		return d->notice ? DRAIN_NONE : DRAIN_LOOK;
	default:
		return DRAIN_NONE;
	}
}

/*
 * --eof auto, delivered, no announcement: what a look at the child's
 * group found. Node with the preload will announce (it may be slow to
 * start): look again. Node without it gets the idle rule. Anything else
 * gets a half-close, but not while it has input to read (busy), while a
 * shell in the group has forked and not exec'd (busy too), nor while it
 * is younger than DRAIN_SETTLE (age): a wrapper may be about to start
 * Node on the channel. Each look reads /proc: less often as it goes on.
 *
 * Node without the preload is believed on the second look in a row
 * only: in the middle of an execve, /proc already names the new program
 * while its environment still reads empty (the kernel sets its bounds
 * later), so a Node with the preload, caught starting, looks bare.
 */
enum drain_action
drain_looked(struct drain *d, int64_t now, enum drain_seen seen, int busy,
    int64_t age)
{
	d->look_every = d->look_every == 0 ? DRAIN_LOOK_EVERY :
	    d->look_every * 2 > DRAIN_LOOK_MAX ? DRAIN_LOOK_MAX :
	    d->look_every * 2;
	if (seen != DRAIN_SEEN_NODE_PLAIN)
		d->plain_seen = 0;
	switch (seen) {
	case DRAIN_SEEN_NODE_DRAIN:
		d->look_at = now + d->look_every;
		return DRAIN_NONE;
	case DRAIN_SEEN_NODE_PLAIN:
		if (!d->plain_seen) {
			d->plain_seen = 1;
			d->look_at = now + d->look_every;
			return DRAIN_NONE;
		}
		return DRAIN_IDLE_PLAIN;
	default:
		if (busy || age < DRAIN_SETTLE) {
			d->look_at = now + d->look_every;
			return DRAIN_NONE;
		}
		return DRAIN_HALF_CLOSE;
	}
}

/* The preload said it is ready: no more looks. */
void
drain_announced(struct drain *d)
{
	d->announced = 1;
	d->look_at = 0;
}

void
drain_idle_start(struct drain *d, int64_t now)
{
	d->idle = 1;
	d->quiet_since = 0;
	d->idle_tick = now;
}

/*
 * The idle rule's tick: quiet is the relay's word that nothing is in
 * flight either way. Quiet for idle_ns without a byte from the child in
 * between: close. The next tick comes a tenth of the spell later, within
 * 5 to 50 ms.
 */
enum drain_action
drain_idle_step(struct drain *d, const struct drain_policy *pol, int64_t now,
    int quiet)
{
	int64_t	tick;

	if (!quiet)
		d->quiet_since = 0;
	else if (d->quiet_since == 0 || d->last_rx > d->quiet_since)
		d->quiet_since = now;
	else if (now - d->quiet_since >= pol->idle_ns) {
		d->idle = 0;
		return DRAIN_CLOSE;
	}
	tick = pol->idle_ns / 10;
	if (tick < 5000000)
		tick = 5000000;
	if (tick > 50000000)
		tick = 50000000;
	d->idle_tick = now + tick;
	return DRAIN_NONE;
}

/*
 * The notice is queued. Unless --eof-timeout bounds the wait, a hint
 * is armed for a child that then stays alive and silent; cpu is its
 * group's CPU time now.
 */
void
drain_noticed(struct drain *d, const struct drain_policy *pol, int64_t now,
    long long cpu)
{
	d->notice = 1;
	d->idle = 0;
	d->look_at = 0;
	if (pol->eof_timeout == 0) {
		d->hint_at = now + DRAIN_HINT_AFTER;
		d->hint_cpu = cpu;
	}
}

/*
 * Another Node process announced itself on the same channel (sh -c
 * 'node a; node b'): it needs the notice too, so one may be sent again.
 */
void
drain_renotice(struct drain *d)
{
	d->notice = 0;
}

/*
 * The hint's time has come (drain_due on hint_at): not while it still
 * reads its input or computes (busy, or more CPU time than when armed),
 * which is work, not a child keeping itself alive.
 */
enum drain_action
drain_hint_step(struct drain *d, int64_t now, int busy, long long cpu)
{
	if (busy || cpu > d->hint_cpu) {
		d->hint_at = now + DRAIN_HINT_AFTER;
		d->hint_cpu = cpu;
		return DRAIN_NONE;
	}
	d->hint_at = 0;
	return DRAIN_HINT;
}

/* No more input will come, since in_end: --eof-timeout starts. */
void
drain_input_ended(struct drain *d, const struct drain_policy *pol,
    int64_t in_end)
{
	if (pol->eof_timeout != 0 && d->eof_deadline == 0)
		d->eof_deadline = in_end + pol->eof_timeout;
}

/* The child sent bytes: it is not silent, nor is its channel stuck. */
void
drain_rx(struct drain *d, const struct drain_policy *pol, int64_t now)
{
	d->last_rx = now;
	if (d->hint_at != 0)
		d->hint_at = now + DRAIN_HINT_AFTER;
	if (d->exit_deadline != 0)
		d->exit_deadline = now + pol->kill_timeout;
}

/* Its channel is being closed: no rule runs any more. */
void
drain_closed(struct drain *d)
{
	d->idle = 0;
	d->hint_at = 0;
	d->look_at = 0;
	d->exit_deadline = 0;
}

/*
 * The child exited. What it wrote before is still read (Bun #37849),
 * but not for ever: kill_timeout from its last bytes.
 */
void
drain_exited(struct drain *d, const struct drain_policy *pol, int64_t now,
    int chan_open)
{
	d->eof_deadline = 0;
	d->hint_at = 0;
	d->look_at = 0;
	d->idle = 0;
	if (chan_open)
		d->exit_deadline = now + pol->kill_timeout;
}
