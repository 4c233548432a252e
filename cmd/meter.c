/* SPDX-License-Identifier: ISC */
/*
 * A one-line progress meter on stderr for long work: bytes and lines
 * done, the rate, refused lines, and the percentage and time left when
 * the size is known; for run --tasks, tasks settled instead, and each
 * child's when the terminal is wide enough. Drawn with carriage returns
 * and spaces only (no escape sequences), at most every METER_NS, and
 * erased before anything else is written to the terminal.
 */
#include "compat.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "cmd.h"

#define METER_NS	(250 * 1000000LL)	/* between redraws */

static int64_t
meter_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A byte count in at most 5 characters and a unit, as "123.4 MiB". */
static void
meter_bytes(char *buf, size_t len, double v)
{
	static const char	*unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t			 i = 0;

	while (v >= 1024 && i + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f %s", v, unit[i]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[i]);
}

/* The time left, as "  ETA 1:05" or "  ETA 2:01:05". */
static void
meter_eta(char *buf, size_t len, int64_t left)
{
	long long	h = left / 3600, m = left / 60 % 60, s = left % 60;

	if (h > 0)
		snprintf(buf, len, "  ETA %lld:%02lld:%02lld", h, m, s);
	else
		snprintf(buf, len, "  ETA %lld:%02lld", m, s);
}

/* Start a meter for one input of SIZE bytes (0: unknown). */
void
meter_start(struct meter *m, int on, const char *name, uint64_t size)
{
	struct winsize	ws;

	memset(m, 0, sizeof *m);
	m->on = on;
	m->name = name;
	m->size = size;
	m->cols = 80;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		m->cols = ws.ws_col;
	/* Due at once: even a short run shows that it was there. */
	m->start = meter_now();
	m->last = m->start - METER_NS;
}

/*
 * run --tasks: tasks settled (done and failed) against those read, with
 * their rate, and the ETA from the tasks left: all of them once the input
 * has ended, else as many as the bytes left of the input would hold at
 * the size of the tasks so far. Tasks skipped (--resume-failed, settled
 * in a run before) count as settled, shown apart, but not in the rate:
 * they took no time, and would make the ETA too short.
 */
static void
meter_draw_tasks(struct meter *m, double secs, char *line, size_t len)
{
	char		eta[32] = "", skip[48] = "";
	double		rate, total;
	uint64_t	seen = m->t_read + m->t_skipped;
	uint64_t	settled = m->t_done + m->t_failed;
	uint64_t	over = settled + m->t_skipped;

	rate = secs > 0 ? (double)settled / secs : 0;
	total = (double)seen;
	if (!m->t_all && m->size > 0 && m->bytes > 0 && m->bytes <= m->size)
		total = (double)seen * (double)m->size / (double)m->bytes;
	/* None left, no ETA: its 0:00 would only take room. */
	if (rate > 0 && (m->t_all || m->size > 0) && total > over)
		meter_eta(eta, sizeof eta, (int64_t)((total - (double)over) /
		    rate));
	if (m->t_skipped > 0)
		snprintf(skip, sizeof skip, "  %" PRIu64 " skipped",
		    m->t_skipped);
	if (m->t_all || m->size > 0)
		snprintf(line, len, "%3d%%  %" PRIu64 " tasks done of %s%"
		    PRIu64 "%s  %" PRIu64 " failed  %" PRIu64 " retried  "
		    "%.0f/s%s", total > 0 ? (int)((double)over * 100 / total) :
		    0, m->t_done, m->t_all ? "" : "~", m->t_all ? seen :
		    (uint64_t)total, skip, m->t_failed, m->t_retried, rate,
		    eta);
	else
		snprintf(line, len, "%" PRIu64 " tasks done of %" PRIu64
		    " read%s  %" PRIu64 " failed  %" PRIu64 " retried  %.0f/s",
		    m->t_done, seen, skip, m->t_failed, m->t_retried, rate);
}

/*
 * run --tasks with several children: each child's name, the tasks it
 * answered and, after a slash, those it holds now, into buf. Returns the
 * length, or 0 if they would not all fit in len bytes: a part of them
 * would hide which children are missing.
 */
static size_t
meter_draw_kids(struct meter *m, char *buf, size_t len)
{
	struct meter_kid	k;
	size_t			i, n = 0;
	int			w;

	buf[0] = '\0';
	if (m->nkids < 2 || m->kid == NULL)
		return 0;
	for (i = 0; i < m->nkids; i++) {
		memset(&k, 0, sizeof k);
		m->kid(m->kid_arg, i, &k);
		w = snprintf(buf + n, len - n, "%s%s %" PRIu64 "/%" PRIu64,
		    i == 0 ? "  |  " : "  ", k.name != NULL ? k.name : "?",
		    k.done, k.held);
		if (w < 0 || (size_t)w >= len - n) {
			buf[0] = '\0';
			return 0;
		}
		n += (size_t)w;
	}
	return n;
}

static void
meter_draw(struct meter *m, int64_t now)
{
	char	line[1024], done[32], total[32], rate[32], eta[32] = "";
	char	out[2048], kids[1024];
	double	secs = (double)(now - m->start) / 1e9, bps;
	size_t	n, room, nlen, klen;
	int64_t	left;

	if (m->tasks) {
		meter_draw_tasks(m, secs, line, sizeof line);
		/*
		 * Each child's part on a terminal wide enough for the whole
		 * line with the input's name: else the line stays as it was.
		 */
		n = strlen(line);
		klen = meter_draw_kids(m, kids, m->cols < sizeof kids ?
		    m->cols : sizeof kids);
		if (klen > 0 && strlen(m->name) + 2 + n + klen <= m->cols - 1 &&
		    n + klen < sizeof line)
			memcpy(line + n, kids, klen + 1);
		goto name;
	}
	bps = secs > 0 ? (double)m->bytes / secs : 0;
	meter_bytes(done, sizeof done, (double)m->bytes);
	meter_bytes(rate, sizeof rate, bps);
	if (m->size > 0 && m->bytes <= m->size) {
		meter_bytes(total, sizeof total, (double)m->size);
		if (bps > 0) {
			left = (int64_t)((double)(m->size - m->bytes) / bps);
			meter_eta(eta, sizeof eta, left);
		}
		snprintf(line, sizeof line, "%3d%%  %s of %s  %" PRIu64
		    " lines  %" PRIu64 " bad  %s/s%s",
		    (int)(m->bytes * 100 / m->size), done, total, m->lines,
		    m->bad, rate, eta);
	} else
		snprintf(line, sizeof line, "%s  %" PRIu64 " lines  %" PRIu64
		    " bad  %s/s", done, m->lines, m->bad, rate);

	/* The input's name in front, cut from the left to fit. */
name:
	n = strlen(line);
	room = m->cols - 1 > n + 2 ? m->cols - 1 - n - 2 : 0;
	nlen = strlen(m->name);
	if (room >= 8 && nlen <= room)
		snprintf(out, sizeof out, "%s  %s", m->name, line);
	else if (room >= 8)
		snprintf(out, sizeof out, "...%s  %s",
		    m->name + nlen - (room - 3), line);
	else
		snprintf(out, sizeof out, "%.*s", (int)(m->cols - 1), line);
	n = strlen(out);
	/* Blanks over what a longer line before left. */
	fprintf(stderr, "\r%s%*s", out, m->drawn > n ? (int)(m->drawn - n) : 0,
	    "");
	if (m->drawn > n)
		fprintf(stderr, "\r%s", out);
	fflush(stderr);
	m->drawn = n;
	m->last = now;
}

/*
 * New totals for the meter; it is redrawn if it is due. Called once per
 * read(2), so the clock is read once per buffer of input, which costs
 * nothing beside the read.
 */
void
meter_update(struct meter *m, uint64_t bytes, uint64_t lines, uint64_t bad)
{
	int64_t	now;

	if (!m->on)
		return;
	m->bytes = bytes;
	m->lines = lines;
	m->bad = bad;
	now = meter_now();
	if (now - m->last >= METER_NS)
		meter_draw(m, now);
}

/*
 * run --tasks: new counts of tasks, and of the input's bytes read; all:
 * the input has ended.
 */
void
meter_tasks(struct meter *m, uint64_t bytes, uint64_t done, uint64_t failed,
    uint64_t retried, uint64_t read_, int all)
{
	int64_t	now;

	if (!m->on)
		return;
	m->tasks = 1;
	m->bytes = bytes;
	m->t_done = done;
	m->t_failed = failed;
	m->t_retried = retried;
	m->t_read = read_;
	m->t_all = all;
	now = meter_now();
	/*
	 * The end is drawn at once, once: a meter that stops short of 100%
	 * until it is erased says that work was left.
	 */
	if (all && done + failed >= read_ && !m->t_shown_all) {
		m->t_shown_all = 1;
		meter_draw(m, now);
	} else if (now - m->last >= METER_NS)
		meter_draw(m, now);
}

/*
 * run --tasks --resume-failed: n tasks of the input were settled in a run
 * before and skipped; they count as settled, shown apart.
 */
void
meter_skipped(struct meter *m, uint64_t n)
{
	m->t_skipped = n;
}

/*
 * run --tasks: the meter has n children's parts, which get(arg, i, kid)
 * fills in when it is drawn (not when the counts change: they change on
 * every reply).
 */
void
meter_kids(struct meter *m, size_t n, void (*get)(void *, size_t,
    struct meter_kid *), void *arg)
{
	m->nkids = n;
	m->kid = get;
	m->kid_arg = arg;
}

/* Take the meter off the screen, until it is next due. */
void
meter_erase(struct meter *m)
{
	if (!m->on || m->drawn == 0)
		return;
	fprintf(stderr, "\r%*s\r", (int)m->drawn, "");
	fflush(stderr);
	m->drawn = 0;
}
