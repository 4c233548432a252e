/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child and attach: -v, --trace, --trace-file and --stats. With
 * --trace-file, each frame is a line of the file (tracef.c). Each frame towards
 * the other side (">") or from it ("<"), its size with its separator and
 * whether it is one of Node's own, with -v its first -s bytes escaped
 * (controls, backslashes and bytes past ASCII as \xNN) so that a frame
 * cannot upset the terminal; at the end the counts. Written to stderr
 * as it comes: a debugging aid, which a stalled stderr holds up.
 */
#include "compat.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ev.h"
#include "show.h"

#define SEC	INT64_C(1000000000)

void
show_init(struct show *s, const struct cmd_entry *ce)
{
	memset(s, 0, sizeof *s);
	s->ce = ce;
	s->show = SHOW_DEFAULT;
	s->t0 = ev_now();
}

/*
 * One of the options, by its getopt value ('v', 's', 'T' for --trace,
 * 'F' for --trace-file, 'S' for --stats). Returns 1 (taken), 0 (not one of them), or the
 * usage error's status.
 */
int
show_option(struct show *s, int ch, const char *arg)
{
	const char	*cause;

	switch (ch) {
	case 'v':
		s->verbose = 1;
		return 1;
	case 'T':
		s->trace = 1;
		return 1;
	case 'S':
		s->stats = 1;
		return 1;
	case 'F':
		s->trace_path = arg;
		return 1;
	case 's':
		s->show = (size_t)strtonum(arg, 0, INT_MAX, &cause);
		if (cause != NULL)
			return cmd_usage_error(s->ce, "-s '%s': %s", arg, cause);
		s->trace_show = s->show;
		return 1;
	}
	return 0;
}

/*
 * One frame, len bytes at p without its separator, n with it: counted,
 * and said if asked.
 */
void
show_frame(struct show *s, int to, int internal, const char *p, size_t len,
    size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;
	struct show_count	*k = to ? &s->to : &s->from;
	size_t			 i, shown;
	int64_t			 t;

	k->frames++;
	k->bytes += n;
	k->internal += internal != 0;
	tracef_frame(&s->tf, NULL, to ? s->sent_to : s->sent_from, p, len);
	if (!s->verbose && !s->trace)
		return;
	t = ev_now() - s->t0;
	if (s->trace)
		fprintf(stderr, "ipcrun: %s: trace %" PRId64 ".%06" PRId64
		    " %s %s %zu bytes%s\n", s->ce->name, t / SEC,
		    (t % SEC) / 1000, to ? "->" : "<-", s->who, n,
		    internal ? " internal" : "");
	if (!s->verbose)
		return;
	fprintf(stderr, "ipcrun: %s: %" PRId64 ".%06" PRId64 " %s %s %s",
	    s->ce->name, t / SEC, (t % SEC) / 1000, s->who, to ? ">" : "<",
	    internal ? "internal " : "");
	shown = s->show == 0 || s->show > len ? len : s->show;
	for (i = 0; i < shown; i++) {
		if (u[i] < 0x20 || u[i] >= 0x7f || u[i] == '\\')
			fprintf(stderr, "\\x%02x", u[i]);
		else
			fputc(u[i], stderr);
	}
	fputs(shown < len ? "...\n" : "\n", stderr);
}

/* --trace-file opened, before the first frame. Returns 0, or -1 (said). */
int
show_start(struct show *s)
{
	if (s->trace_path == NULL)
		return 0;
	return tracef_open(&s->tf, s->ce, s->trace_path, s->trace_show,
	    s->t0);
}

/* The trace file's last line. */
void
show_end(struct show *s)
{
	tracef_close(&s->tf);
}

/* --stats: one line at the end; more, if not NULL, after the counts. */
void
show_stats(struct show *s, const char *more)
{
	if (!s->stats)
		return;
	fprintf(stderr, "ipcrun: %s: stats: to %s %" PRIu64 " frames, %"
	    PRIu64 " bytes (%" PRIu64 " internal); from it %" PRIu64
	    " frames, %" PRIu64 " bytes (%" PRIu64 " internal)%s%s\n",
	    s->ce->name, s->who, s->to.frames, s->to.bytes, s->to.internal,
	    s->from.frames, s->from.bytes, s->from.internal,
	    more != NULL ? "; " : "", more != NULL ? more : "");
}
