/* SPDX-License-Identifier: ISC */
/*
 * ipcrun spy: what it says about the frames it passes on. Each direction's
 * bytes are cut into frames (a line in json, a length and a payload in
 * advanced) beside the relay, which never waits for them, and each frame
 * goes to the trace file as one NDJSON line, to stderr with -v or
 * --trace, and into the counts of --stats.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "fdpass.h"
#include "jscan.h"
#include "nodechan.h"
#include "v8ser.h"
#include "spy.h"
#include "tracef.h"


int
spy_trace_init(struct spy *s)
{
	s->ddown.from = "parent";
	s->ddown.arrow = ">";
	s->dup.from = "child";
	s->dup.arrow = "<";
	jscan_init(&s->js);
	s->k_cmd = jscan_want(&s->js, "cmd", 3);
	s->k_type = jscan_want(&s->js, "type", 4);
	if (buf_init(&s->ddown.fr, 4096) == -1 ||
	    buf_init(&s->dup.fr, 4096) == -1 ||
	    buf_init(&s->dec, 4096) == -1 || buf_init(&s->line, 4096) == -1)
		return -1;
	return 0;
}

void
spy_trace_release(struct spy *s)
{
	buf_release(&s->ddown.fr);
	buf_release(&s->dup.fr);
	buf_release(&s->dec);
	buf_release(&s->line);
	if (s->tf != NULL)
		(void)fclose(s->tf);
	s->tf = NULL;
}

/* The report line is built with tracef.c's pieces, as run's trace is. */
static void
put(struct spy *s, const char *p, size_t n)
{
	tracef_put(&s->line, p, n);
}

#define putf(s, ...)	tracef_putf(&(s)->line, __VA_ARGS__)

static int
put_escaped(struct spy *s, const char *p, size_t n, size_t max, int json)
{
	return tracef_escaped(&s->line, p, n, max, json);
}

static void
put_time(struct spy *s)
{
	tracef_time(&s->line, s->t0);
}

/*
 * The trace file cannot be written (a full disk): said once, and the
 * trace stops. The relay goes on: both sides depend on it.
 */
static void
trace_failed(struct spy *s)
{
	cmd_warn(s->ce, "write to '%s'; no more trace", s->trace_path);
	(void)fclose(s->tf);
	s->tf = NULL;
	s->tdirty = 0;
}

/* The line built goes to the trace file (already ending in '\n'). */
static void
line_to_file(struct spy *s)
{
	if (s->tf == NULL)
		return;
	if (fwrite(s->line.p + s->line.off, 1, s->line.len, s->tf) !=
	    s->line.len)
		trace_failed(s);
	else
		s->tdirty = 1;
}

static void
line_to_stderr(struct spy *s)
{
	(void)fwrite(s->line.p + s->line.off, 1, s->line.len, stderr);
}

/* The first line of the trace: who, what, how. */
void
spy_trace_start(struct spy *s)
{
	char	**a;

	if (s->tf == NULL)
		return;
	buf_consume(&s->line, s->line.len);
	putf(s, "{\"t\":");
	put_time(s);
	putf(s, ",\"event\":\"start\",\"pid\":%ld,\"serialization\":\"%s\","
	    "\"argv\":[", (long)s->pid, s->advanced ? "advanced" : "json");
	for (a = s->argv; *a != NULL; a++) {
		put(s, a == s->argv ? "\"" : ",\"", a == s->argv ? 1 : 2);
		(void)put_escaped(s, *a, strlen(*a), 0, 1);
		put(s, "\"", 1);
	}
	put(s, "]}\n", 3);
	line_to_file(s);
}

/* A happening of the relay's own (an end passed on), in every form. */
void
spy_trace_note(struct spy *s, const char *what)
{
	int64_t	t = ev_now() - s->t0;

	if (s->tf != NULL) {
		buf_consume(&s->line, s->line.len);
		putf(s, "{\"t\":");
		put_time(s);
		putf(s, ",\"event\":\"%s\"}\n", what);
		line_to_file(s);
	}
	if (s->trace || s->verbose)
		fprintf(stderr, "ipcrun: %s: trace %" PRId64 ".%06" PRId64
		    " %s %s\n", s->ce->name, t / SEC, (t % SEC) / 1000,
		    s->name, what);
}

/* Bytes (and fds) for the other side that it never took: it had gone. */
void
spy_trace_lost(struct spy *s, struct spy_dir *d, size_t bytes, size_t fds)
{
	if (bytes == 0 && fds == 0)
		return;
	d->lost += bytes;
	if (s->tf != NULL) {
		buf_consume(&s->line, s->line.len);
		putf(s, "{\"t\":");
		put_time(s);
		putf(s, ",\"event\":\"lost\",\"from\":\"%s\",\"bytes\":%zu,"
		    "\"fds\":%zu}\n", d->from, bytes, fds);
		line_to_file(s);
	}
}

/*
 * A whole frame of d: size bytes on the wire, the first n of them at p
 * (all of it unless it was longer than SPY_KEEP).
 */
static void
spy_frame(struct spy *s, struct spy_dir *d, const char *p, size_t n,
    uint64_t size)
{
	const char		*body = p, *why = NULL;
	const struct jscan_span	*sc, *st;
	struct v8ser_err	 ve;
	size_t			 blen = n, show, i;
	int			 whole = n == size, good = 0, internal = 0;
	int			 hkind = -2, cut, rc;
	int64_t			 t = ev_now() - s->t0;

	if (!s->advanced) {
		if (blen > 0 && body[blen - 1] == '\n')
			blen--;
	} else if (whole) {
		buf_consume(&s->dec, s->dec.len);
		if (v8ser_decode(p + 4, n - 4, &s->dec, SPY_KEEP, &ve) == 0) {
			body = s->dec.p + s->dec.off;
			blen = s->dec.len;
		} else
			why = ve.what;
	}
	if (whole && why == NULL) {
		rc = jscan_line(&s->js, body, blen);
		good = rc == JSCAN_GOOD;
		if (rc == JSCAN_BAD)
			why = s->js.err;
	}
	sc = &s->js.span[s->k_cmd];
	st = &s->js.span[s->k_type];
	if (good && sc->len > 0 && jscan_node_internal(body + sc->off,
	    sc->len)) {
		internal = 1;
		d->internal++;
		if (nodechan_cmd_is(body + sc->off, sc->len, "NODE_HANDLE")) {
			/* Node's rule: the oldest fd pending is this one's. */
			d->handles++;
			hkind = -1;
			if (d->nkinds > 0) {
				hkind = d->kinds[0];
				memmove(d->kinds, d->kinds + 1, --d->nkinds *
				    sizeof *d->kinds);
			}
		}
	}
	d->frames++;
	d->bytes += size;
	if (s->ctl.ntap > 0)
		spy_ctl_frame(s, d == &s->ddown, internal, good, body, blen,
		    size);

	if (s->tf != NULL) {
		buf_consume(&s->line, s->line.len);
		putf(s, "{\"t\":");
		put_time(s);
		putf(s, ",\"from\":\"%s\",\"size\":%" PRIu64, d->from, size);
		if (internal) {
			put(s, ",\"cmd\":", 7);
			put(s, body + sc->off, sc->len);
		}
		if (hkind != -2) {
			if (st->len > 0) {
				put(s, ",\"handle\":", 10);
				put(s, body + st->off, st->len);
			}
			if (hkind == -1)
				put(s, ",\"fd\":null", 10);
			else
				putf(s, ",\"fd\":\"%s\"",
				    fdpass_kind_name(hkind));
		}
		if (good && (s->show == 0 || blen <= s->show)) {
			put(s, ",\"msg\":", 7);
			put(s, body, blen);
		} else if (s->advanced && body == p) {
			/* Not decoded: the payload in hex. */
			put(s, ",\"v8\":\"", 7);
			show = s->show == 0 || s->show > n - 4 ? n - 4 : s->show;
			for (i = 0; i < show; i++)
				putf(s, "%02x", (unsigned char)p[4 + i]);
			put(s, "\"", 1);
			if (show < size - 4)
				put(s, ",\"cut\":true", 11);
		} else {
			put(s, ",\"text\":\"", 9);
			cut = put_escaped(s, body, blen, s->show, 1);
			put(s, "\"", 1);
			if (cut || !whole)
				put(s, ",\"cut\":true", 11);
		}
		if (why != NULL) {
			put(s, ",\"error\":\"", 10);
			(void)put_escaped(s, why, strlen(why), 0, 1);
			put(s, "\"", 1);
		}
		put(s, "}\n", 2);
		line_to_file(s);
	}
	if (s->trace) {
		buf_consume(&s->line, s->line.len);
		putf(s, "ipcrun: %s: trace ", s->ce->name);
		put_time(s);
		putf(s, " %s %s %" PRIu64 " bytes", d == &s->ddown ? "->" : "<-",
		    s->name, size);
		if (internal) {
			put(s, " internal cmd ", 14);
			put(s, body + sc->off, sc->len);
		}
		if (hkind >= 0)
			putf(s, " with a %s", fdpass_kind_name(hkind));
		put(s, "\n", 1);
		line_to_stderr(s);
	}
	if (s->verbose) {
		buf_consume(&s->line, s->line.len);
		putf(s, "ipcrun: %s: %" PRId64 ".%06" PRId64 " %s %s %s",
		    s->ce->name, t / SEC, (t % SEC) / 1000, s->name, d->arrow,
		    internal ? "internal " : "");
		if (s->advanced && body == p)
			putf(s, "[%" PRIu64 " bytes of V8 payload%s%s]",
			    size - 4, why != NULL ? ": " : "",
			    why != NULL ? why : "");
		else if (put_escaped(s, body, blen, s->show_set ? s->show :
		    SPY_SHOW, 0) || !whole)
			put(s, "...", 3);
		put(s, "\n", 1);
		line_to_stderr(s);
	}
}

/* Keep the bytes of the frame under way, up to SPY_KEEP. */
static void
keep(struct spy_dir *d, const char *p, size_t n)
{
	size_t	room = d->fr.len < SPY_KEEP ? SPY_KEEP - d->fr.len : 0;

	/* Out of memory: the frame is traced cut. */
	(void)buf_append(&d->fr, p, n < room ? n : room);
	d->size += n;
}

/*
 * n bytes that d's side sent (and nfds fds that came with them, which
 * the relay still holds): cut into frames, each said once whole.
 */
void
spy_trace_feed(struct spy *s, struct spy_dir *d, const char *p, size_t n,
    const int *fds, size_t nfds)
{
	const char	*nl;
	size_t		 k, i;
	uint64_t	 len;

	for (i = 0; i < nfds; i++)
		if (d->nkinds < sizeof d->kinds / sizeof d->kinds[0])
			d->kinds[d->nkinds++] = fdpass_kind(fds[i]);
	/* --tap cuts frames all along: a tap may come at any time. */
	if (s->tf == NULL && !s->verbose && !s->trace && !s->stats &&
	    !s->tap)
		return;
	while (n > 0) {
		if (!s->advanced) {
			nl = memchr(p, '\n', n);
			k = nl != NULL ? (size_t)(nl - p) + 1 : n;
			keep(d, p, k);
			if (nl != NULL) {
				spy_frame(s, d, d->fr.p + d->fr.off, d->fr.len,
				    d->size);
				buf_consume(&d->fr, d->fr.len);
				d->size = 0;
			}
		} else {
			if (d->size < 4) {
				k = 4 - (size_t)d->size < n ? 4 -
				    (size_t)d->size : n;
				keep(d, p, k);
				if (d->size == 4) {
					const unsigned char *h =
					    (const unsigned char *)d->fr.p +
					    d->fr.off;

					len = (uint64_t)h[0] << 24 |
					    (uint64_t)h[1] << 16 |
					    (uint64_t)h[2] << 8 | h[3];
					d->need = 4 + len;
				}
			} else {
				k = d->need - d->size < n ?
				    (size_t)(d->need - d->size) : n;
				keep(d, p, k);
			}
			if (d->size >= 4 && d->size == d->need) {
				spy_frame(s, d, d->fr.p + d->fr.off, d->fr.len,
				    d->size);
				buf_consume(&d->fr, d->fr.len);
				d->size = d->need = 0;
			}
		}
		p += k;
		n -= k;
	}
}

/* The trace file gets what was said, before the peer gets the frames. */
int
spy_trace_flush(struct spy *s)
{
	if (s->tf == NULL || !s->tdirty)
		return 0;
	s->tdirty = 0;
	if (fflush(s->tf) == EOF) {
		trace_failed(s);
		return -1;
	}
	return 0;
}

/* The end: --stats, and the last line of the trace. */
void
spy_trace_end(struct spy *s)
{
	double		 secs = (double)(ev_now() - s->t0) / SEC;
	struct spy_dir	*d;

	/* Once, at the end: a side that closes early loses many reads. */
	for (d = &s->ddown; d != NULL; d = d == &s->ddown ? &s->dup : NULL)
		if (d->lost > 0 && (s->verbose || s->trace))
			cmd_warnx(s->ce, "%" PRIu64 " bytes from the %s not "
			    "delivered: the %s had closed the channel", d->lost,
			    d->from, d == &s->ddown ? "child" : "parent");
	if (s->stats)
		cmd_warnx(s->ce, "stats: %s: to the child %" PRIu64 " frames %"
		    PRIu64 " B (%" PRIu64 " internal, %" PRIu64 " handles), "
		    "to the parent %" PRIu64 " frames %" PRIu64 " B (%" PRIu64
		    " internal, %" PRIu64 " handles), fds %" PRIu64 " and %"
		    PRIu64 ", lost %" PRIu64 " B and %" PRIu64 " B, %.3f s",
		    s->name, s->ddown.frames, s->ddown.bytes, s->ddown.internal,
		    s->ddown.handles, s->dup.frames, s->dup.bytes,
		    s->dup.internal, s->dup.handles, s->down.fds_out,
		    s->up.fds_out, s->ddown.lost, s->dup.lost, secs);
	if (s->tf == NULL)
		return;
	buf_consume(&s->line, s->line.len);
	putf(s, "{\"t\":");
	put_time(s);
	putf(s, ",\"event\":\"end\",\"to_child\":{\"frames\":%" PRIu64
	    ",\"bytes\":%" PRIu64 ",\"fds\":%" PRIu64 ",\"lost\":%" PRIu64
	    "},\"to_parent\":{\"frames\":%" PRIu64 ",\"bytes\":%" PRIu64
	    ",\"fds\":%" PRIu64 ",\"lost\":%" PRIu64 "}}\n", s->ddown.frames,
	    s->ddown.bytes, s->down.fds_out, s->ddown.lost, s->dup.frames,
	    s->dup.bytes, s->up.fds_out, s->dup.lost);
	line_to_file(s);
	s->tdirty = 1;
	(void)spy_trace_flush(s);
}
