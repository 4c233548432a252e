/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: the relay's state, shared by cmd/run*.c. cmd/run.c parses
 * the options into a struct relay_conf, read only to the relay (r->cf),
 * and run_loop.c runs the relay, whose state is struct run. The pieces
 * that own their state are in lib/ (chan, drain, super, route, envelope,
 * restart); what is here is the relay that connects them, in one file per
 * direction or concern. run_report.c formats what run says (--trace, -v,
 * notices, --events, the exit reports, --stats, the children's logs) and
 * takes cmd's warnings through its hook (-q, the meter); all of it goes to
 * stderr and --events-fd through queues that never block (lib/outq.c).
 */
#ifndef RELAY_H
#define RELAY_H

#include <sys/resource.h>
#include <sys/uio.h>

#include <stddef.h>

#include "relay_conf.h"
#include "addr.h"
#include "buf.h"
#include "rbus_claim.h"
#include "bus.h"
#include "chan.h"
#include "cluster.h"
#include "color.h"
#include "ctl.h"
#include "drain.h"
#include "envelope.h"
#include "ev.h"
#include "frame.h"
#include "outq.h"
#include "restart.h"
#include "route.h"
#include "super.h"
#include "nodechan.h"
#include "task.h"
#include "tasklog.h"
#include "tracef.h"

#define RUN_QSIZE	(256 * 1024)	/* queue size and high-water mark */
#define RUN_READ	(256 * 1024)	/* largest read from the channel */
#define RUN_OUT_IOV	64		/* children's runs in one stdout write */
#define RUN_PEER_SNDBUF	(4 * 1024 * 1024) /* a child's send buffer (lib/chan.c), */
#define RUN_PEER_SNDALL	(64 * 1024 * 1024) /* shared by many children, */
#define RUN_PEER_SNDMIN	(256 * 1024)	/* but never less than this */
#define OUT_MAXLINE_MIN	((size_t)4096)	/* room for Node's internal messages */
#define IDLE_DEFAULT	(500 * MSEC)	/* --eof idle and auto's idle rule */
#define RUN_HANDLE_TIMEOUT (10 * SEC)	/* --handle-timeout */
#define PEER_EVERY	(250 * MSEC)	/* does the child still hold its end? */
#define CQ_HIGH		(64 * 1024)	/* ipcrun's own frames to the child */
#define EOF_TICK	(20 * MSEC)	/* have all children read their input? */
#define LOG_LINE	4096	/* --log prefix: a longer line is cut */
#define SHOW_MAX	64	/* -v: the first bytes of a frame shown */
#define EVQ_MAX		(64 * 1024)	/* events waiting for --events-fd */
#define ERRQ_MAX	(256 * 1024)	/* lines waiting for stderr */
#define SINK_GRACE	(2 * SEC)	/* for them, after a stop signal */
/*
 * V8 strings stop at 536,870,888 UTF-16 units, and Node's reader holds a
 * line, its newline and up to one read (64 KiB) more in one string: a
 * longer line kills a Node child with "Invalid string length".
 */
#define NODE_MAXLINE	((size_t)512 * 1024 * 1024 - 1024 * 1024)

/* ipcrun holds the sockets and hands out what it accepts (lib/cluster). */
#define RUN_PRIMARY(r)	((r)->cf->handoff == HANDOFF_CLUSTER ||		\
			    (r)->cf->handoff == HANDOFF_SOCKET)
#define SERVE_MAXLISTEN	16	/* --listen given so many times */
#define SERVE_MSG_MAX	4096	/* --message, with the handle frame */

/* A child ending gracefully (run_roll.c): to start again, or for good. */
#define RUN_RESTART	1
#define RUN_RETIRE	2

/* Why the channel is being closed by ipcrun, for the reports. */
enum close_why { CLOSE_NONE, CLOSE_EOF, CLOSE_IDLE, CLOSE_POLICY,
    CLOSE_TIMEOUT, CLOSE_STOP, CLOSE_AFTER_EXIT, CLOSE_GRACEFUL,
    CLOSE_BROKEN };

/* --keep-order: a reply that came before its turn. */
struct run_slot {
	char		*p;		/* its bytes as they go out, or NULL */
	size_t		 n;
	int		 done;		/* answered or given up */
	char		*tl;		/* --tasklog: its line, once out */
};

/* --tasklog: a line waiting for the output to pass pos. */
struct run_tlwait {
	uint64_t	 pos;
	size_t		 len;
};

struct run_tlq {
	struct run_tlwait *v;
	size_t		 head;
	size_t		 n;
	size_t		 cap;		/* a power of two, or 0 */
};

/*
 * An end of run's relay (run_end.c): stdin and stdout, or Redis
 * (--from, --to). The relay asks it through run_end.c, which switches on
 * the kind; the input frame (fin) and the output queue (oq) are the
 * relay's, whichever the kind.
 */
enum end_kind { END_STDIO, END_REDIS };

/* What became of a task, for run's on_task hook. */
enum task_event { TASK_MADE, TASK_ANSWERED, TASK_GIVEN_UP };

/*
 * --from a stream's consumer group (run_ack.c): the entry each input
 * line came from, by line number, and the entries settled, acked once
 * the output has gone past their reply (pos: bytes taken off oq).
 */
struct run_acks {
	int		 on;
	struct buf	 lines;		/* struct ack_line, from line base */
	uint64_t	 base;		/* the input line of the first */
	uint64_t	 next;		/* the next line read gets this */
	uint64_t	 scan;		/* lines handed out, looked at */
	unsigned	 held;		/* --keep-order: answered, not out */
	struct buf	 ready;		/* struct ack_ready, pos ascending */
	struct buf	 cp;		/* --to: struct ack_cp, lines put */
	uint64_t	 done;		/* output out of ipcrun up to here */
	uint64_t	 sent;		/* XACKs sent */
};

struct run_end {
	enum end_kind	 kind;
	char		 name[1024];	/* the address, without a password */
	struct redisurl	 u;
	struct rbus_source src;		/* --from */
	struct rbus_claim claim;	/* --from: claim-idle= */
	struct buf	 pend;		/* --from: read, not yet framed */
	struct rbus_sink sink;		/* --to */
	uint64_t	 lines;		/* --to: lines given to the sink */
	struct run_acks	 acks;		/* --from a stream group */
	unsigned	 drops;		/* reconnections said */
	int		 open;
	int		 failed;	/* its failure was said */
	/* stdout: its descriptor, or a private non-blocking one of its pipe */
	int		 fd;
	int		 sock;		/* a socket: send(2) */
	int		 closed;	/* >&- at the start: writing is an error */
};

/*
 * One child and its channel: the queue of input lines for it, the frames
 * it sends, the end-of-input state and the lifecycle of its process group.
 */
struct worker {
	/* Who the child is: kept across its restarts. */
	char		**argv;
	const char	*name;		/* for reports */
	char		*alloc_name;	/* name, when ipcrun made it */
	unsigned	 idx;
	struct run	*r;
	int		 node;		/* on Node's channel, else stdio */
	struct super	 sv;		/* its lifecycle: the table of lib/super.c */
	unsigned	 roll_gen;	/* sv.restarts when the roll stopped it */

	/*
	 * An incarnation: everything from here on starts from zero when the
	 * child is started again (run_respawn, WORKER_LIFE).
	 */
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

	pid_t		 pid;
	int		 pending;	/* its exec-error pipe until it exec'd */
	int		 preloaded;	/* NODE_OPTIONS carries the preload */
	int		 plain_warned;	/* Node without the preload: said so */
	struct drain	 dr;		/* its end of input: lib/drain.c */
	int		 handle_warned;
	int		 serving;	/* serve: it took its sockets */
	int		 restarting;	/* ending gracefully: RUN_RESTART, RUN_RETIRE */
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
	int		 task_killed;	/* --task-timeout stopped it */
	/* --handle-timeout: the handle awaited (chan_awaited), and until. */
	uint64_t	 handle_id;
	int64_t		 handle_at;
};
#define WORKER_LIFE	offsetof(struct worker, prefix)

struct run {
	const struct cmd_entry	*ce;
	const struct relay_conf	*cf;	/* the options: read only */

	int		 stray_hinted;	/* a stdio child's stray line: said */
	struct meter	 meter;
	int64_t		 eof_tick;	/* the next look, while it waits */
	/*
	 * --handle-sink: where a child's handle goes when it names no
	 * child, on send-fd's wire. unix: is a connection per handle; fd:
	 * one connection for all, -1 once it failed (said once).
	 */
	int		 sink_fd;
	int		 sink_failed;
	/*
	 * What ipcrun says never holds up the relay: stderr (reports,
	 * --trace, -v, the children's logs) and --events-fd are bounded
	 * queues that lose whole lines, counted, when their reader lags.
	 */
	struct outq	 errq;		/* stderr */
	struct outq	 evq;		/* --events-fd 3 and up */
	struct outq	*evout;		/* the events': &evq, or &errq */
	int		 events_on;	/* --events, until its reader failed */
	int		 sigfd;		/* the signals' pipe, for the end */
	struct envelope	 env;

	struct ev	 ev;
	int64_t		 t0;
	struct tracef	 tf;		/* --trace-file */

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
	/*
	 * Runs of frames taken straight from the children's buffers while
	 * oq is empty, for one writev per round (run_gather), not one
	 * write per child; what stdout does not take goes into oq.
	 */
	struct iovec	 ov[RUN_OUT_IOV];
	int		 nov;
	size_t		 ovlen;		/* their bytes */
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

	/*
	 * The control socket (ipcrun ctl): its clients are bounded, their
	 * replies and taps queued apart, and a tap that lags loses events,
	 * counted (lib/ctl.c). With nobody tapping, the hot paths see one
	 * counter at 0.
	 */
	struct ctl	 ctl;

	/*
	 * At a terminal, the REPL (run_repl.c): a process of its own that
	 * holds the terminal, with pipes for stdin and stdout and a control
	 * connection, adopted by run_ctl_start.
	 */
	pid_t		 repl_pid;	/* or -1 */
	int		 repl_fd;	/* its control connection, or -1 */

	/* ipcrun serve: the sockets, bound before any child starts. */
	int		 lfd[SERVE_MAXLISTEN];
	char		 lname[SERVE_MAXLISTEN][300];	/* as bound */
	unsigned	 nlisten;
	char		*fdnames;	/* "LISTEN_FDNAMES=a:b" */
	int		 ready_fd;	/* --ready-fd, -1 once written */
	int		 stopping;	/* a stop signal: the graceful stop */
	/*
	 * A rolling restart (serve's SIGHUP, ctl's restart all --rolling),
	 * one child after the other (run_roll.c).
	 */
	int		 roll;		/* the child being replaced, or -1 */
	int		 roll_wait;	/* stopped: waiting for it to serve */
	int		 roll_again;	/* another SIGHUP came meanwhile */
	struct cluster	 cl;		/* --handoff cluster: the primary */

	int		 fail;		/* exit EXIT_FAIL */
	int		 spawn_err;	/* the last exec error said, and */
	const char	*spawn_cmd;	/* for which command */
	int		 epipe;		/* exit EXIT_PIPE */
	int		 strict_hit;
	int		 never_read;	/* a child read none of its lines */
	unsigned	 gave_up;	/* children given up (--max-restarts) */
	uint64_t	 refused;	/* lines refused, either direction */
	uint64_t	 in_bytes;	/* read from stdin */
	uint64_t	 replies;	/* the children's frames, forwarded */
	uint64_t	 reply_bytes;
	uint64_t	 tail_lines;	/* stdin lines counted after the exit */
	uint64_t	 delivered_gone;	/* by incarnations restarted since */

	/*
	 * --tasks (run_task.c): each line gets one reply. The tasks each
	 * child holds (held[idx], at most max_inflight), those handed back
	 * to send again first (retry), and the counts.
	 */
	FILE		*rejects;
	struct taskq	 retry;
	struct taskq	*held;
	/*
	 * --route key, --envelope: each task has its child (t->to). What a
	 * child hands back, and new tasks while it has no room, wait for it
	 * (back[idx], new ones up to max_inflight); the next new task waits
	 * in park, and the input behind it.
	 */
	struct taskq	*back;
	struct task	*park;
	uint64_t	*t_wdone;	/* answered, per child (the meter) */
	/*
	 * --keep-order: replies wait in a window of ko_n slots, the task of
	 * place ord in slot ord % ko_n, until every task before them is
	 * out; no task is sent beyond the window (run_task_room).
	 */
	struct run_slot	*ko;
	uint64_t	 ko_n;
	uint64_t	 ko_next;	/* the place of the next reply out */
	uint64_t	 t_read, t_done, t_given_up, t_retried, t_timedout;
	uint64_t	 t_stray;	/* replies that matched no task */
	uint64_t	 t_sends;	/* tasks sent, again ones too */
	uint64_t	 t_skipped;	/* --resume-failed: answered before */
	/*
	 * --tasklog (run_tasklog.c): a task's line waits in tl_q until the
	 * output has passed its reply (out_pos: bytes of oq written out).
	 */
	int		 tasklog_fd;
	struct seqset	 tl_done;	/* --resume-failed: lines answered */
	struct buf	 tl_q;
	struct run_tlq	 tl_wait;
	uint64_t	 out_pos;
	int		 tasks_cut;	/* no child left: input not all read */
	int		 tasks_over;	/* no child left: said once */
	/*
	 * The hook for an end that must know what became of each task (a
	 * Redis group acks its entry once the reply is out): called when a
	 * task is made from its input line, when it is answered (after its
	 * reply is queued for the output, or held by --keep-order), and
	 * when it is given up. At-least-once: a task sent again after a
	 * crash may have run twice, but is answered here once.
	 */
	void		(*on_task)(void *arg, const struct task *t,
			    enum task_event ev);
	void		*on_task_arg;
	uint64_t	 out_taken;	/* bytes taken off oq (out, or --to) */
};

/* --trace and -v: nothing is evaluated unless they are on. */
#define run_trace(r, ...) do {						\
	if ((r)->cf->trace)						\
		run_trace_((r), __VA_ARGS__);				\
} while (0)
#define run_show(r, w, dir, internal, p, n) do {			\
	if ((r)->cf->verbose || (r)->tf.f != NULL)			\
		run_show_((r), (w), (dir), (internal), (p), (n));	\
} while (0)

/* A tap on the control socket: nothing is done unless one is on. */
#define run_tap(r, w, out, internal, p, n) do {				\
	if ((r)->ctl.ntap > 0)						\
		run_tap_((r), (w), (out), (internal), (p), (n));	\
} while (0)

/*
 * The files call downwards only, in this order from the bottom:
 * run_state.c, run_tap.c, run_ack.c, run_end.c, run_report.c,
 * run_tasklog.c, run_stray.c, run_task.c, run_env.c, run_child.c,
 * run_drain.c, run_handles.c, run_deal.c, run_in.c, run_lost.c,
 * run_cluster.c, run_internal.c, run_out.c, run_roll.c, run_ctl.c,
 * run_repl.c, run_loop.c; run.c parses the options, run_setup.c draws
 * what follows from them, and run.c calls run_main.
 */

/* run_setup.c */
unsigned	 run_ncpu(void);
int		 run_tasks_check(struct run *r, struct relay_conf *c,
    int set_task, int raw, int wrap);
void		 run_policy(struct run *r, struct relay_conf *c);
void		 run_tables(struct relay_conf *c);
int		 run_check_channels(struct run *r, struct relay_conf *c,
    int set_eof, int set_fd, int set_preload, const char *maxline_arg);
int		 run_name_children(struct run *r, struct relay_conf *c,
    char **argv, unsigned copies, const char *cname, const char **spec,
    unsigned nspec, const char *dflt);

/* serve.c: serve's own options; run.c parses the rest */
extern const struct cmd_opt serve_opts[];
struct addr;
int		 serve_option(struct run *r, struct relay_conf *c, int ch,
    const char *arg, const char **listen_arg, unsigned *nlisten);
int		 serve_check(struct run *r, struct relay_conf *c, char **argv,
    unsigned nlisten, int set_fd);
int		 serve_bind(struct run *r, struct relay_conf *c,
    const char **listen_arg, unsigned nlisten, struct addr *la);

/* run_state.c */
int		 run_backpressured(const struct run *r);
int		 run_peer_sndbuf(const struct run *r);
int		 run_own_sndbuf(const struct run *r);
int		 run_alive(const struct worker *w);
int		 run_pending(const struct worker *w);
int		 run_accepting(const struct worker *w);
int		 run_takes(const struct worker *w);
int		 run_others_accept(struct run *r, const struct worker *w);
const struct drain_policy *run_dp(const struct run *,
		    const struct worker *);
uint64_t	 run_count_lines(int node, const char *p, size_t len);
uint64_t	 run_peer_unread(struct run *r, struct worker *w, size_t *bytes);
void		 run_fail(struct run *r);

/* run_tap.c */
void		 run_tap_(struct run *r, const struct worker *w, int out,
    int internal, const char *p, size_t n);
void		 run_tap_event(struct run *r, const char *line, size_t n);

/* run_ack.c */
int		 run_ack_init(struct run *);
void		 run_ack_line(struct run *, const char *, const char *,
		    size_t);
void		 run_ack_now(struct run *, const char *, const char *, size_t);
void		 run_ack_task(void *, const struct task *, enum task_event);
void		 run_ack_put(struct run *, uint64_t);
int		 run_ack_holds(void *, const char *);
void		 run_ack_pass(struct run *);
void		 run_ack_finish(struct run *);
void		 run_ack_release(struct run *);

/* run_end.c */
int		 run_ends_parse(struct run *, struct relay_conf *, char *,
    char *);
int		 run_ends_open(struct run *);
int		 run_from_stdin(const struct run *);
void		 run_on_stdin(struct ev *, int, short, void *);
void		 run_drain_stdin(struct run *);
int		 run_from_start(struct run *);
void		 run_from_fill(struct run *);
void		 run_from_interest(struct run *, int);
int		 run_from_waiting(const struct run *);
int		 run_to_flush(struct run *);
int		 run_to_direct(const struct run *);
ssize_t		 run_to_writev(struct run *, struct iovec *, int);
void		 run_to_interest(struct run *, int);
int		 run_to_wait(struct run *);
void		 run_to_setup(struct run *);
void		 run_to_restore(struct run *);
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
void		 run_put_err(struct run *r, const char *line, size_t n);

/* run_stray.c */
struct frame_line;
void		 run_bad_frame(struct run *r, struct worker *w,
    const struct frame_line *l, size_t off, const char *why);

/* run_tasklog.c */
int		 run_tasklog_open(struct run *r);
int		 run_tasklog_skip(const struct run *r, uint64_t seq);
void		 run_tasklog_add(struct run *r, struct worker *w,
    const struct task *t, int ok);
void		 run_tasklog_released(struct run *r, struct run_slot *sl);
void		 run_tasklog_sync(struct run *r);
void		 run_tasklog_close(struct run *r);

/* run_task.c */
int		 run_task_init(struct run *r);
void		 run_task_release(struct run *r);
uint64_t	 run_task_outstanding(const struct run *r);
int		 run_task_room(const struct run *r, const struct worker *w);
struct task	*run_task_new_part(struct run *r, uint64_t seq, const char *p,
    size_t n, size_t off, size_t len);
int		 run_task_window(const struct run *r);
int		 run_task_served_by(const struct worker *w);
int		 run_task_offer(struct run *r, struct task *t);
void		 run_task_resend_own(struct run *r);
void		 run_task_meter_kid(void *arg, size_t i, struct meter_kid *k);
struct task	*run_task_new(struct run *r, uint64_t seq, const char *p,
    size_t n);
int		 run_task_send(struct run *r, struct worker *w, struct task *t);
struct task	*run_task_next_retry(struct run *r);
struct task	*run_task_answer(struct run *r, struct worker *w,
    const char *p, size_t n);
void		 run_task_done(struct run *r, struct worker *w, struct task *t);
void		 run_task_giveup(struct run *r, struct worker *w,
    struct task *t, const char *why);
void		 run_task_lost(struct run *r, struct worker *w, const char *why);
uint64_t	 run_task_orphaned(struct run *r);
void		 run_task_timers(struct run *r, int64_t now);
int64_t		 run_task_deadline(const struct run *r);
void		 run_task_ready(struct run *r, struct worker *w);
int		 run_task_ordered(struct run *r, struct task *t, size_t from);

/* run_env.c */
struct spawn_opts;
void		 run_keep_pre_entry(struct run *r, struct worker *w,
    char **env);
int		 run_worker_names(struct run *r, struct worker *w);
char		**run_listen_env(struct run *r, char **env,
    struct spawn_opts *so);
char		**run_cluster_env(struct run *r, struct worker *w, char **env);
void		 run_listen_env_free(char **e, char **env, const char *keep);
int		 run_hand_servers(struct run *r, struct worker *w);

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

/* run_handles.c */
int		 run_handle_send(struct run *r, struct worker *w, int fd,
    const char *msg, size_t msglen, char *why, size_t whylen);
int		 run_handle_line(struct run *r, struct worker *w, const char *p,
    size_t n, size_t *off, char *why, size_t whylen);
int		 run_handle_sink(struct run *r, struct worker *w, int fd,
    const char *type, size_t typelen, const char *msg, size_t msglen);
int		 run_handle_sink_open(struct run *r, struct relay_conf *);
void		 run_handle_timers(struct run *r, int64_t now);
int64_t		 run_handle_deadline(const struct worker *w);

/* run_deal.c */
int		 run_input_deal(struct run *r);

/* run_in.c */
struct worker	*run_route_room(struct run *r);
struct worker	*run_find(struct run *r, const char *name, size_t len);
int		 run_input_run(struct run *r, struct worker *w);
void		 run_pump_input(struct run *r);
int		 run_send_line(struct run *r, struct worker *w, const char *p,
    size_t n);

/* run_lost.c */
void		 run_undelivered(struct run *r, struct worker *w, int restart);

/* run_cluster.c */
void		 run_cluster_frame(struct run *r, struct worker *w, const char *p,
    size_t n);
void		 run_cluster_answered(struct run *r, struct worker *w, int nack);
void		 run_cluster_pass(struct run *r);
void		 run_cluster_interest(struct run *r);
void		 run_cluster_gone(struct run *r, struct worker *w);
void		 run_cluster_stop(struct run *r);
void		 run_cluster_disconnect(struct run *r, struct worker *w);
void		 run_tasks_maybe_end(struct run *r);

/* run_internal.c */
void		 run_internal_from_child(struct run *r, struct worker *w,
    const struct frame_line *l, enum nodechan_msg msg);

/* run_out.c */
void		 run_on_chan(struct ev *ev, int fd, short revents, void *arg);
void		 run_on_stdout(struct ev *ev, int fd, short revents, void *arg);
void		 run_flush_oq(struct run *r);
void		 run_flush_oq_all(struct run *r);
void		 run_gather(struct run *r);

/* run_roll.c */
int		 run_restart(struct run *r, struct worker *w);
void		 run_roll_start(struct run *r, const char *why);
void		 run_roll(struct run *r);
int		 run_start(struct run *r, struct worker *w, const char **why);
int		 run_scale(struct run *r, unsigned n, const char **why);

/* run_ctl.c */
int		 run_ctl_start(struct run *r);
void		 run_ctl_interest(struct run *r);
void		 run_ctl_pass(struct run *r);
void		 run_ctl_end(struct run *r);

/* run_repl.c */
int		 run_repl_start(struct run *r);
void		 run_repl_end(struct run *r);

/* run_loop.c */
void		 run_update(struct run *r);
int		 run_main(struct run *r);

#endif /* RELAY_H */
