/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: one child, and a lossless NDJSON relay between the shell and
 * it, over Node's IPC channel or the child's stdin/stdout. One thread, one
 * poll loop, bounded queues; the end of input follows the --eof policy
 * (the drain preload for Node children, the idle rule for the others).
 */
#include "compat.h"

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>

#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ipcrun.h"

#define RUN_QSIZE	(256 * 1024)	/* queue size and high-water mark */
#define RUN_READ	(256 * 1024)	/* largest read from the channel */
#define MAXLINE_DEFAULT	((size_t)64 * 1024 * 1024)
#define OUT_MAXLINE_MIN	((size_t)4096)	/* room for Node's internal messages */
#define SEC		INT64_C(1000000000)
#define MSEC		INT64_C(1000000)
#define IDLE_DEFAULT	(500 * MSEC)	/* --eof idle and auto's idle rule */
#define KILL_DEFAULT	(5 * SEC)	/* --kill-timeout */
#define PEER_EVERY	(250 * MSEC)	/* does the child still hold its end? */
#define CQ_HIGH		(64 * 1024)	/* ipcrun's own frames to the child */
#define EOF_TICK	(20 * MSEC)	/* have all children read their input? */
#define LOG_LINE	4096	/* --log prefix: a longer line is cut */
#define SHOW_MAX	64	/* -v: the first bytes of a frame shown */
#define PROGRESS_MIN	((uint64_t)64 * 1024 * 1024)	/* as check's */
/*
 * V8 strings stop at 536,870,888 UTF-16 units, and Node's reader holds a
 * line, its newline and up to one read (64 KiB) more in one string: a
 * longer line kills a Node child with "Invalid string length".
 */
#define NODE_MAXLINE	((size_t)512 * 1024 * 1024 - 1024 * 1024)

enum route_mode { ROUTE_RR, ROUTE_BROADCAST, ROUTE_KEY };

/* Why the channel is being closed by ipcrun, for the reports. */
enum close_why { CLOSE_NONE, CLOSE_EOF, CLOSE_IDLE, CLOSE_POLICY,
    CLOSE_TIMEOUT, CLOSE_STOP, CLOSE_AFTER_EXIT };

/*
 * One child and its channel: the queue of input lines for it, the frames
 * it sends, the end-of-input state and the lifecycle of its process group.
 */
struct worker {
	char		**argv;
	const char	*name;		/* for reports */
	unsigned	 idx;
	struct run	*r;
	char		*alloc_name;	/* name, when ipcrun made it */
	char		*prefix;	/* {"from":NAME,"pid":P,"msg": */
	size_t		 prefixlen;
	char		*qname;		/* NAME as a JSON string */

	/* relay -> ch.tq -> channel -> ch.rd -> relay */
	struct chan	 ch;
	uint64_t	 in_lines;	/* lines queued for the child */
	/*
	 * ch.peer, ipcrun's copy of the child's end: FIONREAD on it says
	 * exactly what the child left unread when it exits. Holding it hides
	 * the child's own close, so a look at /proc every PEER_EVERY finds
	 * when no process of the child's group holds its end any more.
	 */
	int64_t		 peer_at;
	int		 peer_missed;	/* no holder at the last look */
	uint64_t	 peer_lost;	/* input lines it left there unread */
	unsigned long long chan_ino;	/* the child's end, for the preload */
	char		*pre_entry;	/* "NODE_OPTIONS=<ipcrun's part>" */
	enum close_why	 closing_why;
	int		 outcmd;
	uint64_t	 out_frames;

	/* The child: its lifecycle is the table of lib/super.c. */
	pid_t		 pid;
	int		 pending;	/* its exec-error pipe until it exec'd */
	struct super	 sv;
	int		 preloaded;	/* NODE_OPTIONS carries the preload */
	int		 plain_warned;	/* Node without the preload: said so */
	struct drain	 dr;		/* its end of input: lib/drain.c */
	int		 handle_warned;
	int		 gone;		/* exited: takes no more input */
	int		 logfd;		/* --log prefix: its stderr, or -1 */
	char		*logbuf;	/* a log line being read */
	size_t		 loglen;
	uint64_t	 mark;		/* --envelope: the last line sent it */
	uint64_t	 rerouted;	/* unread lines sent to other children */
	uint64_t	 cut;		/* lines it had begun to read */
	uint64_t	 undelivered;	/* its lines that reached no child */
};

struct run {
	const struct cmd_entry	*ce;

	/* Options. */
	int		 node;		/* --channel node */
	int		 chan_to;	/* --channel-fd */
	enum drain_eof	 eof;
	int64_t		 idle_ns;
	int64_t		 eof_timeout;	/* 0: none */
	int64_t		 kill_timeout;
	int		 preload;	/* 0: --no-preload */
	int		 validate;
	int		 strict;
	size_t		 maxline;
	int		 trace;
	int		 verbose;	/* -v: frames' content, notices */
	int		 quiet;		/* -q: errors only */
	int		 stats;		/* --stats */
	int		 progress;	/* -1: tty and a large file */
	int		 out_tty;	/* the meter shares stdout's terminal */
	uint64_t	 in_size;	/* stdin's, if a regular file */
	struct meter	 meter;
	enum route_mode	 route;
	struct route_key key;		/* --route key=PATH */
	const char	*key_path;
	int		 route_default;	/* --route-default: a child, or -1 */
	int		 hold_eof;	/* the end of input waits for all */
	int		 restart;	/* --restart */
	struct restart_backoff backoff;	/* --backoff */
	unsigned	 max_restarts;	/* --max-restarts N/WINDOW */
	int64_t		 restart_window;	/* ms, 0: the whole run */
	struct super_policy sp;		/* the table's view of the above */
	struct drain_policy dp;		/* the drain's */
	int64_t		 eof_tick;	/* the next look, while it waits */
	int		 envelope;	/* --envelope */
	int		 wrap;		/* {"from":...} around child lines */
	int		 events;	/* --events */
	int		 events_fd;	/* where they go, or -1: into oq */
	int		 log_prefix;	/* --log prefix */
	int		 err_fd;	/* stderr, non-blocking if a pipe */
	uint64_t	 log_dropped;	/* log lines stderr could not take */
	struct envelope	 env;

	struct ev	 ev;
	int64_t		 t0;

	struct worker	*w;		/* the children */
	unsigned	 nw;
	unsigned	 rr;		/* round robin: the next to try */
	unsigned	 gather;	/* output: the first to take from */
	unsigned	*exit_order;	/* children, in the order they exited */
	unsigned	 nexited;

	/* stdin -> frame -> a worker's tq */
	struct frame	 fin;
	int		 fin_ok;
	int		 incmd;		/* jscan key of "cmd", or -1 */
	int		 in_fast;	/* input by runs: run_input_run */
	int		 in_eof;	/* read(0) returned 0 */
	int		 in_done;	/* no more input lines will be queued */
	int64_t		 in_end;	/* when the input ended */
	struct buf	 rq;		/* lines a gone child left unread */

	/* a worker's frames -> oq -> stdout */
	struct buf	 oq;
	int		 out_sock;	/* stdout is a socket: send(2) */
	int		 out_fd;	/* stdout, or a private non-blocking
					   description of the same pipe */
	int		 out_dead;	/* EPIPE or error: stop writing */
	int64_t		 bp_since;	/* stdout full since, or 0 */

	int		 interrupted;	/* INT, TERM or HUP was forwarded */
	int		 watch_fd;	/* the watchdog's pipe, or -1 */
	struct rlimit	 nofile;	/* RLIMIT_NOFILE as ipcrun was given it */
	int		 nofile_raised;	/* the children get it back */
	pid_t		 watch_pid;

	int		 fail;		/* exit EXIT_FAIL */
	int		 epipe;		/* exit EXIT_PIPE */
	int		 stdout_closed;	/* fd 1 was closed at the start */
	int		 strict_hit;
	uint64_t	 refused;	/* lines refused, either direction */
	uint64_t	 in_bytes;	/* read from stdin */
	uint64_t	 replies;	/* the children's frames, forwarded */
	uint64_t	 reply_bytes;
	uint64_t	 tail_lines;	/* stdin lines counted after the exit */
};

static int64_t	run_worker_deadline(struct run *, struct worker *);
static void	run_pump_input(struct run *);
static struct worker *run_route_room(struct run *);
static int	run_others_accept(struct run *, const struct worker *);
static int	run_accepting(const struct worker *);
static int	run_takes(const struct worker *);
static void	run_all_delivered(struct run *);
static void	run_respawn(struct run *, struct worker *);
static void	run_cancel_restarts(struct run *);
static void	run_gather(struct run *);
static void	run_pump_output(struct run *, struct worker *);
static void	run_input_ended(struct run *);
static void	run_close_chan(struct run *, struct worker *, enum close_why);

/* --trace: one stderr line per frame and per event, with a timestamp. */
static void
run_trace_(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Nothing is evaluated without --trace: this sits on the per-line path. */
#define run_trace(r, ...) do {						\
	if ((r)->trace)							\
		run_trace_((r), __VA_ARGS__);				\
} while (0)

static void
run_trace_(struct run *r, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];
	int64_t	t;

	t = ev_now() - r->t0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	meter_erase(&r->meter);
	fprintf(stderr, "ipcrun: run: trace %" PRId64 ".%06" PRId64 " %s\n",
	    t / SEC, (t % SEC) / 1000, msg);
}

/* -v: a frame's content on stderr; nothing is evaluated without -v. */
#define run_show(r, w, dir, internal, p, n) do {			\
	if ((r)->verbose)						\
		run_show_((r), (w), (dir), (internal), (p), (n));	\
} while (0)

/*
 * One frame to (">") or from ("<") child w, as strace -s shows a string:
 * its first SHOW_MAX bytes, then "..." if there is more. Controls,
 * backslashes, invalid UTF-8 and the code points that reorder or break a
 * line are escaped, so that a frame cannot upset the terminal.
 */
static void
run_show_(struct run *r, const struct worker *w, const char *dir,
    int internal, const char *p, size_t n)
{
	char		 raw[SHOW_MAX + 5], out[SHOW_MAX * 4 + 8];
	const unsigned char *u = (const unsigned char *)raw;
	size_t		 i = 0, k = 0, m;
	uint32_t	 c;
	int		 len;
	int64_t		 t = ev_now() - r->t0;

	if (n > 0 && p[n - 1] == '\n')
		n--;
	/* A NUL after the copy: jscan_utf8_len reads no further. */
	m = n < sizeof raw - 1 ? n : sizeof raw - 1;
	memcpy(raw, p, m);
	raw[m] = '\0';
	while (i < n && i < SHOW_MAX) {
		len = jscan_utf8_len(raw + i);
		if (len > 1 && i + (size_t)len > SHOW_MAX)
			break;	/* a character that does not fit whole */
		c = len == 2 ? (u[i] & 0x1fu) << 6 | (u[i + 1] & 0x3fu) :
		    len == 3 ? (u[i] & 0x0fu) << 12 | (u[i + 1] & 0x3fu) << 6 |
		    (u[i + 2] & 0x3fu) : len == 4 ? (u[i] & 0x07u) << 18 |
		    (u[i + 1] & 0x3fu) << 12 | (u[i + 2] & 0x3fu) << 6 |
		    (u[i + 3] & 0x3fu) : u[i];
		if (len == 1 && (c == '\\' || c == '\n' || c == '\r' ||
		    c == '\t')) {
			out[k++] = '\\';
			out[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' :
			    c == '\t' ? 't' : '\\';
		} else if (len == 0 || (len == 1 && (c < 0x20 || c == 0x7f))) {
			k += (size_t)snprintf(out + k, sizeof out - k, "\\x%02x",
			    u[i]);
			len = 1;
		} else if (len > 1 && jscan_hostile(c))
			k += (size_t)snprintf(out + k, sizeof out - k,
			    c > 0xffff ? "\\U%08X" : "\\u%04X", (unsigned)c);
		else {
			memcpy(out + k, raw + i, (size_t)len);
			k += (size_t)len;
		}
		i += (size_t)len;
	}
	out[k] = '\0';
	meter_erase(&r->meter);
	fprintf(stderr, "ipcrun: run: %" PRId64 ".%06" PRId64 " %s %s %s%s%s\n",
	    t / SEC, (t % SEC) / 1000, w->name, dir, internal ? "internal " :
	    "", out, i < n ? "..." : "");
}

/* A notice: what a user cannot act on is said only with -v. */
static void
run_notice(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
run_notice(struct run *r, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	if (!r->verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cmd_warnx(r->ce, "%s", msg);
}

static struct run *run_active;	/* for run_report */

/*
 * Before each of run's reports: the meter goes, and with -q so does every
 * report but an error of ipcrun's own (cmd_warn's, with an errno), which
 * is what decides exit status 125 and up.
 */
static int
run_report(int errnum)
{
	struct run	*r = run_active;

	if (r->quiet && errnum == 0)
		return 0;
	meter_erase(&r->meter);
	return 1;
}

/*
 * --events: one JSON object per line, {"event":E,"t":T,"name":N,"pid":P,
 * ...}, T in seconds since the start on the monotonic clock. Into the
 * output, in order with the data, when that is wrapped; else to stderr or
 * --events-fd, written whole (they are few).
 */
static void
run_event(struct run *r, struct worker *w, const char *event,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
run_event(struct run *r, struct worker *w, const char *event,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 line[1024];
	int64_t	 t;
	int	 n, m;
	ssize_t	 got;

	if (!r->events)
		return;
	t = ev_now() - r->t0;
	n = snprintf(line, sizeof line, "{\"event\":\"%s\",\"t\":%" PRId64
	    ".%03" PRId64 ",\"name\":%s,\"pid\":%ld", event, t / SEC,
	    (t % SEC) / MSEC, w->qname, (long)w->pid);
	if (n < 0 || (size_t)n >= sizeof line - 3)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		m = vsnprintf(line + n, sizeof line - 3 - (size_t)n, fmt, ap);
		va_end(ap);
		if (m < 0 || (size_t)m >= sizeof line - 3 - (size_t)n)
			return;
		n += m;
	}
	line[n++] = '}';
	line[n++] = '\n';
	if (r->events_fd == STDERR_FILENO)
		meter_erase(&r->meter);
	if (r->events_fd == -1) {
		if (!r->out_dead && buf_append(&r->oq, line, (size_t)n) == -1) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
		}
		return;
	}
	for (m = 0; m < n; m += (int)got) {
		if ((got = write(r->events_fd, line + m, (size_t)(n - m))) ==
		    -1) {
			if (errno == EINTR)
				got = 0;
			else if (errno == EAGAIN) {
				struct pollfd pfd = { r->events_fd, POLLOUT, 0 };

				(void)poll(&pfd, 1, -1);
				got = 0;
			} else {
				cmd_warn(r->ce, "--events-fd %d", r->events_fd);
				r->events = 0;
				return;
			}
		}
	}
}

static const char *
run_signame(int sig)
{
	static char	buf[16];
	const char	*s = sigabbrev_np(sig);

	if (s == NULL) {
		snprintf(buf, sizeof buf, "%d", sig);
		return buf;
	}
	snprintf(buf, sizeof buf, "SIG%s", s);
	return buf;
}

/* Timers */

/* ipcrun's stdout is full: the channel is not being read. */
static int
run_backpressured(const struct run *r)
{
	return r->oq.len >= RUN_QSIZE && !r->out_dead;
}

static int64_t
run_next_deadline(struct run *r)
{
	struct worker	*w;
	int64_t		 d = 0;

	for (w = r->w; w < r->w + r->nw; w++)
		d = ev_deadline_min(d, run_worker_deadline(r, w));
	return ev_deadline_min(d, r->eof_tick);
}

static int64_t
run_worker_deadline(struct run *r, struct worker *w)
{
	int64_t	d;

	d = ev_deadline_min(drain_deadline(&w->dr, run_backpressured(r)), w->peer_at);
	return ev_deadline_min(d, super_deadline(&w->sv));
}

static int
run_alive(const struct worker *w)
{
	return super_alive(&w->sv);
}

/* Waiting for its restart. */
static int
run_pending(const struct worker *w)
{
	return w->sv.state == SUPER_BACKOFF;
}

/* Signal the child's process group. */
static void
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
	until = ev_now() + r->kill_timeout;
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
static void
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
static void
run_escalate(struct run *r, struct worker *w, int now_term)
{
	(void)super_step(&w->sv, &r->sp, now_term ? SUPER_EV_STOP :
	    SUPER_EV_CLOSED, ev_now());
}

/* The table's deadline has come: what it says is done here. */
static void
run_super_timeout(struct run *r, struct worker *w, int64_t now)
{
	switch (super_step(&w->sv, &r->sp, SUPER_EV_TIMEOUT, now)) {
	case SUPER_SEND_TERM:
		if (!r->epipe && !r->fail)
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
		    proc_holds_socket(pids[i], w->chan_ino, r->chan_to) != 0)
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
	if (w->ch.shut || w->ch.fd == -1)
		return;
	if (chan_half_close(&w->ch) == -1) {
		cmd_warn(r->ce, "shutdown");
		r->fail = 1;
	}
	run_trace(r, "half-close: end of file for the child");
}

static void	run_start_idle(struct run *, struct worker *);
static uint64_t	run_peer_unread(struct run *, struct worker *, size_t *);

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

	if (w->dr.announced || w->dr.notice || w->dr.idle || w->ch.fd == -1 ||
	    w->ch.shut || w->ch.closing || !run_alive(w))
		return;
	seen = run_look(r, w, &node, &forking);
	/* Input still to read, or a shell in the group between fork and exec. */
	busy = seen == DRAIN_SEEN_OTHER && (chan_outq(&w->ch) > 0 || forking);
	switch (drain_looked(&w->dr, now, seen, busy, now - w->sv.spawned)) {
	case DRAIN_IDLE_PLAIN:
		if (r->preload && w->preloaded && !w->plain_warned)
			cmd_warnx(r->ce, "Node (pid %ld) runs without ipcrun's "
			    "drain preload (NODE_OPTIONS was replaced?): using "
			    "the idle rule, which can lose a late reply",
			    (long)node);
		w->plain_warned = 1;
		run_start_idle(r, w);
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
	if (w->ch.fd == -1 || w->ch.closing) {
		drain_closed(&w->dr);
		return;
	}
	if (drain_idle_step(&w->dr, &r->dp, now, run_quiet(r, w)) !=
	    DRAIN_CLOSE)
		return;
	run_trace(r, "idle for %" PRId64 " ms: closing the channel",
	    r->idle_ns / MSEC);
	/* The idle rule is a guess: say when it is made. */
	if (run_alive(w))
		cmd_warnx(r->ce, "closing the channel of '%s' (pid %ld) after "
		    "%.3g s of quiet (idle rule)", w->name, (long)w->pid,
		    (double)r->idle_ns / SEC);
	run_close_chan(r, w, CLOSE_IDLE);
}

static void
run_start_idle(struct run *r, struct worker *w)
{
	if (w->dr.idle || w->ch.fd == -1)
		return;
	run_trace(r, "idle rule: closing after %" PRId64 " ms of quiet",
	    r->idle_ns / MSEC);
	drain_idle_start(&w->dr, ev_now());
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

	if (!drain_due(&w->dr.hint_at, now))
		return;
	cpu = run_group_cpu(r, w);
	if (drain_hint_step(&w->dr, now, chan_outq(&w->ch) > 0, cpu) !=
	    DRAIN_HINT)
		return;
	if (run_alive(w) && w->ch.fd != -1 && !w->ch.closing)
		cmd_warnx(r->ce, "'%s' (pid %ld) is still running after the end "
		    "of input, with nothing left to send; if it keeps itself "
		    "alive (a server, a timer, a 'disconnect' listener), "
		    "--eof-timeout DUR or --eof close ends it", w->name,
		    (long)w->pid);
}

/* --eof-timeout, and the read of the channel after the child's exit. */
static void
run_deadlines(struct run *r, struct worker *w, int64_t now)
{
	if (drain_due(&w->dr.eof_deadline, now)) {
		if (w->ch.fd != -1 && run_alive(w)) {
			cmd_warnx(r->ce, "closing the channel of '%s' (pid %ld) "
			    "after --eof-timeout", w->name, (long)w->pid);
			run_close_chan(r, w, CLOSE_TIMEOUT);
		} else if (w->ch.fd != -1)
			run_close_chan(r, w, CLOSE_TIMEOUT);
		else
			run_escalate(r, w, 0);
	}
	if (drain_due(&w->dr.exit_deadline, now)) {
		if (w->ch.fd != -1) {
			cmd_warnx(r->ce, "the channel stayed open after '%s' "
			    "exited (a descendant may hold it); closing it",
			    w->name);
			run_close_chan(r, w, CLOSE_AFTER_EXIT);
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
	int	hint = r->node ? r->chan_to : 0, status;

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
	close(w->ch.peer);
	w->ch.peer = -1;
	w->peer_at = 0;
	return;
held:
	w->peer_missed = 0;
}

static void
run_timers(struct run *r)
{
	struct worker	*w;
	int64_t		 now = ev_now();
	int		 held;

	held = run_hold_deadlines(r, now);
	if (r->eof_tick != 0 && now >= r->eof_tick)
		run_all_delivered(r);
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->peer_at != 0 && now >= w->peer_at)
			run_peer_check(r, w, now);
		if (w->dr.idle && drain_due(&w->dr.idle_tick, now))
			run_idle_check(r, w, now);
		if (drain_due(&w->dr.look_at, now))
			run_unannounced(r, w, now);
		if (!held) {
			run_hint(r, w, now);
			run_deadlines(r, w, now);
		}
		if (super_deadline(&w->sv) != 0 &&
		    now >= super_deadline(&w->sv))
			run_super_timeout(r, w, now);
	}
}

/* Channel */

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
static void
run_close_chan(struct run *r, struct worker *w, enum close_why why)
{
	if (w->ch.fd == -1)
		return;
	drain_closed(&w->dr);
	if (why != CLOSE_EOF && why != CLOSE_STOP && !w->ch.eof) {
		if (w->ch.closing)
			return;
		w->closing_why = why;
		chan_shut(&w->ch);
		run_trace(r, "channel shut down (%s): reading what is left",
		    run_why(why));
	} else {
		ev_del(&r->ev, w->ch.fd);
		chan_close(&w->ch);
		run_trace(r, "channel closed (%s)", run_why(w->ch.closing ?
		    w->closing_why : why));
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

/* Queue the notice that ends a Node child's input (its preload unrefs). */
static void
run_send_notice(struct run *r, struct worker *w)
{
	if (w->dr.notice || w->ch.fd == -1 || w->ch.wdead)
		return;
	/* --eof-timeout already bounds the wait: no hint needed then. */
	drain_noticed(&w->dr, &r->dp, ev_now(), r->eof_timeout == 0 ?
	    run_group_cpu(r, w) : 0);
	/*
	 * After the last input line, never before it (cq may overtake tq):
	 * a child told early would stop reading with lines still to come.
	 */
	if (buf_append(&w->ch.tq, NODECHAN_EOF_LINE,
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

	if (w->dr.delivered || w->ch.fd == -1)
		return;
	act = drain_delivered(&w->dr, &r->dp);
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
		run_start_idle(r, w);
		break;
	case DRAIN_NOTICE:
		run_send_notice(r, w);
		break;
	case DRAIN_LOOK:
		run_unannounced(r, w, ev_now());
		break;
	default:
		break;
	}
}

/* No more lines will come from stdin. */
static void
run_input_ended(struct run *r)
{
	struct worker	*w;

	if (r->in_end == 0)
		r->in_end = ev_now();
	r->in_done = 1;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->ch.fd != -1)
			drain_input_ended(&w->dr, &r->dp, r->in_end);
		if (r->node && r->eof == DRAIN_EOF_AUTO && w->dr.announced &&
		    !r->hold_eof)
			run_send_notice(r, w);
	}
}

static void
run_flush_tq(struct run *r, struct worker *w)
{
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
	if (w->ch.tq.len == 0 && r->in_done && !w->dr.delivered)
		run_all_delivered(r);
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
static void
run_all_delivered(struct run *r)
{
	struct worker	*w;

	if (!r->in_done)
		return;
	r->eof_tick = 0;
	if (r->hold_eof && !run_all_read(r)) {
		r->eof_tick = ev_now() + EOF_TICK;
		return;
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->ch.tq.len == 0 && !w->dr.delivered)
			run_delivered(r, w);
	}
}

/* Out */

static void
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

static void
run_flush_oq(struct run *r)
{
	int	w;

	if (r->out_dead)
		return;
	/* Replies on the meter's terminal: out of its way. */
	if (r->out_tty && r->oq.len > 0)
		meter_erase(&r->meter);
	while (r->oq.len > 0) {
		/* >&-: what would have been written is an error, as for check. */
		if (r->stdout_closed) {
			errno = EBADF;
			w = -1;
		} else
			w = buf_write(&r->oq, r->out_fd, r->out_sock);
		if (w == -1) {
			if (errno == EPIPE)
				r->epipe = 1;
			else {
				cmd_warn(r->ce, "write error on stdout");
				r->fail = 1;
			}
			run_stop(r);
			return;
		}
		if (w == 0)
			break;
	}
}

/* Input: stdin lines, validated, into the child's queue. */

static void
run_bad_input(struct run *r, uint64_t lineno, size_t off, const char *why)
{
	cmd_warnx(r->ce, "-:%" PRIu64 ":%zu: %s", lineno, off + 1, why);
	r->refused++;
	if (r->strict) {
		r->strict_hit = 1;
		run_input_ended(r);
	}
}

/* Can the child take input lines (it may still be running without)? */
static int
run_accepting(const struct worker *w)
{
	return w->ch.fd != -1 && !w->ch.wdead && !w->ch.closing &&
	    !w->ch.shut && !w->dr.notice && !w->dr.delivered && !w->gone;
}

/* Input for it can be queued: it takes input, or will once restarted. */
static int
run_takes(const struct worker *w)
{
	return run_accepting(w) || run_pending(w);
}

/*
 * Is there room for the next input line? Round robin needs one child with
 * room, from the one after the last served, skipping full queues so that
 * a slow child never holds up the others. The other routes may send a
 * line to any child (or all): every child still taking input needs room.
 * Returns a child with room, or NULL.
 */
static struct worker *
run_route_room(struct run *r)
{
	struct worker	*w, *first = NULL;
	unsigned	 i;

	if (r->route == ROUTE_RR && !r->envelope) {
		for (i = 0; i < r->nw; i++) {
			w = &r->w[(r->rr + i) % r->nw];
			if (run_accepting(w) && w->ch.tq.len < RUN_QSIZE)
				return w;
		}
		return NULL;
	}
	for (w = r->w; w < r->w + r->nw; w++) {
		if (!run_takes(w))
			continue;
		if (w->ch.tq.len >= RUN_QSIZE)
			return NULL;
		if (first == NULL)
			first = w;
	}
	return first;
}

/* Queue n bytes of a line for a child, with its newline. */
static int
run_queue(struct run *r, struct worker *w, const char *p, size_t n)
{
	if (buf_append(&w->ch.tq, p, n) == -1 ||
	    (p[n - 1] != '\n' && buf_append(&w->ch.tq, "\n", 1) == -1)) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	w->in_lines++;
	run_trace(r, "-> %s %zu bytes", r->nw > 1 ? w->name : "child",
	    n + (p[n - 1] != '\n'));
	run_show(r, w, ">", 0, p, n);
	return 0;
}

static struct worker *
run_find(struct run *r, const char *name, size_t len)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->name != NULL && strlen(w->name) == len &&
		    memcmp(w->name, name, len) == 0)
			return w;
	}
	return NULL;
}

/* A line for one child: refused, with its line number, if it is gone. */
static int
run_route_to(struct run *r, struct worker *w, uint64_t lineno, size_t col,
    const char *p, size_t n)
{
	char	why[256];

	if (run_takes(w))
		return run_queue(r, w, p, n);
	snprintf(why, sizeof why, "child '%s' %s (line not delivered)",
	    w->name, w->gone ? "has exited" : "takes no more input");
	run_bad_input(r, lineno, col, why);
	return 0;
}

/* Every child still taking input gets the line. */
static int
run_route_all(struct run *r, const char *p, size_t n)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_takes(w) && run_queue(r, w, p, n) == -1)
			return -1;
	}
	return 0;
}

/* {"to":NAME|[NAMES]|"*","msg":M}: M's own bytes go to each. */
static int
run_route_envelope(struct run *r, const struct frame_line *l)
{
	const struct envelope_to	*t;
	struct worker			*w;
	const char			*cause, *m;
	char				 why[256], txt[80];
	size_t				 i, n;

	if (envelope_parse(&r->env, l->p, l->len - l->nl, &cause) == -1) {
		snprintf(why, sizeof why, "not an envelope: %s", cause);
		run_bad_input(r, l->lineno, 0, why);
		return 0;
	}
	m = l->p + r->env.msg.off;
	n = r->env.msg.len;
	if (r->env.all)
		return run_route_all(r, m, n);
	for (i = 0; i < r->env.nto; i++) {
		t = &r->env.to[i];
		if ((w = run_find(r, t->name, t->len)) == NULL) {
			jscan_printable(l->p + t->span.off, t->span.len, txt,
			    sizeof txt);
			snprintf(why, sizeof why, "no child named '%s' (line "
			    "not delivered to it)", txt);
			run_bad_input(r, l->lineno, t->span.off, why);
			continue;
		}
		/* A name listed twice: the child gets the line once. */
		if (w->mark == l->lineno)
			continue;
		w->mark = l->lineno;
		if (run_route_to(r, w, l->lineno, t->span.off, m, n) == -1)
			return -1;
	}
	return 0;
}

/* One good input line, to the child or children the route names. */
static int
run_route(struct run *r, struct worker *w, const struct frame_line *l)
{
	uint64_t	 h;
	char		 why[300];

	if (r->envelope)
		return run_route_envelope(r, l);
	switch (r->route) {
	case ROUTE_RR:
		r->rr = (w->idx + 1) % r->nw;
		return run_queue(r, w, l->p, l->len);
	case ROUTE_BROADCAST:
		return run_route_all(r, l->p, l->len);
	case ROUTE_KEY:
		if (route_key(&r->key, l->p, l->len - l->nl, &h) == 1)
			return run_route_to(r, &r->w[route_pick(h, r->nw)],
			    l->lineno, 0, l->p, l->len);
		if (r->route_default >= 0)
			return run_route_to(r, &r->w[r->route_default],
			    l->lineno, 0, l->p, l->len);
		snprintf(why, sizeof why, "no member %s to route by (line "
		    "not delivered)", r->key_path);
		run_bad_input(r, l->lineno, 0, why);
		return 0;
	}
	return 0;
}

/*
 * Lines a gone child left unread go out again first, round robin, before
 * anything new from stdin: each is a whole line, already checked.
 */
static void
run_route_requeued(struct run *r)
{
	struct worker	*w;
	const char	*p, *nl;
	size_t		 n;

	while (r->rq.len > 0 && (w = run_route_room(r)) != NULL) {
		p = r->rq.p + r->rq.off;
		nl = memchr(p, '\n', r->rq.len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : r->rq.len;
		r->rr = (w->idx + 1) % r->nw;
		if (run_queue(r, w, p, n) == -1)
			return;
		buf_consume(&r->rq, n);
	}
}

/*
 * The hot path, for one child on round robin when no line needs a look of
 * its own (no member to check, no trace): a run of good lines goes to the
 * channel straight from the frame's buffer while nothing is queued before
 * it, and what the channel does not take is queued in one piece. While
 * the channel is full the lines wait in the frame, not copied into the
 * queue (and stdin waits too, run_update). Returns 1 if lines were taken,
 * 0 when frame_next must take the next one, 2 when the channel is full,
 * -1 when ipcrun stops.
 */
static int
run_input_run(struct run *r, struct worker *w)
{
	const char	*p;
	size_t		 n;
	uint64_t	 lines;

	if (w->ch.full)
		return 2;
	if ((n = frame_run(&r->fin, RUN_QSIZE - w->ch.tq.len, &p, &lines)) == 0)
		return 0;
	w->in_lines += lines;
	r->rr = (w->idx + 1) % r->nw;
	if (chan_send(&w->ch, p, n) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	return 1;
}

static void
run_pump_input(struct run *r)
{
	struct worker		*w;
	struct frame_line	 l;
	char			 why[256];
	int			 k, full;

again:
	run_route_requeued(r);
	while (!r->in_done && r->rq.len == 0 &&
	    (w = run_route_room(r)) != NULL) {
		if (r->in_fast && (k = run_input_run(r, w)) != 0) {
			if (k == -1)
				return;
			if (k == 2)
				break;
			continue;
		}
		k = frame_next(&r->fin, &l);
		if (k == FRAME_NONE) {
			if (r->in_eof) {
				run_trace(r, "end of input");
				run_input_ended(r);
			}
			break;
		}
		if (k == FRAME_BLANK)
			continue;
		if (k == FRAME_BAD) {
			frame_reason(&r->fin, &l, why, sizeof why);
			run_bad_input(r, l.lineno, l.err_off, why);
			continue;
		}
		if (r->incmd >= 0 && r->fin.js.span[r->incmd].len != 0 &&
		    jscan_node_internal(l.p + r->fin.js.span[r->incmd].off,
		    r->fin.js.span[r->incmd].len)) {
			char	txt[200];

			jscan_printable(l.p + r->fin.js.span[r->incmd].off,
			    r->fin.js.span[r->incmd].len, txt, sizeof txt);
			snprintf(why, sizeof why,
			    "internal Node message (cmd \"%s\")", txt);
			run_bad_input(r, l.lineno, r->fin.js.span[r->incmd].off,
			    why);
			continue;
		}
		if (run_route(r, w, &l) == -1)
			return;
	}
	full = !r->in_done && run_route_room(r) == NULL;
	for (w = r->w; w < r->w + r->nw; w++)
		run_flush_tq(r, w);
	/*
	 * Lines already read wait in the frame while the queues are full; if
	 * a write made room, take them now: stdin may have nothing new to
	 * wake the loop with.
	 */
	if (full && !r->in_done && run_route_room(r) != NULL)
		goto again;
}

static void
run_on_stdin(struct ev *ev, int fd, short revents, void *arg)
{
	struct run	*r = arg;
	ssize_t		 got;

	(void)ev;
	(void)revents;
	if ((got = frame_read(&r->fin, fd, RUN_READ)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		if (errno == ENOMEM) {
			/* Out of memory for a long line: ipcrun cannot go on. */
			cmd_warn(r->ce, "input line %" PRIu64 ": buffer",
			    r->fin.lineno + (r->fin.inline_ ? 0 : 1));
			r->fail = 1;
			run_stop(r);
			return;
		}
		cmd_warn(r->ce, "read error on stdin");
		r->fail = 1;
		frame_set_eof(&r->fin);
		got = 0;
	}
	if (got == 0)
		r->in_eof = 1;
	r->in_bytes += (uint64_t)got;
	run_pump_input(r);
	meter_update(&r->meter, r->in_bytes, r->fin.lineno, r->refused);
}

/* Output: child frames, validated, onto stdout. */

static void
run_internal_from_child(struct run *r, struct worker *w, const struct frame_line *l,
    const char *span, size_t n)
{
	char	txt[200];

	jscan_printable(span, n, txt, sizeof txt);
	run_trace(r, "<- child %zu bytes internal cmd \"%s\"", l->len, txt);
	run_show(r, w, "<", 1, l->p, l->len);
	if (r->node && nodechan_cmd_is(span, n, "NODE_HANDLE")) {
		/*
		 * run passes no descriptors (a plain read closes any that
		 * came). Without an answer the child would hold every later
		 * message back for ever; a NACK makes it drop this one.
		 */
		if (!w->handle_warned)
			cmd_warnx(r->ce, "'%s' sent a handle: not supported, "
			    "refused", w->name);
		w->handle_warned = 1;
		r->refused++;
		if (w->ch.fd != -1 && !w->ch.wdead && run_alive(w)) {
			if (buf_append(&w->ch.cq, NODECHAN_NACK_LINE,
			    sizeof NODECHAN_NACK_LINE - 1) == -1) {
				cmd_warn(r->ce, "queue");
				r->fail = 1;
				return;
			}
			run_trace(r, "-> child %zu bytes internal cmd "
			    "\"NODE_HANDLE_NACK\"", sizeof NODECHAN_NACK_LINE - 1);
			run_show(r, w, ">", 1, NODECHAN_NACK_LINE,
			    sizeof NODECHAN_NACK_LINE - 1);
			run_flush_tq(r, w);
		}
		return;
	}
	if (!r->node || !nodechan_cmd_is(span, n, NODECHAN_READY))
		return;
	if (w->dr.announced) {
		/*
		 * Another Node process on the same channel (sh -c 'node a;
		 * node b'): it needs the notice too, once the first has had
		 * it, or it would wait for input for ever.
		 */
		/*
		 * At most one notice queued at a time: a child that repeats
		 * its announcement cannot grow the queue.
		 */
		if (w->dr.notice && w->ch.tq.len == 0) {
			w->dr.notice = 0;
			run_send_notice(r, w);
			run_flush_tq(r, w);
		}
		return;
	}
	drain_announced(&w->dr);
	run_event(r, w, "ready", NULL);
	/* It came after the end of input: answer now (DESIGN.md). */
	if (w->preloaded && r->eof == DRAIN_EOF_AUTO && r->in_done &&
	    (!r->hold_eof || w->dr.delivered)) {
		run_send_notice(r, w);
		run_flush_tq(r, w);
	}
}

/*
 * The hot path of output, when no frame needs a look of its own (no
 * wrapping, no Node messages, no trace): a run of good frames goes to
 * stdout straight from the frame's buffer while nothing is queued before
 * it, and the rest is queued in one piece. Returns as run_input_run.
 */
static int
run_output_run(struct run *r, struct worker *w)
{
	const char	*p;
	size_t		 n, sent = 0;
	uint64_t	 lines;
	ssize_t		 k;

	if ((n = frame_run(&w->ch.rd, RUN_QSIZE - r->oq.len, &p, &lines)) == 0)
		return 0;
	w->out_frames += lines;
	r->replies += lines;
	r->reply_bytes += n;
	if (r->oq.len == 0 && !r->stdout_closed && !r->out_tty) {
		/* An error is left to run_flush_oq, which reports it. */
		do {
			if (r->out_sock)
				k = send(r->out_fd, p, n,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			else
				k = write(r->out_fd, p, n);
		} while (k == -1 && errno == EINTR);
		if (k > 0)
			sent = (size_t)k;
	}
	if (buf_append(&r->oq, p + sent, n - sent) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		run_stop(r);
		return -1;
	}
	return 1;
}

static void
run_pump_output(struct run *r, struct worker *w)
{
	struct frame_line	 l;
	char			 why[256];
	int			 k, full, fast;

	fast = !r->wrap && w->outcmd < 0 && !r->trace && !r->verbose;
again:
	while (!r->out_dead && r->oq.len < RUN_QSIZE) {
		if (fast && (k = run_output_run(r, w)) != 0) {
			if (k == -1)
				break;
			continue;
		}
		k = frame_next(&w->ch.rd, &l);
		if (k == FRAME_NONE) {
			if (w->ch.eof)
				run_close_chan(r, w, CLOSE_EOF);
			break;
		}
		if (k == FRAME_BLANK)
			continue;
		w->out_frames++;
		if (k == FRAME_BAD) {
			frame_reason(&w->ch.rd, &l, why, sizeof why);
			cmd_warnx(r->ce, "'%s' frame %" PRIu64 ":%zu: %s "
			    "(not forwarded)", w->name, w->out_frames,
			    l.err_off + 1, why);
			r->refused++;
			continue;
		}
		if (!l.nl && r->node) {
			/* Node itself drops an unterminated last frame. */
			cmd_warnx(r->ce, "'%s' frame %" PRIu64 ": no newline "
			    "before the end of the channel (not forwarded)",
			    w->name, w->out_frames);
			r->refused++;
			continue;
		}
		if (w->outcmd >= 0 && w->ch.rd.js.span[w->outcmd].len != 0 &&
		    jscan_node_internal(l.p + w->ch.rd.js.span[w->outcmd].off,
		    w->ch.rd.js.span[w->outcmd].len)) {
			w->out_frames--;
			run_internal_from_child(r, w, &l,
			    l.p + w->ch.rd.js.span[w->outcmd].off,
			    w->ch.rd.js.span[w->outcmd].len);
			continue;
		}
		if (r->wrap ? (buf_append(&r->oq, w->prefix,
		    w->prefixlen) == -1 || buf_append(&r->oq, l.p,
		    l.len - l.nl) == -1 || buf_append(&r->oq, "}\n", 2) == -1) :
		    (buf_append(&r->oq, l.p, l.len) == -1 ||
		    (!l.nl && buf_append(&r->oq, "\n", 1) == -1))) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
			run_stop(r);
			break;
		}
		run_trace(r, "<- child %zu bytes", l.len + !l.nl);
		run_show(r, w, "<", 0, l.p, l.len);
		r->replies++;
		r->reply_bytes += l.len + !l.nl;
	}
	full = !r->out_dead && r->oq.len >= RUN_QSIZE;
	run_flush_oq(r);
	/* As for input: frames already read must not wait for new bytes. */
	if (full && r->oq.len < RUN_QSIZE)
		goto again;
}

static void
run_on_chan(struct ev *ev, int fd, short revents, void *arg)
{
	struct worker	*w = arg;
	struct run	*r = w->r;
	ssize_t		 got;

	(void)ev;
	/* Room again, or an error that the next write should report. */
	if (revents & (POLLOUT | POLLERR | POLLHUP))
		w->ch.full = 0;
	if (revents & POLLOUT) {
		run_flush_tq(r, w);
		if (w->ch.fd == -1)
			return;
		run_pump_input(r);
		if (w->ch.fd == -1)
			return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)) || w->ch.eof)
		return;
	/* A child that sends and never reads must not grow the answers. */
	if (r->oq.len >= RUN_QSIZE || w->ch.cq.len >= CQ_HIGH)
		return;
	if ((got = chan_read(&w->ch, RUN_READ)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		if (errno == ENOMEM) {
			cmd_warn(r->ce, "channel buffer");
			r->fail = 1;
			run_stop(r);
			return;
		}
		cmd_warn(r->ce, "read from '%s'", w->name);
		r->fail = 1;
		w->ch.eof = 1;
		frame_set_eof(&w->ch.rd);
		got = 0;
	}
	if (got == 0)
		run_trace(r, "<- child end of file");
	else {
		/* After the exit, what still flows is not a stuck channel. */
		drain_rx(&w->dr, &r->dp, ev_now());
	}
	run_pump_output(r, w);
}

static void
run_on_stdout(struct ev *ev, int fd, short revents, void *arg)
{
	struct run	*r = arg;

	(void)ev;
	(void)fd;
	(void)revents;
	run_flush_oq(r);
	run_gather(r);
}

/*
 * Frames already read wait in the children's frames while stdout is full:
 * take them as it drains, from a rotating start so that no child's output
 * always goes first.
 */
static void
run_gather(struct run *r)
{
	unsigned	i, start = r->gather;

	for (i = 0; i < r->nw && r->oq.len < RUN_QSIZE; i++)
		run_pump_output(r, &r->w[(start + i) % r->nw]);
	r->gather = (start + 1) % r->nw;
}

/* Signals: forward the five to the child's group, once; reap on CHLD. */

/*
 * After the child's exit: count the good lines stdin holds right now, so
 * that input that had in fact ended is not reported as cut short.
 */
static void
run_drain_stdin(struct run *r)
{
	struct pollfd		 pfd;
	struct frame_line	 l;
	ssize_t			 got;
	int			 i, k;

	for (i = 0; i < 16 && !r->in_eof; i++) {
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1 ||
		    (got = frame_read(&r->fin, STDIN_FILENO, RUN_READ)) == -1)
			break;
		if (got == 0)
			r->in_eof = 1;
		r->in_bytes += (uint64_t)got;
		/* Count and drop what is complete, so the buffer stays small. */
		while ((k = frame_next(&r->fin, &l)) != FRAME_NONE)
			r->tail_lines += k == FRAME_GOOD;
	}
}

/* Lines (whole or begun) in bytes, not counting ipcrun's own frames. */
static uint64_t
run_count_lines(const struct run *r, const char *p, size_t len)
{
	return chan_lines(p, len, r->node);
}

/*
 * What the child left unread in its end of the channel: *bytes, and the
 * input lines among them. Peeked through ipcrun's copy of that end, which
 * nobody else reads once the child is gone.
 */
static uint64_t
run_peer_unread(struct run *r, struct worker *w, size_t *bytes)
{
	uint64_t	 n = 0;
	char		*p;

	if ((p = chan_unread(&w->ch, bytes)) != NULL)
		n = run_count_lines(r, p, *bytes);
	free(p);
	return n;
}

/* Does a child other than w still take input? */
static int
run_others_accept(struct run *r, const struct worker *w)
{
	const struct worker	*o;

	for (o = r->w; o < r->w + r->nw; o++) {
		if (o != w && run_takes(o))
			return 1;
	}
	return 0;
}

/*
 * Move the whole lines of p (n bytes) to the relay's requeue, skipping
 * ipcrun's own frames and, with cut, a first line the child had begun to
 * read. Returns the lines moved; *cutp counts the one skipped.
 */
static uint64_t
run_requeue(struct run *r, struct buf *dst, const char *p, size_t n, int cut,
    uint64_t *cutp)
{
	const char	*e = p + n, *nl;
	uint64_t	 moved = 0;
	size_t		 k;

	for (; p < e; p = nl + 1, cut = 0) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			break;	/* a line cut short: it was never sent */
		k = (size_t)(nl - p) + 1;
		if (r->node && nodechan_own_frame(p, k))
			continue;
		if (cut) {
			(*cutp)++;
			continue;
		}
		if (buf_append(dst, p, k) == -1) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
			break;
		}
		moved++;
	}
	return moved;
}

/*
 * A round-robin child has gone while others take input: what it never
 * read goes to them. Its unread bytes come first (they are older than
 * its queue), from ipcrun's copy of its end; the child may have read the
 * start of the first line there, which is then no line: a first line
 * that does not hold exactly one JSON value was begun, and is counted as
 * read. (A line of objects or arrays cannot be mistaken: no proper tail
 * of one is valid JSON.)
 */
static uint64_t
run_unread_lines(struct run *r, struct worker *w, struct buf *dst)
{
	struct jscan	 js;
	char		*p;
	const char	*nl;
	size_t		 got;
	int		 cut;
	uint64_t	 n = 0;

	if ((p = chan_unread(&w->ch, &got)) != NULL &&
	    (nl = memchr(p, '\n', got)) != NULL) {
		jscan_init(&js);
		cut = jscan_line(&js, p, (size_t)(nl - p)) != JSCAN_GOOD;
		n = run_requeue(r, dst, p, got, cut, &w->cut);
	}
	free(p);
	n += run_requeue(r, dst, w->ch.tq.p + w->ch.tq.off, w->ch.tq.len, w->ch.tq_mid,
	    &w->cut);
	buf_consume(&w->ch.tq, w->ch.tq.len);
	buf_consume(&w->ch.cq, w->ch.cq.len);
	w->ch.tq_mid = 0;
	return n;
}

static void
run_reroute(struct run *r, struct worker *w)
{
	w->rerouted += run_unread_lines(r, w, &r->rq);
	run_trace(r, "'%s' left %" PRIu64 " unread lines: sent to the others",
	    w->name, w->rerouted);
}

/* A child to be restarted keeps what it had not read, for the next one. */
static void
run_keep(struct run *r, struct worker *w)
{
	struct buf	keep, t;
	uint64_t	n;

	if (buf_init(&keep, RUN_QSIZE) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		return;
	}
	n = run_unread_lines(r, w, &keep);
	t = w->ch.tq;
	w->ch.tq = keep;
	buf_release(&t);
	run_trace(r, "'%s' left %" PRIu64 " unread lines: kept for its "
	    "restart", w->name, n);
}

/*
 * The child will take no more input (it exited): report the lines it will
 * never get, unread in its end of the channel, still queued, read but
 * unqueued, and whatever stdin already holds (never waiting for more).
 * A child that read nothing at all was most likely started the wrong way:
 * say how to fix it. Once only. With round robin and other children
 * still taking input, its lines go to them instead.
 */
static void
run_undelivered(struct run *r, struct worker *w, int restart)
{
	uint64_t		 left = 0;
	struct frame_line	 l;
	size_t			 unread;
	int			 k, last;

	w->gone = !restart;
	last = !run_others_accept(r, w);
	if (!last && !r->out_dead && r->route == ROUTE_RR && !r->envelope) {
		run_reroute(r, w);
		return;
	}
	if (restart) {
		run_keep(r, w);
		return;
	}
	if (!r->in_done && last)
		run_drain_stdin(r);
	left = run_peer_unread(r, w, &unread) + w->peer_lost;
	if (!r->out_dead) {
		left += run_count_lines(r, w->ch.tq.p + w->ch.tq.off, w->ch.tq.len);
		w->undelivered = left;
		if (last) {
			left += run_count_lines(r, r->rq.p + r->rq.off,
			    r->rq.len);
			buf_consume(&r->rq, r->rq.len);
		}
		if (!r->in_done && last) {
			while ((k = frame_next(&r->fin, &l)) != FRAME_NONE)
				left += k == FRAME_GOOD;
			left += r->tail_lines;
		}
	}
	if (r->out_dead)
		;	/* stopping: nobody is waiting for the count */
	else if (r->interrupted) {
		if (left > 0)
			cmd_warnx(r->ce, "'%s' was interrupted (%s): %" PRIu64
			    " input line%s not delivered", w->name,
			    run_signame(r->interrupted), left,
			    left == 1 ? "" : "s");
	} else if (left > 0 || (last && !r->in_done && !r->in_eof))
		cmd_warnx(r->ce, "'%s' exited before reading all its input: "
		    "%" PRIu64 " input line%s not delivered%s", w->name,
		    left, left == 1 ? "" : "s", !last || r->in_eof ? "" :
		    " (the rest of the input was not read)");
	if (r->node && !r->out_dead && !r->interrupted && left > 0 &&
	    unread >= w->ch.sent)
		cmd_warnx(r->ce, "'%s' never read its channel: a program that "
		    "reads NDJSON on its stdin needs --channel stdio, and a "
		    "wrapper (npx, a shell script) may have kept the channel "
		    "from Node", w->name);
	buf_consume(&w->ch.tq, w->ch.tq.len);
	buf_consume(&w->ch.cq, w->ch.cq.len);
	if (!r->in_done && last) {
		r->in_done = 1;
		if (r->in_end == 0)
			r->in_end = ev_now();
	}
}

/*
 * The exit event, and with several children a word on stderr when lines
 * went elsewhere or may be lost: the lines it had read and not answered
 * (at most; a child may answer a line with no reply, or with several).
 */
static void
run_exit_report(struct run *r, struct worker *w, int status)
{
	char		 how[48], said[32];
	uint64_t	 read_, unanswered;

	read_ = w->in_lines - w->rerouted - w->undelivered;
	if (read_ > w->in_lines)
		read_ = 0;
	unanswered = read_ > w->out_frames ? read_ - w->out_frames : 0;
	if (WIFSIGNALED(status)) {
		snprintf(how, sizeof how, "\"signal\":\"%s\"",
		    run_signame(WTERMSIG(status)));
		snprintf(said, sizeof said, "%s", run_signame(WTERMSIG(status)));
	} else {
		snprintf(how, sizeof how, "\"code\":%d", WEXITSTATUS(status));
		snprintf(said, sizeof said, "status %d", WEXITSTATUS(status));
	}
	run_event(r, w, "exit", ",%s,\"rerouted\":%" PRIu64 ",\"undelivered\":"
	    "%" PRIu64 ",\"unanswered\":%" PRIu64, how, w->rerouted,
	    w->undelivered, unanswered);
	if (r->nw == 1 || r->out_dead || r->interrupted)
		return;
	if (w->rerouted > 0)
		run_notice(r, "'%s' (pid %ld) exited with %" PRIu64 " input "
		    "line%s unread: sent to the other children", w->name,
		    (long)w->pid, w->rerouted, w->rerouted == 1 ? "" : "s");
	if (unanswered > 0 && (status != 0 || !r->in_done))
		cmd_warnx(r->ce, "'%s' (pid %ld) exited (%s) with %" PRIu64
		    " line%s read and not answered: possibly lost", w->name,
		    (long)w->pid, said, unanswered,
		    unanswered == 1 ? "" : "s");
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
	return !r->out_dead && !r->interrupted && !r->fail && !w->dr.notice &&
	    !w->dr.delivered;
}

/* Too many deaths: it stays down (after its exit event). */
static void
run_giveup(struct run *r, struct worker *w)
{
	cmd_warnx(r->ce, "'%s' (pid %ld) exited %u time%s within %s: giving "
	    "up (--max-restarts)", w->name, (long)w->pid, w->sv.restarts + 1,
	    w->sv.restarts == 0 ? "" : "s", r->restart_window == 0 ?
	    "the run" : "the window");
	run_event(r, w, "giveup", ",\"restarts\":%u", w->sv.restarts);
}

/* The table set the backoff: the timer pass starts it again. */
static void
run_schedule_restart(struct run *r, struct worker *w)
{
	run_trace(r, "'%s' restarts in %" PRId64 " ms (attempt %u)", w->name,
	    w->sv.delay_ms, w->sv.backoff.attempt);
	run_event(r, w, "restart", ",\"attempt\":%u,\"delay_ms\":%" PRId64,
	    w->sv.backoff.attempt, w->sv.delay_ms);
}

static void
run_child_exited(struct run *r, struct worker *w, int status)
{
	enum super_action	act;
	int			restart;

	act = super_exited(&w->sv, &r->sp, status, run_may_restart(r, w),
	    ev_now(), arc4random());
	restart = act == SUPER_RESTART;
	/* A child replaced by a restart does not decide the exit status. */
	if (!restart)
		r->exit_order[r->nexited++] = w->idx;
	if (WIFSIGNALED(status))
		run_trace(r, "pid %ld killed by %s", (long)w->pid,
		    run_signame(WTERMSIG(status)));
	else
		run_trace(r, "pid %ld exited with %d", (long)w->pid,
		    WEXITSTATUS(status));
	run_undelivered(r, w, restart);
	run_exit_report(r, w, status);
	if (restart)
		run_schedule_restart(r, w);
	else if (act == SUPER_GIVEUP)
		run_giveup(r, w);
	/* Its unread input is counted: now its end may close for good. */
	if (w->ch.peer != -1) {
		close(w->ch.peer);
		w->ch.peer = -1;
	}
	w->peer_at = 0;
	/* Read what it wrote before it went (Bun #37849), but not forever. */
	drain_exited(&w->dr, &r->dp, ev_now(), w->ch.fd != -1);
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
	n = run_count_lines(r, r->oq.p + r->oq.off, r->oq.len);
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

static void
run_on_signal(struct ev *ev, int fd, short revents, void *arg)
{
	struct run	*r = arg;
	struct worker	*w;
	int		 sig, status;

	(void)fd;
	(void)revents;
	while ((sig = ev_signal_next(ev)) != 0) {
		if (sig != SIGCHLD) {
			run_forward(r, sig);
			continue;
		}
		/* Unreaped: the group id stays ours until the end. */
		for (w = r->w; w < r->w + r->nw; w++) {
			if (run_alive(w) && spawn_peek(w->pid, &status) == 1)
				run_child_exited(r, w, status);
		}
		/* What a gone child left unread goes to the others now. */
		if (r->rq.len > 0)
			run_pump_input(r);
	}
}

static void
run_update(struct run *r)
{
	struct worker	*w;
	short		 ev;

	/* The hot path keeps lines in the frame while the channel is full. */
	ev = !r->in_done && !r->in_eof && run_route_room(r) != NULL &&
	    !(r->in_fast && r->w[0].ch.full) ? POLLIN : 0;
	ev_set(&r->ev, STDIN_FILENO, ev);
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->ch.fd == -1)
			continue;
		ev = 0;
		if (!w->ch.eof && r->oq.len < RUN_QSIZE &&
		    w->ch.cq.len < CQ_HIGH)
			ev |= POLLIN;
		if ((w->ch.tq.len > 0 || w->ch.cq.len > 0) && !w->ch.wdead)
			ev |= POLLOUT;
		ev_set(&r->ev, w->ch.fd, ev);
	}
	ev_set(&r->ev, r->out_fd, r->oq.len > 0 && !r->out_dead ?
	    POLLOUT : 0);
}

static int
run_done(struct run *r)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_alive(w) || w->ch.fd != -1 || run_pending(w))
			return 0;
	}
	return r->oq.len == 0 || r->out_dead;
}

/* Setup */

/*
 * fds 0-2 must be open, so that nothing of ipcrun's lands on them. A
 * closed stdout is remembered: writing to it is an error, not a discard.
 */
static int
run_std_fds(struct run *r)
{
	int	fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == STDOUT_FILENO)
			r->stdout_closed = 1;
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

/*
 * stdout as a pipe is made non-blocking (restored at exit), so a slow
 * reader never stalls the loop; a socket is written with MSG_DONTWAIT.
 */
static void
run_setup_stdout(struct run *r)
{
	struct stat	st;
	int		fd;

	r->out_fd = STDOUT_FILENO;
	if (fstat(STDOUT_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode))
		r->out_sock = 1;	/* send(MSG_DONTWAIT): no flag to set */
	else if (S_ISFIFO(st.st_mode)) {
		/*
		 * O_NONBLOCK on fd 1 itself would change a description that
		 * others share (with 2>&1, the child's stderr): a child
		 * that writes to it would get EAGAIN. Reopening the pipe
		 * gives ipcrun a description of its own. Without /proc the
		 * writes simply block.
		 */
		fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd != -1)
			r->out_fd = fd;
	}
}

/* stderr for the children's logs: a pipe gets a description of its own. */
static void
run_setup_stderr(struct run *r)
{
	struct stat	st;
	int		fd;

	r->err_fd = STDERR_FILENO;
	if (!r->log_prefix || fstat(STDERR_FILENO, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	if ((fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK |
	    O_CLOEXEC)) != -1)
		r->err_fd = fd;
}

static void
run_restore_stdout(struct run *r)
{
	if (r->out_fd != STDOUT_FILENO)
		close(r->out_fd);
	r->out_fd = STDOUT_FILENO;
}

/* At the end: what is still queued goes out, waiting for the reader. */
static void
run_flush_oq_all(struct run *r)
{
	struct pollfd	pfd;

	while (!r->out_dead && r->oq.len > 0) {
		run_flush_oq(r);
		if (r->out_dead || r->oq.len == 0)
			break;
		pfd.fd = r->out_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			break;
	}
}

/*
 * Keep "NODE_OPTIONS=<ipcrun's part>" of the child's environment: a Node
 * process whose environment starts so was started with the preload. The
 * user's own options, if any, follow ipcrun's after a space.
 */
static void
run_keep_pre_entry(struct run *r, struct worker *w, char **env)
{
	const char	*user = getenv("NODE_OPTIONS");
	size_t		 n, u;

	if (!w->preloaded || env == NULL)
		return;
	for (; *env != NULL; env++) {
		if (strncmp(*env, "NODE_OPTIONS=", 13) != 0)
			continue;
		if ((w->pre_entry = strdup(*env)) == NULL)
			return;
		n = strlen(w->pre_entry);
		u = user != NULL && *user != '\0' ? strlen(user) + 1 : 0;
		if (u > 0 && n >= 13 + u &&
		    strcmp(w->pre_entry + n - u + 1, user) == 0)
			w->pre_entry[n - u] = '\0';
		return;
	}
}

/*
 * --log prefix: a child's stderr (and, on the node channel, its stdout)
 * comes through a pipe, and goes to ipcrun's stderr line by line behind
 * "NAME| ", so that the children's lines never mix within a line. A
 * stderr that cannot take a line at once drops it, and the drops are
 * counted at the end: logs never hold up the data.
 */
static void
run_log_line(struct run *r, struct worker *w, const char *p, size_t n,
    int cut)
{
	struct iovec	 iov[4];
	struct pollfd	 pfd;
	size_t		 len, done = 0, k;
	ssize_t		 got;
	int		 i;

	meter_erase(&r->meter);
	iov[0].iov_base = (void *)(uintptr_t)w->name;
	iov[0].iov_len = strlen(w->name);
	iov[1].iov_base = (void *)(uintptr_t)"| ";
	iov[1].iov_len = 2;
	iov[2].iov_base = (void *)(uintptr_t)p;
	iov[2].iov_len = n;
	iov[3].iov_base = (void *)(uintptr_t)(cut ? "...\n" : "\n");
	iov[3].iov_len = cut ? 4 : 1;
	len = iov[0].iov_len + 2 + n + iov[3].iov_len;
	for (i = 0; done < len;) {
		got = writev(r->err_fd, iov + i, 4 - i);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1 && errno == EAGAIN && done == 0) {
			r->log_dropped++;
			return;
		}
		if (got == -1 && errno != EAGAIN)
			return;
		if (got == -1) {
			/* Half a line is out: the rest follows, waiting. */
			pfd.fd = r->err_fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 100);
			continue;
		}
		done += (size_t)got;
		for (k = (size_t)got; i < 4 && k >= iov[i].iov_len; i++)
			k -= iov[i].iov_len;
		if (i < 4) {
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
		}
	}
}

/* Read a child's log pipe; at its end, what is left is a last line. */
static void
run_log_read(struct run *r, struct worker *w)
{
	char	*nl, *p;
	ssize_t	 got;
	size_t	 n;

	for (;;) {
		got = read(w->logfd, w->logbuf + w->loglen,
		    LOG_LINE - w->loglen);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == -1 && errno == EAGAIN)
				return;
			if (w->loglen > 0)
				run_log_line(r, w, w->logbuf, w->loglen, 0);
			w->loglen = 0;
			ev_del(&r->ev, w->logfd);
			close(w->logfd);
			w->logfd = -1;
			return;
		}
		w->loglen += (size_t)got;
		p = w->logbuf;
		while ((nl = memchr(p, '\n', w->loglen - (size_t)(p -
		    w->logbuf))) != NULL) {
			run_log_line(r, w, p, (size_t)(nl - p), 0);
			p = nl + 1;
		}
		n = w->loglen - (size_t)(p - w->logbuf);
		if (n == LOG_LINE) {
			run_log_line(r, w, w->logbuf, n, 1);
			n = 0;
		} else
			memmove(w->logbuf, p, n);
		w->loglen = n;
	}
}

static void
run_on_log(struct ev *ev, int fd, short revents, void *arg)
{
	struct worker	*w = arg;

	(void)ev;
	(void)fd;
	(void)revents;
	run_log_read(w->r, w);
}

/* At the end: what the log pipes hold now, without waiting for more. */
static void
run_log_finish(struct run *r)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->logfd == -1)
			continue;
		run_log_read(r, w);
		if (w->logfd != -1) {
			if (w->loglen > 0)
				run_log_line(r, w, w->logbuf, w->loglen, 0);
			w->loglen = 0;
			ev_del(&r->ev, w->logfd);
			close(w->logfd);
			w->logfd = -1;
		}
	}
	if (r->log_dropped > 0)
		cmd_warnx(r->ce, "%" PRIu64 " log line%s of the children "
		    "dropped: stderr was full", r->log_dropped,
		    r->log_dropped == 1 ? "" : "s");
}

/* The child's name as JSON, and the {"from":...} of its lines. */
static int
run_worker_names(struct run *r, struct worker *w)
{
	size_t	n;

	free(w->qname);
	free(w->prefix);
	w->prefix = NULL;
	n = envelope_quote(NULL, 0, w->name);
	if ((w->qname = malloc(n + 1)) == NULL)
		return -1;
	envelope_quote(w->qname, n, w->name);
	w->qname[n] = '\0';
	if (!r->wrap)
		return 0;
	w->prefixlen = envelope_prefix(NULL, 0, w->name, w->pid);
	if ((w->prefix = malloc(w->prefixlen)) == NULL)
		return -1;
	envelope_prefix(w->prefix, w->prefixlen, w->name, w->pid);
	return 0;
}

/*
 * Start a child without waiting for its exec (run_spawn_end does), so
 * that hundreds start at once: its channel, its log pipe, its
 * environment with the preload, and the fork.
 */
static int
run_spawn_begin(struct run *r, struct worker *w)
{
	struct spawn_opts	 so;
	struct stat		 st;
	char			 preload[NODECHAN_PRELOAD_MAX], **env = NULL;
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
	memset(&so, 0, sizeof so);
	so.argv = w->argv;
	so.pgroup = 1;
	so.pdeathsig = SIGKILL;
	so.nofile = r->nofile_raised ? &r->nofile : NULL;
	so.fd[2] = STDERR_FILENO;
	if (r->log_prefix) {
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
	if (r->node) {
		if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
			cmd_warn(r->ce, "/dev/null");
			goto fail;
		}
		so.fd[0] = devnull;
		so.fd[1] = so.fd[2];
		so.chan_fd = sp[1];
		so.chan_to = r->chan_to;
		if (r->eof == DRAIN_EOF_AUTO && r->preload) {
			if (nodechan_preload(preload, sizeof preload,
			    &cause) == 0)
				w->preloaded = 1;
			else
				cmd_warnx(r->ce, "drain preload '%s' (using the "
				    "idle rule): %s", preload, cause);
		}
		env = nodechan_env(r->chan_to, w->preloaded ? preload : NULL,
		    w->chan_ino);
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
	pid = spawn_begin(&so, &w->pending);
	saved = errno;
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
	chan_open(&w->ch, sp[0], sp[1]);
	return 0;
fail:
	if (devnull != -1)
		close(devnull);
	close(sp[0]);
	close(sp[1]);
	return EXIT_FAIL;
}

/* The child's exec: it runs, or it could not be started (126, 127). */
static int
run_spawn_end(struct run *r, struct worker *w)
{
	int	err;

	err = spawn_finish(w->pid, w->pending);
	w->pending = -1;
	if (err != 0) {
		errno = err;
		cmd_warn(r->ce, "'%s'", w->argv[0]);
		chan_close(&w->ch);
		close(w->ch.peer);
		w->ch.peer = -1;
		if (w->logfd != -1)
			close(w->logfd);
		w->logfd = -1;
		w->pid = 0;
		return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	}
	/* Before anything can go wrong: the watchdog guards the group. */
	if (spawn_watch(r->watch_fd, w->pid) == -1)
		cmd_warn(r->ce, "watchdog");
	super_spawned(&w->sv, ev_now());
	w->peer_at = ev_now() + PEER_EVERY;
	run_trace(r, "spawned pid %ld '%s' on the %s channel%s", (long)w->pid,
	    w->name, r->node ? "node" : "stdio", w->preloaded ?
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

/*
 * --stats: one line at the end, in a fixed form for grep and awk. Lines
 * in are those taken from stdin (blank and refused ones too), delivered
 * those the children read, at most (as in the exit reports: a line left
 * unread in a channel or queue is not), one per child with broadcast;
 * replies are the frames forwarded, their bytes as the children sent them.
 */
static void
run_stats(struct run *r)
{
	struct worker	*w;
	uint64_t	 delivered = 0, d;
	double		 secs = (double)(ev_now() - r->t0) / SEC;

	for (w = r->w; w < r->w + r->nw; w++) {
		d = w->in_lines - w->rerouted - w->undelivered;
		if (d <= w->in_lines)
			delivered += d;
	}
	cmd_warnx(r->ce, "stats: in %" PRIu64 " lines %" PRIu64 " B, refused %"
	    PRIu64 ", delivered %" PRIu64 ", replies %" PRIu64 " lines %"
	    PRIu64 " B, %.3f s, %.0f lines/s in", r->fin.lineno, r->in_bytes,
	    r->refused, delivered, r->replies, r->reply_bytes, secs,
	    secs > 0 ? (double)r->fin.lineno / secs : 0);
}

/*
 * A child's own status, or 0 when ipcrun stopped it (in a shutdown) and
 * it died of that signal, or said so with 128 + the signal.
 */
static int
run_worker_code(struct run *r, struct worker *w)
{
	int	st = w->sv.status, code;

	code = spawn_exit_code(st);
	if (w->sv.stopped != 0 && ((WIFSIGNALED(st) &&
	    (WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGKILL)) ||
	    code == 128 + w->sv.stopped)) {
		run_notice(r, "'%s' (pid %ld) was stopped by ipcrun with %s",
		    w->name, (long)w->pid, run_signame(w->sv.stopped));
		code = 0;
	}
	return code;
}

/*
 * The exit status: ipcrun's own failure first, then the first non-zero
 * status in the order the children exited, then 1 for refused lines.
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
	for (i = 0; i < r->nexited; i++) {
		c = run_worker_code(r, &r->w[r->exit_order[i]]);
		if (code == 0)
			code = c;
	}
	/* As check does: a refused line fails an otherwise good run. */
	if (code == 0 && (r->refused > 0 || r->strict_hit))
		return EXIT_BADLINE;
	return code;
}

static int
run_worker_init(struct run *r, struct worker *w, unsigned idx)
{
	w->r = r;
	w->idx = idx;
	w->logfd = -1;
	w->pending = -1;
	if (chan_init(&w->ch, r->maxline < OUT_MAXLINE_MIN ? OUT_MAXLINE_MIN :
	    r->maxline, r->validate, RUN_QSIZE) == -1)
		return -1;
	/* The first incarnation; the next ones keep the table's state. */
	if (w->sv.state == SUPER_DOWN && super_init(&w->sv, &r->sp,
	    &r->backoff, r->max_restarts, r->restart_window) == -1)
		return -1;
	w->outcmd = r->node && r->validate ?
	    jscan_want(&w->ch.rd.js, "cmd", 3) : -1;
	return 0;
}

static void
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
 * last one left unread. Its channel must be closed first (what it wrote
 * is read to the end), and what is left of its group goes.
 */
static void
run_respawn(struct run *r, struct worker *w)
{
	struct worker	 keep;
	pid_t		 pid;
	int		 status, rc;

	if (w->ch.fd != -1) {
		super_postpone(&w->sv, ev_now() + EOF_TICK);
		return;
	}
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
		if (w->logfd != -1) {
			ev_del(&r->ev, w->logfd);
			close(w->logfd);
		}
	}
	free(w->logbuf);
	keep = *w;
	/* The queue goes to the next incarnation; the rest of the channel not. */
	memset(&w->ch.tq, 0, sizeof w->ch.tq);
	chan_release(&w->ch);
	free(w->pre_entry);
	free(w->prefix);
	free(w->qname);
	memset(w, 0, sizeof *w);
	w->argv = keep.argv;
	w->name = keep.name;
	w->alloc_name = keep.alloc_name;
	w->ch.tq = keep.ch.tq;
	w->sv = keep.sv;
	if (run_worker_init(r, w, keep.idx) == -1) {
		cmd_warn(r->ce, "restart of '%s'", w->name);
		r->fail = 1;
		run_stop(r);
		return;
	}
	if ((rc = run_spawn(r, w)) != 0) {
		/* It cannot be started any more: given up. */
		w->gone = 1;
		(void)super_step(&w->sv, &r->sp, SUPER_EV_CANCEL, ev_now());
		w->sv.status = rc << 8;
		r->exit_order[r->nexited++] = w->idx;
		run_event(r, w, "giveup", ",\"restarts\":%u", w->sv.restarts);
		if (w->ch.tq.len > 0)
			cmd_warnx(r->ce, "'%s' could not be restarted: %" PRIu64
			    " input line%s not delivered", w->name,
			    run_count_lines(r, w->ch.tq.p + w->ch.tq.off, w->ch.tq.len),
			    run_count_lines(r, w->ch.tq.p + w->ch.tq.off,
			    w->ch.tq.len) == 1 ? "" : "s");
		buf_consume(&w->ch.tq, w->ch.tq.len);
		return;
	}
	if (ev_add(&r->ev, w->ch.fd, 0, run_on_chan, w) == -1) {
		cmd_warn(r->ce, "poll set");
		r->fail = 1;
		run_stop(r);
	}
}

/*
 * ipcrun is stopping: a child waiting to be restarted is not, and what it
 * had not read is not delivered. Its last exit decides the status.
 */
static void
run_cancel_restarts(struct run *r)
{
	struct worker	*w;
	uint64_t	 n;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (super_step(&w->sv, &r->sp, SUPER_EV_CANCEL, ev_now()) !=
		    SUPER_CANCELLED)
			continue;
		w->gone = 1;
		r->exit_order[r->nexited++] = w->idx;
		n = run_count_lines(r, w->ch.tq.p + w->ch.tq.off, w->ch.tq.len);
		if (n > 0 && !r->out_dead)
			cmd_warnx(r->ce, "'%s' was waiting for its restart: %"
			    PRIu64 " input line%s not delivered", w->name, n,
			    n == 1 ? "" : "s");
		buf_consume(&w->ch.tq, w->ch.tq.len);
	}
}

/* A spawn failed: the children started so far go, at once. */
static void
run_abort_spawned(struct run *r)
{
	struct worker	*w;
	int		 status;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (!run_alive(w))
			continue;
		(void)kill(-w->pid, SIGKILL);
		(void)spawn_reap(w->pid, &status);
		(void)super_exited(&w->sv, &r->sp, status, 0, ev_now(), 0);
	}
}

/*
 * Each child holds descriptors of ipcrun's for as long as it runs (its
 * channel, ipcrun's copy of its end, its log pipe), and one more until it
 * has exec'd (all children are started before any exec is waited for). Hundreds of children pass the usual soft limit of 1024:
 * raise it as far as needed, within the hard limit, and give the children
 * the limit ipcrun was given. Beyond the hard limit, say so before any
 * child starts.
 */
static int
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

static int
run_main(struct run *r)
{
	static const int	 sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP,
	    SIGUSR1, SIGUSR2, 0 };
	struct worker		*w;
	int			 rc, sfd, status;

	r->t0 = ev_now();
	r->sp.restart = r->restart;
	r->sp.kill_timeout = r->kill_timeout;
	r->sp.t0 = r->t0;
	r->dp.eof = r->eof;
	r->dp.node = r->node;
	r->dp.idle_ns = r->idle_ns;
	r->dp.eof_timeout = r->eof_timeout;
	r->dp.kill_timeout = r->kill_timeout;
	r->watch_fd = -1;
	r->out_fd = STDOUT_FILENO;
	r->err_fd = STDERR_FILENO;
	run_active = r;
	cmd_report_hook = run_report;
	ev_init(&r->ev);
	if (run_std_fds(r) == -1) {
		cmd_warn(r->ce, "/dev/null");
		return EXIT_FAIL;
	}
	if (frame_init(&r->fin, r->maxline, r->validate) == -1) {
		/* The nesting stack is sized from it: name the option. */
		cmd_warn(r->ce, "--max-line %zu", r->maxline);
		return EXIT_FAIL;
	}
	r->fin_ok = 1;
	if (run_fd_budget(r) == -1)
		return EXIT_FAIL;
	for (w = r->w; w < r->w + r->nw; w++) {
		if (run_worker_init(r, w, (unsigned)(w - r->w)) == -1) {
			cmd_warn(r->ce, "--max-line %zu", r->maxline);
			return EXIT_FAIL;
		}
	}
	if (buf_init(&r->oq, RUN_QSIZE) == -1 || buf_init(&r->rq, 4096) == -1) {
		cmd_warn(r->ce, "malloc");
		return EXIT_FAIL;
	}
	r->incmd = r->node && r->validate ? jscan_want(&r->fin.js, "cmd", 3) :
	    -1;
	r->in_fast = r->nw == 1 && r->route == ROUTE_RR && !r->envelope &&
	    r->incmd < 0 && !r->trace && !r->verbose;
	/* Handlers before the fork: a signal in between is not lost. */
	if ((sfd = ev_signals(&r->ev, sigs)) == -1 ||
	    ev_add(&r->ev, sfd, POLLIN, run_on_signal, r) == -1) {
		cmd_warn(r->ce, "signals");
		return EXIT_FAIL;
	}
	/* No process of the children's groups may outlive ipcrun (kill -9). */
	if ((r->watch_fd = spawn_watch_start(&r->watch_pid)) == -1) {
		cmd_warn(r->ce, "watchdog");
		return EXIT_FAIL;
	}
	run_setup_stderr(r);
	/*
	 * All forked before any exec is waited for: 257 children start in
	 * the time of a few, not one exec after another. Every child begun
	 * is waited for, so that none is left half started.
	 */
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
	meter_start(&r->meter, r->progress == 1, "stdin", r->in_size);
	if (ev_add(&r->ev, STDIN_FILENO, 0, run_on_stdin, r) == -1 ||
	    ev_add(&r->ev, r->out_fd, 0, run_on_stdout, r) == -1) {
		cmd_warn(r->ce, "poll set");
		r->fail = 1;
		run_stop(r);
	}
	for (w = r->w; w < r->w + r->nw && !r->fail; w++) {
		if (ev_add(&r->ev, w->ch.fd, 0, run_on_chan, w) == -1) {
			cmd_warn(r->ce, "poll set");
			r->fail = 1;
			run_stop(r);
		}
	}
	/* A child may have exited already: catch its CHLD in the loop. */
	while (!run_done(r)) {
		run_timers(r);
		if (run_done(r))
			break;
		run_update(r);
		if (ev_run_once(&r->ev, ev_timeout_ms(run_next_deadline(r)))
		    == -1) {
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
	run_restore_stdout(r);
	if (r->err_fd != STDERR_FILENO)
		close(r->err_fd);
	r->err_fd = STDERR_FILENO;
	rc = run_status(r);
	meter_erase(&r->meter);
	if (r->stats)
		run_stats(r);
	return rc;
}

enum {
	O_CHANNEL = 256, O_CHANNEL_FD, O_EOF, O_EOF_TIMEOUT, O_KILL_TIMEOUT,
	O_MAX_LINE, O_NO_PRELOAD, O_NO_VALIDATE, O_STRICT, O_TRACE,
	O_NAME, O_ROUTE, O_ROUTE_DEFAULT, O_ENVELOPE, O_RAW, O_EVENTS,
	O_EVENTS_FD, O_RESTART, O_BACKOFF, O_MAX_RESTARTS, O_LOG, O_STATS,
	O_PROGRESS, O_NO_PROGRESS
};

#define RUN_MAXCHILD	1000	/* -n, and -c given so many times */
#define RUN_MAX_RESTARTS 5	/* --max-restarts 5/1m */
#define RUN_RESTART_WINDOW 60000

static const struct cmd_opt run_opts[] = {
	{ "channel", 0, O_CHANNEL, "node|stdio", "node|stdio",
	    "Node's IPC channel or stdio (default: node)" },
	{ "channel-fd", 0, O_CHANNEL_FD, "N", NULL,
	    "node channel descriptor, 3 to 1023 (default: 3)" },
	{ "eof", 0, O_EOF, "auto|idle[:DUR]|wait|close", "auto|idle|wait|close",
	    "end of input policy (default: auto; DUR: 0.5s)" },
	{ "eof-timeout", 0, O_EOF_TIMEOUT, "DUR", NULL,
	    "bound on the wait after end of input (default: none)" },
	{ "kill-timeout", 0, O_KILL_TIMEOUT, "DUR", NULL,
	    "wait before SIGTERM, then SIGKILL (default: 5s)" },
	{ "max-line", 0, O_MAX_LINE, "BYTES", NULL,
	    "longest line, with K, M or G (default: 64M)" },
	{ "no-preload", 0, O_NO_PRELOAD, NULL, NULL,
	    "do not give Node the drain preload" },
	{ "no-validate", 0, O_NO_VALIDATE, NULL, NULL,
	    "frame lines without checking them (stdio only)" },
	{ "strict", 0, O_STRICT, NULL, NULL,
	    "stop at the first bad input line" },
	{ "trace", 0, O_TRACE, NULL, NULL,
	    "log each frame's direction and size on stderr" },
	{ "quiet", 'q', 'q', NULL, NULL,
	    "no warnings or notices on stderr, only errors" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "show frames (first 64 bytes) and notices on stderr" },
	{ "stats", 0, O_STATS, NULL, NULL,
	    "print counts and the rate on stderr at the end" },
	{ "progress", 0, O_PROGRESS, NULL, NULL,
	    "show a meter on stderr (default: tty, file >= 64M)" },
	{ "no-progress", 0, O_NO_PROGRESS, NULL, NULL,
	    "never show the progress meter" },
	{ "copies", 'n', 'n', "N", NULL,
	    "run N copies of CMD, NAME.1 to NAME.N" },
	{ "child", 'c', 'c', "NAME=CMD", NULL,
	    "a child NAME running CMD ARGS (sh quoting)" },
	{ "name", 0, O_NAME, "NAME", NULL,
	    "name of CMD's copies (default: CMD's basename)" },
	{ "route", 0, O_ROUTE, "rr|broadcast|key=PATH", "rr|broadcast|key=",
	    "which child gets a line (default: rr)" },
	{ "route-default", 0, O_ROUTE_DEFAULT, "NAME", NULL,
	    "the child for lines without the key" },
	{ "envelope", 0, O_ENVELOPE, NULL, NULL,
	    "input is {\"to\":NAME|[NAMES]|\"*\",\"msg\":M}" },
	{ "raw", 0, O_RAW, NULL, NULL,
	    "child lines without the {\"from\":...} wrapping" },
	{ "events", 0, O_EVENTS, NULL, NULL,
	    "spawn, ready, exit... events as JSON lines" },
	{ "events-fd", 0, O_EVENTS_FD, "N", NULL,
	    "write the events to descriptor N" },
	{ "log", 0, O_LOG, "prefix|inherit", "prefix|inherit",
	    "children's stderr behind NAME| , or as is" },
	{ "restart", 0, O_RESTART, "no|on-failure|always",
	    "no|on-failure|always",
	    "start an ended child again (default: no)" },
	{ "backoff", 0, O_BACKOFF, "MIN:MAX", NULL,
	    "restart delay, doubling (default: 100ms:10s)" },
	{ "max-restarts", 0, O_MAX_RESTARTS, "N/WINDOW", NULL,
	    "then give a child up (default: 5/1m)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/*
 * The meter, as check decides it: for a person at a terminal, reading a
 * large file, unless NO_COLOR or TERM=dumb ask for plain output or -q for
 * silence; --progress shows it anywhere.
 */
static void
run_policy(struct run *r)
{
	const char	*term = getenv("TERM"), *nocolor = getenv("NO_COLOR");
	struct stat	 st;

	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		r->in_size = (uint64_t)st.st_size;
	if (r->progress == -1)
		r->progress = isatty(STDERR_FILENO) && !r->quiet &&
		    (nocolor == NULL || *nocolor == '\0') &&
		    (term == NULL || strcmp(term, "dumb") != 0) &&
		    r->in_size >= PROGRESS_MIN;
	r->out_tty = r->progress == 1 && isatty(STDOUT_FILENO);
}

/*
 * The children's names and commands: -c NAME=CMD ARGS (split as sh(1)
 * would, no expansions, exec'd without a shell), or CMD as it is, once or
 * -n times as NAME.1 to NAME.N. A name given twice is an error.
 */
static int
run_name_children(struct run *r, char **argv, unsigned copies,
    const char *cname, const char **spec, unsigned nspec, const char *dflt)
{
	struct worker	*w;
	const char	*base;
	char		 err[256];
	unsigned	 i;

	for (i = 0; i < r->nw; i++) {
		w = &r->w[i];
		w->idx = i;
		if (nspec > 0) {
			if (words_name_cmd(spec[i], &w->alloc_name, &w->argv,
			    err, sizeof err) == -1)
				return cmd_usage_error(r->ce, "-c '%s': %s",
				    spec[i], err);
			w->name = w->alloc_name;
			if (run_find(r, w->name, strlen(w->name)) != w)
				return cmd_usage_error(r->ce, "-c '%s': the name "
				    "'%s' is given twice", spec[i], w->name);
			continue;
		}
		w->argv = argv;
		w->name = cname != NULL ? cname : argv[0];
		if (copies == 0)
			continue;
		if ((base = strrchr(w->name, '/')) != NULL && cname == NULL &&
		    base[1] != '\0')
			base++;
		else
			base = w->name;
		if (asprintf(&w->alloc_name, "%s.%u", base, i + 1) == -1) {
			w->alloc_name = NULL;
			cmd_warn(r->ce, "malloc");
			return EXIT_FAIL;
		}
		w->name = w->alloc_name;
	}
	if (dflt != NULL) {
		if ((w = run_find(r, dflt, strlen(dflt))) == NULL)
			return cmd_usage_error(r->ce, "--route-default '%s': no "
			    "child of that name", dflt);
		r->route_default = (int)w->idx;
	}
	return 0;
}

static int
cmd_run_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct run	 r;
	const char	*cause, *env, *errstr, *maxline_arg = NULL;
	const char	*cname = NULL, *dflt = NULL, *spec[RUN_MAXCHILD];
	int		 ch, rc, set_eof = 0, set_fd = 0, set_preload = 0;
	int		 raw = 0, set_restart = 0, log = -1;
	long long	 n;
	unsigned	 i, copies = 0, nspec = 0;

	memset(&r, 0, sizeof r);
	r.ce = ce;
	r.node = 1;
	r.chan_to = 3;
	r.eof = DRAIN_EOF_AUTO;
	r.idle_ns = IDLE_DEFAULT;
	r.kill_timeout = KILL_DEFAULT;
	r.preload = 1;
	r.validate = 1;
	r.maxline = MAXLINE_DEFAULT;
	r.backoff.min = RESTART_BACKOFF_MIN;
	r.backoff.max = RESTART_BACKOFF_MAX;
	r.max_restarts = RUN_MAX_RESTARTS;
	r.restart_window = RUN_RESTART_WINDOW;
	r.progress = -1;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case O_CHANNEL:
			if (strcmp(optarg, "node") == 0)
				r.node = 1;
			else if (strcmp(optarg, "stdio") == 0)
				r.node = 0;
			else
				return cmd_usage_error(ce, "--channel '%s': "
				    "must be node or stdio", optarg);
			break;
		case O_CHANNEL_FD:
			n = strtonum(optarg, 3, 1023, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "--channel-fd '%s': "
				    "%s (3 to 1023)", optarg, errstr);
			r.chan_to = (int)n;
			set_fd = 1;
			break;
		case O_EOF:
			set_eof = 1;
			if (strcmp(optarg, "auto") == 0)
				r.eof = DRAIN_EOF_AUTO;
			else if (strcmp(optarg, "wait") == 0)
				r.eof = DRAIN_EOF_WAIT;
			else if (strcmp(optarg, "close") == 0)
				r.eof = DRAIN_EOF_CLOSE;
			else if (strcmp(optarg, "idle") == 0)
				r.eof = DRAIN_EOF_IDLE;
			else if (strncmp(optarg, "idle:", 5) == 0) {
				r.eof = DRAIN_EOF_IDLE;
				if (cmd_parse_duration(optarg + 5, &r.idle_ns,
				    &cause) == -1)
					return cmd_usage_error(ce, "--eof '%s': "
					    "%s", optarg, cause);
			} else
				return cmd_usage_error(ce, "--eof '%s': must be "
				    "auto, idle[:DUR], wait or close", optarg);
			break;
		case O_EOF_TIMEOUT:
			if (cmd_parse_duration(optarg, &r.eof_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--eof-timeout '%s': "
				    "%s", optarg, cause);
			if (r.eof_timeout == 0)
				r.eof_timeout = 1;
			break;
		case O_KILL_TIMEOUT:
			if (cmd_parse_duration(optarg, &r.kill_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--kill-timeout "
				    "'%s': %s", optarg, cause);
			break;
		case O_MAX_LINE:
			if (cmd_parse_size(optarg, &r.maxline, &cause) == -1)
				return cmd_usage_error(ce, "--max-line '%s': %s",
				    optarg, cause);
			maxline_arg = optarg;
			break;
		case O_NO_PRELOAD:
			r.preload = 0;
			set_preload = 1;
			break;
		case O_NO_VALIDATE:
			r.validate = 0;
			break;
		case O_STRICT:
			r.strict = 1;
			break;
		case O_TRACE:
			r.trace = 1;
			break;
		case 'q':
			r.quiet = 1;
			break;
		case 'v':
			r.verbose = 1;
			break;
		case O_STATS:
			r.stats = 1;
			break;
		case O_PROGRESS:
		case O_NO_PROGRESS:
			r.progress = ch == O_PROGRESS;
			break;
		case 'n':
			n = strtonum(optarg, 1, RUN_MAXCHILD, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "-n '%s': %s (1 to "
				    "%d)", optarg, errstr, RUN_MAXCHILD);
			copies = (unsigned)n;
			break;
		case 'c':
			if (nspec == RUN_MAXCHILD)
				return cmd_usage_error(ce, "-c: more than %d "
				    "children", RUN_MAXCHILD);
			spec[nspec++] = optarg;
			break;
		case O_NAME:
			cname = optarg;
			break;
		case O_ROUTE:
			if (strcmp(optarg, "rr") == 0)
				r.route = ROUTE_RR;
			else if (strcmp(optarg, "broadcast") == 0)
				r.route = ROUTE_BROADCAST;
			else if (strncmp(optarg, "key=", 4) == 0) {
				r.route = ROUTE_KEY;
				r.key_path = optarg + 4;
				if (route_key_parse(&r.key, r.key_path,
				    &cause) == -1)
					return cmd_usage_error(ce, "--route "
					    "'%s': %s", optarg, cause);
			} else
				return cmd_usage_error(ce, "--route '%s': must "
				    "be rr, broadcast or key=PATH", optarg);
			break;
		case O_LOG:
			if (strcmp(optarg, "prefix") == 0)
				log = 1;
			else if (strcmp(optarg, "inherit") == 0)
				log = 0;
			else
				return cmd_usage_error(ce, "--log '%s': must be "
				    "prefix or inherit", optarg);
			break;
		case O_RESTART:
			if (restart_parse(optarg, &r.restart, &cause) == -1)
				return cmd_usage_error(ce, "--restart '%s': %s",
				    optarg, cause);
			break;
		case O_BACKOFF:
			if (restart_backoff_parse(&r.backoff, optarg,
			    &cause) == -1)
				return cmd_usage_error(ce, "--backoff '%s': %s",
				    optarg, cause);
			set_restart = 1;
			break;
		case O_MAX_RESTARTS:
			if (restart_tally_parse(optarg, &r.max_restarts,
			    &r.restart_window, &cause) == -1)
				return cmd_usage_error(ce, "--max-restarts "
				    "'%s': %s", optarg, cause);
			set_restart = 1;
			break;
		case O_ROUTE_DEFAULT:
			dflt = optarg;
			break;
		case O_ENVELOPE:
			r.envelope = 1;
			break;
		case O_RAW:
			raw = 1;
			break;
		case O_EVENTS:
			r.events = 1;
			break;
		case O_EVENTS_FD:
			n = strtonum(optarg, 2, INT_MAX, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "--events-fd '%s': "
				    "%s (2 or more; stdout takes the events "
				    "with the data when the output is "
				    "wrapped)", optarg, errstr);
			if (fcntl((int)n, F_GETFD) == -1)
				return cmd_usage_error(ce, "--events-fd '%s': "
				    "not an open descriptor", optarg);
			r.events = 1;
			r.events_fd = (int)n;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 && nspec == 0)
		return cmd_usage_error(ce, "no command given");
	if (argc > 0 && nspec > 0)
		return cmd_usage_error(ce, "children come from -c or from one "
		    "command after the options, not both");
	if (nspec > 0 && (copies > 0 || cname != NULL))
		return cmd_usage_error(ce, "%s: for a command after the "
		    "options, not for -c", copies > 0 ? "-n" : "--name");
	if (set_restart && r.restart == RESTART_NO)
		return cmd_usage_error(ce, "--backoff and --max-restarts apply "
		    "with --restart on-failure or always");
	if (dflt != NULL && r.route != ROUTE_KEY)
		return cmd_usage_error(ce, "--route-default applies to --route "
		    "key=PATH only");
	if (r.envelope && r.route != ROUTE_RR)
		return cmd_usage_error(ce, "--envelope and --route: the "
		    "envelope names the children");
	if (r.quiet && r.verbose)
		return cmd_usage_error(ce, "-q and -v cannot be used together");
	if (r.quiet && r.stats)
		return cmd_usage_error(ce, "-q and --stats cannot be used "
		    "together");
	if (r.node && !r.validate)
		return cmd_usage_error(ce, "--no-validate is for --channel "
		    "stdio only: a Node child crashes on an invalid line");
	if (r.node && r.maxline > NODE_MAXLINE)
		return cmd_usage_error(ce, "--max-line '%s': more than a Node "
		    "child can hold in one string (at most %zuM on the node "
		    "channel)", maxline_arg, NODE_MAXLINE >> 20);
	if (!r.node && (set_eof || set_fd || set_preload))
		return cmd_usage_error(ce, "%s applies to --channel node only",
		    set_eof ? "--eof" : set_fd ? "--channel-fd" :
		    "--no-preload");
	if ((env = getenv("IPCRUN_JSCAN")) != NULL && *env != '\0' &&
	    jscan_set_impl(env) == -1) {
		cmd_warnx(ce, "IPCRUN_JSCAN '%s': not available on this CPU "
		    "(use avx512, avx2, sse42, sse2 or scalar)", env);
		return EXIT_FAIL;
	}
	r.nw = nspec > 0 ? nspec : copies > 0 ? copies : 1;
	r.route_default = -1;
	r.wrap = !raw && (r.nw > 1 || r.envelope);
	run_policy(&r);
	/* A child writing to the meter's terminal itself would garble it. */
	r.log_prefix = log == -1 ? r.nw > 1 || r.progress == 1 : log;
	r.hold_eof = r.nw > 1 && r.route == ROUTE_RR && !r.envelope;
	if (r.events && r.events_fd == 0)
		r.events_fd = r.wrap ? -1 : STDERR_FILENO;
	if ((r.w = calloc(r.nw, sizeof *r.w)) == NULL ||
	    (r.exit_order = calloc(r.nw, sizeof *r.exit_order)) == NULL) {
		cmd_warn(ce, "malloc");
		free(r.w);
		return EXIT_FAIL;
	}
	/* Nothing open yet: a release before the start closes nothing. */
	for (i = 0; i < r.nw; i++)
		r.w[i].ch.fd = r.w[i].ch.peer = r.w[i].logfd = -1;
	envelope_init(&r.env);
	if ((rc = run_name_children(&r, argv, copies, cname, spec, nspec,
	    dflt)) == 0)
		rc = run_main(&r);
	cmd_report_hook = NULL;

	for (i = 0; i < r.nw; i++) {
		run_worker_release(&r.w[i]);
		if (nspec > 0) {
			free(r.w[i].argv);	/* see words_name_cmd */
			free(r.w[i].alloc_name);
		} else if (copies > 0)
			free(r.w[i].alloc_name);
	}
	envelope_release(&r.env);
	buf_release(&r.rq);
	free(r.w);
	free(r.exit_order);
	if (r.watch_fd != -1)
		spawn_watch_end(r.watch_fd, r.watch_pid);
	if (r.fin_ok)
		frame_release(&r.fin);
	buf_release(&r.oq);
	ev_release(&r.ev);
	return rc;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[--] [CMD [ARG ...]]",
	.summary = "relay NDJSON between stdin/stdout and child processes",
	.exec = cmd_run_exec,
	.opts = run_opts
};
