/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: children and a lossless NDJSON relay between the shell and
 * them, over Node's IPC channel or the children's stdin/stdout. This file
 * is the options: it parses them into a struct relay_conf (relay.h), which
 * run_setup.c completes, and run_loop.c's run_main runs the relay on it.
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
#include <limits.h>
#include <sched.h>
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
#include "frame.h"
#include "jscan.h"
#include "restart.h"
#include "route.h"
#include "spawn.h"
#include "words.h"
#include "addr.h"
#include "relay.h"


#define RUN_MAXCHILD	1000	/* -n, and -c given so many times */
#define RUN_MAX_RESTARTS 5	/* --max-restarts 5/1m */
#define RUN_RESTART_WINDOW 60000

static const struct cmd_opt run_opts[] = {
	OPT_CHANNEL,
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
	{ "label", 0, O_LABEL, "NAME", NULL,
	    "the input's name in reports (default: -)" },
	{ "no-preload", 0, O_NO_PRELOAD, NULL, NULL,
	    "do not give Node the drain preload" },
	{ "no-validate", 0, O_NO_VALIDATE, NULL, NULL,
	    "frame lines without checking them (stdio only)" },
	{ "strict", 0, O_STRICT, NULL, NULL,
	    "stop at the first bad input line" },
	OPT_TRACE,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_SHOW,
	{ "stats", 0, O_STATS, NULL, NULL,
	    "print counts and the rate on stderr at the end" },
	{ "progress", 0, O_PROGRESS, NULL, NULL,
	    "show a meter on stderr (default: tty, file >= 64M)" },
	{ "no-progress", 0, O_NO_PROGRESS, NULL, NULL,
	    "never show the progress meter" },
	{ "copies", 'n', 'n', "N", NULL,
	    "run N copies of CMD, NAME.1 to NAME.N (or auto)" },
	{ "child", 'c', 'c', "NAME=CMD", NULL,
	    "child NAME runs CMD ARGS (NAME:stdio=: on stdio)" },
	{ "name", 0, O_NAME, "NAME", NULL,
	    "name of the copies (default: CMD's or its script's)" },
	{ "route", 0, O_ROUTE, "rr|broadcast|key=PATH", "rr|broadcast|key=",
	    "which child gets a line (default: rr)" },
	{ "route-default", 0, O_ROUTE_DEFAULT, "NAME", NULL,
	    "the child for lines without the key" },
	{ "envelope", 0, O_ENVELOPE, NULL, NULL,
	    "input is {\"to\":NAME|[NAMES]|\"*\",\"msg\":M}" },
	{ "handles", 0, O_HANDLES, NULL, NULL,
	    "{\"handle\":ADDR,\"msg\":M} lines pass descriptors" },
	{ "handle-timeout", 0, O_HANDLE_TIMEOUT, "DUR", NULL,
	    "--handles: wait for a child's answer (default: 10s)" },
	{ "handle-sink", 0, O_HANDLE_SINK, "ADDR", NULL,
	    "a child's handle for no child goes to unix ADDR" },
	OPT_RAW,
	{ "events", 0, O_EVENTS, NULL, NULL,
	    "spawn, ready, exit... events as JSON lines" },
	OPT_EVENTS_FD,
	OPT_LOG,
	{ "restart", 0, O_RESTART, "no|on-failure|always",
	    "no|on-failure|always",
	    "start an ended child again (default: no)" },
	OPT_BACKOFF,
	OPT_MAX_RESTARTS,
	OPT_CONTROL,
	OPT_NO_CONTROL,
	{ "no-repl", 0, O_NO_REPL, NULL, NULL,
	    "at a terminal, plain lines rather than the REPL" },
	{ "color", 0, O_COLOR, "auto|always|never", "auto|always|never",
	    "colour the REPL's replies (default: auto)" },
	{ "tasks", 0, O_TASKS, NULL, NULL,
	    "a task per line, one reply each, retried on failure" },
	{ "retries", 0, O_RETRIES, "N", NULL,
	    "--tasks: tries after the first (default: 2)" },
	{ "task-timeout", 0, O_TASK_TIMEOUT, "DUR", NULL,
	    "--tasks: restart a child whose task runs longer" },
	{ "max-inflight", 0, O_MAX_INFLIGHT, "K", NULL,
	    "--tasks: tasks a child holds at most (default: 32)" },
	{ "rejects", 0, O_REJECTS, "FILE", NULL,
	    "--tasks: write the tasks given up to FILE" },
	{ "id", 0, O_ID, "PATH", NULL,
	    "--tasks: the reply's member that names its task" },
	{ "seq", 0, O_SEQ, NULL, NULL,
	    "--tasks: the wrapper names each reply's input line" },
	{ "keep-order", 0, O_KEEP_ORDER, NULL, NULL,
	    "--tasks: replies in input order (a bounded window)" },
	{ "tasklog", 0, O_TASKLOG, "FILE", NULL,
	    "--tasks: append a TSV line per task settled to FILE" },
	{ "resume-failed", 0, O_RESUME_FAILED, NULL, NULL,
	    "--tasklog: skip the tasks FILE says were answered" },
	{ "wrap", 0, O_WRAP, NULL, NULL,
	    "wrap child lines as with several, even with one" },
	{ "from", 0, O_FROM, "ADDR", NULL,
	    "read input from a Redis stream, list or channel" },
	{ "to", 0, O_TO, "ADDR", NULL,
	    "write output to a Redis stream, list or channel" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

#define RUN_RETRIES	2	/* --retries */
#define RUN_INFLIGHT	32	/* --max-inflight: see bench/RESULTS.md */

static int
cmd_run_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct run	 r;
	struct relay_conf conf;
	const char	*cause, *env, *errstr, *maxline_arg = NULL;
	const char	*cname = NULL, *dflt = NULL, *spec[RUN_MAXCHILD];
	int		 ch, rc, set_eof = 0, set_fd = 0, set_preload = 0;
	int		 raw = 0, set_restart = 0, log = -1, wrap = 0;
	int		 set_task = 0;
	const char	*listen_arg[SERVE_MAXLISTEN];
	char		*from = NULL, *to = NULL;
	struct addr	 la[SERVE_MAXLISTEN];
	long long	 n;
	unsigned	 i, copies = 0, nspec = 0, nlisten = 0;

	memset(&r, 0, sizeof r);
	memset(&conf, 0, sizeof conf);
	r.ce = ce;
	r.cf = &conf;
	r.watch_fd = -1;
	conf.label = "-";
	conf.node = 1;
	conf.chan_to = 3;
	conf.eof = DRAIN_EOF_AUTO;
	conf.idle_ns = IDLE_DEFAULT;
	conf.kill_timeout = KILL_DEFAULT;
	conf.preload = 1;
	conf.validate = 1;
	conf.maxline = MAXLINE_DEFAULT;
	conf.show = SHOW_MAX;
	conf.backoff.min = RESTART_BACKOFF_MIN;
	conf.backoff.max = RESTART_BACKOFF_MAX;
	conf.max_restarts = RUN_MAX_RESTARTS;
	conf.retries = RUN_RETRIES;
	conf.max_inflight = RUN_INFLIGHT;
	conf.restart_window = RUN_RESTART_WINDOW;
	conf.progress = -1;
	conf.repl = 1;
	r.repl_fd = r.repl_pid = -1;
	r.roll = -1;
	if (ce == &cmd_serve_entry) {
		/* A server: no input, no end of it, and always up. */
		conf.serve = 1;
		conf.sched_rr = -1;
		conf.eof = DRAIN_EOF_WAIT;
		conf.restart = RESTART_ALWAYS;
		conf.progress = 0;
	}
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case O_CHANNEL:
			if (strcmp(optarg, "node") == 0)
				conf.node = 1;
			else if (strcmp(optarg, "stdio") == 0)
				conf.node = 0;
			else
				return cmd_usage_error(ce, "--channel '%s': "
				    "must be node or stdio", optarg);
			break;
		case O_CHANNEL_FD:
			n = strtonum(optarg, 3, 1023, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "--channel-fd '%s': "
				    "%s (3 to 1023)", optarg, errstr);
			conf.chan_to = (int)n;
			set_fd = 1;
			break;
		case O_EOF:
			set_eof = 1;
			if (strcmp(optarg, "auto") == 0)
				conf.eof = DRAIN_EOF_AUTO;
			else if (strcmp(optarg, "wait") == 0)
				conf.eof = DRAIN_EOF_WAIT;
			else if (strcmp(optarg, "close") == 0)
				conf.eof = DRAIN_EOF_CLOSE;
			else if (strcmp(optarg, "idle") == 0)
				conf.eof = DRAIN_EOF_IDLE;
			else if (strncmp(optarg, "idle:", 5) == 0) {
				conf.eof = DRAIN_EOF_IDLE;
				if (cmd_parse_duration(optarg + 5,
				    &conf.idle_ns, &cause) == -1)
					return cmd_usage_error(ce, "--eof '%s': "
					    "%s", optarg, cause);
			} else
				return cmd_usage_error(ce, "--eof '%s': must be "
				    "auto, idle[:DUR], wait or close", optarg);
			break;
		case O_EOF_TIMEOUT:
			if (cmd_parse_duration(optarg, &conf.eof_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--eof-timeout '%s': "
				    "%s", optarg, cause);
			if (conf.eof_timeout == 0)
				conf.eof_timeout = 1;
			break;
		case O_KILL_TIMEOUT:
			if (cmd_parse_duration(optarg, &conf.kill_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--kill-timeout "
				    "'%s': %s", optarg, cause);
			break;
		case O_MAX_LINE:
			if (cmd_parse_size(optarg, &conf.maxline, &cause) == -1)
				return cmd_usage_error(ce, "--max-line '%s': %s",
				    optarg, cause);
			maxline_arg = optarg;
			break;
		case O_NO_PRELOAD:
			conf.preload = 0;
			set_preload = 1;
			break;
		case O_NO_VALIDATE:
			conf.validate = 0;
			break;
		case O_STRICT:
			conf.strict = 1;
			break;
		case O_TRACE:
			conf.trace = 1;
			break;
		case 'q':
			conf.quiet = 1;
			break;
		case 'v':
			conf.verbose = 1;
			break;
		case 's':
			conf.show = (size_t)strtonum(optarg, 0, INT_MAX,
			    &cause);
			if (cause != NULL)
				return cmd_usage_error(ce, "-s '%s': %s", optarg,
				    cause);
			break;
		case O_STATS:
			conf.stats = 1;
			break;
		case O_PROGRESS:
		case O_NO_PROGRESS:
			conf.progress = ch == O_PROGRESS;
			break;
		case 'n':
			if (strcmp(optarg, "auto") == 0) {
				copies = run_ncpu();
				if (copies > RUN_MAXCHILD)
					copies = RUN_MAXCHILD;
				break;
			}
			n = strtonum(optarg, 1, RUN_MAXCHILD, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "-n '%s': %s (1 to "
				    "%d, or auto)", optarg, errstr,
				    RUN_MAXCHILD);
			copies = (unsigned)n;
			break;
		case O_TASKS:
			conf.tasks = 1;
			break;
		case O_RETRIES:
			n = strtonum(optarg, 0, 1000, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "--retries '%s': %s "
				    "(0 to 1000)", optarg, errstr);
			conf.retries = (unsigned)n;
			set_task = 1;
			break;
		case O_MAX_INFLIGHT:
			n = strtonum(optarg, 1, 65536, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "--max-inflight '%s': "
				    "%s (1 to 65536)", optarg, errstr);
			conf.max_inflight = (unsigned)n;
			set_task = 1;
			break;
		case O_TASK_TIMEOUT:
			if (cmd_parse_duration(optarg, &conf.task_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--task-timeout "
				    "'%s': %s", optarg, cause);
			if (conf.task_timeout == 0)
				return cmd_usage_error(ce, "--task-timeout "
				    "'%s': must be more than 0", optarg);
			conf.task_timeout_arg = optarg;
			set_task = 1;
			break;
		case O_REJECTS:
			conf.rejects_path = optarg;
			set_task = 1;
			break;
		case O_ID:
			if (route_key_parse(&conf.idkey, optarg, &cause) == -1)
				return cmd_usage_error(ce, "--id '%s': %s",
				    optarg, cause);
			conf.id_path = optarg;
			set_task = 1;
			break;
		case O_SEQ:
			conf.seq = 1;
			set_task = 1;
			break;
		case O_TASKLOG:
			conf.tasklog_path = optarg;
			set_task = 1;
			break;
		case O_RESUME_FAILED:
			conf.resume_failed = 1;
			set_task = 1;
			break;
		case O_KEEP_ORDER:
			conf.keep_order = 1;
			set_task = 1;
			break;
		case O_WRAP:
			wrap = 1;
			break;
		case 'c':
			if (nspec == RUN_MAXCHILD)
				return cmd_usage_error(ce, "-c: more than %d "
				    "children", RUN_MAXCHILD);
			spec[nspec++] = optarg;
			break;
		case O_FROM:
			from = optarg;
			break;
		case O_TO:
			to = optarg;
			break;
		case O_LABEL:
			conf.label = optarg;
			break;
		case O_NAME:
			cname = optarg;
			break;
		case O_CONTROL:
			conf.ctl_addr = optarg;
			break;
		case O_NO_CONTROL:
			conf.ctl_off = 1;
			break;
		case O_NO_REPL:
			conf.repl = 0;
			break;
		case O_COLOR:
			if (color_parse(optarg, &conf.color) == -1)
				return cmd_usage_error(ce, "--color '%s': must "
				    "be auto, always or never", optarg);
			break;
		case O_ROUTE:
			if (strcmp(optarg, "rr") == 0)
				conf.route = ROUTE_RR;
			else if (strcmp(optarg, "broadcast") == 0)
				conf.route = ROUTE_BROADCAST;
			else if (strncmp(optarg, "key=", 4) == 0) {
				conf.route = ROUTE_KEY;
				conf.key_path = optarg + 4;
				if (route_key_parse(&conf.key, conf.key_path,
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
			if (restart_parse(optarg, &conf.restart, &cause) == -1)
				return cmd_usage_error(ce, "--restart '%s': %s",
				    optarg, cause);
			break;
		case O_BACKOFF:
			if (restart_backoff_parse(&conf.backoff, optarg,
			    &cause) == -1)
				return cmd_usage_error(ce, "--backoff '%s': %s",
				    optarg, cause);
			set_restart = 1;
			break;
		case O_MAX_RESTARTS:
			if (restart_tally_parse(optarg, &conf.max_restarts,
			    &conf.restart_window, &cause) == -1)
				return cmd_usage_error(ce, "--max-restarts "
				    "'%s': %s", optarg, cause);
			set_restart = 1;
			break;
		case O_ROUTE_DEFAULT:
			dflt = optarg;
			break;
		case O_HANDLE_TIMEOUT:
			if (cmd_parse_duration(optarg, &conf.handle_timeout,
			    &cause) == -1)
				return cmd_usage_error(ce, "--handle-timeout "
				    "'%s': %s", optarg, cause);
			if (conf.handle_timeout == 0)
				return cmd_usage_error(ce, "--handle-timeout "
				    "'%s': must be more than 0", optarg);
			conf.handle_timeout_arg = optarg;
			break;
		case O_HANDLE_SINK:
			conf.sink_arg = optarg;
			break;
		case O_HANDLES:
			conf.handles = 1;
			break;
		case O_ENVELOPE:
			conf.envelope = 1;
			break;
		case O_RAW:
			raw = 1;
			break;
		case O_EVENTS:
			conf.events = 1;
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
			conf.events = 1;
			conf.events_fd = (int)n;
			break;
		default:
			if (!conf.serve)
				return EXIT_FAIL;
			if ((rc = serve_option(&r, &conf, ch, optarg,
			    listen_arg, &nlisten)) != 0)
				return rc;
			break;
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
	if (set_restart && conf.restart == RESTART_NO)
		return cmd_usage_error(ce, "--backoff and --max-restarts apply "
		    "with --restart on-failure or always");
	if (dflt != NULL && conf.route != ROUTE_KEY)
		return cmd_usage_error(ce, "--route-default applies to --route "
		    "key=PATH only");
	if (conf.handle_timeout_arg != NULL && !conf.handles)
		return cmd_usage_error(ce, "--handle-timeout applies with "
		    "--handles");
	if (conf.sink_arg != NULL &&
	    (rc = run_handle_sink_open(&r, &conf)) != 0)
		return rc;
	if (conf.handles && conf.handle_timeout == 0)
		conf.handle_timeout = RUN_HANDLE_TIMEOUT;
	if (conf.handles && (!conf.node || conf.route == ROUTE_BROADCAST))
		return cmd_usage_error(ce, "--handles: %s", !conf.node ?
		    "handles go on the node channel, not with --channel stdio" :
		    "a descriptor goes to one child, not --route broadcast");
	if (conf.envelope && conf.route != ROUTE_RR)
		return cmd_usage_error(ce, "--envelope and --route: the "
		    "envelope names the children");
	if (conf.ctl_addr != NULL && conf.ctl_off)
		return cmd_usage_error(ce, "--control and --no-control cannot "
		    "be used together");
	conf.ctl_name = cname;
	if (conf.quiet && conf.verbose)
		return cmd_usage_error(ce, "-q and -v cannot be used together");
	if (conf.quiet && conf.stats)
		return cmd_usage_error(ce, "-q and --stats cannot be used "
		    "together");
	if (conf.serve &&
	    (rc = serve_check(&r, &conf, argv, nlisten, set_fd)) != 0)
		return rc;
	if ((rc = run_tasks_check(&r, &conf, set_task, raw, wrap)) != 0)
		return rc;
	if ((from != NULL || to != NULL) &&
	    (rc = run_ends_parse(&r, &conf, from, to)) != 0)
		return rc;
	if ((env = getenv("IPCRUN_JSCAN")) != NULL && *env != '\0' &&
	    jscan_set_impl(env) == -1) {
		cmd_warnx(ce, "IPCRUN_JSCAN '%s': not available on this CPU "
		    "(use avx512, avx2, sse42, sse2 or scalar)", env);
		return EXIT_FAIL;
	}
	r.nw = nspec > 0 ? nspec : copies > 0 ? copies : 1;
	conf.route_default = -1;
	conf.wrap = !raw && (r.nw > 1 || conf.envelope || wrap || conf.seq);
	run_policy(&r, &conf);
	/* A child writing to the meter's terminal itself would garble it. */
	conf.log_prefix = log == -1 ? r.nw > 1 || conf.progress == 1 : log;
	conf.hold_eof = r.nw > 1 && conf.route == ROUTE_RR && !conf.envelope;
	if (conf.events && conf.events_fd == 0)
		conf.events_fd = conf.wrap ? -1 : STDERR_FILENO;
	if ((r.w = calloc(r.nw, sizeof *r.w)) == NULL ||
	    (r.exit_order = calloc(r.nw, sizeof *r.exit_order)) == NULL ||
	    run_task_init(&r) == -1) {
		cmd_warn(ce, "malloc");
		free(r.w);
		free(r.exit_order);
		run_task_release(&r);
		return EXIT_FAIL;
	}
	/* serve: the sockets, before any child. */
	if (conf.serve &&
	    (rc = serve_bind(&r, &conf, listen_arg, nlisten, la)) != 0)
		goto out;
	/* Nothing open yet: a release before the start closes nothing. */
	for (i = 0; i < r.nw; i++) {
		chan_blank(&r.w[i].ch);
		r.w[i].logfd = -1;
	}
	envelope_init(&r.env);
	if ((rc = run_name_children(&r, &conf, argv, copies, cname, spec,
	    nspec, dflt)) == 0 && (rc = run_check_channels(&r, &conf, set_eof,
	    set_fd, set_preload, maxline_arg)) == 0) {
		run_tables(&conf);
		rc = run_main(&r);
	}
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
out:
	for (i = 0; i < r.nlisten; i++) {
		close(r.lfd[i]);
		addr_unlink(&la[i]);
	}
	free(r.fdnames);
	run_task_release(&r);
	if (r.fail && rc == 0)
		rc = EXIT_FAIL;
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

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "[--] CMD [ARG ...]",
	.summary = "listen, and share the sockets with N children",
	.exec = cmd_run_exec,
	.opts = serve_opts
};
