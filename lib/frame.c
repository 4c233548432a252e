/* SPDX-License-Identifier: ISC */
/*
 * Newline framing with validation: bytes go in as they are read, lines
 * come out as GOOD, BLANK or BAD. A good line is held whole (it cannot be
 * passed on before its end proves it valid); a bad one is reported as soon
 * as it is known and its remaining bytes are dropped as they arrive (or,
 * with rest set, handed out piece by piece), so an over-long or broken
 * line costs no memory. The whole lines in the buffer are found and
 * scanned in one pass of the block scanner (jscan_lines), whose stage 1
 * sees the newlines; a line it doubts is found with memchr and scanned
 * alone (jscan_line), and one longer than FRAME_PIECE is fed to the
 * scanner in pieces as it arrives.
 */
#include "compat.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "jscan.h"

#define FRAME_MIN	(256 * 1024)	/* buffer size for ordinary lines */
#define FRAME_READ	(64 * 1024)	/* least room offered to a read */
#define FRAME_PIECE	(FRAME_MIN / 2)	/* least part of a line fed alone */

static const char E_LONG[] = "line too long";

int
frame_init(struct frame *f, size_t maxline, int validate)
{
	size_t	words;

	memset(f, 0, sizeof *f);
	jscan_init(&f->js);
	f->maxline = maxline;
	f->validate = validate;
	f->sep = '\n';
	f->cap = FRAME_MIN;
	if ((f->buf = malloc(f->cap)) == NULL)
		return -1;
	/*
	 * Node takes nesting as deep as a line allows, so the scanner gets
	 * one bit per possible level. The stack is reserved, not committed
	 * (MAP_NORESERVE): only the levels a line really uses cost memory,
	 * and a huge --max-line neither counts against the commit limit
	 * (which made the next fork fail) nor costs anything up front.
	 */
	words = maxline / 64 + 2;
	if (validate && words > JSCAN_INLINE) {
		if (words > SIZE_MAX / sizeof *f->stack) {
			free(f->buf);
			errno = ENOMEM;
			return -1;
		}
		f->stack_map = words * sizeof *f->stack;
		f->stack = mmap(NULL, f->stack_map, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (f->stack == MAP_FAILED) {
			f->stack = NULL;
			f->stack_map = 0;
			free(f->buf);
			f->buf = NULL;
			return -1;
		}
		jscan_set_stack(&f->js, f->stack, words);
	}
	return 0;
}

void
frame_release(struct frame *f)
{
	free(f->buf);
	if (f->stack != NULL)
		munmap(f->stack, f->stack_map);
	f->buf = NULL;
	f->stack = NULL;
	f->stack_map = 0;
}

/* Bytes buffered and not yet handed out as lines. */
size_t
frame_pending(const struct frame *f)
{
	return f->end - f->start;
}

/*
 * Room for the next read. The current line is moved to the front, and the
 * buffer grows only while one good line is longer than it (never past
 * --max-line); once lines are short again it shrinks back.
 */
char *
frame_space(struct frame *f, size_t *n)
{
	size_t	used = f->end - f->start, want;
	char	*nb;

	if (f->start > 0 && (f->cap - f->end < FRAME_READ || used == 0 ||
	    (f->cap > FRAME_MIN && used < FRAME_MIN / 2))) {
		memmove(f->buf, f->buf + f->start, used);
		f->end = used;
		f->start = 0;
		/* The block scanner's place was in the bytes just moved. */
		f->full = 0;
		f->run.buf = NULL;
		f->doubt = 0;
	}
	if (f->cap > FRAME_MIN && f->start == 0 && used < FRAME_MIN / 2) {
		if ((nb = realloc(f->buf, FRAME_MIN)) != NULL) {
			f->buf = nb;
			f->cap = FRAME_MIN;
		}
	}
	if (f->cap - f->end < FRAME_READ) {
		want = f->cap * 2;
		if (want > f->maxline + 2 * FRAME_READ)
			want = f->maxline + 2 * FRAME_READ;
		if (want > f->cap && (nb = realloc(f->buf, want)) != NULL) {
			f->buf = nb;
			f->cap = want;
		}
	}
	*n = f->cap - f->end;
	if (*n == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return f->buf + f->end;
}

void
frame_filled(struct frame *f, size_t n)
{
	f->end += n;
}

void
frame_set_eof(struct frame *f)
{
	f->eof = 1;
}

/*
 * The read step every reader of a stream shares: up to max bytes from fd
 * into the frame. Returns the bytes read; 0 at the end of the stream
 * (frame_set_eof is done); -1 with errno set: EINTR or EAGAIN mean try
 * again later, ENOMEM that a line longer than memory allows is under way.
 */
ssize_t
frame_read(struct frame *f, int fd, size_t max)
{
	char	*p;
	size_t	 n;
	ssize_t	 got;

	if ((p = frame_space(f, &n)) == NULL)
		return -1;
	if (max > 0 && n > max)
		n = max;
	if ((got = read(fd, p, n)) == -1)
		return -1;
	if (got == 0)
		frame_set_eof(f);
	else
		frame_filled(f, (size_t)got);
	return got;
}

static int
blank(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r')) {
		p++;
		n--;
	}
	return n == 0;
}

/*
 * A bad line: hand out what of it is buffered, up to its '\n' (nl) if that
 * is there, and drop the rest as it arrives.
 */
static int
frame_bad(struct frame *f, struct frame_line *l, const char *err,
    size_t off, const char *nl)
{
	char	*p = f->buf + f->start;

	l->lineno = f->lineno;
	l->err = err;
	l->err_off = off;
	l->p = p;
	l->len = nl != NULL ? (size_t)(nl - p) + 1 : f->end - f->start;
	l->nl = nl != NULL;
	l->more = nl == NULL && !f->eof;
	f->start += l->len;
	f->skip = l->more;
	f->inline_ = 0;
	f->fed = 0;
	return FRAME_BAD;
}

/*
 * A new line from the block scanner's pass over the buffered whole lines,
 * or FRAME_NONE when it doubts the line or none is whole yet (the line is
 * then framed and scanned on its own). Only the buffer's unfinished last
 * line is searched for apart (backwards, once per read), so that stage 1
 * stops where the whole lines do.
 */
static int
frame_fast(struct frame *f, struct frame_line *l)
{
	char	*nl;
	size_t	 linelen;
	int	 r;

	if (f->doubt == f->start + 1) {
		/* frame_run doubted this line already: no second try. */
		f->doubt = 0;
		return FRAME_NONE;
	}
	/* A line frame_run held is scanned again, for its member spans. */
	f->held = 0;
	if (f->full <= f->start) {
		nl = memrchr(f->buf + f->start, '\n', f->end - f->start);
		if (nl == NULL)
			return FRAME_NONE;
		f->full = (size_t)(nl - f->buf) + 1;
	}
	r = jscan_lines(&f->js, &f->run, f->buf, f->full, f->start, &linelen);
	if (r == JSCAN_BAD || linelen > f->maxline)
		return FRAME_NONE;
	l->lineno = ++f->lineno;
	l->p = f->buf + f->start;
	l->nl = 1;
	l->len = linelen + 1;
	f->start += l->len;
	return r == JSCAN_GOOD ? FRAME_GOOD : FRAME_BLANK;
}

/*
 * frame_run without validation (--no-validate): the same runs, found with
 * memchr alone, so that the relay hands on a buffer of lines per call
 * rather than one line per frame_next. A line is what frame_next would
 * call it: blank when it holds only spaces, tabs and CRs, too long over
 * maxline (left to frame_next, which reports it).
 */
static size_t
frame_run_plain(struct frame *f, size_t max, const char **p,
    uint64_t *lines)
{
	const char	*s, *nl;
	size_t		 first = f->start, last = f->start, linelen;

	while (f->start < f->end) {
		s = f->buf + f->start;
		if ((nl = memchr(s, '\n', f->end - f->start)) == NULL)
			break;
		linelen = (size_t)(nl - s);
		if (linelen > f->maxline)
			break;
		if (*lines > 0 && last - first + linelen + 1 > max)
			break;
		f->lineno++;
		f->start += linelen + 1;
		if (blank(s, linelen)) {
			/* Passed over before a run; one after ends it. */
			if (*lines > 0)
				break;
			first = last = f->start;
			continue;
		}
		(*lines)++;
		last = f->start;
	}
	*p = f->buf + first;
	return last - first;
}

/*
 * A run of whole good lines at the front, for a caller that passes lines
 * on as they are (no member spans, no look at each line): the block
 * scanner goes from line to line without a frame_next per line, and the
 * caller can copy or write the run in one piece. The first line is taken
 * whatever its length, then lines while the run stays within max bytes;
 * the line that would not fit is held, known good, for the next call.
 * Blank lines before the run are passed over, and one after it ends it
 * (passed over too: it would split the run). Returns the run's bytes
 * (each line with its newline), its start in *p and its lines in *lines;
 * 0 when the next line is frame_next's (doubted by the block scanner,
 * over --max-line, or not whole yet). The run is valid until the next
 * frame_space.
 */
size_t
frame_run(struct frame *f, size_t max, const char **p, uint64_t *lines)
{
	char		*nl;
	size_t		 first, last, linelen = 0, lim, good;
	uint64_t	 n;
	int		 r;

	*lines = 0;
	if (f->sep != '\n' || f->inline_ || f->skip)
		return 0;
	if (!f->validate)
		return frame_run_plain(f, max, p, lines);
	first = last = f->start;
	while (f->start < f->end) {
		if (f->held > 0) {
			linelen = f->held - 1;
			r = JSCAN_GOOD;
		} else {
			if (f->full <= f->start) {
				nl = memrchr(f->buf + f->start, '\n',
				    f->end - f->start);
				if (nl == NULL)
					break;
				f->full = (size_t)(nl - f->buf) + 1;
			}
			if (f->doubt == f->start + 1)
				break;
			/* The first line comes back alone: any length goes. */
			lim = *lines == 0 ? f->start : first + max;
			r = jscan_lines_run(&f->js, &f->run, f->buf, f->full,
			    f->start, lim, f->maxline, &n, &good, &linelen);
			if (n > 0) {
				f->lineno += n;
				*lines += n;
				f->start = last = good;
			}
			if (r == JSCAN_END)
				continue;
			if (r == JSCAN_BAD || linelen > f->maxline) {
				/* frame_next takes it, without asking again. */
				f->doubt = f->start + 1;
				break;
			}
		}
		if (r == JSCAN_GOOD && *lines > 0 &&
		    last - first + linelen + 1 > max) {
			f->held = linelen + 1;
			break;
		}
		f->held = 0;
		f->lineno++;
		f->start += linelen + 1;
		if (r == JSCAN_BLANK) {
			if (*lines > 0)
				break;
			first = last = f->start;
			continue;
		}
		(*lines)++;
		last = f->start;
	}
	*p = f->buf + first;
	return last - first;
}

/* Hand out the next line, or FRAME_NONE when more input is needed. */
int
frame_next(struct frame *f, struct frame_line *l)
{
	char	*nl, *p;
	size_t	 avail, linelen, take;
	int	 r;

	for (;;) {
		if (f->start == f->end && !f->eof)
			return FRAME_NONE;
		if (!f->inline_ && !f->skip) {
			if (f->start == f->end)
				return FRAME_NONE;	/* eof, nothing left */
			if (f->validate && f->sep == '\n' &&
			    (r = frame_fast(f, l)) != FRAME_NONE)
				return r;
			/* A new line starts. */
			f->lineno++;
			f->inline_ = 1;
			jscan_reset(&f->js);
		}
		p = f->buf + f->start;
		avail = f->end - f->start;
		nl = memchr(p + (f->skip ? 0 : f->fed), f->sep,
		    avail - (f->skip ? 0 : f->fed));

		if (f->skip) {
			/* Drop (or hand out) the rest of a line reported. */
			take = nl != NULL ? (size_t)(nl - p) + 1 : avail;
			f->start += take;
			if (nl != NULL || f->eof) {
				f->skip = 0;
				f->fed = 0;
			}
			if (f->rest && take > 0) {
				l->lineno = f->lineno;
				l->err = NULL;
				l->err_off = 0;
				l->p = p;
				l->len = take;
				l->nl = nl != NULL;
				l->more = f->skip;
				return FRAME_REST;
			}
			if (nl == NULL)
				return FRAME_NONE;
			continue;
		}

		linelen = nl != NULL ? (size_t)(nl - p) : avail;
		if (nl == NULL && !f->eof && linelen <= f->maxline &&
		    linelen - f->fed < FRAME_PIECE && linelen != 0) {
			/*
			 * Feed a partial line in large pieces only, so a
			 * trickle does not cost a scanner call per byte, and
			 * most lines are scanned whole, block by block.
			 */
			return FRAME_NONE;
		}
		if (f->validate && f->fed == 0 && linelen <= f->maxline &&
		    (nl != NULL || f->eof)) {
			/* The whole line is here: scan it at once. */
			r = jscan_line(&f->js, p, linelen);
			goto done;
		}
		if (f->validate) {
			take = (linelen < f->maxline ? linelen : f->maxline) -
			    f->fed;
			if (take > 0) {
				r = jscan_feed(&f->js, p + f->fed, take);
				f->fed += take;
				if (r == JSCAN_BAD)
					return frame_bad(f, l, f->js.err,
					    f->js.err_off, nl);
			}
		} else
			f->fed = linelen < f->maxline ? linelen : f->maxline;

		if (linelen > f->maxline)
			return frame_bad(f, l, E_LONG, f->maxline, nl);
		if (nl == NULL && !f->eof)
			return FRAME_NONE;

		/* The line is complete. */
		if (f->validate)
			r = jscan_finish(&f->js);
		else
			r = blank(p, linelen) ? JSCAN_BLANK : JSCAN_GOOD;
done:
		l->lineno = f->lineno;
		l->p = p;
		l->nl = nl != NULL;
		l->len = linelen + (nl != NULL);
		l->more = 0;
		f->start += l->len;
		f->fed = 0;
		f->inline_ = 0;
		if (r == JSCAN_BAD) {
			l->err = f->js.err;
			l->err_off = f->js.err_off;
			return FRAME_BAD;
		}
		return r == JSCAN_GOOD ? FRAME_GOOD : FRAME_BLANK;
	}
}

/*
 * The reason a FRAME_BAD line was refused, with the byte found there; a
 * line too long with its length and the limit, or only the limit when
 * its end is still to come (it is never buffered whole).
 */
void
frame_reason(const struct frame *f, const struct frame_line *l, char *buf,
    size_t len)
{
	if (l->err == E_LONG && l->more)
		snprintf(buf, len, "%s: more than the limit of %zu bytes",
		    E_LONG, f->maxline);
	else if (l->err == E_LONG)
		snprintf(buf, len, "%s: %zu bytes, more than the limit of %zu",
		    E_LONG, l->len - (size_t)l->nl, f->maxline);
	else if (l->err == f->js.err)
		jscan_strerror(&f->js, buf, len);
	else
		snprintf(buf, len, "%s", l->err);
}

/*
 * Whether a good line is one Node would take for an internal message of
 * its own (a top-level "cmd" of NODE_...), which would reach no 'message'
 * listener or crash the peer. key is the frame's jscan_want index for
 * "cmd", or -1. Returns the offset of that "cmd" in the line, with the
 * reason in why; -1 for any other line.
 */
ssize_t
frame_node_internal(const struct frame *f, int key,
    const struct frame_line *l, char *why, size_t len)
{
	const struct jscan_span	*sp;
	char			 txt[200];

	if (key < 0 || f->js.span[key].len == 0)
		return -1;
	sp = &f->js.span[key];
	if (!jscan_node_internal(l->p + sp->off, sp->len))
		return -1;
	jscan_printable(l->p + sp->off, sp->len, txt, sizeof txt);
	snprintf(why, len, "internal Node message (cmd \"%s\")", txt);
	return (ssize_t)sp->off;
}

/* Lines handed out whole so far (a bad one as soon as it is reported). */
uint64_t
frame_lines_out(const struct frame *f)
{
	return f->lineno - (f->inline_ ? 1 : 0);
}
