/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child, CMD's side: its process (spawned in a group of its own,
 * or ipcrun's own stdin and stdout without CMD), the signals passed on
 * to it, its life and the kill escalation after a disconnect (lib/super's
 * table, without restarts), its stdout validated line by line on the way
 * to the parent.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "ev.h"
#include "frame.h"
#include "nodechan.h"
#include "restart.h"
#include "spawn.h"
#include "super.h"
#include "v8ser.h"
#include "child.h"

/* Life, kill escalation and signals */

/*
 * The table has one timeout for the grace after CLOSED and for SIGTERM's
 * wait; child's grace is --disconnect-timeout and the wait
 * --kill-timeout, so each step is given the policy whose timeout it
 * starts.
 */
static struct super_policy
child_policy(int64_t timeout)
{
	struct super_policy	pol;

	memset(&pol, 0, sizeof pol);
	pol.restart = RESTART_NO;
	pol.kill_timeout = timeout;
	return pol;
}

int
child_super_init(struct child *c)
{
	struct super_policy	pol = child_policy(c->kill_timeout);

	return super_init(&c->sv, &pol, NULL, 0, 0);
}

/* CMD runs (without CMD: the bridge's stdin has not ended). */
int
child_alive(const struct child *c)
{
	return super_alive(&c->sv);
}

void
child_kill(struct child *c, int sig)
{
	if (c->pid <= 0)
		return;
	if (kill(-c->pid, sig) == -1 && errno == ESRCH && child_alive(c))
		(void)kill(c->pid, sig);
	/* A stopped process acts on nothing but SIGCONT. */
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
		(void)kill(-c->pid, SIGCONT);
}

/* CLOSED (the parent disconnected), TIMEOUT or DRAINED, and its action. */
void
child_stop_step(struct child *c, enum super_event ev)
{
	struct super_policy	pol = child_policy(ev == SUPER_EV_CLOSED ?
				    c->disc_timeout : c->kill_timeout);

	switch (super_step(&c->sv, &pol, ev, ev_now())) {
	case SUPER_SEND_TERM:
		cmd_warnx(c->ce, "'%s' (pid %ld) is still running after the "
		    "parent disconnected; sending SIGTERM", c->name,
		    (long)c->pid);
		child_kill(c, SIGTERM);
		break;
	case SUPER_SEND_KILL:
		cmd_warnx(c->ce, "'%s' (pid %ld) ignored SIGTERM; sending "
		    "SIGKILL", c->name, (long)c->pid);
		child_kill(c, SIGKILL);
		break;
	default:
		break;
	}
}

/* Lines still queued for CMD: never to be delivered now. */
uint64_t
child_cq_lines(const struct child *c)
{
	const char	*p = c->cq.p + c->cq.off, *e = p + c->cq.len, *nl;
	uint64_t	 n = 0;

	for (; p < e && (nl = memchr(p, '\n', (size_t)(e - p))) != NULL;
	    p = nl + 1)
		n++;
	return n;
}

/*
 * Messages written into CMD's stdin pipe that it has not read (whole or
 * begun), counted once: CMD exited, or closed its stdin. The pipe is
 * looked at, not read, as a descendant may still share it.
 */
uint64_t
child_cin_unread(struct child *c)
{
	char		*p, *q;
	size_t		 n, all;
	uint64_t	 lines = 0;
	int		 fd = c->cin != -1 ? c->cin : c->cin_peek;

	if (c->argv == NULL || fd == -1)
		return 0;
	/*
	 * Its newlines: a line begun in the pipe and ended in cq is counted
	 * there. Where only the first bytes could be copied, the count is of
	 * those; where none could, of one message at least.
	 */
	if ((p = spawn_pipe_unread(fd, &n, &all)) != NULL) {
		for (q = p; (q = memchr(q, '\n', n - (size_t)(q - p))) != NULL;
		    q++)
			lines++;
		free(p);
	} else if (all > 0)
		lines = 1;
	if (c->cin_peek != -1)
		close(c->cin_peek);
	c->cin_peek = -1;
	return lines;
}

void
child_close_cin(struct child *c)
{
	if (c->cin == -1)
		return;
	/*
	 * CMD runs on (the parent disconnected): what it leaves unread in
	 * the pipe is counted when it exits, through a read end of ours.
	 */
	if (c->argv != NULL && !c->cin_dead && child_alive(c) &&
	    c->cin_peek == -1)
		c->cin_peek = spawn_pipe_reader(c->cin);
	ev_del(&c->ev, c->cin);
	if (c->cin != STDOUT_FILENO)
		close(c->cin);
	c->cin = -1;
}

/*
 * The end of CMD's stdout (EOF, or not read further): with its exit, CMD
 * is finished. Without CMD, the end of stdin is its exit too.
 */
void
child_close_cout(struct child *c)
{
	struct super_policy	pol = child_policy(c->kill_timeout);

	ev_del(&c->ev, c->cout);
	if (c->cout != STDIN_FILENO)
		close(c->cout);
	c->cout = -1;
	c->exit_deadline = 0;
	(void)super_step(&c->sv, &pol, SUPER_EV_DRAINED, ev_now());
	if (c->argv == NULL)
		(void)super_exited(&c->sv, &pol, 0, 0, ev_now(), 0);
}

void
child_exited(struct child *c, int status)
{
	struct super_policy	pol = child_policy(c->kill_timeout);

	/* Finished now if its stdout has ended, else once it does. */
	(void)super_exited(&c->sv, &pol, status, 0, ev_now(), 0);
	c->undelivered += child_cq_lines(c) + child_cin_unread(c);
	buf_consume(&c->cq, c->cq.len);
	child_close_cin(c);
	/* Read what it printed before it went, but not for ever. */
	if (c->cout != -1)
		c->exit_deadline = ev_now() + c->kill_timeout;
}

void
child_on_signal(struct ev *ev, int fd, short revents, void *arg)
{
	struct child	*c = arg;
	int		 sig, status;

	(void)fd;
	(void)revents;
	while ((sig = ev_signal_next(ev)) != 0) {
		if (sig == SIGCHLD) {
			if (child_alive(c) && spawn_reap(c->pid, &status) == 1)
				child_exited(c, status);
			continue;
		}
		/* --fd-as, before CMD: the signal is ipcrun's end. */
		if (c->await == CH_AWAIT) {
			c->await_sig = sig;
			continue;
		}
		/* Once, to CMD's process group (child.kill() reaches CMD). */
		if (child_alive(c))
			child_kill(c, sig);
	}
}

/* CMD's stdout, to the parent */

static void
child_bad_line(struct child *c, uint64_t lineno, size_t off, const char *why)
{
	cmd_warnx(c->ce, "%s:%" PRIu64 ":%zu: %s (not sent)", c->name, lineno,
	    off + 1, why);
}

void
child_pump_cmd(struct child *c)
{
	struct frame_line	 l;
	struct v8ser_err	 e;
	char			 why[256];
	ssize_t			 off;
	int			 k;

	while ((c->disconnected || c->par.tq.len < CH_QSIZE) && !c->fail) {
		k = frame_next(&c->fcmd, &l);
		if (k == FRAME_NONE) {
			if (c->cout_eof && c->cout != -1)
				child_close_cout(c);
			break;
		}
		if (c->disconnected) {
			/* Nothing reaches the parent now: count, never block. */
			if (k != FRAME_BLANK)
				c->lost_lines++;
			continue;
		}
		/* A Node parent crashes on a blank line, so say so too. */
		if (k == FRAME_BLANK) {
			child_bad_line(c, l.lineno, 0, l.len == 0 ||
			    (l.len == 1 && l.nl) ? "empty line" :
			    "blank line");
			continue;
		}
		if (k == FRAME_BAD) {
			frame_reason(&c->fcmd, &l, why, sizeof why);
			child_bad_line(c, l.lineno, l.err_off, why);
			continue;
		}
		if ((off = frame_node_internal(&c->fcmd, c->cmd_cmd, &l, why,
		    sizeof why)) != -1) {
			child_bad_line(c, l.lineno, (size_t)off, why);
			continue;
		}
		if (child_to_parent(c, l.p, l.len, l.nl, &e) == -1) {
			if (strcmp(e.what, "out of memory") == 0) {
				cmd_warnx(c->ce, "queue: %s", e.what);
				c->fail = 1;
				break;
			}
			child_bad_line(c, l.lineno, e.off, e.what);
		}
	}
}

void
child_on_cout(struct ev *ev, int fd, short revents, void *arg)
{
	struct child	*c = arg;
	ssize_t		 got;

	(void)ev;
	if (c->cout_eof)
		return;
	if ((got = frame_read(&c->fcmd, fd, CH_READ)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		if (errno == ENOMEM) {
			cmd_warn(c->ce, "input buffer");
			c->fail = 1;
			return;
		}
		cmd_warn(c->ce, "read from '%s'", c->name);
		frame_set_eof(&c->fcmd);
		got = 0;
	}
	if (got == 0)
		c->cout_eof = 1;
}

void
child_on_write(struct ev *ev, int fd, short revents, void *arg)
{
	/* The flush pass after poll does the writing. */
	(void)ev;
	(void)fd;
	(void)revents;
	(void)arg;
}

/* Start, and the end of its group */

/* CMD's group for ^Z (jobctl.c), from a signal handler. */
static volatile pid_t	child_job_pgid;

static void
child_job_each(int sig)
{
	if (child_job_pgid > 0)
		(void)kill(-child_job_pgid, sig);
}

/* Before the fork: a ^Z stops CMD's group with ipcrun (issue 30). */
int
child_job_control(void)
{
	return jobctl_install(child_job_each);
}

int
child_spawn(struct child *c)
{
	struct spawn_opts	 so;
	char			**env;
	int			 in[2], out[2], err, saved;
	pid_t			 pid;

	if (pipe2(in, O_CLOEXEC) == -1)
		goto fail0;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		goto fail0;
	}
	/* Larger pipes: fewer wake-ups per message (a hint only). */
	(void)fcntl(in[1], F_SETPIPE_SZ, 1024 * 1024);
	(void)fcntl(out[0], F_SETPIPE_SZ, 1024 * 1024);
	if (fcntl(in[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	if ((env = nodechan_env(-1, NULL, 0)) == NULL)
		goto fail;
	memset(&so, 0, sizeof so);
	so.argv = c->argv;
	so.envp = env;
	so.fd[0] = in[0];
	so.fd[1] = out[1];
	so.fd[2] = STDERR_FILENO;
	/* --fd-as: the parent's handle, at its number. */
	so.chan_fd = c->hfd;
	so.chan_to = c->fd_as;
	so.pgroup = 1;
	so.pdeathsig = SIGKILL;
	pid = spawn_start(&so, &err);
	saved = errno;
	nodechan_env_free(env);
	close(in[0]);
	close(out[1]);
	if (c->hfd != -1)
		close(c->hfd);	/* CMD's alone now, or nobody's */
	c->hfd = -1;
	if (pid == -1 || err != 0) {
		/* ipcrun could not fork (125), or CMD not run (126, 127). */
		errno = pid == -1 ? saved : err;
		cmd_warn(c->ce, pid == -1 ? "fork" : "'%s'", c->argv[0]);
		close(in[1]);
		close(out[0]);
		return pid == -1 ? EXIT_FAIL : spawn_exec_status(err);
	}
	/* No process of CMD's group may outlive ipcrun, even by kill -9. */
	if (spawn_watch(c->watch_fd, pid) == -1)
		cmd_warn(c->ce, "watchdog");
	c->pid = pid;
	child_job_pgid = pid;
	super_spawned(&c->sv, ev_now());
	c->cin = in[1];
	c->cout = out[0];
	return 0;
fail:
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
fail0:
	cmd_warn(c->ce, "pipe");
	return EXIT_FAIL;
}

/*
 * Without CMD: ipcrun's stdin and stdout are the two ends. A pipe on
 * stdout gets a description of its own, made non-blocking (as in run); a
 * socket is written with MSG_DONTWAIT.
 */
void
child_own_stdio(struct child *c)
{
	struct stat	st;
	int		fd;

	c->cin = STDOUT_FILENO;
	c->cout = STDIN_FILENO;
	/* "CMD" lives as long as the bridge's stdin. */
	super_spawned(&c->sv, ev_now());
	if (fstat(STDOUT_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode))
		c->cin_sock = 1;
	else if (S_ISFIFO(st.st_mode) &&
	    (fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC))
	    != -1)
		c->cin = fd;
}

/* At the end, what is left of CMD's process group would outlive ipcrun. */
void
child_end_group(struct child *c)
{
	if (c->pid <= 0 || kill(-c->pid, 0) == -1)
		return;
	cmd_warnx(c->ce, "sending SIGTERM to what is left of the process "
	    "group of '%s' (%ld)", c->name, (long)c->pid);
	(void)kill(-c->pid, SIGTERM);
	(void)kill(-c->pid, SIGCONT);
}
