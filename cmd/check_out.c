/* SPDX-License-Identifier: ISC */
/*
 * ipcrun check: what goes out. Runs of good lines straight from the read
 * buffer with writev(2), each bad line's report (for people, editors or
 * programs) and its bytes in --rejects. check.c calls in; nothing here
 * calls back.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "check.h"
#include "excerpt.h"

#define JSON_EXCERPT	80	/* first bytes of a bad line in JSON */

static char newline[] = "\n";

/*
 * Another process sharing the open file description (Node does this) may
 * have made it non-blocking: wait until fd is ready instead of failing.
 */
int
check_wait(int fd, short events)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	while (poll(&pfd, 1, -1) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/*
 * Write the runs of good lines, straight from the read buffer, or fail;
 * EPIPE is the reader going away.
 */
int
check_flush(struct check *c)
{
	struct iovec	*v = c->iov;
	int		 cnt = c->niov;
	ssize_t		 w;

	c->niov = 0;
	/* The meter shares the terminal with stdout: out of the way. */
	if (c->ordered)
		meter_erase(&c->meter);
	while (cnt > 0) {
		if ((w = writev(STDOUT_FILENO, v, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    check_wait(STDOUT_FILENO, POLLOUT) == 0)
				continue;
			if (errno == EPIPE)
				c->status = EXIT_PIPE;
			else {
				meter_erase(&c->meter);
				cmd_warn(c->ce, "write error on stdout");
				c->status = EXIT_FAIL;
			}
			return -1;
		}
		while (cnt > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Queue a good line: it joins the run before it when it follows it in the
 * buffer, so a blank or bad line is all that cuts a run. A last line
 * without its newline is given one.
 */
int
check_out(struct check *c, const char *p, size_t n, int nl)
{
	struct iovec	*v = c->niov > 0 ? &c->iov[c->niov - 1] : NULL;

	if (v != NULL && v->iov_base != newline &&
	    (const char *)v->iov_base + v->iov_len == p) {
		v->iov_len += n;
	} else {
		if (c->niov >= OUT_IOV - 1 && check_flush(c) == -1)
			return -1;
		v = &c->iov[c->niov++];
		v->iov_base = (void *)(uintptr_t)p;
		v->iov_len = n;
	}
	if (!nl) {
		v = &c->iov[c->niov++];
		v->iov_base = newline;
		v->iov_len = 1;
	}
	return 0;
}

/* Keep a bad line's bytes (or the next piece of them) in --rejects. */
int
check_reject(struct check *c, const char *p, size_t n, int add_nl)
{
	if (fwrite(p, 1, n, c->rejects) == n &&
	    (!add_nl || putc('\n', c->rejects) != EOF))
		return 0;
	cmd_warn(c->ce, "--rejects '%s': write error", c->rejects_name);
	c->rejects_failed = 1;
	c->status = EXIT_FAIL;
	return -1;
}

/*
 * A report as one JSON object; every string in it is valid JSON whatever
 * the bytes of the line or of the file name.
 */
static void
report_json(const char *name, const struct frame_line *l, size_t off,
    const char *why)
{
	char	file[6 * 4096 + 3], reason[6 * 256 + 3];
	char	text[6 * JSON_EXCERPT + 3];

	excerpt_json(name, strlen(name), SIZE_MAX, file, sizeof file);
	excerpt_json(why, strlen(why), SIZE_MAX, reason, sizeof reason);
	excerpt_json(l->p, l->len - (size_t)l->nl, JSON_EXCERPT, text,
	    sizeof text);
	fprintf(stderr, "{\"file\":%s,\"line\":%" PRIu64 ",\"column\":%zu,"
	    "\"reason\":%s,\"excerpt\":%s}\n", file, l->lineno, off + 1,
	    reason, text);
}

/*
 * The line under its report, with a caret under the column (as compilers
 * do), cut around the column to fit the terminal:
 *
 *     5 | {'event':'typo','user':'eve'}
 *       |  ^
 */
static void
report_excerpt(struct check *c, const struct frame_line *l, size_t off)
{
	char	num[24], text[4096];
	size_t	col, gw, width;

	snprintf(num, sizeof num, "%" PRIu64, l->lineno);
	gw = strlen(num) + 1 < 5 ? 5 : strlen(num) + 1;
	width = c->cols > gw + 4 ? c->cols - gw - 4 : 0;
	col = excerpt_line(l->p, l->len - (size_t)l->nl, l->more, off, width,
	    text, sizeof text);
	/* Coloured as gcc and rustc colour theirs: the gutter, the caret. */
	if (c->color)
		fprintf(stderr, COLOR_GUTTER "%*s |" COLOR_OFF " %s\n"
		    COLOR_GUTTER "%*s |" COLOR_OFF " %*s" COLOR_ERR "^"
		    COLOR_OFF "\n", (int)gw, num, text, (int)gw, "", (int)col,
		    "");
	else
		fprintf(stderr, "%*s | %s\n%*s | %*s^\n", (int)gw, num, text,
		    (int)gw, "", (int)col, "");
}

/*
 * No more reports: -q, or --max-errors reached. Bad lines are still
 * counted and kept, at the cost of finding them only.
 */
int
check_muted(const struct check *c)
{
	return c->quiet || (c->max_errors > 0 && c->shown >= c->max_errors);
}

/*
 * A bad line: count it, keep it, report it. OFF is the 0-based byte of
 * the fault. Returns -1 when checking must stop.
 */
int
check_bad(struct check *c, struct counts *n, const char *name,
    const struct frame_line *l, size_t off, const char *why)
{
	c->bad = 1;
	n->bad++;
	if (c->rejects != NULL &&
	    check_reject(c, l->p, l->len, !l->nl && !l->more) == -1)
		return -1;
	if (check_muted(c)) {
		c->hidden += !c->quiet;
		return 0;
	}
	c->shown++;
	if (c->ordered && c->niov > 0 && check_flush(c) == -1)
		return -1;
	meter_erase(&c->meter);
	switch (c->format) {
	case FMT_GNU:
		fprintf(stderr, "%s:%" PRIu64 ":%zu: %s\n", name, l->lineno,
		    off + 1, why);
		break;
	case FMT_JSON:
		report_json(name, l, off, why);
		break;
	default:
		cmd_warnx(c->ce, "%s:%" PRIu64 ":%zu: %s", name, l->lineno,
		    off + 1, why);
		break;
	}
	if (c->excerpt)
		report_excerpt(c, l, off);
	return 0;
}
