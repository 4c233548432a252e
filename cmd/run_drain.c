/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: each child's end of input, as lib/drain.c decides it:
 * the notice to Node with the preload, the half-close, the idle rule, the
 * looks at what runs, the hint and the deadlines, writing out and closing
 * the channel, the timer pass that drives them, and the stop of the run.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "drain.h"
#include "ev.h"
#include "nodechan.h"
#include "proc.h"
#include "spawn.h"
#include "super.h"
#include "relay.h"

static void	run_start_idle(struct run *r);

/*
 * What runs in the child's process group, as far as the end of input is
 * concerned: a Node process started with ipcrun's preload on this channel
 * (it will announce itself), Node without it (NODE_OPTIONS replaced, or
 * --no-preload), or no Node at all.
 */
static enum drain_seen
run_look(struct run *r, struct worker *w, pid_t *nodepid, int *forking)
{
	pid_t		pids[64];
	ssize_t		n, i;
	char		chan[64];
	enum drain_seen	k = DRAIN_SEEN_OTHER;

	snprintf(chan, sizeof chan, "%s=%llu", NODECHAN_ENV_CHANNEL,
	    w->chan_ino);
	if ((n = proc_group(w->pid, pids, 64)) > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		if (!proc_is_node(pids[i]))
			continue;
		*nodepid = pids[i];
		/* Started with the preload, and still holding the channel. */
		if (w->preloaded && w->pre_entry != NULL &&
		    proc_env_has(pids[i], chan, 0) == 1 &&
		    proc_env_has(pids[i], w->pre_entry, 1) == 1 &&
		    proc_holds_socket(pids[i], w->chan_ino,
		    r->cf->chan_to) != 0)
			return DRAIN_SEEN_NODE_DRAIN;
		k = DRAIN_SEEN_NODE_PLAIN;
	}
	*forking = proc_forking(pids, (size_t)n);
	return k;
}

/* The end of input for a program that is not Node: a half-close. */
static void
run_half_close(struct run *r, struct worker *w)
{
	if (chan_is_shut(&w->ch) || w->ch.fd == -1)
		return;
	if (chan_half_close(&w->ch) == -1) {
		cmd_warn(r->ce, "shutdown");
		r->fail = 1;
	}
	run_trace(r, "half-close: end of file for the child");
}

/*
 * --eof auto, all input delivered, no announcement yet: look at what
 * runs. Node with the preload will announce (it may be slow to start):
 * wait for it. Node without it gets the idle rule, and a word on why.
 * Anything else gets a half-close, as only Node drops the replies it
 * still has queued when it reads EOF; first it reads what it was sent,
 * in case a wrapper is about to start Node on the channel.
 */
static void
run_unannounced(struct run *r, struct worker *w, int64_t now)
{
	enum drain_seen	seen;
	pid_t		node = 0;
	int		forking = 0, busy;

	if (!drain_looking(&w->dr) || w->ch.fd == -1 || chan_is_shut(&w->ch) ||
	    chan_closing(&w->ch) || !run_alive(w))
		return;
	seen = run_look(r, w, &node, &forking);
	/* Input still to read, or a shell in the group between fork and exec. */
	busy = seen == DRAIN_SEEN_OTHER && (chan_outq(&w->ch) > 0 || forking);
	switch (drain_looked(&w->dr, now, seen, busy, now - w->sv.spawned)) {
	case DRAIN_IDLE_PLAIN:
		if (r->cf->preload && w->preloaded && !w->plain_warned)
			cmd_warnx(r->ce, "Node (pid %ld) runs without ipcrun's "
			    "drain preload (NODE_OPTIONS was replaced?): using "
			    "the idle rule, which can lose a late reply",
			    (long)node);
		w->plain_warned = 1;
		run_start_idle(r);
		break;
	case DRAIN_HALF_CLOSE:
		run_half_close(r, w);
		break;
	default:
		break;
	}
}

/*
 * Quiet, for the idle rule: the child has read everything ipcrun wrote,
 * ipcrun has read and passed on everything the child wrote (nothing in
 * its receive queue, no frame half read), and ipcrun's own stdout is not
 * holding the channel back.
 */
static int
run_quiet(struct run *r, struct worker *w)
{
	return !run_backpressured(r) && chan_quiet(&w->ch);
}

/* The idle rule: has the child been quiet for DUR? */
static void
run_idle_check(struct run *r, struct worker *w, int64_t now)
{
	if (w->ch.fd == -1 || chan_closing(&w->ch)) {
		drain_step(&w->dr, run_dp(r, w), DRAIN_EV_CLOSED, now);
		return;
	}
	if (drain_ticked(&w->dr, run_dp(r, w), now, run_quiet(r, w)) != DRAIN_CLOSE)
		return;
	run_trace(r, "idle for %" PRId64 " ms: closing the channel",
	    r->cf->idle_ns / MSEC);
	/* The idle rule is a guess: say when it is made. */
	if (run_alive(w))
		cmd_warnx(r->ce, "closing the channel of '%s' (pid %ld) after "
		    "%.3g s of quiet (idle rule)", w->name, (long)w->pid,
		    (double)r->cf->idle_ns / SEC);
	run_close_chan(r, w, CLOSE_IDLE);
}

/* The drain started the idle rule (DRAIN_IDLE, DRAIN_IDLE_PLAIN). */
static void
run_start_idle(struct run *r)
{
	run_trace(r, "idle rule: closing after %" PRId64 " ms of quiet",
	    r->cf->idle_ns / MSEC);
}

/*
 * While ipcrun's own stdout is full, the channel is not read, so that time
 * is not the child's: the deadlines that judge the child stop, and move on
 * by as much once stdout takes data again. Returns 1 while they are held.
 */
static int
run_hold_deadlines(struct run *r, int64_t now)
{
	struct worker	*w;
	int64_t		 d;

	if (run_backpressured(r)) {
		if (r->bp_since == 0)
			r->bp_since = now;
		return 1;
	}
	if (r->bp_since != 0) {
		d = now - r->bp_since;
		r->bp_since = 0;
		for (w = r->w; w < r->w + r->nw; w++)
			drain_hold(&w->dr, d);
	}
	return 0;
}

/* CPU time used so far by the child's process group, in clock ticks. */
static long long
run_group_cpu(struct run *r, struct worker *w)
{
	pid_t		pids[64];
	ssize_t		n, i;
	long long	t = 0, c;

	if ((n = proc_group(w->pid, pids, 64)) > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		if ((c = proc_cpu(pids[i])) > 0)
			t += c;
	}
	return t;
}

/*
 * The one-time hint for an announced child that stays alive and silent
 * after the notice. Not while it still reads its input or computes: that
 * is work, not a child keeping itself alive.
 */
static void
run_hint(struct run *r, struct worker *w, int64_t now)
{
	long long	cpu;

	cpu = run_group_cpu(r, w);
	if (drain_weighed(&w->dr, now, chan_outq(&w->ch) > 0, cpu) !=
	    DRAIN_HINT)
		return;
	if (run_alive(w) && w->ch.fd != -1 && !chan_closing(&w->ch))
		cmd_warnx(r->ce, "'%s' (pid %ld) is still running after the end "
		    "of input, with nothing left to send; if it keeps itself "
		    "alive (a server, a timer, a 'disconnect' listener), "
		    "--eof-timeout DUR or --eof close ends it", w->name,
		    (long)w->pid);
}

/* --eof-timeout is over: the channel closes, or the child is stopped. */
static void
run_eof_timeout(struct run *r, struct worker *w)
{
	if (w->ch.fd != -1 && run_alive(w)) {
		cmd_warnx(r->ce, "closing the channel of '%s' (pid %ld) "
		    "after --eof-timeout", w->name, (long)w->pid);
		run_close_chan(r, w, CLOSE_TIMEOUT);
	} else if (w->ch.fd != -1)
		run_close_chan(r, w, CLOSE_TIMEOUT);
	else
		run_escalate(r, w, 0);
}

/* The read of the channel after the child's exit is over. */
static void
run_exit_timeout(struct run *r, struct worker *w)
{
	if (w->ch.fd == -1)
		return;
	cmd_warnx(r->ce, "the channel stayed open after '%s' exited (a "
	    "descendant may hold it); closing it", w->name);
	run_close_chan(r, w, CLOSE_AFTER_EXIT);
}

/*
 * The drain's deadline has come: what is due, one thing at a time, in
 * the order the drain gives (a look or a tick, the hint, --eof-timeout,
 * the read after the exit). Each is spent as it is returned, so this
 * ends.
 */
static void
run_drain_timeout(struct run *r, struct worker *w, int64_t now, int held)
{
	enum drain_action	act;

	while ((act = drain_step(&w->dr, run_dp(r, w), held ?
	    DRAIN_EV_TIMEOUT_HELD : DRAIN_EV_TIMEOUT, now)) != DRAIN_NONE) {
		switch (act) {
		case DRAIN_LOOK:
			run_unannounced(r, w, now);
			break;
		case DRAIN_TICK:
			run_idle_check(r, w, now);
			break;
		case DRAIN_WEIGH:
			run_hint(r, w, now);
			break;
		case DRAIN_EOF_TIMEOUT:
			run_eof_timeout(r, w);
			break;
		case DRAIN_EXIT_TIMEOUT:
			run_exit_timeout(r, w);
			break;
		default:
			break;
		}
	}
}

/*
 * Does the child (or its group) still hold its end of the channel? When
 * none does, it closed the channel while running: let go of ipcrun's copy,
 * so that the end of file and the failed writes tell ipcrun as before.
 */
static void
run_peer_check(struct run *r, struct worker *w, int64_t now)
{
	pid_t	pids[64];
	ssize_t	n, i;
	size_t	unread;
	int	hint = w->node ? r->cf->chan_to : 0, status;

	w->peer_at = 0;
	if (w->ch.peer == -1 || !run_alive(w))
		return;
	w->peer_at = now + PEER_EVERY;
	if (proc_holds_socket(w->pid, w->chan_ino, hint) != 0)
		goto held;
	/*
	 * A leader that has ended is the exit's business (it counts what is
	 * unread): no scan of all of /proc for its group, which for hundreds
	 * of children ending together cost a scan each.
	 */
	if (spawn_peek(w->pid, &status) == 1)
		return;
	if ((n = proc_group(w->pid, pids, 64)) > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		if (proc_holds_socket(pids[i], w->chan_ino, hint) != 0)
			goto held;
	}
	/*
	 * An exiting process closes its fds before it is a zombie: look
	 * once more, so that an exit is counted by run_child_exited.
	 */
	if (!w->peer_missed) {
		w->peer_missed = 1;
		return;
	}
	/* What it left unread goes with its end: count it now. */
	w->peer_lost = run_peer_unread(r, w, &unread);
	run_trace(r, "'%s' closed its end of the channel", w->name);
	chan_drop_peer(&w->ch);
	w->peer_at = 0;
	return;
held:
	w->peer_missed = 0;
}

void
run_timers(struct run *r)
{
	struct worker	*w;
	int64_t		 now = ev_now();
	int		 held;

	held = run_hold_deadlines(r, now);
	run_task_timers(r, now);
	if (r->eof_tick != 0 && now >= r->eof_tick)
		run_all_delivered(r);
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->peer_at != 0 && now >= w->peer_at)
			run_peer_check(r, w, now);
		run_drain_timeout(r, w, now, held);
		if (super_deadline(&w->sv) != 0 &&
		    now >= super_deadline(&w->sv))
			run_super_timeout(r, w, now);
	}
}

static const char *
run_why(enum close_why why)
{
	switch (why) {
	case CLOSE_EOF:
		return "end of file";
	case CLOSE_IDLE:
		return "idle";
	case CLOSE_POLICY:
		return "--eof close";
	case CLOSE_TIMEOUT:
		return "--eof-timeout";
	case CLOSE_STOP:
		return "stopping";
	case CLOSE_GRACEFUL:
		return "a graceful stop";
	case CLOSE_BROKEN:
		return "a broken peer";
	default:
		return "after exit";
	}
}

/*
 * Close the channel. Unless ipcrun is stopping (or the child closed it),
 * what the child already wrote must still come out: shut the channel down
 * both ways (the child reads EOF and can write no more), read what is
 * queued to its end, and only then close (CLOSE_EOF, from the reader).
 */
void
run_close_chan(struct run *r, struct worker *w, enum close_why why)
{
	enum super_action	act;

	if (w->ch.fd == -1)
		return;
	drain_step(&w->dr, run_dp(r, w), DRAIN_EV_CLOSED, ev_now());
	if (why != CLOSE_EOF && why != CLOSE_STOP && !chan_ended(&w->ch)) {
		if (chan_closing(&w->ch))
			return;
		w->closing_why = why;
		chan_shut(&w->ch);
		run_trace(r, "channel shut down (%s): reading what is left",
		    run_why(why));
	} else {
		ev_del(&r->ev, w->ch.fd);
		chan_close(&w->ch);
		run_trace(r, "channel closed (%s)",
		    run_why(chan_closing(&w->ch) ?
		    w->closing_why : why));
		/* Every frame is read: an exit that came first is reported. */
		if ((act = super_step(&w->sv, &r->cf->sp, SUPER_EV_DRAINED,
		    ev_now())) != SUPER_NONE)
			run_finish(r, w, act);
	}
	/*
	 * Whatever is still queued will never reach the child. When it
	 * closed the channel itself, its exit reports how much (run_update
	 * no longer reads stdin without a channel).
	 */
	if (!r->in_done && (why != CLOSE_EOF || !run_alive(w)) &&
	    !run_pending(w) && !run_others_accept(r, w)) {
		r->in_done = 1;
		if (r->in_end == 0)
			r->in_end = ev_now();
	}
	if (run_alive(w))
		run_escalate(r, w, why == CLOSE_STOP);
}

/*
 * ipcrun stops: no more output, no restarts, no more input; every
 * channel closes and every child is stopped now.
 */
void
run_stop(struct run *r)
{
	struct worker	*w;

	r->out_dead = 1;
	r->oq.len = 0;
	r->oq.off = 0;
	run_cancel_restarts(r);
	if (!r->in_done) {
		r->in_done = 1;
		if (r->in_end == 0)
			r->in_end = ev_now();
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		run_close_chan(r, w, CLOSE_STOP);
		run_escalate(r, w, 1);
	}
}

/* Write out what is queued for the child, and see if its input is all in. */
void
run_flush_tq(struct run *r, struct worker *w)
{
	/* Nothing goes to a closed channel, and it ends no one's input. */
	if (!chan_can_write(&w->ch))
		return;
	switch (chan_flush(&w->ch)) {
	case 1:
		/* The child closed its end: its exit or our EOF says the rest. */
		run_trace(r, "channel write: %s", strerror(errno));
		return;
	case -1:
		cmd_warn(r->ce, "write to '%s'", w->name);
		r->fail = 1;
		run_close_chan(r, w, CLOSE_STOP);
		return;
	}
	/* A stdio child restarted gracefully: its end of file, in turn. */
	if (w->restarting && !w->node && chan_paused(&w->ch))
		run_half_close(r, w);
	if (w->ch.tq.len == 0 && r->in_done && drain_undelivered(&w->dr))
		run_all_delivered(r);
}

/*
 * Queue the notice that ends a Node child's input (its preload unrefs).
 * At most one is queued at a time; again: one was, and another Node
 * process on the channel needs its own.
 */
void
run_send_notice(struct run *r, struct worker *w, int again)
{
	if (drain_notice_queued(&w->dr) != again || w->ch.fd == -1 ||
	    !chan_can_write(&w->ch))
		return;
	/* --eof-timeout already bounds the wait: no hint needed then. */
	drain_noticed(&w->dr, run_dp(r, w), ev_now(), r->cf->eof_timeout == 0 ?
	    run_group_cpu(r, w) : 0);
	/*
	 * After the last input line, never before it (cq may overtake tq):
	 * a child told early would stop reading with lines still to come.
	 */
	if (chan_queue(&w->ch, NODECHAN_EOF_LINE,
	    sizeof NODECHAN_EOF_LINE - 1) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		return;
	}
	run_trace(r, "-> child %zu bytes internal cmd \"NODE_IPCRUN_EOF\"",
	    sizeof NODECHAN_EOF_LINE - 1);
	run_show(r, w, ">", 1, NODECHAN_EOF_LINE, sizeof NODECHAN_EOF_LINE - 1);
}

/*
 * All input is in the channel (or will never get there): apply the
 * --eof policy.
 */
static void
run_delivered(struct run *r, struct worker *w)
{
	enum drain_action	act;

	if (!drain_undelivered(&w->dr) || w->ch.fd == -1)
		return;
	act = drain_step(&w->dr, run_dp(r, w), DRAIN_EV_DELIVERED, ev_now());
	run_trace(r, "input delivered: %" PRIu64 " lines", w->in_lines);
	switch (act) {
	case DRAIN_HALF_CLOSE:
		run_half_close(r, w);
		break;
	case DRAIN_CLOSE:
		if (run_alive(w))
			run_notice(r, "closing the channel of '%s' (pid %ld) "
			    "at the end of input (--eof close)", w->name,
			    (long)w->pid);
		run_close_chan(r, w, CLOSE_POLICY);
		break;
	case DRAIN_IDLE:
		run_start_idle(r);
		break;
	case DRAIN_NOTICE:
		run_send_notice(r, w, 0);
		break;
	case DRAIN_LOOK:
		run_unannounced(r, w, ev_now());
		break;
	default:
		break;
	}
}

/* No more lines will come from stdin. */
void
run_input_ended(struct run *r)
{
	struct worker	*w;

	if (r->in_end == 0)
		r->in_end = ev_now();
	r->in_done = 1;
	for (w = r->w; w < r->w + r->nw; w++) {
		/* Restarted gracefully: the next incarnation gets the end. */
		if (w->restarting)
			continue;
		if (w->ch.fd != -1)
			drain_step(&w->dr, run_dp(r, w), DRAIN_EV_INPUT_ENDED,
			    r->in_end);
		if (w->node && r->cf->eof == DRAIN_EOF_AUTO &&
		    drain_ready(&w->dr) && !r->cf->hold_eof)
			run_send_notice(r, w, 0);
	}
}

/*
 * Has every child read all it was sent? With round robin and several
 * children, the end of input reaches them only then: until it does, a
 * child that dies can still hand what it left unread to another one.
 */
static int
run_all_read(struct run *r)
{
	struct worker	*w;

	if (r->rq.len > 0)
		return 0;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (!run_takes(w))
			continue;
		if (w->ch.tq.len > 0 || !run_accepting(w))
			return 0;
		if (chan_outq(&w->ch) > 0)
			return 0;
	}
	return 1;
}

/* The end of input, for each child whose queue is empty. */
void
run_all_delivered(struct run *r)
{
	struct worker	*w;

	if (!r->in_done)
		return;
	r->eof_tick = 0;
	if (r->cf->hold_eof && !run_all_read(r)) {
		r->eof_tick = ev_now() + EOF_TICK;
		return;
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->ch.tq.len == 0 && drain_undelivered(&w->dr) &&
		    !w->restarting)
			run_delivered(r, w);
	}
}
