/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: the relay's state, shared by cmd/run*.c. cmd/run.c turns the
 * options into a struct run; run_loop.c runs it. The pieces that own their
 * state are in lib/ (chan, drain, super, route, envelope, restart); what is
 * here is the relay that connects them, in one file per direction or
 * concern. run_report.c formats what run says (--trace, -v, notices,
 * --events, the exit reports, --stats, the children's logs) and takes
 * cmd's warnings through its hook (-q, the meter); all of it goes to
 * stderr and --events-fd through queues that never block (lib/outq.c).
 */
#ifndef RELAY_H
#define RELAY_H

#include <sys/resource.h>

#include "buf.h"
#include "bus.h"
#include "chan.h"
#include "drain.h"
#include "envelope.h"
#include "ev.h"
#include "frame.h"
#include "outq.h"
#include "restart.h"
#include "route.h"
#include "super.h"

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
#define EVQ_MAX		(64 * 1024)	/* events waiting for --events-fd */
#define ERRQ_MAX	(256 * 1024)	/* lines waiting for stderr */
#define SINK_GRACE	(2 * SEC)	/* for them, after a stop signal */
#define PROGRESS_MIN	((uint64_t)64 * 1024 * 1024)	/* as check's */
/*
 * V8 strings stop at 536,870,888 UTF-16 units, and Node's reader holds a
 * line, its newline and up to one read (64 KiB) more in one string: a
 * longer line kills a Node child with "Invalid string length".
 */
#define NODE_MAXLINE	((size_t)512 * 1024 * 1024 - 1024 * 1024)

/* The options of run and serve, for cmd_getopts. */
enum {
	O_CHANNEL = 256, O_CHANNEL_FD, O_EOF, O_EOF_TIMEOUT, O_KILL_TIMEOUT,
	O_MAX_LINE, O_NO_PRELOAD, O_NO_VALIDATE, O_STRICT, O_TRACE,
	O_NAME, O_LABEL, O_ROUTE, O_ROUTE_DEFAULT, O_ENVELOPE, O_RAW, O_EVENTS,
	O_EVENTS_FD, O_RESTART, O_BACKOFF, O_MAX_RESTARTS, O_LOG, O_STATS,
	O_PROGRESS, O_NO_PROGRESS, O_HANDOFF, O_MESSAGE, O_FROM, O_TO
};

/* The option entries run and serve share, word for word. */
#define OPT_CHANNEL							\
	{ "channel", 0, O_CHANNEL, "node|stdio", "node|stdio",		\
	    "Node's IPC channel or stdio (default: node)" }
#define OPT_TRACE							\
	{ "trace", 0, O_TRACE, NULL, NULL,				\
	    "log each frame's direction and size on stderr" }
#define OPT_QUIET							\
	{ "quiet", 'q', 'q', NULL, NULL,				\
	    "no warnings or notices on stderr, only errors" }
#define OPT_VERBOSE							\
	{ "verbose", 'v', 'v', NULL, NULL,				\
	    "show frames (first 64 bytes) and notices on stderr" }
#define OPT_RAW							\
	{ "raw", 0, O_RAW, NULL, NULL,					\
	    "child lines without the {\"from\":...} wrapping" }
#define OPT_EVENTS_FD							\
	{ "events-fd", 0, O_EVENTS_FD, "N", NULL,			\
	    "write the events to descriptor N" }
#define OPT_LOG							\
	{ "log", 0, O_LOG, "prefix|inherit", "prefix|inherit",		\
	    "children's stderr behind NAME| , or as is" }
#define OPT_BACKOFF							\
	{ "backoff", 0, O_BACKOFF, "MIN:MAX", NULL,			\
	    "restart delay, doubling (default: 100ms:10s)" }
#define OPT_MAX_RESTARTS							\
	{ "max-restarts", 0, O_MAX_RESTARTS, "N/WINDOW", NULL,		\
	    "then give a child up (default: 5/1m)" }

enum route_mode { ROUTE_RR, ROUTE_BROADCAST, ROUTE_KEY };

/* ipcrun serve: how the children get the listening sockets. */
enum handoff { HANDOFF_NONE, HANDOFF_SERVER, HANDOFF_SYSTEMD };
#define SERVE_MAXLISTEN	16	/* --listen given so many times */
#define SERVE_MSG_MAX	4096	/* --message, with the handle frame */

/* Why the channel is being closed by ipcrun, for the reports. */
enum close_why { CLOSE_NONE, CLOSE_EOF, CLOSE_IDLE, CLOSE_POLICY,
    CLOSE_TIMEOUT, CLOSE_STOP, CLOSE_AFTER_EXIT, CLOSE_GRACEFUL,
    CLOSE_BROKEN };

/*
 * An end of run's relay (run_end.c): stdin and stdout, or Redis
 * (--from, --to). The relay asks it through run_end.c, which switches on
 * the kind.
 */
enum end_kind { END_STDIO, END_REDIS };

struct run_end {
	enum end_kind	 kind;
	char		 name[1024];	/* the address, without a password */
	struct redisurl	 u;
	struct rbus_source src;		/* --from */
	struct buf	 pend;		/* --from: read, not yet framed */
	struct rbus_sink sink;		/* --to */
	uint64_t	 lines;		/* --to: lines given to the sink */
	unsigned	 drops;		/* reconnections said */
	int		 open;
	int		 failed;	/* its failure was said */
};

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
	int		 polled;	/* its channel is in the poll set */
	int		 has_frames;	/* frames read, not all taken yet */
	int		 logfd;		/* --log prefix: its stderr, or -1 */
	char		*logbuf;	/* a log line being read */
	size_t		 loglen;
	uint64_t	 mark;		/* --envelope: the last line sent it */
	uint64_t	 rerouted;	/* unread lines sent to other children */
	uint64_t	 kept;		/* unread lines kept for its restart */
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
	const char	*label;		/* the input in reports, "-" */
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
	/*
	 * What ipcrun says never holds up the relay: stderr (reports,
	 * --trace, -v, the children's logs) and --events-fd are bounded
	 * queues that lose whole lines, counted, when their reader lags.
	 */
	struct outq	 errq;		/* stderr */
	struct outq	 evq;		/* --events-fd 3 and up */
	struct outq	*evout;		/* the events': &evq, or &errq */
	int		 sigfd;		/* the signals' pipe, for the end */
	int		 log_prefix;	/* --log prefix */
	struct envelope	 env;

	struct ev	 ev;
	int64_t		 t0;

	struct worker	*w;		/* the children */
	unsigned	 nw;
	unsigned	 rr;		/* round robin: the next to try */
	unsigned	 gather;	/* output: the first to take from */
	size_t		 room;		/* room left in every queue, at least */
	struct worker	*room_first;	/* the first child taking input */
	unsigned	*exit_order;	/* children, in the order they exited */
	unsigned	 nexited;

	struct run_end	 from;		/* --from, or stdin */
	struct run_end	 to;		/* --to, or stdout */

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
	int		 reap;		/* SIGCHLD came: reap in the pass */
	int		 stop;		/* run_fail: stop in the pass */
	uint64_t	 sigs;		/* other signals to forward, by bit */
	int		 watch_fd;	/* the watchdog's pipe, or -1 */
	struct rlimit	 nofile;	/* RLIMIT_NOFILE as ipcrun was given it */
	int		 nofile_raised;	/* the children get it back */
	pid_t		 watch_pid;

	/* ipcrun serve: the sockets, bound before any child starts. */
	int		 serve;
	enum handoff	 handoff;
	int		 lfd[SERVE_MAXLISTEN];
	char		 lname[SERVE_MAXLISTEN][300];	/* as bound */
	unsigned	 nlisten;
	char		*fdnames;	/* "LISTEN_FDNAMES=a:b" */
	const char	*handoff_msg;	/* --message: JSON */
	int		 stopping;	/* a stop signal: the graceful stop */

	int		 fail;		/* exit EXIT_FAIL */
	int		 spawn_err;	/* the last exec error said, and */
	const char	*spawn_cmd;	/* for which command */
	int		 epipe;		/* exit EXIT_PIPE */
	int		 stdout_closed;	/* fd 1 was closed at the start */
	int		 strict_hit;
	int		 never_read;	/* a child read none of its lines */
	uint64_t	 refused;	/* lines refused, either direction */
	uint64_t	 in_bytes;	/* read from stdin */
	uint64_t	 replies;	/* the children's frames, forwarded */
	uint64_t	 reply_bytes;
	uint64_t	 tail_lines;	/* stdin lines counted after the exit */
};

/* --trace and -v: nothing is evaluated unless they are on. */
#define run_trace(r, ...) do {						\
	if ((r)->trace)							\
		run_trace_((r), __VA_ARGS__);				\
} while (0)
#define run_show(r, w, dir, internal, p, n) do {			\
	if ((r)->verbose)						\
		run_show_((r), (w), (dir), (internal), (p), (n));	\
} while (0)

/*
 * The files call downwards only, in this order from the bottom:
 * run_state.c, run_report.c, run_child.c, run_drain.c, run_in.c,
 * run_out.c, run_loop.c; run.c parses the options and calls run_main.
 */

/* serve.c: serve's own options; run.c parses the rest */
extern const struct cmd_opt serve_opts[];
struct addr;
int		 serve_option(struct run *r, int ch, const char *arg,
    const char **listen_arg, unsigned *nlisten);
int		 serve_check(struct run *r, char **argv, unsigned nlisten,
    int set_fd);
int		 serve_bind(struct run *r, const char **listen_arg,
    unsigned nlisten, struct addr *la);

/* run_state.c */
int		 run_backpressured(const struct run *r);
int		 run_alive(const struct worker *w);
int		 run_pending(const struct worker *w);
int		 run_accepting(const struct worker *w);
int		 run_takes(const struct worker *w);
int		 run_others_accept(struct run *r, const struct worker *w);
uint64_t	 run_count_lines(const struct run *r, const char *p, size_t len);
uint64_t	 run_peer_unread(struct run *r, struct worker *w, size_t *bytes);
void		 run_fail(struct run *r);

/* run_end.c */
int		 run_ends_parse(struct run *, char *, char *);
int		 run_ends_open(struct run *);
int		 run_from_stdin(const struct run *);
void		 run_from_fill(struct run *);
void		 run_from_interest(struct run *, int);
int		 run_from_waiting(const struct run *);
void		 run_to_flush(struct run *);
int		 run_to_idle(const struct run *);
int64_t		 run_ends_deadline(struct run *);
void		 run_ends_pass(struct run *);
void		 run_to_drain(struct run *);
void		 run_ends_close(struct run *);

/* run_report.c */
void		 run_trace_(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void		 run_show_(struct run *r, const struct worker *w, const char *dir,
    int internal, const char *p, size_t n);
void		 run_notice(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void		 run_report_start(struct run *r);
void		 run_event(struct run *r, struct worker *w, const char *event,
    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void		 run_listening(struct run *r);
void		 run_flush_sinks(struct run *r);
void		 run_on_sink(struct ev *ev, int fd, short revents, void *arg);
void		 run_sinks_interest(struct run *r);
int		 run_sinks_start(struct run *r);
void		 run_sinks_finish(struct run *r);
const char	*run_signame(int sig);
void		 run_exit_report(struct run *r, struct worker *w, int status);
void		 run_giveup(struct run *r, struct worker *w);
void		 run_schedule_restart(struct run *r, struct worker *w);
void		 run_log_close(struct run *r, struct worker *w);
void		 run_log_read(struct run *r, struct worker *w);
void		 run_on_log(struct ev *ev, int fd, short revents, void *arg);
void		 run_log_finish(struct run *r);
void		 run_stats(struct run *r);
int		 run_worker_code(struct run *r, struct worker *w);

/* run_child.c */
void		 run_kill(struct run *r, struct worker *w, int sig);
void		 run_end_groups(struct run *r);
void		 run_escalate(struct run *r, struct worker *w, int now_term);
void		 run_super_timeout(struct run *r, struct worker *w, int64_t now);
void		 run_finish(struct run *r, struct worker *w,
    enum super_action act);
int		 run_spawn_begin(struct run *r, struct worker *w);
int		 run_spawn_end(struct run *r, struct worker *w);
int		 run_worker_init(struct run *r, struct worker *w, unsigned idx);
void		 run_worker_release(struct worker *w);
void		 run_cancel_restarts(struct run *r);
void		 run_abort_spawned(struct run *r);
int		 run_fd_budget(struct run *r);

/* run_drain.c */
void		 run_stop(struct run *r);
void		 run_flush_tq(struct run *r, struct worker *w);
void		 run_timers(struct run *r);
void		 run_close_chan(struct run *r, struct worker *w, enum close_why why);
void		 run_send_notice(struct run *r, struct worker *w, int again);
void		 run_input_ended(struct run *r);
void		 run_all_delivered(struct run *r);

/* run_in.c */
struct worker	*run_route_room(struct run *r);
struct worker	*run_find(struct run *r, const char *name, size_t len);
int		 run_input_run(struct run *r, struct worker *w);
void		 run_pump_input(struct run *r);
void		 run_on_stdin(struct ev *ev, int fd, short revents, void *arg);
void		 run_undelivered(struct run *r, struct worker *w, int restart);

/* run_out.c */
void		 run_on_chan(struct ev *ev, int fd, short revents, void *arg);
void		 run_on_stdout(struct ev *ev, int fd, short revents, void *arg);
void		 run_setup_stdout(struct run *r);
void		 run_restore_stdout(struct run *r);
void		 run_flush_oq(struct run *r);
void		 run_flush_oq_all(struct run *r);
void		 run_gather(struct run *r);

/* run_loop.c */
void		 run_update(struct run *r);
int		 run_main(struct run *r);

#endif /* RELAY_H */
