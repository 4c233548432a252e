/* SPDX-License-Identifier: ISC */
/*
 * ipcrun sub: the lines of a Redis stream (XREAD), list (BRPOP, which
 * takes them off) or channel (SUBSCRIBE) to standard output, validated
 * as everywhere: an entry that is not one line of JSON is refused with a
 * report. The next read is sent only once stdout has taken the last one,
 * so a slow reader holds Redis back, not ipcrun's memory.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "bus.h"
#include "ev.h"
#include "jscan.h"
#include "rbus_claim.h"
#include "units.h"

#define SUB_OUTQ	(256 * 1024)

struct sub {
	const struct cmd_entry *ce;
	const char	*name;
	struct rbus_source src;
	struct rbus_claim claim;	/* claim-idle= */
	struct buf	 oq;
	struct buf	 ids;		/* group: entries to ack once out */
	struct buf	 items;		/* ack=reply: items to LREM once out */
	uint64_t	 unacked;	/* acks not sent: the link was down */
	struct jscan	 js;
	uint64_t	 stack[64];
	uint64_t	 max;		/* -n: stop after so many, 0: no */
	uint64_t	 out;
	uint64_t	 bad;
	unsigned	 drops;
	int		 quiet;
	int		 failed;
};

static void
sub_bad(struct sub *s, const char *id, const char *why)
{
	if (id != NULL)
		cmd_warnx(s->ce, "%s: entry %s: %s", s->name, id, why);
	else
		cmd_warnx(s->ce, "%s: message %" PRIu64 ": %s", s->name,
		    s->src.lines, why);
	s->bad++;
}

/*
 * In a group, an entry is acked once its line is out, or refused; so is
 * an item of a reliable list (ack=reply), by its value (LREM).
 */
static void
sub_done(struct sub *s, const char *id, const char *p, size_t n)
{
	int	r = 0;

	if (id != NULL && s->src.u->group[0] != '\0')
		r = buf_append(&s->ids, id, strlen(id) + 1);
	else if (id == NULL && s->src.reliable) {
		r = buf_append(&s->items, (const char *)&n, sizeof n);
		if (r == 0)
			r = buf_append(&s->items, p, n);
	}
	if (r == -1) {
		cmd_warn(s->ce, "malloc");
		s->failed = EXIT_FAIL;
	}
}

static void
sub_on_bad(void *arg, const char *id, const char *why)
{
	struct sub	*s = arg;
	char		 m[128];

	snprintf(m, sizeof m, "%s '%s'", why, s->src.u->field);
	sub_bad(s, id, m);
	sub_done(s, id, NULL, 0);
}

/* An entry moved to NAME:dead, or claiming stopped. */
static void
sub_on_dead(void *arg, const char *id, uint64_t n, const char *err)
{
	struct sub	*s = arg;

	if (id == NULL) {
		cmd_warnx(s->ce, "%s: claiming pending entries: %s", s->name,
		    err);
		return;
	}
	cmd_warnx(s->ce, "%s: entry %s delivered %" PRIu64 " time%s and not "
	    "done: moved to '%s'", s->name, id, n, n == 1 ? "" : "s",
	    s->claim.dead);
	s->bad++;
}

/*
 * What stdout has taken is acked. An ack that cannot be sent (the link
 * is down) leaves its entry pending, or its item in our list: counted,
 * and said at the end.
 */
static void
sub_ack(struct sub *s)
{
	const char	*p = s->ids.p + s->ids.off, *end = p + s->ids.len;
	const char	*ids[RBUS_ACKMAX];
	size_t		 n = 0;

	/* Up to RBUS_ACKMAX ids in one XACK: one each costs more. */
	for (; p < end; p += strlen(p) + 1) {
		ids[n++] = p;
		if (n == RBUS_ACKMAX || p + strlen(p) + 1 >= end) {
			if (rbus_source_ack_ids(&s->src, ids, n) == -1)
				s->unacked += n;
			n = 0;
		}
	}
	buf_consume(&s->ids, s->ids.len);
	p = s->items.p + s->items.off;
	end = p + s->items.len;
	while (p < end) {
		memcpy(&n, p, sizeof n);
		p += sizeof n;
		if (rbus_source_ack_item(&s->src, p, n) == -1)
			s->unacked++;
		p += n;
	}
	buf_consume(&s->items, s->items.len);
}

static void
sub_on_line(void *arg, const char *p, size_t n, const char *id)
{
	struct sub	*s = arg;
	char		 why[200];

	if (s->failed || (s->max > 0 && s->out >= s->max))
		return;
	sub_done(s, id, p, n);
	if (memchr(p, '\n', n) != NULL) {
		sub_bad(s, id, "holds a newline: not one NDJSON line");
		return;
	}
	if (jscan_line(&s->js, p, n) != JSCAN_GOOD) {
		jscan_strerror(&s->js, why, sizeof why);
		sub_bad(s, id, why);
		return;
	}
	if (buf_append(&s->oq, p, n) == -1 || buf_append(&s->oq, "\n", 1) ==
	    -1) {
		cmd_warn(s->ce, "malloc");
		s->failed = EXIT_FAIL;
		return;
	}
	/* Read no more than needed: what a group hands out stays ours. */
	if (++s->out == s->max)
		rbus_source_pause(&s->src, 1);
}

/* All of oq to stdout: blocking here is the backpressure on Redis. */
static int
sub_flush(struct sub *s)
{
	ssize_t	w;

	while (s->oq.len > 0) {
		w = write(STDOUT_FILENO, s->oq.p + s->oq.off, s->oq.len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EPIPE)
			return EXIT_PIPE;
		if (w == -1) {
			cmd_warn(s->ce, "stdout");
			return EXIT_FAIL;
		}
		buf_consume(&s->oq, (size_t)w);
	}
	return 0;
}

static int
cmd_sub_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct sub	 s;
	struct redisurl	 u;
	struct ev	 ev;
	char		 name[1024], err[300];
	const char	*errstr;
	int		 ch, status = EXIT_FAIL, r;
	int64_t		 d;

	memset(&s, 0, sizeof s);
	s.ce = ce;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case 'n':
			s.max = strtonum(optarg, 1, INT64_MAX, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(ce, "-n '%s': %s",
				    optarg, errstr);
			break;
		case 'q':
			s.quiet = 1;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cmd_usage_error(ce, "no address given");
	if (argc > 1)
		return cmd_usage_error(ce, "unexpected operand '%s'", argv[1]);
	if (bus_addr(ce, &u, argv[0], name, sizeof name) == -1)
		return EXIT_FAIL;
	if ((u.claim_idle_ms > 0 || u.max_deliveries > 0) &&
	    u.group[0] == '\0') {
		cmd_warnx(ce, "'%s': claim-idle= and max-deliveries= are for "
		    "a group (group=)", name);
		return EXIT_FAIL;
	}
	if (u.max_deliveries > 0 && u.claim_idle_ms == 0) {
		cmd_warnx(ce, "'%s': max-deliveries= needs claim-idle=: "
		    "entries are counted when they are claimed again", name);
		return EXIT_FAIL;
	}
	if (u.ack == REDISURL_ACK_REPLY && u.mode != REDISURL_LIST) {
		cmd_warnx(ce, "'%s': ack=reply is for a list; a stream acks "
		    "after the line is written with group=", name);
		return EXIT_FAIL;
	}
	s.name = name;
	jscan_init(&s.js);
	jscan_set_stack(&s.js, s.stack, sizeof s.stack);
	if (buf_init(&s.oq, SUB_OUTQ) == -1 || buf_init(&s.ids, 4096) == -1 ||
	    buf_init(&s.items, 4096) == -1) {
		cmd_warn(ce, "malloc");
		return EXIT_FAIL;
	}
	ev_init(&ev);
	if (rbus_source_open(&s.src, &ev, &u, err, sizeof err) == -1) {
		cmd_warnx(ce, "%s: %s", name, err);
		goto out;
	}
	s.src.on_line = sub_on_line;
	s.src.on_bad = sub_on_bad;
	s.src.arg = &s;
	rbus_claim_init(&s.claim, &s.src);
	s.claim.on_dead = sub_on_dead;
	s.claim.arg = &s;
	for (;;) {
		if (s.failed) {
			status = s.failed;
			goto out;
		}
		if ((r = sub_flush(&s)) != 0) {
			status = r;
			goto out;
		}
		sub_ack(&s);
		if (s.max > 0 && s.out >= s.max)
			break;
		if (rbus_source_failed(&s.src)) {
			cmd_warnx(ce, "%s: %s", name, bus_err(&s.src.c,
			    s.src.err));
			goto out;
		}
		if (s.src.c.drops != s.drops) {
			s.drops = s.src.c.drops;
			if (!s.quiet)
				cmd_warnx(ce, "%s: connection lost (%s); "
				    "reconnecting", name, s.src.c.err);
		}
		if (s.src.ended)
			break;
		d = rbus_deadline(NULL, &s.src);
		if (rbus_claim_deadline(&s.claim) < d)
			d = rbus_claim_deadline(&s.claim);
		if (ev_run_once(&ev, d == INT64_MAX ? -1 :
		    ev_timeout_ms(d)) == -1) {
			cmd_warn(ce, "poll");
			goto out;
		}
		rbus_tick(NULL, &s.src);
		rbus_claim_tick(&s.claim);
	}
	status = s.bad > 0 ? EXIT_BADLINE : 0;
	/* The acks go out before the connection is closed. */
	d = ev_now() + INT64_C(5000000000);
	while (s.src.ackwait > 0 && s.src.ack.state == RCONN_UP &&
	    ev_now() < d)
		(void)ev_run_once(&ev, ev_timeout_ms(d));
	s.unacked += s.src.ackwait;
	if (s.unacked > 0 && !s.quiet && s.src.reliable)
		cmd_warnx(ce, "%s: %" PRIu64 " item%s not acknowledged: they "
		    "stay in '%s'", name, s.unacked, s.unacked == 1 ? "" : "s",
		    s.src.proc);
	else if (s.unacked > 0 && !s.quiet)
		cmd_warnx(ce, "%s: %" PRIu64 " entr%s not acknowledged: they "
		    "stay pending", name, s.unacked, s.unacked == 1 ? "y" :
		    "ies");
out:
	rbus_source_close(&s.src);
	ev_release(&ev);
	buf_release(&s.oq);
	buf_release(&s.ids);
	buf_release(&s.items);
	return status;
}

static const struct cmd_opt sub_opts[] = {
	{ NULL, 'n', 'n', "N", NULL,
	    "stop after N lines (default: at the end, or never)" },
	{ "quiet", 'q', 'q', NULL, NULL,
	    "no notices (reconnects), only errors" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct cmd_entry cmd_sub_entry = {
	.name = "sub",
	.usage = "ADDR",
	.summary = "NDJSON out of a Redis stream, list or channel to stdout",
	.permute = 1,
	.exec = cmd_sub_exec,
	.opts = sub_opts
};
