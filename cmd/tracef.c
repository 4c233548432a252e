/* SPDX-License-Identifier: ISC */
/*
 * --trace-file FILE of run, child and attach: each frame as one NDJSON
 * line, in the format of spy's trace (ipcrun-spy(1)): its time since the
 * start, the child it is of (run), which side sent it ("from"), its size
 * with its separator, Node's internal cmd and a handle's type, and the
 * frame itself, as JSON ("msg") when it is one and not cut by -s, else
 * as an escaped string ("text", "cut"). Line-buffered, as strace -o
 * writes: a frame is in the file once it has passed, and a crash loses
 * none. A file that cannot be written is said once, and the trace stops;
 * the relay goes on. The escaping is spy's too (spy_trace.c).
 */
#include "compat.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ev.h"
#include "nodechan.h"
#include "tracef.h"

/* Append to a line; a failed allocation only shortens it. */
void
tracef_put(struct buf *b, const char *p, size_t n)
{
	(void)buf_append(b, p, n);
}

void
tracef_putf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	char	tmp[512];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		tracef_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n :
		    sizeof tmp - 1);
}

/*
 * The first max bytes of p (all with max 0), never cutting a character,
 * escaped for a JSON string (json) or for a terminal: controls, the
 * backslash, invalid UTF-8 (as \xNN, which JSON has no escape for) and
 * the code points that reorder or break a line. Returns 1 if cut.
 */
int
tracef_escaped(struct buf *b, const char *p, size_t n, size_t max, int json)
{
	const unsigned char	*u = (const unsigned char *)p;
	char			 tmp[16];
	size_t			 i = 0;
	uint32_t		 c;
	int			 len;

	if (max == 0 || max > n)
		max = n;
	while (i < max) {
		len = n - i >= 4 ? jscan_utf8_len(p + i) : 0;
		if (n - i < 4) {
			/* jscan_utf8_len reads up to 4: copy the tail. */
			char	tail[5] = { 0 };

			memcpy(tail, p + i, n - i);
			len = jscan_utf8_len(tail);
			if (len > (int)(n - i))
				len = 0;
		}
		if (len > 1 && i + (size_t)len > max)
			break;
		c = len == 2 ? (u[i] & 0x1fu) << 6 | (u[i + 1] & 0x3fu) :
		    len == 3 ? (u[i] & 0x0fu) << 12 | (u[i + 1] & 0x3fu) << 6 |
		    (u[i + 2] & 0x3fu) : len == 4 ? (u[i] & 0x07u) << 18 |
		    (u[i + 1] & 0x3fu) << 12 | (u[i + 2] & 0x3fu) << 6 |
		    (u[i + 3] & 0x3fu) : u[i];
		if (len == 0) {
			tracef_putf(b, json ? "\\\\x%02x" : "\\x%02x", u[i]);
			len = 1;
		} else if (len == 1 && (c == '\\' || (json && c == '"')))
			tracef_putf(b, "\\%c", (int)c);
		else if (len == 1 && (c == '\n' || c == '\r' || c == '\t'))
			tracef_putf(b, "\\%c", c == '\n' ? 'n' : c == '\r' ?
			    'r' : 't');
		else if (len == 1 && (c < 0x20 || c == 0x7f))
			tracef_putf(b, json ? "\\u%04x" : "\\x%02x",
			    (unsigned)c);
		else if (len > 1 && jscan_hostile(c)) {
			if (c > 0xffff && json)
				snprintf(tmp, sizeof tmp, "\\u%04X\\u%04X",
				    (unsigned)(0xd800 + ((c - 0x10000) >> 10)),
				    (unsigned)(0xdc00 + ((c - 0x10000) & 0x3ff)));
			else
				snprintf(tmp, sizeof tmp, c > 0xffff ?
				    "\\U%08X" : "\\u%04X", (unsigned)c);
			tracef_put(b, tmp, strlen(tmp));
		} else
			tracef_put(b, p + i, (size_t)len);
		i += (size_t)len;
	}
	return i < n;
}

/* The time since t0, in seconds with microseconds. */
void
tracef_time(struct buf *b, int64_t t0)
{
	int64_t	t = ev_now() - t0;

	tracef_putf(b, "%" PRId64 ".%06" PRId64, t / SEC, (t % SEC) / 1000);
}

/* The line built, to the file; a failed write ends the trace. */
static void
tracef_write(struct tracef *t)
{
	if (fwrite(t->line.p + t->line.off, 1, t->line.len, t->f) ==
	    t->line.len && fflush(t->f) != EOF)
		return;
	cmd_warn(t->ce, "write to '%s'; no more trace", t->path);
	(void)fclose(t->f);
	t->f = NULL;
}

/* A line begun: its time, and the child it is of. */
static void
tracef_begin(struct tracef *t, const char *child)
{
	buf_consume(&t->line, t->line.len);
	tracef_put(&t->line, "{\"t\":", 5);
	tracef_time(&t->line, t->t0);
	if (child != NULL) {
		tracef_put(&t->line, ",\"child\":\"", 10);
		(void)tracef_escaped(&t->line, child, strlen(child), 0, 1);
		tracef_put(&t->line, "\"", 1);
	}
}

/*
 * Opens path (made empty) for show bytes of each frame, 0: all; the
 * first line says who writes it. Returns 0, or -1 when said why.
 */
int
tracef_open(struct tracef *t, const struct cmd_entry *ce, const char *path,
    size_t show, int64_t t0)
{
	memset(t, 0, sizeof *t);
	t->ce = ce;
	t->path = path;
	t->show = show;
	t->t0 = t0;
	jscan_init(&t->js);
	t->k_cmd = jscan_want(&t->js, "cmd", 3);
	t->k_type = jscan_want(&t->js, "type", 4);
	if (buf_init(&t->line, 4096) == -1) {
		cmd_warn(ce, "--trace-file");
		return -1;
	}
	if ((t->f = fopen(path, "we")) == NULL) {
		cmd_warn(ce, "--trace-file '%s'", path);
		buf_release(&t->line);
		return -1;
	}
	tracef_begin(t, NULL);
	tracef_putf(&t->line, ",\"event\":\"start\",\"pid\":%ld,"
	    "\"command\":\"%s\"}\n", (long)getpid(), ce->name);
	tracef_write(t);
	return 0;
}

/*
 * One frame of child (NULL: the only other side) that from sent, n
 * bytes with or without its separator.
 */
void
tracef_frame(struct tracef *t, const char *child, const char *from,
    const char *p, size_t n)
{
	const struct jscan_span	*sc, *st;
	size_t			 len = n;
	int			 good, rc, cut;

	if (t->f == NULL)
		return;
	if (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\f' ||
	    p[len - 1] == '\036'))
		len--;
	rc = jscan_line(&t->js, p, len);
	good = rc == JSCAN_GOOD;
	tracef_begin(t, child);
	/* Its size with one separator, as spy counts a line. */
	tracef_putf(&t->line, ",\"from\":\"%s\",\"size\":%zu", from, len + 1);
	sc = &t->js.span[t->k_cmd];
	st = &t->js.span[t->k_type];
	if (good && sc->len > 0 && jscan_node_internal(p + sc->off,
	    sc->len)) {
		tracef_put(&t->line, ",\"cmd\":", 7);
		tracef_put(&t->line, p + sc->off, sc->len);
		if (nodechan_cmd_is(p + sc->off, sc->len, "NODE_HANDLE") &&
		    st->len > 0) {
			tracef_put(&t->line, ",\"handle\":", 10);
			tracef_put(&t->line, p + st->off, st->len);
		}
	}
	if (good && (t->show == 0 || len <= t->show)) {
		tracef_put(&t->line, ",\"msg\":", 7);
		tracef_put(&t->line, p, len);
	} else {
		tracef_put(&t->line, ",\"text\":\"", 9);
		cut = tracef_escaped(&t->line, p, len, t->show, 1);
		tracef_put(&t->line, "\"", 1);
		if (cut)
			tracef_put(&t->line, ",\"cut\":true", 11);
	}
	if (rc == JSCAN_BAD && t->js.err != NULL) {
		tracef_put(&t->line, ",\"error\":\"", 10);
		(void)tracef_escaped(&t->line, t->js.err, strlen(t->js.err), 0,
		    1);
		tracef_put(&t->line, "\"", 1);
	}
	tracef_put(&t->line, "}\n", 2);
	tracef_write(t);
}

/* A happening (a child spawned, a channel closed), of child or NULL. */
void
tracef_event(struct tracef *t, const char *child, const char *what)
{
	if (t->f == NULL)
		return;
	tracef_begin(t, child);
	tracef_put(&t->line, ",\"event\":\"", 10);
	(void)tracef_escaped(&t->line, what, strlen(what), 0, 1);
	tracef_put(&t->line, "\"}\n", 3);
	tracef_write(t);
}

/* The last line, and the file closed. */
void
tracef_close(struct tracef *t)
{
	if (t->f != NULL) {
		tracef_event(t, NULL, "end");
		if (t->f != NULL && fclose(t->f) == EOF)
			cmd_warn(t->ce, "write to '%s'", t->path);
	}
	t->f = NULL;
	buf_release(&t->line);
}
