/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run and serve: the relay's loop, on the options run.c parsed
 * (struct relay_conf). Set-up; each round the timer pass, one poll over
 * stdin, stdout, the channels, the log pipes, --events-fd and the signals
 * (whose callbacks only read or write), then one fixed pass: signals,
 * input, output, reaping and joining, events. The end and the exit
 * status.
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
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "drain.h"
#include "ev.h"
#include "frame.h"
#include "jscan.h"
#include "spawn.h"
#include "super.h"
#include "relay.h"

static int64_t	run_worker_deadline(struct run *r, struct worker *w);

static int64_t
run_next_deadline(struct run *r)
{
	struct worker	*w;
	int64_t		 d = 0;

	for (w = r->w; w < r->w + r->nw; w++)
		d = ev_deadline_min(d, run_worker_deadline(r, w));
	d = ev_deadline_min(d, run_task_deadline(r));
	d = ev_deadline_min(d, run_ends_deadline(r));
	/* Lines a Redis source read wait for room in the frame: no fd says
	   when it comes. */
	if (run_from_waiting(r) && run_route_room(r) != NULL)
		d = ev_deadline_min(d, ev_now());
	return ev_deadline_min(d, r->eof_tick);
}

static int64_t
run_worker_deadline(struct run *r, struct worker *w)
{
	int64_t	d;

	d = ev_deadline_min(drain_deadline(&w->dr, run_backpressured(r)), w->peer_at);
	d = ev_deadline_min(d, run_handle_deadline(w));
	return ev_deadline_min(d, super_deadline(&w->sv));
}

/*
 * Job control. The children run in groups of their own, which the
 * terminal's ^Z (SIGTSTP), and SIGTTIN and SIGTTOU for a background job
 * that uses it, never reach: a stopped ipcrun would leave them running.
 * So these three stop every child's group (SIGSTOP, which no child can
 * catch) and then ipcrun itself, with the signal's default action, from
 * the handler: a read of the terminal in the background would be
 * restarted, and raise the signal again, before the loop could act.
 * The shell's SIGCONT (fg, bg) resumes ipcrun here, and it resumes them.
 * Only async-signal-safe calls; the workers' pids are plain reads.
 */
static struct run *volatile run_job;

/*
 * For jobctl: sig (STOP, then CONT) to every child's group. Before ipcrun
 * stops, the REPL (in ipcrun's own job, so ^Z reached it too) must have
 * stopped: the shell takes the terminal back as soon as ipcrun, its only
 * child, stops, and a REPL still giving the terminal its modes back
 * would then be stopped by SIGTTOU halfway, and never resumed. WNOWAIT:
 * its status stays for the loop, were it to exit instead. A second at
 * the most: a TSTP sent to ipcrun alone never reaches the REPL.
 */
static void
run_job_each(int sig)
{
	static const struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct run	*r = run_job;
	siginfo_t	 si;
	unsigned	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nw; i++)
		if (r->w[i].pid > 0)
			(void)kill(-r->w[i].pid, sig);
	for (i = 0; sig == SIGSTOP && r->repl_pid > 0 && i < 100; i++) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)r->repl_pid, &si, WSTOPPED |
		    WEXITED | WNOHANG | WNOWAIT) == -1 && errno != EINTR)
			break;
		if (si.si_pid != 0)
			break;
		(void)nanosleep(&tick, NULL);
	}
}

/* Catch ^Z and its kin for the children's sake, unless ignored. */
static int
run_job_control(struct run *r)
{
	run_job = r;
	return jobctl_install(run_job_each);
}

/* Forward a signal to every child's group, once each. */
static void
run_forward(struct run *r, int sig)
{
	struct worker	*w;
	uint64_t	 n;
	int		 stop = sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
	int		 alive = 0;

	for (w = r->w; w < r->w + r->nw; w++)
		alive |= run_alive(w);
	if (sig == SIGHUP && r->cf->serve && !r->stopping) {
		/* One at a time; a SIGHUP during a roll starts another after. */
		run_roll_start(r, "SIGHUP");
		return;
	}
	if (stop && r->cf->serve && !r->stopping) {
		/*
		 * serve's graceful stop: no restarts, every channel closed
		 * (a Node child sees 'disconnect'), SIGTERM after
		 * --kill-timeout, then SIGKILL. A second signal is passed on.
		 */
		r->stopping = sig;
		run_trace(r, "%s: stopping", run_signame(sig));
		run_cancel_restarts(r);
		if (RUN_PRIMARY(r))
			run_cluster_stop(r);
		if (r->cf->handoff == HANDOFF_CLUSTER)
			return;
		for (w = r->w; w < r->w + r->nw; w++) {
			if (w->ch.fd != -1)
				run_close_chan(r, w, CLOSE_GRACEFUL);
			else if (run_alive(w))
				run_escalate(r, w, 0);
		}
		return;
	}
	if (stop) {
		if (r->interrupted == 0 && alive)
			r->interrupted = sig;
		run_cancel_restarts(r);
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->pid <= 0)
			continue;
		run_trace(r, "%s: forwarded to group %ld", run_signame(sig),
		    (long)w->pid);
		run_kill(r, w, sig);
		/*
		 * With the child gone, only the reading of its channel and
		 * the writing of stdout are left: an interrupt ends both
		 * waits, and says what it cost (a reader that never reads
		 * would hold ipcrun for ever).
		 */
		if (!run_alive(w) && stop && w->ch.fd != -1)
			run_close_chan(r, w, CLOSE_STOP);
	}
	if (alive || !stop || r->oq.len == 0 || r->out_dead)
		return;
	n = run_count_lines(r->cf->node, r->oq.p + r->oq.off, r->oq.len);
	if (r->nw == 1)
		cmd_warnx(r->ce, "interrupted (%s) while stdout was full: "
		    "%" PRIu64 " repl%s from '%s' not written",
		    run_signame(sig), n, n == 1 ? "y" : "ies", r->w[0].name);
	else
		cmd_warnx(r->ce, "interrupted (%s) while stdout was full: "
		    "%" PRIu64 " repl%s not written", run_signame(sig), n,
		    n == 1 ? "y" : "ies");
	buf_consume(&r->oq, r->oq.len);
	r->out_dead = 1;
}

/*
 * --restart: the relay's part of the decision. A child is started again
 * only before its end of input, and while ipcrun is not stopping; the
 * table adds the policy, the give-up tally, and that ipcrun did not stop
 * it itself.
 */
static int
run_may_restart(const struct run *r, const struct worker *w)
{
	/* Ended for good by scale. */
	if (w->restarting == RUN_RETIRE)
		return 0;
	/* serve's children have no input to end: only a stop ends them. */
	if (r->cf->serve)
		return !r->stopping && !r->fail;
	return !r->out_dead && !r->interrupted && !r->fail &&
	    drain_takes_input(&w->dr);
}

/*
 * A child was reaped: the table decides (lib/super.c), what it left unread
 * goes to the others or waits for its next start, and once its channel
 * has drained too, it is finished and reported.
 */
static void
run_child_exited(struct run *r, struct worker *w, int status)
{
	enum super_action	act, decided;
	int			restart;

	act = super_exited(&w->sv, &r->cf->sp, status, run_may_restart(r, w),
	    ev_now(), arc4random());
	/* Its channel still holds frames: the decision waits for them. */
	decided = w->sv.state == SUPER_EXITED ? w->sv.pending : act;
	restart = decided == SUPER_RESTART;
	/* A child replaced by a restart does not decide the exit status. */
	if (!restart)
		r->exit_order[r->nexited++] = w->idx;
	if (WIFSIGNALED(status))
		run_trace(r, "pid %ld killed by %s", (long)w->pid,
		    run_signame(WTERMSIG(status)));
	else
		run_trace(r, "pid %ld exited with %d", (long)w->pid,
		    WEXITSTATUS(status));
	if (r->cf->tasks) {
		/*
		 * Its tasks go back when it is finished (run_task_lost):
		 * replies still in its channel answer some of them first.
		 */
		w->gone = !restart;
		chan_drop_queued(&w->ch);
	} else
		run_undelivered(r, w, restart);
	if (RUN_PRIMARY(r))
		run_cluster_gone(r, w);
	/* Its unread input is counted: now its end may close for good. */
	chan_drop_peer(&w->ch);
	w->peer_at = 0;
	/* Read what it wrote before it went (Bun #37849), but not forever. */
	drain_exited(&w->dr, run_dp(r, w), ev_now(), w->ch.fd != -1);
	if (act != SUPER_NONE)
		run_finish(r, w, act);
}

/* A step asked for the run to stop (run_fail): it stops here. */
static void
run_stop_requested(struct run *r)
{
	if (!r->stop)
		return;
	r->stop = 0;
	run_stop(r);
}

/*
 * Every open channel in the poll set: the first ones, and those of the
 * children started again by the timer pass.
 */
static void
run_poll_chans(struct run *r)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->ch.fd == -1 || w->polled)
			continue;
		if (ev_add(&r->ev, w->ch.fd, 0, run_on_chan, w) == -1) {
			cmd_warn(r->ce, "poll set");
			run_fail(r);
			return;
		}
		w->polled = 1;
	}
}

/*
 * Signals only say what came: the pass after poll forwards them and
 * reaps, so that no callback signals or reaps (an fd number reused within
 * a round cannot get stale events).
 */
static void
run_on_signal(struct ev *ev, int fd, short revents, void *arg)
{
	struct run	*r = arg;
	int		 sig;

	(void)fd;
	(void)revents;
	while ((sig = ev_signal_next(ev)) != 0) {
		if (sig == SIGCHLD)
			r->reap = 1;
		else if (sig > 0 && sig < 64)
			r->sigs |= UINT64_C(1) << sig;
	}
}

/* Unreaped: the group id stays ours until the end. */
static void
run_reap(struct run *r)
{
	struct worker	*w;
	int		 status;

	r->reap = 0;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_alive(w) && spawn_peek(w->pid, &status) == 1)
			run_child_exited(r, w, status);
	}
}

/*
 * The one pass after poll, in a fixed order, each step one direction:
 * the signals that came, stdin's lines routed into the children's
 * queues, the children's frames gathered onto stdout (from a rotating
 * start), the children that exited reaped and joined with their
 * channels (what a gone child left unread goes to the others), then the
 * events. The poll callbacks only read into a frame or write out a queue.
 */
static void
run_pass(struct run *r)
{
	uint64_t	sigs = r->sigs;
	int		sig;

	r->sigs = 0;
	for (sig = 1; sig < 64 && sigs != 0; sig++) {
		if (sigs & UINT64_C(1) << sig) {
			sigs &= ~(UINT64_C(1) << sig);
			run_forward(r, sig);
		}
	}
	run_from_fill(r);
	run_pump_input(r);
	run_gather(r);
	run_stop_requested(r);
	if (r->reap) {
		run_reap(r);
		if (r->rq.len > 0)
			run_pump_input(r);
	}
	/*
	 * --tasks: a child finished above (its exit, or its channel's end
	 * in the gathering) handed its tasks back: they go out now, as
	 * nothing else may wake the loop; and with no child left, the rest
	 * is given up.
	 */
	if (r->cf->tasks)
		run_pump_input(r);
	run_stop_requested(r);
	if (RUN_PRIMARY(r))
		run_cluster_pass(r);
	if (r->roll != -1)
		run_roll(r);
	run_ctl_pass(r);
	run_ends_pass(r);
	run_flush_sinks(r);
}

void
run_update(struct run *r)
{
	struct worker	*w;
	short		 ev;

	/* The hot path keeps lines in the frame while the channel is full. */
	ev = !r->in_done && !r->in_eof && run_route_room(r) != NULL &&
	    !(r->in_fast && r->w[0].ch.full) ? POLLIN : 0;
	if (!r->cf->serve)
		run_from_interest(r, ev != 0);
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->ch.fd == -1)
			continue;
		ev = 0;
		if (!chan_ended(&w->ch) && r->oq.len < RUN_QSIZE &&
		    w->ch.cq.len < CQ_HIGH)
			ev |= POLLIN;
		/* Not for lines a graceful restart holds back (chan_pause). */
		if (((w->ch.tq.len > 0 && !chan_paused(&w->ch)) ||
		    w->ch.cq.len > 0) && chan_can_write(&w->ch))
			ev |= POLLOUT;
		ev_set(&r->ev, w->ch.fd, ev);
	}
	ev_set(&r->ev, r->out_fd, r->oq.len > 0 && !r->out_dead &&
	    r->to.kind == END_STDIO ? POLLOUT : 0);
	if (RUN_PRIMARY(r))
		run_cluster_interest(r);
	run_sinks_interest(r);
	run_ctl_interest(r);
}

static int
run_done(struct run *r)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_alive(w) || w->ch.fd != -1 || run_pending(w))
			return 0;
	}
	return (r->oq.len == 0 && run_to_idle(r)) || r->out_dead;
}

/*
 * The exit status: ipcrun's own failure first, then the first non-zero
 * status in the order the children exited, then 1 for refused lines or
 * a child that read none of its input.
 */
static int
run_status(struct run *r)
{
	unsigned	i;
	int		code = 0, c;

	if (r->fail)
		return EXIT_FAIL;
	if (r->epipe)
		return EXIT_PIPE;
	/*
	 * --tasks: every task answered is success, whatever the children
	 * that crashed on the way said; one given up, or input left unread,
	 * is a failure.
	 */
	if (r->cf->tasks && !r->interrupted)
		return r->t_given_up > 0 || r->tasks_cut || r->refused > 0 ||
		    r->strict_hit || r->t_done + r->t_given_up < r->t_read ?
		    EXIT_BADLINE : 0;
	for (i = 0; i < r->nexited; i++) {
		c = run_worker_code(r, &r->w[r->exit_order[i]]);
		if (code == 0)
			code = c;
	}
	/* As check does: a refused line fails an otherwise good run. */
	if (code == 0 && (r->refused > 0 || r->strict_hit || r->never_read))
		return EXIT_BADLINE;
	/* A server is meant to stay up: one given up is a failure. */
	if (code == 0 && r->cf->serve && r->gave_up > 0)
		return EXIT_BADLINE;
	return code;
}

static int
run_relay(struct run *r)
{
	static const int	 sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP,
	    SIGUSR1, SIGUSR2, SIGCONT, 0 };
	const struct relay_conf	*cf = r->cf;
	struct worker		*w;
	int			 rc, sfd, status, closed;

	r->t0 = ev_now();
	r->watch_fd = -1;
	r->out_fd = STDOUT_FILENO;
	run_report_start(r);
	ev_init(&r->ev);
	/* A closed stdout is remembered: writing to it is an error. */
	if (spawn_std_fds(&closed) == -1) {
		cmd_warn(r->ce, "/dev/null");
		return EXIT_FAIL;
	}
	if (run_sinks_start(r) == -1)
		return EXIT_FAIL;
	/* The Redis ends connect (or fail) before any child starts. */
	if (run_ends_open(r) == -1)
		return EXIT_FAIL;
	r->stdout_closed = (closed & 1 << STDOUT_FILENO) != 0;
	if (frame_init(&r->fin, r->cf->maxline, r->cf->validate) == -1) {
		/* The nesting stack is sized from it: name the option. */
		cmd_warn(r->ce, "--max-line %zu", r->cf->maxline);
		return EXIT_FAIL;
	}
	r->fin_ok = 1;
	if (run_fd_budget(r) == -1)
		return EXIT_FAIL;
	if (RUN_PRIMARY(r) && (cluster_init(&r->cl, r->nw, cf->sched_rr,
	    r->lfd, r->nlisten) == -1 || (cf->handoff == HANDOFF_SOCKET &&
	    cluster_adopt(&r->cl, cf->handoff_msg != NULL ? cf->handoff_msg :
	    "\"socket\"") == -1))) {
		cmd_warn(r->ce, "malloc");
		return EXIT_FAIL;
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_worker_init(r, w, (unsigned)(w - r->w)) == -1) {
			cmd_warn(r->ce, "--max-line %zu", r->cf->maxline);
			return EXIT_FAIL;
		}
	}
	if (buf_init(&r->oq, RUN_QSIZE) == -1 || buf_init(&r->rq, 4096) == -1) {
		cmd_warn(r->ce, "malloc");
		return EXIT_FAIL;
	}
	r->incmd = cf->node && cf->validate ?
	    jscan_want(&r->fin.js, "cmd", 3) : -1;
	r->in_fast = r->nw == 1 && cf->route == ROUTE_RR && !cf->envelope &&
	    r->incmd < 0 && !cf->trace && !cf->verbose && !cf->tasks;
	/* Handlers before the fork: a signal in between is not lost. */
	if ((sfd = ev_signals(&r->ev, sigs)) == -1 ||
	    ev_add(&r->ev, sfd, POLLIN, run_on_signal, r) == -1 ||
	    run_job_control(r) == -1) {
		cmd_warn(r->ce, "signals");
		return EXIT_FAIL;
	}
	r->sigfd = sfd;
	/* No process of the children's groups may outlive ipcrun (kill -9). */
	if ((r->watch_fd = spawn_watch_start(&r->watch_pid)) == -1) {
		cmd_warn(r->ce, "watchdog");
		return EXIT_FAIL;
	}
	/*
	 * All forked before any exec is waited for: 257 children start in
	 * the time of a few, not one exec after another. Every child begun
	 * is waited for, so that none is left half started.
	 */
	if (run_ctl_start(r) == -1)
		return EXIT_FAIL;
	if (r->cf->serve)
		run_listening(r);
	rc = 0;
	for (w = r->w; w < r->w + r->nw && rc == 0; w++)
		rc = run_spawn_begin(r, w);
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->pending != -1 && (status = run_spawn_end(r, w)) != 0 &&
		    rc == 0)
			rc = status;
	}
	if (rc != 0) {
		run_abort_spawned(r);
		return rc;
	}
	run_setup_stdout(r);
	meter_start(&r->meter, r->cf->progress == 1, "stdin", r->cf->in_size);
	/* serve reads no input: its children have no end of input. */
	if (r->cf->serve)
		r->in_eof = 1;
	if ((!r->cf->serve && run_from_stdin(r) &&
	    ev_add(&r->ev, STDIN_FILENO, 0, run_on_stdin, r) == -1) ||
	    ev_add(&r->ev, r->out_fd, 0, run_on_stdout, r) == -1) {
		cmd_warn(r->ce, "poll set");
		r->fail = 1;
		run_stop(r);
	}
	if (!r->fail)
		run_poll_chans(r);
	/* A child may have exited already: catch its CHLD in the loop. */
	while (!run_done(r)) {
		run_timers(r);
		run_handle_timers(r, ev_now());
		run_poll_chans(r);
		run_stop_requested(r);
		if (run_done(r))
			break;
		run_update(r);
		if (ev_run_once(&r->ev, r->reap || r->sigs ? 0 :
		    ev_timeout_ms(run_next_deadline(r))) == -1) {
			cmd_warn(r->ce, "poll");
			r->fail = 1;
			run_stop(r);
			/* Reap without the loop: the children were signalled. */
			for (w = r->w; w < r->w + r->nw; w++) {
				while (run_alive(w)) {
					if (waitpid(w->pid, &status, 0) ==
					    w->pid)
						run_child_exited(r, w, status);
					else if (errno != EINTR)
						break;
				}
			}
			break;
		}
		run_pass(r);
	}
	run_end_groups(r);
	/* Done signalling the groups: their leaders may go, and the watchdog. */
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->pid > 0)
			(void)spawn_reap(w->pid, &status);
	}
	spawn_watch_end(r->watch_fd, r->watch_pid);
	r->watch_fd = -1;
	run_log_finish(r);
	/* Anything still queued for stdout goes out before the exit. */
	run_flush_oq_all(r);
	run_to_drain(r);
	run_restore_stdout(r);
	rc = run_status(r);
	meter_erase(&r->meter);
	if (r->cf->stats)
		run_stats(r);
	return rc;
}

/*
 * The relay, then what it said: stderr's and the events' queues go out
 * last, whatever ended the run, as their readers take them.
 */
int
run_main(struct run *r)
{
	int	rc;

	r->errq.fd = r->evq.fd = -1;
	r->sigfd = -1;
	r->ctl.lfd = -1;
	if (run_repl_start(r) == -1)
		return EXIT_FAIL;
	rc = run_relay(r);
	/* Its sockets close (and unix paths go) once the workers are gone. */
	if (RUN_PRIMARY(r))
		cluster_release(&r->cl);
	/* Whatever ended the run, the control socket goes with it. */
	run_ctl_end(r);
	run_ends_close(r);
	run_sinks_finish(r);
	run_repl_end(r);
	return rc;
}
