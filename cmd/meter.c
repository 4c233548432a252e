/* SPDX-License-Identifier: ISC */
/*
 * A one-line progress meter on stderr for long work: bytes and lines
 * done, the rate, refused lines, and the percentage and time left when
 * the size is known. Drawn with carriage returns and spaces only (no
 * escape sequences), at most METER_HZ times a second, and erased before
 * anything else is written to the terminal.
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
 * the size of the tasks so far.
 */
static void
meter_draw_tasks(struct meter *m, int64_t now, double secs, char *line,
    size_t len)
{
	char		eta[32] = "";
	double		rate, total = (double)m->t_read;
	uint64_t	settled = m->t_done + m->t_failed;

	rate = secs > 0 ? (double)settled / secs : 0;
	if (!m->t_all && m->size > 0 && m->bytes > 0 && m->bytes <= m->size)
		total = (double)m->t_read * (double)m->size /
		    (double)m->bytes;
	if (rate > 0 && (m->t_all || m->size > 0) && total >= settled)
		meter_eta(eta, sizeof eta, (int64_t)((total -
		    (double)settled) / rate));
	if (m->t_all || m->size > 0)
		snprintf(line, len, "%3d%%  %" PRIu64 " tasks done of %s%"
		    PRIu64 "  %" PRIu64 " failed  %" PRIu64 " retried  %.0f/s%s",
		    total > 0 ? (int)((double)settled * 100 / total) : 0,
		    m->t_done, m->t_all ? "" : "~", m->t_all ? m->t_read :
		    (uint64_t)total, m->t_failed, m->t_retried, rate, eta);
	else
		snprintf(line, len, "%" PRIu64 " tasks done of %" PRIu64
		    " read  %" PRIu64 " failed  %" PRIu64 " retried  %.0f/s",
		    m->t_done, m->t_read, m->t_failed, m->t_retried, rate);
	(void)now;
}

static void
meter_draw(struct meter *m, int64_t now)
{
	char	line[512], done[32], total[32], rate[32], eta[32] = "";
	char	out[1024];
	double	secs = (double)(now - m->start) / 1e9, bps;
	size_t	n, room, nlen;
	int64_t	left;

	if (m->tasks) {
		meter_draw_tasks(m, now, secs, line, sizeof line);
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
	if (now - m->last >= METER_NS)
		meter_draw(m, now);
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
