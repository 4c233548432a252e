/* SPDX-License-Identifier: ISC */
/*
 * ipcrun pub: NDJSON from standard input into a Redis stream (XADD), list
 * (LPUSH) or channel (PUBLISH). Lines are validated as run validates
 * them; bad ones are refused with a report. Standard input is read only
 * while fewer than RBUS_WINDOW commands are in flight, so a stalled Redis
 * holds the input back instead of filling memory.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "bus.h"
#include "ev.h"
#include "frame.h"

#define PUB_MAXLINE	((size_t)64 * 1024 * 1024)
#define PUB_READ	(256 * 1024)

struct pub {
	const struct cmd_entry *ce;
	const char	*name;
	struct frame	 in;
	struct rbus_sink sink;
	int		 eof;
	int		 more;		/* lines may be buffered in the frame */
	int		 quiet;
	uint64_t	 bad;
	unsigned	 drops;		/* reported so far */
};

static void
pub_refused(void *arg, uint64_t lineno, const char *e)
{
	struct pub	*p = arg;

	cmd_warnx(p->ce, "%s: line %" PRIu64 " refused by Redis: %s",
	    p->name, lineno, e);
}

/* Hand the frame's lines to the sink while it has room. */
static int
pub_lines(struct pub *p)
{
	struct frame_line	 l;
	char			 why[256];
	int			 k;

	while (!rbus_sink_full(&p->sink)) {
		if ((k = frame_next(&p->in, &l)) == FRAME_NONE) {
			p->more = 0;
			return 0;
		}
		switch (k) {
		case FRAME_GOOD:
			if (rbus_sink_put(&p->sink, l.p, l.len - (l.nl ? 1 : 0),
			    l.lineno) == -1) {
				cmd_warn(p->ce, "malloc");
				return -1;
			}
			break;
		case FRAME_BAD:
			frame_reason(&p->in, &l, why, sizeof why);
			cmd_warnx(p->ce, "-:%" PRIu64 ":%zu: %s", l.lineno,
			    l.err_off + 1, why);
			p->bad++;
			break;
		default:
			break;
		}
	}
	p->more = 1;
	return 0;
}

static void
pub_on_stdin(struct ev *ev, int fd, short revents, void *arg)
{
	struct pub	*p = arg;
	ssize_t		 r;

	if ((r = frame_read(&p->in, fd, PUB_READ)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		cmd_warn(p->ce, "stdin");
		p->eof = -1;
		return;
	}
	if (r == 0)
		p->eof = 1;
	p->more = 1;
}

static int
cmd_pub_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct pub	 p;
	struct redisurl	 u;
	struct ev	 ev;
	char		 name[1024], err[300];
	int		 ch, status = EXIT_FAIL;
	int64_t		 d;

	memset(&p, 0, sizeof p);
	p.ce = ce;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case 'q':
			p.quiet = 1;
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
	p.name = name;
	if (frame_init(&p.in, PUB_MAXLINE, 1) == -1) {
		cmd_warn(ce, "malloc");
		return EXIT_FAIL;
	}
	ev_init(&ev);
	if (rbus_sink_open(&p.sink, &ev, &u, err, sizeof err) == -1) {
		cmd_warnx(ce, "%s: %s", name, err);
		goto out;
	}
	p.sink.on_refused = pub_refused;
	p.sink.arg = &p;
	if (ev_add(&ev, STDIN_FILENO, 0, pub_on_stdin, &p) == -1) {
		cmd_warn(ce, "stdin");
		goto out;
	}
	for (;;) {
		if (rbus_sink_failed(&p.sink)) {
			cmd_warnx(ce, "%s: %s", name, bus_err(&p.sink.c, NULL));
			goto out;
		}
		if (p.sink.c.drops != p.drops) {
			p.drops = p.sink.c.drops;
			if (!p.quiet)
				cmd_warnx(ce, "%s: connection lost (%s); "
				    "reconnecting", name, p.sink.c.err);
		}
		if (p.eof == -1)
			goto out;
		if (p.more && pub_lines(&p) == -1)
			goto out;
		if (p.eof && !p.more && rbus_sink_idle(&p.sink))
			break;
		/* Read while the window has room and the frame is empty. */
		ev_set(&ev, STDIN_FILENO, !p.eof && !p.more &&
		    !rbus_sink_full(&p.sink) ? POLLIN : 0);
		d = rbus_deadline(&p.sink, NULL);
		if (ev_run_once(&ev, d == INT64_MAX ? -1 :
		    ev_timeout_ms(d)) == -1) {
			cmd_warn(ce, "poll");
			goto out;
		}
		rbus_tick(&p.sink, NULL);
	}
	status = p.bad > 0 || p.sink.refused > 0 ? EXIT_BADLINE : 0;
	if (!p.quiet && p.sink.unheard > 0)
		cmd_warnx(ce, "%s: %" PRIu64 " message%s had no subscriber",
		    name, p.sink.unheard, p.sink.unheard == 1 ? "" : "s");
out:
	rbus_sink_close(&p.sink);
	ev_release(&ev);
	frame_release(&p.in);
	return status;
}

static const struct cmd_opt pub_opts[] = {
	{ "quiet", 'q', 'q', NULL, NULL,
	    "no notices (reconnects, unheard), only errors" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct cmd_entry cmd_pub_entry = {
	.name = "pub",
	.usage = "ADDR",
	.summary = "NDJSON from stdin into a Redis stream, list or channel",
	.permute = 1,
	.exec = cmd_pub_exec,
	.opts = pub_opts
};
