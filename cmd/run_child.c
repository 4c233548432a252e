/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: the children's processes. Spawn (all forked before any
 * exec is waited for), the finish of one that exited, restart after the
 * backoff, signals to their groups and what is left of them, as
 * lib/super.c's table says. (The reaping is the loop's pass.)
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
#include "envelope.h"
#include "ev.h"
#include "jscan.h"
#include "nodechan.h"
#include "proc.h"
#include "spawn.h"
#include "super.h"
#include "relay.h"

static void	run_respawn(struct run *r, struct worker *w);

/* Signal the child's process group. */
void
run_kill(struct run *r, struct worker *w, int sig)
{
	/*
	 * The group outlives its leader while anything is left in it, and
	 * its id cannot be reused until then: signalling it stays safe.
	 */
	if (kill(-w->pid, sig) == -1 && errno == ESRCH && run_alive(w))
		(void)kill(w->pid, sig);
	/* A stopped process (SIGTTOU, ^Z) acts on nothing but SIGCONT. */
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
		(void)kill(-w->pid, SIGCONT);
}

/*
 * At the end, what is left of the child's process group (background jobs
 * of a shell, say) would outlive ipcrun: end it, with the same grace as
 * the child had. The leader is still unreaped, so the group id is ours.
 */
static void
run_end_group(struct run *r, struct worker *w)
{
	pid_t	pid;
	int64_t	until;
	int	sig = SIGTERM, left;

	if (w->pid <= 0)
		return;
	/*
	 * What a SIGKILL to the group just reached may still be dying. One
	 * scan of /proc when the group is empty, as it almost always is.
	 */
	until = ev_now() + 200 * MSEC;
	while ((left = proc_group(w->pid, &pid, 1) > 0) && ev_now() < until)
		(void)poll(NULL, 0, 10);
	if (!left)
		return;
	cmd_warnx(r->ce, "sending SIGTERM to what is left of the process "
	    "group of '%s' (%ld)", w->name, (long)w->pid);
	until = ev_now() + r->cf->kill_timeout;
	for (;;) {
		run_trace(r, "kill group %ld %s", (long)w->pid,
		    run_signame(sig));
		(void)kill(-w->pid, sig);
		(void)kill(-w->pid, SIGCONT);
		if (sig == SIGKILL)
			break;
		while (proc_group(w->pid, &pid, 1) > 0 && ev_now() < until)
			(void)poll(NULL, 0, 20);
		if (proc_group(w->pid, &pid, 1) <= 0)
			break;
		cmd_warnx(r->ce, "what is left of the process group of '%s' "
		    "ignored SIGTERM; sending SIGKILL", w->name);
		sig = SIGKILL;
	}
}

/*
 * run_end_group for every child, with one scan of /proc for all of them:
 * a scan per group would cost groups x processes at the end of a run of
 * hundreds of children. Only a group found alive after the wait gets its
 * own look.
 */
void
run_end_groups(struct run *r)
{
	pid_t		*pgids;
	unsigned char	*alive;
	unsigned	*idx;
	struct worker	*w;
	size_t		 n = 0, i;
	ssize_t		 left = -1;
	int64_t		 until;

	pgids = reallocarray(NULL, r->nw, sizeof *pgids);
	idx = reallocarray(NULL, r->nw, sizeof *idx);
	alive = malloc(r->nw);
	if (pgids != NULL && idx != NULL && alive != NULL) {
		for (w = r->w; w < r->w + r->nw; w++) {
			if (w->pid <= 0)
				continue;
			idx[n] = w->idx;
			pgids[n++] = w->pid;
		}
		/* What a SIGKILL just reached may still be dying. */
		until = ev_now() + 200 * MSEC;
		while ((left = proc_groups(pgids, n, alive)) > 0 &&
		    ev_now() < until)
			(void)poll(NULL, 0, 10);
		for (i = 0; i < n && left != 0; i++) {
			if (left == -1 || alive[i])
				run_end_group(r, &r->w[idx[i]]);
		}
	} else {
		/* No memory for the one scan: a scan per group. */
		for (w = r->w; w < r->w + r->nw; w++)
			run_end_group(r, w);
	}
	free(alive);
	free(idx);
	free(pgids);
}

/*
 * The channel is gone (or the run is stopping): wait kill_timeout for the
 * child, then SIGTERM its group, then SIGKILL. now_term skips the grace.
 */
void
run_escalate(struct run *r, struct worker *w, int now_term)
{
	(void)super_step(&w->sv, &r->cf->sp, now_term ? SUPER_EV_STOP :
	    SUPER_EV_CLOSED, ev_now());
}

/* The table's deadline has come: what it says is done here. */
void
run_super_timeout(struct run *r, struct worker *w, int64_t now)
{
	switch (super_step(&w->sv, &r->cf->sp, SUPER_EV_TIMEOUT, now)) {
	case SUPER_SEND_TERM:
		/* In serve's graceful stop, this is the way a server ends. */
		if (r->stopping || w->sv.again)
			run_notice(r, "'%s' (pid %ld) is still running; "
			    "sending SIGTERM", w->name, (long)w->pid);
		else if (!r->epipe && !r->fail)
			cmd_warnx(r->ce, "'%s' (pid %ld) is still running; "
			    "sending SIGTERM", w->name, (long)w->pid);
		run_trace(r, "kill pid %ld SIGTERM", (long)w->pid);
		run_kill(r, w, SIGTERM);
		break;
	case SUPER_SEND_KILL:
		cmd_warnx(r->ce, "'%s' (pid %ld) ignored SIGTERM; sending "
		    "SIGKILL", w->name, (long)w->pid);
		run_trace(r, "kill pid %ld SIGKILL", (long)w->pid);
		run_kill(r, w, SIGKILL);
		break;
	case SUPER_SPAWN:
		run_respawn(r, w);
		break;
	default:
		break;
	}
}

/*
 * The exit and the end of the channel have both come (lib/super.c): the
 * exit is reported now, after the child's last data, then its restart or
 * its give-up.
 */
void
run_finish(struct run *r, struct worker *w, enum super_action act)
{
	run_exit_report(r, w, w->sv.status);
	if (r->cf->tasks)
		run_task_lost(r, w, w->task_killed ? "timed out" :
		    WIFSIGNALED(w->sv.status) ? "killed" : "exited");
	if (act == SUPER_RESTART)
		run_schedule_restart(r, w);
	else if (act == SUPER_GIVEUP)
		run_giveup(r, w);
}

/*
 * Start a child without waiting for its exec (run_spawn_end does), so
 * that hundreds start at once: its channel, its log pipe, its
 * environment with the preload, and the fork.
 */
int
run_spawn_begin(struct run *r, struct worker *w)
{
	struct spawn_opts	 so;
	struct stat		 st;
	char			 preload[NODECHAN_PRELOAD_MAX], **env = NULL;
	char			**lenv = NULL;
	const char		*cause;
	int			 sp[2], devnull = -1, saved, lp[2] = { -1, -1 };
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		cmd_warn(r->ce, "socketpair");
		return EXIT_FAIL;
	}
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fstat(sp[1], &st) == -1) {
		cmd_warn(r->ce, "channel");
		goto fail;
	}
	w->chan_ino = (unsigned long long)st.st_ino;
	/* What a child writes just before process.exit() (best effort). */
	(void)chan_widen_peer(sp[1], run_peer_sndbuf(r));
	/* A whole run in one send (run_own_sndbuf). */
	if (run_own_sndbuf(r) > 0)
		(void)chan_widen_peer(sp[0], run_own_sndbuf(r));
	memset(&so, 0, sizeof so);
	so.argv = w->argv;
	so.pgroup = 1;
	so.pdeathsig = SIGKILL;
	so.nofile = r->nofile_raised ? &r->nofile : NULL;
	so.fd[2] = STDERR_FILENO;
	if (r->cf->log_prefix) {
		if (pipe2(lp, O_CLOEXEC) == -1 ||
		    fcntl(lp[0], F_SETFL, O_NONBLOCK) == -1 ||
		    (w->logbuf == NULL &&
		    (w->logbuf = malloc(LOG_LINE)) == NULL)) {
			cmd_warn(r->ce, "log pipe");
			if (lp[0] != -1) {
				close(lp[0]);
				close(lp[1]);
			}
			goto fail;
		}
		so.fd[2] = lp[1];
	}
	if (w->node) {
		if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
			cmd_warn(r->ce, "/dev/null");
			goto fail;
		}
		so.fd[0] = devnull;
		so.fd[1] = so.fd[2];
		so.chan_fd = sp[1];
		so.chan_to = r->cf->chan_to;
		if (r->cf->eof == DRAIN_EOF_AUTO && r->cf->preload) {
			if (nodechan_preload(preload, sizeof preload,
			    &cause) == 0)
				w->preloaded = 1;
			else
				cmd_warnx(r->ce, "drain preload '%s' (using the "
				    "idle rule): %s", preload, cause);
		}
		env = nodechan_env(r->cf->chan_to,
		    w->preloaded ? preload : NULL, w->chan_ino);
	} else {
		so.fd[0] = sp[1];
		so.fd[1] = sp[1];
		so.chan_fd = -1;
		env = nodechan_env(-1, NULL, 0);
	}
	if (env == NULL) {
		cmd_warn(r->ce, "environment");
		goto fail;
	}
	so.envp = env;
	if ((r->cf->handoff == HANDOFF_SYSTEMD &&
	    (so.envp = lenv = run_listen_env(r, env, &so)) == NULL) ||
	    (r->cf->handoff == HANDOFF_CLUSTER &&
	    (so.envp = lenv = run_cluster_env(r, w, env)) == NULL)) {
		cmd_warn(r->ce, "environment");
		nodechan_env_free(env);
		if (lp[0] != -1) {
			close(lp[0]);
			close(lp[1]);
		}
		goto fail;
	}
	pid = spawn_begin(&so, &w->pending);
	saved = errno;
	if (lenv != NULL)
		run_listen_env_free(lenv, env, r->fdnames);
	if (lp[1] != -1)
		close(lp[1]);
	if (pid == -1 && lp[0] != -1) {
		close(lp[0]);
		lp[0] = -1;
	}
	w->logfd = lp[0];
	run_keep_pre_entry(r, w, env);
	nodechan_env_free(env);
	if (devnull != -1)
		close(devnull);
	if (pid == -1) {
		errno = saved;
		cmd_warn(r->ce, "fork");
		close(sp[0]);
		close(sp[1]);
		return EXIT_FAIL;
	}
	w->pid = pid;
	/* systemd's sockets are its from the start; the others say so. */
	w->serving = r->cf->handoff == HANDOFF_SYSTEMD ||
	    r->cf->handoff == HANDOFF_SOCKET;
	chan_open(&w->ch, sp[0], sp[1]);
	/* --handoff socket: it takes connections from now on. */
	if (r->cf->handoff == HANDOFF_SOCKET) {
		(void)cluster_spawned(&r->cl, w->idx);
		cluster_join(&r->cl, w->idx);
	}
	if (r->cf->handoff == HANDOFF_SERVER && run_hand_servers(r, w) == -1)
		return EXIT_FAIL;
	return 0;
fail:
	if (devnull != -1)
		close(devnull);
	close(sp[0]);
	close(sp[1]);
	return EXIT_FAIL;
}

/* The child's exec: it runs, or it could not be started (126, 127). */
int
run_spawn_end(struct run *r, struct worker *w)
{
	int	err;

	err = spawn_finish(w->pid, w->pending);
	w->pending = -1;
	if (err != 0) {
		/* -n 100 of a missing command: one line, not a hundred. */
		if (err != r->spawn_err || r->spawn_cmd == NULL ||
		    strcmp(r->spawn_cmd, w->argv[0]) != 0) {
			errno = err;
			cmd_warn(r->ce, "'%s'", w->argv[0]);
		}
		r->spawn_err = err;
		r->spawn_cmd = w->argv[0];
		chan_close(&w->ch);
		chan_drop_peer(&w->ch);
		if (w->logfd != -1)
			close(w->logfd);
		w->logfd = -1;
		w->pid = 0;
		return spawn_exec_status(err);
	}
	/* Before anything can go wrong: the watchdog guards the group. */
	if (spawn_watch(r->watch_fd, w->pid) == -1)
		cmd_warn(r->ce, "watchdog");
	super_spawned(&w->sv, ev_now());
	w->peer_at = ev_now() + PEER_EVERY;
	run_trace(r, "spawned pid %ld '%s' on the %s channel%s", (long)w->pid,
	    w->name, w->node ? "node" : "stdio", w->preloaded ?
	    " with the drain preload" : "");
	if (run_worker_names(r, w) == -1) {
		cmd_warn(r->ce, "malloc");
		return EXIT_FAIL;
	}
	if (w->logfd != -1 && ev_add(&r->ev, w->logfd, POLLIN, run_on_log,
	    w) == -1) {
		cmd_warn(r->ce, "poll set");
		return EXIT_FAIL;
	}
	run_event(r, w, "spawn", NULL);
	/* Node with the preload is ready when it says so. */
	if (!w->preloaded)
		run_event(r, w, "ready", NULL);
	return 0;
}

static int
run_spawn(struct run *r, struct worker *w)
{
	int	rc;

	if ((rc = run_spawn_begin(r, w)) != 0)
		return rc;
	return run_spawn_end(r, w);
}

int
run_worker_init(struct run *r, struct worker *w, unsigned idx)
{
	w->r = r;
	w->idx = idx;
	w->logfd = -1;
	w->pending = -1;
	if (chan_init(&w->ch, r->cf->maxline < OUT_MAXLINE_MIN ?
	    OUT_MAXLINE_MIN : r->cf->maxline, r->cf->validate,
	    RUN_QSIZE) == -1)
		return -1;
	/* The first incarnation; the next ones keep the table's state. */
	if (w->sv.state == SUPER_DOWN && super_init(&w->sv, &r->cf->sp,
	    &r->cf->backoff, r->cf->max_restarts, r->cf->restart_window) == -1)
		return -1;
	w->outcmd = w->node && r->cf->validate ?
	    jscan_want(&w->ch.rd.js, "cmd", 3) : -1;
	return 0;
}

void
run_worker_release(struct worker *w)
{
	chan_release(&w->ch);
	if (w->logfd != -1)
		close(w->logfd);
	w->logfd = -1;
	free(w->logbuf);
	w->logbuf = NULL;
	free(w->pre_entry);
	w->pre_entry = NULL;
	free(w->prefix);
	free(w->qname);
	w->prefix = w->qname = NULL;
	super_release(&w->sv);
}

/*
 * The backoff is over: a new incarnation, with the queue of lines the
 * last one left unread. Its channel is closed already (the backoff starts
 * only once what it wrote was read to the end), and what is left of its
 * group goes.
 */
static void
run_respawn(struct run *r, struct worker *w)
{
	struct buf	 q;
	pid_t		 pid;
	int		 status, rc;
	uint64_t	 n, kept;

	if (proc_group(w->pid, &pid, 1) > 0) {
		cmd_warnx(r->ce, "killing what is left of the process group of "
		    "'%s' (%ld) before its restart", w->name, (long)w->pid);
		(void)kill(-w->pid, SIGKILL);
	}
	(void)spawn_reap(w->pid, &status);
	(void)spawn_watch(r->watch_fd, -w->pid);
	if (w->logfd != -1) {
		/* What the last one logged is out before the new one starts. */
		run_log_read(r, w);
		if (w->logfd != -1)
			run_log_close(r, w);
	}
	free(w->logbuf);
	/* The queue goes to the next incarnation; the rest of the channel not. */
	chan_take_queue(&w->ch, &q);
	/* What it read counts for --stats; the next counts its own. */
	if (w->in_lines >= w->rerouted + w->kept + w->undelivered)
		r->delivered_gone += w->in_lines - w->rerouted - w->kept -
		    w->undelivered;
	kept = w->kept;
	chan_release(&w->ch);
	free(w->pre_entry);
	free(w->prefix);
	free(w->qname);
	/* Who the child is stays; its last incarnation goes. */
	memset((char *)w + WORKER_LIFE, 0, sizeof *w - WORKER_LIFE);
	/* What the last one left unread is queued for this one. */
	w->in_lines = kept;
	if (run_worker_init(r, w, w->idx) == -1) {
		buf_release(&q);
		cmd_warn(r->ce, "restart of '%s'", w->name);
		run_fail(r);
		return;
	}
	chan_put_queue(&w->ch, &q);
	if ((rc = run_spawn(r, w)) != 0) {
		/* It cannot be started any more: given up. */
		w->gone = 1;
		super_start_failed(&w->sv, rc << 8);
		r->exit_order[r->nexited++] = w->idx;
		run_event(r, w, "giveup", ",\"restarts\":%u", w->sv.restarts);
		if ((n = chan_queued_lines(&w->ch, w->node)) > 0)
			cmd_warnx(r->ce, "'%s' could not be restarted: %" PRIu64
			    " input line%s not delivered", w->name, n,
			    n == 1 ? "" : "s");
		chan_drop_queued(&w->ch);
		return;
	}
	/* The loop puts its channel in the poll set (run_poll_chans). */
}

/*
 * ipcrun is stopping: a child waiting to be restarted is not, and what it
 * had not read is not delivered. Its last exit decides the status.
 */
void
run_cancel_restarts(struct run *r)
{
	struct worker	*w;
	uint64_t	 n;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (super_step(&w->sv, &r->cf->sp, SUPER_EV_CANCEL, ev_now()) !=
		    SUPER_CANCELLED)
			continue;
		w->gone = 1;
		r->exit_order[r->nexited++] = w->idx;
		n = chan_queued_lines(&w->ch, w->node);
		if (n > 0 && !r->out_dead)
			cmd_warnx(r->ce, "'%s' was waiting for its restart: %"
			    PRIu64 " input line%s not delivered", w->name, n,
			    n == 1 ? "" : "s");
		chan_drop_queued(&w->ch);
	}
}

/* A spawn failed: the children started so far go, at once. */
void
run_abort_spawned(struct run *r)
{
	struct worker	*w;
	int		 status;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (!run_alive(w))
			continue;
		(void)kill(-w->pid, SIGKILL);
		(void)spawn_reap(w->pid, &status);
		(void)super_exited(&w->sv, &r->cf->sp, status, 0, ev_now(), 0);
	}
}

/*
 * Each child holds descriptors of ipcrun's for as long as it runs (its
 * channel, ipcrun's copy of its end, its log pipe), and one more until it
 * has exec'd (all children are started before any exec is waited for).
 * Hundreds of children pass the usual soft limit of 1024: raise it as far
 * as needed, within the hard limit, and give the children the limit
 * ipcrun was given. Beyond the hard limit, say so before any child
 * starts.
 */
int
run_fd_budget(struct run *r)
{
	struct rlimit	rl;
	rlim_t		need = (rlim_t)r->nw * 4 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return 0;
	r->nofile = rl;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		cmd_warnx(r->ce, "%u children need about %llu descriptors, more "
		    "than the hard limit of %llu (ulimit -Hn)", r->nw,
		    (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		cmd_warn(r->ce, "raising the limit of open files to %llu",
		    (unsigned long long)need);
		return -1;
	}
	r->nofile_raised = 1;
	return 0;
}
