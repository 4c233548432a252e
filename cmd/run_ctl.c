/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run and serve: the control socket (ipcrun ctl). Its set-up and
 * end, the poll callbacks of its listening socket and of its clients
 * (which only accept, read and write), and the pass that answers their
 * requests (lib/ctlproto.c parses them): ps, send, signal, restart,
 * stop, tap, events, stats, info. Commands that change a child go
 * through the supervision table (lib/super.c: STOP, RESTART) and the
 * relay's own functions, never by setting its fields.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "ctl.h"
#include "ctlproto.h"
#include "ev.h"
#include "super.h"
#include "relay.h"

static void	run_ctl_on_client(struct ev *, int, short, void *);

/* A peer came: served if it is ours and there is room, else refused. */
static void
run_ctl_on_listen(struct ev *ev, int fd, short revents, void *arg)
{
	struct run		*r = arg;
	struct addr_peer	 p;
	const char		*why;
	int			 i;

	(void)fd;
	(void)revents;
	if ((i = ctl_accept(&r->ctl, &p, &why)) == -1) {
		if (why != NULL)
			cmd_warnx(r->ce, "control socket '%s': refused a "
			    "client (%s; uid %ld, pid %ld)", r->ctl.name, why,
			    p.known ? (long)p.uid : -1L,
			    p.known ? (long)p.pid : 0L);
		return;
	}
	if (ev_add(ev, r->ctl.c[i].fd, POLLIN, run_ctl_on_client, r) == -1)
		ctl_drop(&r->ctl, &r->ctl.c[i]);
}

static void
run_ctl_drop(struct run *r, struct ctl_client *cl)
{
	ev_del(&r->ev, cl->fd);
	ctl_drop(&r->ctl, cl);
}

/* A client: its requests read in, its replies and events written out. */
static void
run_ctl_on_client(struct ev *ev, int fd, short revents, void *arg)
{
	struct run		*r = arg;
	struct ctl_client	*cl;

	(void)ev;
	if ((cl = ctl_client_of(&r->ctl, fd)) != NULL &&
	    ctl_io(&r->ctl, cl, revents) == -1)
		run_ctl_drop(r, cl);
}

/* run's REPL has a control connection of its own, socket or not. */
static int
run_ctl_adopt(struct run *r)
{
	int	i;

	if (r->repl_fd == -1)
		return 0;
	if ((i = ctl_adopt(&r->ctl, r->repl_fd)) == -1 ||
	    ev_add(&r->ev, r->repl_fd, POLLIN, run_ctl_on_client, r) == -1) {
		cmd_warn(r->ce, "the REPL's control connection");
		if (i != -1)
			ctl_drop(&r->ctl, &r->ctl.c[i]);
		else
			close(r->repl_fd);
		r->repl_fd = -1;
		return -1;
	}
	r->repl_fd = -1;	/* the table's now */
	return 0;
}

/*
 * The control socket, before any child starts. --control ADDR is bound
 * or the run fails (a live socket there is refused: another run has it).
 * By default NAME.sock in the control directory (NAME: --name, or
 * ipcrun's pid); if another live run has that NAME, NAME.PID.sock; and
 * if the directory cannot be trusted, the run goes on without one, with
 * a warning: the socket is for looking in, not a reason to fail.
 */
int
run_ctl_start(struct run *r)
{
	char		 path[300], err[512], name[CTL_NAMEMAX + 32];
	const char	*spec = r->cf->ctl_addr;
	int		 tries;

	ctl_init(&r->ctl);
	if (run_ctl_adopt(r) == -1)
		return -1;
	if (r->cf->ctl_off)
		return 0;
	if (spec != NULL && ctl_listen(&r->ctl, spec, err, sizeof err) == -1) {
		cmd_warnx(r->ce, "--control %s", err);
		return -1;
	}
	for (tries = 0; spec == NULL && tries < 2; tries++) {
		if (r->cf->ctl_name == NULL)
			snprintf(name, sizeof name, "%ld", (long)getpid());
		else if (tries == 0)
			snprintf(name, sizeof name, "%s", r->cf->ctl_name);
		else
			snprintf(name, sizeof name, "%s.%ld", r->cf->ctl_name,
			    (long)getpid());
		if (ctl_default_path(name, path + 5, sizeof path - 5, err,
		    sizeof err) == -1) {
			cmd_warnx(r->ce, "no control socket: %s", err);
			return 0;
		}
		memcpy(path, "unix:", 5);
		if (ctl_listen(&r->ctl, path, err, sizeof err) != -1)
			break;
		if (tries == 1 || r->cf->ctl_name == NULL) {
			cmd_warnx(r->ce, "no control socket: %s", err);
			return 0;
		}
		run_notice(r, "control socket %s; using %s.%ld.sock", err,
		    r->cf->ctl_name, (long)getpid());
	}
	if (ev_add(&r->ev, r->ctl.lfd, POLLIN, run_ctl_on_listen, r) == -1) {
		cmd_warn(r->ce, "poll set");
		ctl_close(&r->ctl);
		return -1;
	}
	run_trace(r, "control socket %s", r->ctl.name);
	return 0;
}

void
run_ctl_end(struct run *r)
{
	size_t	i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		if (r->ctl.c[i].fd != -1) {
			/* What is queued goes if it can, without a wait. */
			(void)ctl_write(&r->ctl.c[i]);
			ev_del(&r->ev, r->ctl.c[i].fd);
		}
	}
	if (r->ctl.lfd != -1)
		ev_del(&r->ev, r->ctl.lfd);
	ctl_close(&r->ctl);
}

void
run_ctl_interest(struct run *r)
{
	struct ctl_client	*cl;
	size_t			 i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		cl = &r->ctl.c[i];
		if (cl->fd == -1)
			continue;
		ev_set(&r->ev, cl->fd, (cl->eof ? 0 : POLLIN) |
		    (cl->out.len > 0 ? POLLOUT : 0));
	}
}

static double
run_ctl_age(int64_t since)
{
	return since == 0 ? 0 : (double)(ev_now() - since) / SEC;
}

static json_t *
run_ctl_info(struct run *r)
{
	json_t	*cmd = json_array();
	char	**a;

	for (a = r->w[0].argv; a != NULL && *a != NULL; a++)
		json_array_append_new(cmd, json_string(*a));
	return json_pack("{s:s?,s:i,s:o,s:i,s:f,s:s}", "name", r->cf->ctl_name,
	    "pid", (int)getpid(), "command", cmd, "children", (int)r->nw,
	    "uptime", run_ctl_age(r->t0), "mode",
	    r->cf->serve ? "serve" : "run");
}

static json_t *
run_ctl_ps(struct run *r)
{
	struct worker	*w;
	json_t		*a = json_array(), *o;

	for (w = r->w; w < r->w + r->nw; w++) {
		o = json_pack("{s:s,s:i,s:s,s:i,s:f,s:I,s:I,s:I,s:I,s:I}",
		    "name", w->name, "pid", (int)w->pid,
		    "state", super_state_name(w->sv.state),
		    "restarts", (int)w->sv.restarts,
		    "uptime", run_alive(w) ? run_ctl_age(w->sv.spawned) : 0.0,
		    "in", (json_int_t)w->in_lines,
		    "in_bytes", (json_int_t)w->ch.sent,
		    "out", (json_int_t)w->out_frames,
		    "out_bytes", (json_int_t)w->ch.received,
		    "queue", (json_int_t)w->ch.tq.len);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
run_ctl_stats(struct run *r)
{
	return json_pack("{s:f,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "uptime", run_ctl_age(r->t0),
	    "in_bytes", (json_int_t)r->in_bytes,
	    "replies", (json_int_t)r->replies,
	    "reply_bytes", (json_int_t)r->reply_bytes,
	    "refused", (json_int_t)r->refused,
	    "ctl_refused", (json_int_t)r->ctl.refused,
	    "tap_dropped", (json_int_t)r->ctl.dropped);
}

/*
 * The children an argument names: one by name, or "all". Returns how
 * many were put in out (0: none such, *err says so).
 */
static size_t
run_ctl_targets(struct run *r, const char *name, unsigned *out,
    char *err, size_t errlen)
{
	struct worker	*w;
	size_t		 n = 0;

	if (name == NULL) {
		snprintf(err, errlen, "a child's name (or all) is needed");
		return 0;
	}
	if (strcmp(name, "all") == 0) {
		for (w = r->w; w < r->w + r->nw; w++)
			out[n++] = w->idx;
		return n;
	}
	if ((w = run_find(r, name, strlen(name))) == NULL) {
		snprintf(err, errlen, "no child named \"%.64s\"", name);
		return 0;
	}
	out[0] = w->idx;
	return 1;
}

static int
run_ctl_signum(const char *s)
{
	const char	*e, *errstr;
	int		 sig;

	if (s == NULL)
		return -1;
	if (*s >= '0' && *s <= '9') {
		sig = (int)strtonum(s, 1, 64, &errstr);
		return errstr == NULL ? sig : -1;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (sig = 1; sig < 65; sig++) {
		if ((e = sigabbrev_np(sig)) != NULL && strcasecmp(e, s) == 0)
			return sig;
	}
	return -1;
}

/*
 * send NAME MSG: MSG, any JSON value, as one line to the child NAME, as
 * if it came on stdin for it. Node's own messages are refused, as on
 * stdin.
 */
static char *
run_ctl_send(struct run *r, struct ctlproto_req *q, size_t *len)
{
	struct worker	*w;
	json_t		*m = json_array_get(q->args, 1), *c;
	const char	*name = ctlproto_str(q, 0);
	char		*line;
	int		 rc;

	if (name == NULL || m == NULL || q->nargs != 2)
		return ctlproto_err(q, len, "send: NAME MESSAGE");
	if ((w = run_find(r, name, strlen(name))) == NULL)
		return ctlproto_err(q, len, "no child named \"%.64s\"", name);
	if (!run_takes(w))
		return ctlproto_err(q, len, "child \"%s\" %s", w->name,
		    w->gone ? "has exited" : "takes no more input");
	if (r->cf->node && json_is_object(m) &&
	    (c = json_object_get(m, "cmd")) != NULL && json_is_string(c) &&
	    strncmp(json_string_value(c), "NODE_", 5) == 0)
		return ctlproto_err(q, len, "a \"cmd\" of NODE_... is Node's "
		    "own message: not sent");
	if ((line = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER)) == NULL)
		return ctlproto_err(q, len, "out of memory");
	rc = run_send_line(r, w, line, strlen(line));
	free(line);
	if (rc == -1)
		return ctlproto_err(q, len, "queue: %s", strerror(errno));
	return ctlproto_ok(q, json_pack("{s:s,s:i}", "to", w->name, "pid",
	    (int)w->pid), len);
}

/*
 * One child signalled, restarted (gracefully: run_roll.c) or stopped.
 * Returns -1 when a restart cannot be: its input has ended.
 */
static int
run_ctl_one(struct run *r, struct worker *w, enum ctlproto_cmd cmd, int sig)
{
	switch (cmd) {
	case CTL_SIGNAL:
		run_trace(r, "ctl: %s to group %ld", run_signame(sig),
		    (long)w->pid);
		run_kill(r, w, sig);
		return 0;
	case CTL_RESTART:
		if (run_restart(r, w) == -1)
			return -1;
		run_notice(r, "'%s' (pid %ld): restart asked on the control "
		    "socket", w->name, (long)w->pid);
		return 0;
	default:
		run_notice(r, "'%s' (pid %ld): stop asked on the control "
		    "socket", w->name, (long)w->pid);
		(void)super_step(&w->sv, &r->cf->sp, SUPER_EV_STOP, ev_now());
		return 0;
	}
}

/* restart all --rolling: serve's SIGHUP roll, one child at a time. */
static char *
run_ctl_roll(struct run *r, struct ctlproto_req *q, size_t *len)
{
	json_t	*names = json_array();
	size_t	 i;

	run_roll_start(r, "restart all --rolling on the control socket");
	for (i = 0; i < r->nw; i++) {
		if (run_alive(&r->w[i]))
			json_array_append_new(names,
			    json_string(r->w[i].name));
	}
	return ctlproto_ok(q, json_pack("{s:o}", "restarting", names), len);
}

/* restart NAME|all [--rolling]; stop NAME|all; signal NAME|all SIG. */
static char *
run_ctl_act(struct run *r, struct ctlproto_req *q, size_t *len)
{
	struct worker	*w;
	unsigned	*idx;
	char		 err[128];
	size_t		 n, i;
	json_t		*done;
	const char	*opt = ctlproto_str(q, 1);
	int		 sig = 0, rolling = 0;
	char		*rep;

	if (q->cmd == CTL_SIGNAL) {
		if (q->nargs != 2 || (sig = run_ctl_signum(opt)) == -1)
			return ctlproto_err(q, len, "signal: NAME|all SIGNAL "
			    "(a name such as USR2, or a number)");
	} else if (q->cmd == CTL_RESTART && opt != NULL &&
	    strcmp(opt, "--rolling") == 0 && q->nargs == 2) {
		if (ctlproto_str(q, 0) == NULL ||
		    strcmp(ctlproto_str(q, 0), "all") != 0)
			return ctlproto_err(q, len, "restart --rolling: only "
			    "with all (one child is restarted alone)");
		rolling = 1;
	} else if (q->nargs != 1)
		return ctlproto_err(q, len, "%s: NAME|all%s", q->name,
		    q->cmd == CTL_RESTART ? " [--rolling]" : "");
	if ((idx = calloc(r->nw, sizeof *idx)) == NULL)
		return ctlproto_err(q, len, "out of memory");
	if ((n = run_ctl_targets(r, ctlproto_str(q, 0), idx, err,
	    sizeof err)) == 0) {
		free(idx);
		return ctlproto_err(q, len, "%s", err);
	}
	if (n == 1 && !run_alive(&r->w[idx[0]])) {
		w = &r->w[idx[0]];
		free(idx);
		return ctlproto_err(q, len, "child \"%s\" is not running (%s)",
		    w->name, super_state_name(w->sv.state));
	}
	if (rolling) {
		free(idx);
		return run_ctl_roll(r, q, len);
	}
	done = json_array();
	for (i = 0; i < n; i++) {
		w = &r->w[idx[i]];
		if (!run_alive(w))
			continue;
		if (run_ctl_one(r, w, q->cmd, sig) == -1) {
			if (n == 1) {
				free(idx);
				json_decref(done);
				return ctlproto_err(q, len, "child \"%s\" has had "
				    "its end of input: not restarted", w->name);
			}
			continue;
		}
		json_array_append_new(done, json_string(w->name));
	}
	free(idx);
	rep = ctlproto_ok(q, json_pack("{s:o}", q->cmd == CTL_SIGNAL ?
	    "signalled" : q->cmd == CTL_RESTART ? "restarting" : "stopping",
	    done), len);
	return rep;
}

/* start NAME|all: children down for good, started again. */
static char *
run_ctl_cmd_start(struct run *r, struct ctlproto_req *q, size_t *len)
{
	struct worker	*w;
	const char	*name = ctlproto_str(q, 0), *why;
	json_t		*done;

	if (name == NULL || q->nargs != 1)
		return ctlproto_err(q, len, "start: NAME|all");
	if (strcmp(name, "all") != 0) {
		if ((w = run_find(r, name, strlen(name))) == NULL)
			return ctlproto_err(q, len, "no child named \"%.64s\"",
			    name);
		if (run_start(r, w, &why) == -1)
			return ctlproto_err(q, len, "child \"%s\" %s", w->name,
			    why);
		run_notice(r, "'%s': start asked on the control socket",
		    w->name);
		return ctlproto_ok(q, json_pack("{s:[s]}", "starting",
		    w->name), len);
	}
	done = json_array();
	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->sv.state != SUPER_DONE || run_start(r, w, &why) == -1)
			continue;
		run_notice(r, "'%s': start asked on the control socket",
		    w->name);
		json_array_append_new(done, json_string(w->name));
	}
	return ctlproto_ok(q, json_pack("{s:o}", "starting", done), len);
}

/* scale N: the first N children run (a number, or a string of one). */
static char *
run_ctl_scale(struct run *r, struct ctlproto_req *q, size_t *len)
{
	json_t		*a = json_array_get(q->args, 0), *up;
	const char	*s = ctlproto_str(q, 0), *why, *errstr = NULL;
	long long	 n = -1;
	size_t		 i;

	if (q->nargs == 1 && json_is_integer(a))
		n = json_integer_value(a);
	else if (q->nargs == 1 && s != NULL)
		n = strtonum(s, 1, UINT_MAX, &errstr);
	if (n < 1 || n > UINT_MAX || errstr != NULL)
		return ctlproto_err(q, len, "scale: N (a number of children)");
	if (run_scale(r, (unsigned)n, &why) == -1)
		return ctlproto_err(q, len, "%s", why);
	up = json_array();
	for (i = 0; i < (size_t)n; i++)
		json_array_append_new(up, json_string(r->w[i].name));
	return ctlproto_ok(q, json_pack("{s:I,s:o}", "scale", (json_int_t)n,
	    "children", up), len);
}

static char *
run_ctl_tap(struct run *r, struct ctl_client *cl, struct ctlproto_req *q,
    size_t *len)
{
	unsigned	*idx;
	char		 err[128];
	size_t		 i, n = 0;
	json_t		*names = json_array();

	if ((idx = calloc(q->nargs + 1, sizeof *idx)) == NULL) {
		json_decref(names);
		return ctlproto_err(q, len, "out of memory");
	}
	for (i = 0; i < q->nargs; i++) {
		if (run_ctl_targets(r, ctlproto_str(q, i), idx + n, err,
		    sizeof err) != 1 || strcmp(ctlproto_str(q, i), "all") == 0) {
			free(idx);
			json_decref(names);
			return ctlproto_err(q, len, "%s", err);
		}
		json_array_append_new(names, json_string(r->w[idx[n]].name));
		n++;
	}
	if (ctl_tap(&r->ctl, cl, (int)q->id, r->nw, idx, n) == -1) {
		free(idx);
		json_decref(names);
		return ctlproto_err(q, len, "out of memory");
	}
	free(idx);
	if (n == 0) {
		for (i = 0; i < r->nw; i++)
			json_array_append_new(names,
			    json_string(r->w[i].name));
	}
	return ctlproto_ok(q, json_pack("{s:o}", "tapping", names), len);
}

static char *
run_ctl_answer(struct run *r, struct ctl_client *cl, struct ctlproto_req *q,
    size_t *len)
{
	switch (q->cmd) {
	case CTL_INFO:
		return ctlproto_ok(q, run_ctl_info(r), len);
	case CTL_PS:
		return ctlproto_ok(q, run_ctl_ps(r), len);
	case CTL_STATS:
		return ctlproto_ok(q, run_ctl_stats(r), len);
	case CTL_SEND:
		return run_ctl_send(r, q, len);
	case CTL_SIGNAL:
	case CTL_RESTART:
	case CTL_STOP:
		return run_ctl_act(r, q, len);
	case CTL_TAP:
		return run_ctl_tap(r, cl, q, len);
	case CTL_UNTAP:
		ctl_untap(&r->ctl, cl);
		return ctlproto_ok(q, NULL, len);
	case CTL_EVENTS:
		ctl_subscribe(&r->ctl, cl, (int)q->id);
		return ctlproto_ok(q, json_pack("{s:b}", "subscribed", 1), len);
	case CTL_START:
		return run_ctl_cmd_start(r, q, len);
	case CTL_SCALE:
		return run_ctl_scale(r, q, len);
	}
	return ctlproto_err(q, len, "unknown command");
}

/* One client's whole requests, answered in order. */
static void
run_ctl_serve(struct run *r, struct ctl_client *cl)
{
	struct ctlproto_req	 q;
	const char		*p;
	char			 err[256], *rep;
	size_t			 n, len = 0;

	while (ctl_next(cl, &p, &n)) {
		if (n == 0) {
			ctl_consumed(cl, n);
			continue;
		}
		if (ctlproto_parse(p, n, &q, err, sizeof err) == -1)
			rep = ctlproto_err(&q, &len, "%s", err);
		else
			rep = run_ctl_answer(r, cl, &q, &len);
		ctlproto_free(&q);
		ctl_consumed(cl, n);
		if (rep == NULL || ctl_put(cl, rep, len) == -1) {
			free(rep);
			run_ctl_drop(r, cl);
			return;
		}
		free(rep);
	}
	/* A request longer than any: refused, and the client goes. */
	if (!cl->eof && cl->in.len >= CTL_REQMAX) {
		ctl_shut(cl);
		rep = ctlproto_err(NULL, &len, "a request longer than %d "
		    "bytes: refused, and the connection closed", CTL_REQMAX);
		if (rep == NULL || ctl_put(cl, rep, len) == -1) {
			free(rep);
			run_ctl_drop(r, cl);
			return;
		}
		free(rep);
	}
	/* Its end closed and all answered: it goes once they are out. */
	if (cl->eof && cl->out.len == 0)
		run_ctl_drop(r, cl);
}

void
run_ctl_pass(struct run *r)
{
	size_t	i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		if (r->ctl.c[i].fd != -1)
			run_ctl_serve(r, &r->ctl.c[i]);
	}
}
