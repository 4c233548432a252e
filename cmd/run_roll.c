/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run and serve: a child restarted gracefully, and the rolling
 * restart of them all, one after the other (serve's SIGHUP, ctl's
 * restart all --rolling), and scale, which ends children the same way,
 * for good, or starts them again. One mechanism for all: the child's
 * input is ended as its end of input would end it, it is given
 * --kill-timeout to finish, and only then is it stopped.
 */
#include "compat.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "chan.h"
#include "drain.h"
#include "ev.h"
#include "nodechan.h"
#include "super.h"
#include "relay.h"

/*
 * run's child: what it was sent still goes, and nothing after (the lines
 * routed to it meanwhile wait for its next incarnation, or go to the
 * others). Node with the preload gets the notice behind them and ends
 * once its replies are out; a stdio child gets the end of file after
 * them (run_flush_tq). Anything else has --kill-timeout to answer what
 * it read, then SIGTERM.
 */
static void
run_end_input(struct run *r, struct worker *w)
{
	if (!chan_can_write(&w->ch))
		return;
	if (w->node && drain_ready(&w->dr)) {
		if (chan_queue(&w->ch, NODECHAN_EOF_LINE,
		    sizeof NODECHAN_EOF_LINE - 1) == -1) {
			cmd_warn(r->ce, "queue");
			run_fail(r);
			return;
		}
		run_trace(r, "-> %s %zu bytes internal cmd \"NODE_IPCRUN_EOF\" "
		    "(%s)", w->name, sizeof NODECHAN_EOF_LINE - 1,
		    w->restarting == RUN_RETIRE ? "scale" : "restart");
		run_show(r, w, ">", 1, NODECHAN_EOF_LINE,
		    sizeof NODECHAN_EOF_LINE - 1);
	}
	chan_pause(&w->ch);
	r->room = 0;	/* it takes no more: run_route_room looks again */
	run_flush_tq(r, w);
}

/*
 * A child up is to end gracefully, for a restart (its grace first, then
 * SIGTERM, then a new incarnation) or for good (scale): serve's way
 * (Node's disconnect for a cluster worker, else its channel closed as in
 * the graceful stop), or run's (run_end_input).
 */
static void
run_graceful(struct run *r, struct worker *w, int how)
{
	w->restarting = how;
	(void)super_step(&w->sv, &r->cf->sp, how == RUN_RETIRE ?
	    SUPER_EV_CLOSED : SUPER_EV_RELOAD, ev_now());
	if (r->cf->handoff == HANDOFF_CLUSTER)
		run_cluster_disconnect(r, w);
	else if (r->cf->serve) {
		if (w->ch.fd != -1)
			run_close_chan(r, w, CLOSE_GRACEFUL);
	} else
		run_end_input(r, w);
}

/*
 * Restart the child w gracefully (ctl's restart, a turn of the roll). A
 * child that is not up (waiting, stopped, already stopping) is started
 * again as the table says. Returns 0, or -1 when its input has ended
 * already (run only): a new incarnation would have none.
 */
int
run_restart(struct run *r, struct worker *w)
{
	if (w->sv.state != SUPER_UP) {
		if (w->restarting == RUN_RETIRE)
			w->restarting = RUN_RESTART;
		(void)super_step(&w->sv, &r->cf->sp, SUPER_EV_RESTART,
		    ev_now());
		return 0;
	}
	if (!r->cf->serve && (!drain_takes_input(&w->dr) ||
	    !chan_can_write(&w->ch)))
		return -1;
	run_graceful(r, w, RUN_RESTART);
	return 0;
}

/* A rolling restart is asked: now, or after the one under way. */
void
run_roll_start(struct run *r, const char *why)
{
	if (r->roll != -1) {
		r->roll_again = 1;
		return;
	}
	run_notice(r, "%s: restarting the children one after the other", why);
	r->roll = 0;
	r->roll_wait = 0;
}

/* The roll stops here: the run (or serve) is ending. */
static int
run_roll_over(const struct run *r)
{
	return r->stopping || r->interrupted || r->out_dead || r->fail;
}

/* The child whose turn it was is back: up again, and serving (serve). */
static int
run_roll_back(const struct run *r, const struct worker *w)
{
	if (!run_alive(w) || w->sv.restarts == w->roll_gen)
		return 0;
	return !r->cf->serve || w->serving;
}

/*
 * The rolling restart, one step a pass: the child whose turn it is is
 * restarted gracefully (run_restart), and the next one's turn comes once
 * the new one is up (serve: once it serves: Node's "listening", its ACK
 * of the server, or at once for systemd's). serve's sockets stay open in
 * ipcrun all along: connections wait, none is refused; run's lines for
 * it wait, or go to the others.
 */
void
run_roll(struct run *r)
{
	struct worker	*w;

	while (r->roll != -1 && !run_roll_over(r)) {
		if (r->roll == (int)r->nw) {
			run_notice(r, "rolling restart done");
			r->roll = r->roll_again ? 0 : -1;
			r->roll_again = 0;
			continue;
		}
		w = &r->w[r->roll];
		if (r->roll_wait) {
			if (w->sv.state == SUPER_DONE) {
				cmd_warnx(r->ce, "rolling restart: '%s' did not "
				    "start again: stopped there", w->name);
				r->roll = -1;
				return;
			}
			if (!run_roll_back(r, w))
				return;
			r->roll_wait = 0;
			r->roll++;
			continue;
		}
		/* Not running (a restart of its own is due): its turn passes. */
		if (!run_alive(w) || w->sv.state != SUPER_UP) {
			r->roll++;
			continue;
		}
		w->roll_gen = w->sv.restarts;
		if (run_restart(r, w) == -1) {
			run_trace(r, "rolling restart: '%s' has had its end of "
			    "input: not restarted", w->name);
			r->roll++;
			continue;
		}
		run_trace(r, "rolling restart: '%s'", w->name);
		r->roll_wait = 1;
		return;
	}
	if (r->roll != -1 && run_roll_over(r))
		r->roll = -1;
}

/*
 * Start again a child that is down for good (stopped, ended, given up),
 * at the next timer pass, as the table's RESTART does. Its exit no longer
 * decides the status: the next one will. Returns 0, or -1 with *why.
 */
int
run_start(struct run *r, struct worker *w, const char **why)
{
	unsigned	i;

	if (w->sv.state != SUPER_DONE) {
		*why = run_alive(w) ? "is running" : "is waiting for its restart";
		return -1;
	}
	if (run_roll_over(r) || r->stop) {
		*why = "cannot start: the run is ending";
		return -1;
	}
	if (!r->cf->serve && r->in_done) {
		*why = "cannot start: the input has ended";
		return -1;
	}
	for (i = 0; i < r->nexited; i++) {
		if (r->exit_order[i] == w->idx) {
			memmove(r->exit_order + i, r->exit_order + i + 1,
			    (r->nexited - i - 1) * sizeof *r->exit_order);
			r->nexited--;
			break;
		}
	}
	(void)super_step(&w->sv, &r->cf->sp, SUPER_EV_RESTART, ev_now());
	return 0;
}

/*
 * scale N: the first N children run from now on, the others end
 * gracefully, for good (run_graceful). A child below N that is down for
 * good starts again, and one still ending for scale is restarted
 * instead. N is at most the number the run started with. Returns 0, or
 * -1 with *why.
 */
int
run_scale(struct run *r, unsigned n, const char **why)
{
	struct worker	*w;
	const char	*dummy;

	if (n == 0 || n > r->nw) {
		*why = "from 1 to the number of children the run "
		    "started with";
		return -1;
	}
	if (!r->cf->envelope && r->cf->route == ROUTE_KEY) {
		*why = "not with --route key, where each child owns "
		    "its keys";
		return -1;
	}
	if (run_roll_over(r) || r->stop || (!r->cf->serve && r->in_done)) {
		*why = "the run is ending";
		return -1;
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->idx < n) {
			if (w->sv.state == SUPER_DONE)
				(void)run_start(r, w, &dummy);
			else if (w->restarting == RUN_RETIRE)
				(void)run_restart(r, w);
			continue;
		}
		if (w->sv.state != SUPER_UP || w->restarting != 0 ||
		    (!r->cf->serve && !drain_takes_input(&w->dr)))
			continue;
		run_notice(r, "'%s' (pid %ld): ends (scale %u)", w->name,
		    (long)w->pid, n);
		run_graceful(r, w, RUN_RETIRE);
	}
	return 0;
}
