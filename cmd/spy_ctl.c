/* SPDX-License-Identifier: ISC */
/*
 * ipcrun spy --tap: a control socket of spy's own (lib/ctl.c, as run's),
 * spy.PID.sock where PID is the real child's, so that `ipcrun ctl` lists
 * it and `ipcrun ctl spy.PID tap` streams every frame both ways, whole,
 * as run's taps do (the advanced ones decoded to JSON where they can
 * be). It answers info, ps, tap, untap and stats; a client that lags
 * loses frames, counted, and never slows the relay. spy.c drives it;
 * spy_trace.c hands it the frames.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "ctl.h"
#include "ctlproto.h"
#include "ev.h"
#include "spy.h"

static void
spy_ctl_drop(struct spy *s, struct ctl_client *cl)
{
	ev_del(&s->ev, cl->fd);
	ctl_drop(&s->ctl, cl);
}

static void
spy_ctl_on_client(struct ev *ev, int fd, short revents, void *arg)
{
	struct spy		*s = arg;
	struct ctl_client	*cl;

	(void)ev;
	if ((cl = ctl_client_of(&s->ctl, fd)) != NULL &&
	    ctl_io(&s->ctl, cl, revents) == -1)
		spy_ctl_drop(s, cl);
}

static void
spy_ctl_on_listen(struct ev *ev, int fd, short revents, void *arg)
{
	struct spy		*s = arg;
	struct addr_peer	 p;
	const char		*why;
	int			 i;

	(void)fd;
	(void)revents;
	if ((i = ctl_accept(&s->ctl, &p, &why)) == -1) {
		if (why != NULL)
			cmd_warnx(s->ce, "control socket '%s': refused a "
			    "client (%s; uid %ld, pid %ld)", s->ctl.name, why,
			    p.known ? (long)p.uid : -1L,
			    p.known ? (long)p.pid : 0L);
		return;
	}
	if (ev_add(ev, s->ctl.c[i].fd, POLLIN, spy_ctl_on_client, s) == -1)
		ctl_drop(&s->ctl, &s->ctl.c[i]);
}

/*
 * --tap: the socket, in the relay's process. Without it spy goes on (it
 * is for looking in), with a warning, as run does.
 */
void
spy_ctl_start(struct spy *s)
{
	char	path[300], err[512], name[64];

	json_t	*j;
	char	*q;

	ctl_init(&s->ctl);
	if (!s->tap)
		return;
	j = json_string(s->name);
	q = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	snprintf(s->qname, sizeof s->qname, "%s", q != NULL ? q : "null");
	free(q);
	snprintf(name, sizeof name, "spy.%ld", (long)s->pid);
	memcpy(path, "unix:", 5);
	if (ctl_default_path(name, path + 5, sizeof path - 5, err,
	    sizeof err) == -1 || ctl_listen(&s->ctl, path, err,
	    sizeof err) == -1) {
		cmd_warnx(s->ce, "no control socket: %s", err);
		return;
	}
	if (ev_add(&s->ev, s->ctl.lfd, POLLIN, spy_ctl_on_listen, s) == -1) {
		cmd_warn(s->ce, "poll set");
		ctl_close(&s->ctl);
	}
}

void
spy_ctl_end(struct spy *s)
{
	size_t	i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		if (s->ctl.c[i].fd != -1) {
			(void)ctl_write(&s->ctl.c[i]);
			ev_del(&s->ev, s->ctl.c[i].fd);
		}
	}
	if (s->ctl.lfd != -1)
		ev_del(&s->ev, s->ctl.lfd);
	ctl_close(&s->ctl);
}

void
spy_ctl_interest(struct spy *s)
{
	struct ctl_client	*cl;
	size_t			 i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		cl = &s->ctl.c[i];
		if (cl->fd != -1)
			ev_set(&s->ev, cl->fd, (cl->eof ? 0 : POLLIN) |
			    (cl->out.len > 0 ? POLLOUT : 0));
	}
}

static double
spy_ctl_age(const struct spy *s)
{
	return (double)(ev_now() - s->t0) / 1e9;
}

static json_t *
spy_ctl_dir(const struct spy_dir *d)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "frames", (json_int_t)d->frames,
	    "bytes", (json_int_t)d->bytes, "internal",
	    (json_int_t)d->internal, "handles", (json_int_t)d->handles);
}

static char *
spy_ctl_answer(struct spy *s, struct ctl_client *cl, struct ctlproto_req *q,
    size_t *len)
{
	json_t		*cmd;
	const char	*a;
	char		**v;
	size_t		 i;

	switch (q->cmd) {
	case CTL_INFO:
		cmd = json_array();
		for (v = s->argv; *v != NULL; v++)
			json_array_append_new(cmd, json_string(*v));
		return ctlproto_ok(q, json_pack("{s:s,s:i,s:o,s:i,s:f,s:s}",
		    "name", s->name, "pid", (int)getpid(), "command", cmd,
		    "children", 1, "uptime", spy_ctl_age(s), "mode", "spy"),
		    len);
	case CTL_PS:
		return ctlproto_ok(q, json_pack("[{s:s,s:i,s:s,s:I,s:I}]",
		    "name", s->name, "pid", (int)s->pid, "state",
		    s->kid_eof ? "exited" : "up", "in",
		    (json_int_t)s->ddown.frames, "out",
		    (json_int_t)s->dup.frames), len);
	case CTL_STATS:
		return ctlproto_ok(q, json_pack("{s:f,s:o,s:o,s:I}", "uptime",
		    spy_ctl_age(s), "in", spy_ctl_dir(&s->ddown), "out",
		    spy_ctl_dir(&s->dup), "tap_dropped",
		    (json_int_t)s->ctl.dropped), len);
	case CTL_TAP:
		/* One child: its name, or none, taps it. */
		for (i = 0; i < q->nargs; i++) {
			a = ctlproto_str(q, i);
			if (a == NULL || strcmp(a, s->name) != 0)
				return ctlproto_err(q, len, "no child named "
				    "\"%.64s\"", a != NULL ? a : "");
		}
		if (ctl_tap(&s->ctl, cl, (int)q->id, 1, NULL, 0) == -1)
			return ctlproto_err(q, len, "out of memory");
		return ctlproto_ok(q, json_pack("{s:[s]}", "tapping", s->name),
		    len);
	case CTL_UNTAP:
		ctl_untap(&s->ctl, cl);
		return ctlproto_ok(q, NULL, len);
	default:
		return ctlproto_err(q, len, "spy answers info, ps, tap, untap "
		    "and stats only");
	}
}

/* The clients' whole requests, answered in order, once a round. */
void
spy_ctl_pass(struct spy *s)
{
	struct ctlproto_req	 q;
	struct ctl_client	*cl;
	const char		*p;
	char			 err[256], *rep;
	size_t			 i, n, len = 0;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		cl = &s->ctl.c[i];
		while (cl->fd != -1 && ctl_next(cl, &p, &n)) {
			if (n == 0) {
				ctl_consumed(cl, n);
				continue;
			}
			if (ctlproto_parse(p, n, &q, err, sizeof err) == -1)
				rep = ctlproto_err(&q, &len, "%s", err);
			else
				rep = spy_ctl_answer(s, cl, &q, &len);
			ctlproto_free(&q);
			ctl_consumed(cl, n);
			if (rep == NULL || ctl_put(cl, rep, len) == -1)
				spy_ctl_drop(s, cl);
			free(rep);
		}
		if (cl->fd == -1)
			continue;
		if (!cl->eof && cl->in.len >= CTL_REQMAX) {
			/* A request longer than any: the client goes. */
			spy_ctl_drop(s, cl);
			continue;
		}
		if (cl->eof && cl->out.len == 0)
			spy_ctl_drop(s, cl);
	}
}

/*
 * A whole frame for the taps: JSON as it is (good), else a string of its
 * text (null if that is not even UTF-8). to_child: "in", as run says it.
 */
void
spy_ctl_frame(struct spy *s, int to_child, int internal, int good,
    const char *body, size_t blen, uint64_t size)
{
	struct ctl_client	*cl;
	struct timespec		 ts;
	json_t			*str;
	char			 head[512], *txt = NULL, *line;
	const char		*p = body;
	size_t			 i, n = blen, len;
	int			 h;

	if (!good) {
		if ((str = json_stringn(body, blen)) != NULL)
			txt = json_dumps(str, JSON_ENCODE_ANY);
		json_decref(str);
		p = txt != NULL ? txt : "null";
		n = strlen(p);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	h = snprintf(head, sizeof head, ",\"event\":\"frame\",\"child\":%s,"
	    "\"pid\":%ld,\"dir\":\"%s\",\"time\":%lld.%06ld,\"size\":%" PRIu64
	    ",\"internal\":%s,\"frame\":", s->qname, (long)s->pid, to_child ?
	    "in" : "out", (long long)ts.tv_sec, ts.tv_nsec / 1000, size,
	    internal ? "true" : "false");
	len = (size_t)h + n + 2;
	if ((line = malloc(len)) == NULL) {
		free(txt);
		s->ctl.dropped++;
		return;
	}
	memcpy(line, head, (size_t)h);
	memcpy(line + h, p, n);
	line[h + n] = '}';
	line[h + n + 1] = '\n';
	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		cl = &s->ctl.c[i];
		if (ctl_taps(cl, 0))
			(void)ctl_put_event(&s->ctl, cl, cl->tap, line, len);
	}
	free(line);
	free(txt);
}
