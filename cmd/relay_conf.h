/* SPDX-License-Identifier: ISC */
/*
 * What ipcrun run and serve were asked: the options that run.c and
 * serve.c share (for cmd_getopts), and struct relay_conf, which they fill
 * and the relay only reads (relay.h).
 */
#ifndef RELAY_CONF_H
#define RELAY_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "color.h"
#include "drain.h"
#include "restart.h"
#include "route.h"
#include "super.h"

/* The options of run and serve, for cmd_getopts. */
enum {
	O_CHANNEL = 256, O_CHANNEL_FD, O_EOF, O_EOF_TIMEOUT, O_KILL_TIMEOUT,
	O_MAX_LINE, O_NO_PRELOAD, O_NO_VALIDATE, O_STRICT, O_TRACE,
	O_NAME, O_LABEL, O_ROUTE, O_ROUTE_DEFAULT, O_ENVELOPE, O_RAW, O_EVENTS,
	O_EVENTS_FD, O_RESTART, O_BACKOFF, O_MAX_RESTARTS, O_LOG, O_STATS,
	O_PROGRESS, O_NO_PROGRESS, O_HANDOFF, O_MESSAGE, O_SCHED, O_HANDLES,
	O_CONTROL, O_NO_CONTROL, O_TASKS, O_RETRIES, O_TASK_TIMEOUT,
	O_MAX_INFLIGHT, O_REJECTS, O_ID, O_SEQ, O_WRAP, O_KEEP_ORDER, O_FROM,
	O_TO, O_TASKLOG, O_RESUME_FAILED, O_HANDLE_TIMEOUT, O_HANDLE_SINK,
	O_READY_FD, O_NO_REPL, O_COLOR, O_TRACE_FILE
};

/* The option entries run and serve share, word for word. */
#define OPT_CHANNEL							\
	{ "channel", 0, O_CHANNEL, "node|stdio", "node|stdio",		\
	    "Node's IPC channel or stdio (default: node)" }
#define OPT_TRACE							\
	{ "trace", 0, O_TRACE, NULL, NULL,				\
	    "log each frame's direction and size on stderr" }
#define OPT_TRACE_FILE							\
	{ "trace-file", 0, O_TRACE_FILE, "FILE", NULL,			\
	    "write every frame to FILE as NDJSON (spy's trace)" }
#define OPT_QUIET							\
	{ "quiet", 'q', 'q', NULL, NULL,				\
	    "no warnings or notices on stderr, only errors" }
#define OPT_VERBOSE							\
	{ "verbose", 'v', 'v', NULL, NULL,				\
	    "show frames (first 64 bytes) and notices on stderr" }
#define OPT_SHOW							\
	{ NULL, 's', 's', "N", NULL,					\
	    "-v: bytes of a frame shown (default: 64, 0: all)" }
#define OPT_RAW							\
	{ "raw", 0, O_RAW, NULL, NULL,					\
	    "child lines without the {\"from\":...} wrapping" }
#define OPT_EVENTS_FD							\
	{ "events-fd", 0, O_EVENTS_FD, "N", NULL,			\
	    "write the events to descriptor N" }
#define OPT_LOG							\
	{ "log", 0, O_LOG, "prefix|inherit", "prefix|inherit",		\
	    "children's stderr behind NAME| , or as is" }
#define OPT_CONTROL							\
	{ "control", 0, O_CONTROL, "ADDR", NULL,			\
	    "the control socket (default: a NAME.sock of mine)" }
#define OPT_NO_CONTROL							\
	{ "no-control", 0, O_NO_CONTROL, NULL, NULL,			\
	    "no control socket: ipcrun ctl cannot reach this run" }
#define OPT_BACKOFF							\
	{ "backoff", 0, O_BACKOFF, "MIN:MAX", NULL,			\
	    "restart delay, doubling (default: 100ms:10s)" }
#define OPT_MAX_RESTARTS							\
	{ "max-restarts", 0, O_MAX_RESTARTS, "N/WINDOW", NULL,		\
	    "then give a child up (default: 5/1m)" }

enum route_mode { ROUTE_RR, ROUTE_BROADCAST, ROUTE_KEY };

/* ipcrun serve: how the children get the listening sockets. */
enum handoff { HANDOFF_NONE, HANDOFF_SERVER, HANDOFF_SYSTEMD,
    HANDOFF_CLUSTER, HANDOFF_SOCKET };

/*
 * What run (and serve) were asked, and what follows from it before the
 * first child starts: filled by run.c, run_setup.c and serve.c, then read
 * by the relay through r->cf, a const pointer, so that no relay file can
 * change an option under another. What changes while the run goes on is
 * struct run's.
 */
struct relay_conf {
	/* The channel and the input. */
	int		 node;		/* --channel node (some child on it) */
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
	uint64_t	 in_size;	/* stdin's, if a regular file */

	/* What ipcrun says, and where. */
	int		 trace;
	int		 verbose;	/* -v: frames' content, notices */
	size_t		 show;		/* -s: bytes of a frame shown, 0: all */
	const char	*trace_path;	/* --trace-file, or NULL */
	size_t		 trace_show;	/* its bytes of a frame: -s, or 0: all */
	int		 quiet;		/* -q: errors only */
	int		 stats;		/* --stats */
	int		 progress;	/* the meter: 1 on, 0 off */
	int		 out_tty;	/* the meter shares stdout's terminal */
	int		 wrap;		/* {"from":...} around child lines */
	int		 events;	/* --events */
	int		 events_fd;	/* theirs, or -1: in with the data */
	int		 log_prefix;	/* --log prefix */

	/* Routing. */
	enum route_mode	 route;
	struct route_key key;		/* --route key=PATH */
	const char	*key_path;
	int		 route_default;	/* --route-default: a child, or -1 */
	int		 hold_eof;	/* the end of input waits for all */
	int		 envelope;	/* --envelope */

	/* Restarts, and the ends of input. */
	int		 restart;	/* --restart */
	struct restart_backoff backoff;	/* --backoff */
	unsigned	 max_restarts;	/* --max-restarts N/WINDOW */
	int64_t		 restart_window;	/* ms, 0: the whole run */
	struct super_policy sp;		/* the table's view of the above */
	struct drain_policy dp;		/* the drain's */
	struct drain_policy dp_stdio;	/* for a stdio child among node ones */

	/* Handles: --handles, and where the unnamed ones go. */
	int		 handles;
	int64_t		 handle_timeout;	/* --handle-timeout, 0: serve */
	const char	*handle_timeout_arg;
	const char	*sink_arg;	/* --handle-sink, as given */
	struct addr	 sink;

	/* The control socket and the REPL. */
	const char	*ctl_addr;	/* --control, or NULL: the default */
	int		 ctl_off;	/* --no-control */
	const char	*ctl_name;	/* --name, for the default path */
	char		**argv0;	/* the command, for info */
	int		 repl;		/* 0: --no-repl */
	enum color_mode	 color;		/* --color */

	/* ipcrun serve. */
	int		 serve;
	enum handoff	 handoff;
	const char	*handoff_msg;	/* --message: JSON */
	int		 sched_rr;	/* --sched rr: ipcrun accepts */

	/* --tasks (run_task.c). */
	int		 tasks;
	unsigned	 retries;	/* --retries */
	unsigned	 max_inflight;	/* --max-inflight */
	int64_t		 task_timeout;	/* --task-timeout, or 0 */
	const char	*task_timeout_arg;
	const char	*id_path;	/* --id PATH, or NULL: in order */
	struct route_key idkey;
	const char	*rejects_path;	/* --rejects */
	int		 seq;		/* --seq: {"seq":N,...} */
	int		 keep_order;
	const char	*tasklog_path;
	int		 resume_failed;
};

#endif /* RELAY_CONF_H */
