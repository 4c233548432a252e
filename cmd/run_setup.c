/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: what the options decide once they are all read. The
 * policies that follow from them, the checks between them, and each
 * child's name, command and channel. run.c calls these; they call only
 * downwards.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "drain.h"
#include "envelope.h"
#include "ev.h"
#include "restart.h"
#include "route.h"
#include "spawn.h"
#include "words.h"
#include "relay.h"

/* -n auto: the CPUs ipcrun may run on, as nproc(1) counts them. */
unsigned
run_ncpu(void)
{
	cpu_set_t	set;
	int		n;

	if (sched_getaffinity(0, sizeof set, &set) == 0 &&
	    (n = CPU_COUNT(&set)) > 0)
		return (unsigned)n;
	return 1;
}

/* The --tasks options, checked once all are parsed. */
int
run_tasks_check(struct run *r, struct relay_conf *c, int set_task, int raw,
    int wrap)
{
	int	fd;

	if (!c->tasks && set_task)
		return cmd_usage_error(r->ce, "--retries, --task-timeout, "
		    "--max-inflight, --rejects, --id, --seq, --keep-order, "
		    "--tasklog and --resume-failed apply with --tasks");
	if (raw && (wrap || c->seq))
		return cmd_usage_error(r->ce, "--raw and --%s cannot be used "
		    "together", wrap ? "wrap" : "seq");
	if (!c->tasks)
		return 0;
	if (c->route != ROUTE_RR || c->envelope)
		return cmd_usage_error(r->ce, "--tasks sends each task to one "
		    "child with room: not with --route or --envelope");
	if (c->resume_failed && c->tasklog_path == NULL)
		return cmd_usage_error(r->ce, "--resume-failed reads the log "
		    "of --tasklog FILE: give it");
	if (c->rejects_path != NULL) {
		if ((fd = open(c->rejects_path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0666)) == -1 ||
		    (r->rejects = fdopen(fd, "w")) == NULL) {
			cmd_warn(r->ce, "--rejects '%s'", c->rejects_path);
			if (fd != -1)
				close(fd);
			return EXIT_FAIL;
		}
	}
	return run_tasklog_open(r);
}

/*
 * The meter, as check decides it: for a person at a terminal, reading a
 * large file, unless TERM=dumb cannot redraw a line or -q asks for
 * silence; --progress shows it anywhere. NO_COLOR is about colour, which
 * the meter has none of (issue 30).
 */
void
run_policy(struct run *r, struct relay_conf *c)
{
	const char	*term = getenv("TERM");
	struct stat	 st;

	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		c->in_size = (uint64_t)st.st_size;
	if (c->progress == -1)
		c->progress = isatty(STDERR_FILENO) && !c->quiet &&
		    (term == NULL || strcmp(term, "dumb") != 0) &&
		    c->in_size >= PROGRESS_MIN;
	c->out_tty = c->progress == 1 && isatty(STDOUT_FILENO);
}

/*
 * What needs Node's channel, checked once each child's channel is known
 * (-c NAME:stdio=...): r->cf->node becomes "some child is on it".
 */
int
run_check_channels(struct run *r, struct relay_conf *c, int set_eof,
    int set_fd, int set_preload, const char *maxline_arg)
{
	const struct cmd_entry	*ce = r->ce;
	unsigned		 i;

	c->node = 0;
	for (i = 0; i < r->nw; i++)
		c->node |= r->w[i].node;
	if (c->node && !c->validate)
		return cmd_usage_error(ce, "--no-validate is for --channel "
		    "stdio only: a Node child crashes on an invalid line");
	if (c->node && c->maxline > NODE_MAXLINE)
		return cmd_usage_error(ce, "--max-line '%s': more than a Node "
		    "child can hold in one string (at most %zuM on the node "
		    "channel)", maxline_arg, NODE_MAXLINE >> 20);
	if (!c->node && (set_eof || set_fd || set_preload))
		return cmd_usage_error(ce, "%s applies to --channel node only",
		    set_eof ? "--eof" : set_fd ? "--channel-fd" :
		    "--no-preload");
	return 0;
}

/*
 * -c NAME:node=CMD or NAME:stdio=CMD: this child's channel, whatever
 * --channel says for the others. *one is the spec without it, to free,
 * or NULL when it had none. A ':' was never part of a NAME, so every -c
 * that was good before means what it meant.
 */
static int
run_spec_channel(struct run *r, struct relay_conf *c, struct worker *w,
    const char *spec, char **one)
{
	const char	*p, *rest;

	*one = NULL;
	for (p = spec; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-';
	    p++)
		;
	if (*p != ':' || p == spec)
		return 0;
	if (strncmp(p + 1, "node=", 5) == 0) {
		w->node = 1;
		rest = p + 5;
	} else if (strncmp(p + 1, "stdio=", 6) == 0) {
		w->node = 0;
		rest = p + 6;
	} else {
		cmd_usage_error(r->ce, "-c '%s': after '%.*s:' comes the "
		    "child's channel, node or stdio, then '=' (column %zu)",
		    spec, (int)(p - spec), spec, (size_t)(p - spec) + 2);
		return -1;
	}
	if (asprintf(one, "%.*s%s", (int)(p - spec), spec, rest) == -1) {
		*one = NULL;
		cmd_warn(r->ce, "malloc");
		return -1;
	}
	return 0;
}

/*
 * The children's names and commands: -c NAME=CMD ARGS (split as sh(1)
 * would, no expansions, exec'd without a shell), or CMD as it is, once or
 * -n times as NAME.1 to NAME.N (NAME: --name, or CMD's, or its script's).
 * A name given twice is an error.
 */
int
run_name_children(struct run *r, struct relay_conf *c, char **argv,
    unsigned copies, const char *cname, const char **spec, unsigned nspec,
    const char *dflt)
{
	struct worker	*w;
	const char	*base;
	char		 err[256], *one = NULL;
	size_t		 len;
	unsigned	 i;
	int		 rc;

	for (i = 0; i < r->nw; i++) {
		w = &r->w[i];
		w->idx = i;
		w->node = c->node;
		if (nspec > 0) {
			if (run_spec_channel(r, c, w, spec[i], &one) == -1)
				return EXIT_FAIL;
			rc = words_name_cmd(one != NULL ? one : spec[i],
			    &w->alloc_name, &w->argv, err, sizeof err);
			free(one);
			if (rc == -1)
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
		/* node srv/worker.js: worker.1 (see words_cmd_name). */
		if (cname == NULL)
			base = words_cmd_name(argv, &len);
		else {
			base = cname;
			len = strlen(cname);
		}
		if (asprintf(&w->alloc_name, "%.*s.%u", (int)len, base,
		    i + 1) == -1) {
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
		c->route_default = (int)w->idx;
	}
	return 0;
}

/*
 * The tables' views of the options (lib/super.c, lib/drain.c), once every
 * child's channel is known. The restart tally counts from here.
 */
void
run_tables(struct relay_conf *c)
{
	c->sp.restart = c->restart;
	c->sp.kill_timeout = c->kill_timeout;
	c->sp.t0 = ev_now();
	c->dp.eof = c->eof;
	c->dp.node = c->node;
	c->dp.idle_ns = c->idle_ns;
	c->dp.eof_timeout = c->eof_timeout;
	c->dp.kill_timeout = c->kill_timeout;
	c->dp_stdio = c->dp;
	c->dp_stdio.node = 0;
}
