/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run --tasklog FILE: one TSV line per task settled (lib/tasklog.c),
 * appended, and --resume-failed: the tasks a log says were answered are
 * not run again. The log must survive a kill -9 of ipcrun and still tell
 * the truth, so a task's ok line is written only once its reply is out
 * (written to stdout, or handed to --to's sink): each line waits with
 * the output position its reply ends at, and goes when the output has
 * passed it. A crash loses no reply that the log calls ok; at worst a
 * reply out but not yet logged, whose task a resumed run does again
 * (at least once, as everywhere with --tasks). Called from run_task.c
 * (a task settled), run_out.c (the output moved on) and run.c (open).
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "ev.h"
#include "task.h"
#include "tasklog.h"
#include "relay.h"

#define TASKLOG_TAIL	1024	/* a cut line is shorter (TASKLOG_LINE) */

/*
 * --resume-failed: the tasks FILE says were answered, read before it is
 * opened to append. No file yet is a first run. A bad line is an error
 * naming it: a log misread would run tasks twice or not at all.
 */
static int
run_tasklog_read(struct run *r)
{
	struct tasklog_ent	 e;
	FILE			*f;
	char			*line = NULL;
	const char		*cause;
	size_t			 cap = 0, n;
	ssize_t			 k;
	uint64_t		 lineno = 0;
	int			 rc = 0;

	seqset_init(&r->tl_done);
	if ((f = fopen(r->cf->tasklog_path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
		return EXIT_FAIL;
	}
	while ((k = getline(&line, &cap, f)) != -1) {
		lineno++;
		n = (size_t)k;
		if (line[n - 1] != '\n') {
			/* Cut by a crash as it was written: never logged. */
			cmd_warnx(r->ce, "--tasklog '%s':%" PRIu64 ": no newline "
			    "at the end (a line cut short, ignored)",
			    r->cf->tasklog_path, lineno);
			break;
		}
		if (tasklog_parse(line, n - 1, &e, &cause) == -1) {
			cmd_warnx(r->ce, "--tasklog '%s':%" PRIu64 ": %s",
			    r->cf->tasklog_path, lineno, cause);
			rc = EXIT_FAIL;
			break;
		}
		if (e.ok && seqset_add(&r->tl_done, e.seq) == -1) {
			cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
			rc = EXIT_FAIL;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
		rc = EXIT_FAIL;
	}
	free(line);
	fclose(f);
	seqset_seal(&r->tl_done);
	return rc;
}

/* Writes all of p or fails: a regular file takes it (short only if full). */
static int
run_tasklog_write(struct run *r, const char *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = write(r->tasklog_fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * A last line that a crash cut short was never a line: it is cut off, so
 * that the file stays a log for the next --resume-failed. Returns 0, -1
 * (errno), or -2 when no line ends near the end: not a log at all.
 */
static int
run_tasklog_trim(struct run *r, off_t size)
{
	char	tail[TASKLOG_TAIL];
	off_t	from = size > TASKLOG_TAIL ? size - TASKLOG_TAIL : 0;
	ssize_t	n;

	if (size == 0)
		return 0;
	if ((n = pread(r->tasklog_fd, tail, (size_t)(size - from), from)) !=
	    size - from)
		return -1;
	if (tail[n - 1] == '\n')
		return 0;
	while (n > 0 && tail[n - 1] != '\n')
		n--;
	if (n == 0 && from > 0)
		return -2;
	return ftruncate(r->tasklog_fd, from + n);
}

/*
 * --tasklog's file, opened to append (with --resume-failed, read first).
 * A new file gets the header. Returns 0 or an exit code.
 */
int
run_tasklog_open(struct run *r)
{
	struct stat	st;
	int		rc;

	r->tasklog_fd = -1;
	if (r->cf->tasklog_path == NULL)
		return 0;
	if (r->cf->resume_failed && (rc = run_tasklog_read(r)) != 0)
		goto fail;
	rc = EXIT_FAIL;
	if ((r->tasklog_fd = open(r->cf->tasklog_path, O_RDWR | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0666)) == -1 ||
	    fstat(r->tasklog_fd, &st) == -1) {
		cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
		goto fail;
	}
	/* A pipe could block the relay: the log is a file. */
	if (!S_ISREG(st.st_mode)) {
		cmd_warnx(r->ce, "--tasklog '%s': not a regular file",
		    r->cf->tasklog_path);
		goto fail;
	}
	if (buf_init(&r->tl_q, 4096) == -1) {
		cmd_warn(r->ce, "malloc");
		goto fail;
	}
	if ((rc = run_tasklog_trim(r, st.st_size)) == -2) {
		cmd_warnx(r->ce, "--tasklog '%s': not a tasklog (no line end "
		    "in its last %d bytes)", r->cf->tasklog_path, TASKLOG_TAIL);
		rc = EXIT_FAIL;
		goto fail;
	}
	if (rc == 0 && fstat(r->tasklog_fd, &st) == 0 && st.st_size == 0)
		rc = run_tasklog_write(r, TASKLOG_HEADER,
		    sizeof TASKLOG_HEADER - 1);
	if (rc == 0)
		return 0;
	cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
	rc = EXIT_FAIL;
fail:
	if (r->tasklog_fd != -1)
		close(r->tasklog_fd);
	r->tasklog_fd = -1;
	buf_release(&r->tl_q);
	seqset_release(&r->tl_done);
	return rc;
}

/* --resume-failed: was line seq answered in the log's earlier runs? */
int
run_tasklog_skip(const struct run *r, uint64_t seq)
{
	return r->cf->resume_failed && seqset_has(&r->tl_done, seq);
}

/*
 * Is the log being written? r is zeroed before the options, so a
 * descriptor of 0 means nothing without a path.
 */
static int
run_tasklog_on(const struct run *r)
{
	return r->cf->tasklog_path != NULL && r->tasklog_fd != -1;
}

/* The log failed: said once, the run's status is 1, no more lines. */
static void
run_tasklog_failed(struct run *r)
{
	cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
	r->fail = 1;
	close(r->tasklog_fd);
	r->tasklog_fd = -1;
}

/*
 * t's line (ok: answered, else given up), for w, or for no child; into
 * p. Its start is when its last try began, in wall-clock time.
 */
static int
run_tasklog_line(struct run *r, struct worker *w, const struct task *t,
    int ok, char *p, size_t len)
{
	struct timespec	ts;
	int64_t		now = ev_now(), wall, start, ran = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
	start = wall;
	if (t->start != 0 && t->start <= now) {
		ran = now - t->start;
		start = wall - ran;
	}
	return tasklog_format(p, len, t->seq, w != NULL ? w->name : "-",
	    w != NULL ? (long)w->pid : 0L, start, ran, t->tries + ok, ok);
}

/* The oldest lines waiting whose replies are out go to the file. */
void
run_tasklog_sync(struct run *r)
{
	struct run_tlwait	*tw;
	size_t			 n = 0;

	while (r->tl_wait.n > 0) {
		tw = &r->tl_wait.v[r->tl_wait.head];
		if (tw->pos > r->out_pos)
			break;
		n += tw->len;
		r->tl_wait.head = (r->tl_wait.head + 1) & (r->tl_wait.cap - 1);
		r->tl_wait.n--;
	}
	if (n == 0 || !run_tasklog_on(r))
		return;
	if (run_tasklog_write(r, r->tl_q.p + r->tl_q.off, n) == -1) {
		run_tasklog_failed(r);
		return;
	}
	buf_consume(&r->tl_q, n);
}

static int
run_tasklog_wait(struct run *r, uint64_t pos, size_t len)
{
	struct run_tlq	*q = &r->tl_wait;
	struct run_tlwait *v;
	size_t		 cap, i;

	if (q->n == q->cap) {
		cap = q->cap == 0 ? 64 : q->cap * 2;
		if ((v = reallocarray(NULL, cap, sizeof *v)) == NULL)
			return -1;
		for (i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) & (q->cap - 1)];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->n) & (q->cap - 1)].pos = pos;
	q->v[(q->head + q->n) & (q->cap - 1)].len = len;
	q->n++;
	return 0;
}

/*
 * t is settled: its line waits for the output to pass the end of what
 * is queued now (its reply, if any, is in it). With --keep-order a reply
 * still held in its slot is not queued yet: its line waits in the slot,
 * and run_tasklog_released queues it when the reply goes.
 */
void
run_tasklog_add(struct run *r, struct worker *w, const struct task *t,
    int ok)
{
	struct run_slot	*sl;
	char		 line[TASKLOG_LINE];
	int		 n;

	/* A reply that will not go out is not logged ok: it runs again. */
	if (!run_tasklog_on(r) || (ok && r->out_dead))
		return;
	if ((n = run_tasklog_line(r, w, t, ok, line, sizeof line)) == -1)
		return;
	if (ok && r->cf->keep_order && t->ord >= r->ko_next) {
		sl = &r->ko[t->ord % r->ko_n];
		if ((sl->tl = strdup(line)) == NULL)
			goto fail;
		return;
	}
	if (buf_append(&r->tl_q, line, (size_t)n) == -1 ||
	    run_tasklog_wait(r, r->out_pos + r->oq.len, (size_t)n) == -1)
		goto fail;
	run_tasklog_sync(r);
	return;
fail:
	cmd_warn(r->ce, "--tasklog");
	r->fail = 1;
}

/* --keep-order: sl's reply was just queued for the output. */
void
run_tasklog_released(struct run *r, struct run_slot *sl)
{
	size_t	n;

	if (sl->tl == NULL)
		return;
	n = strlen(sl->tl);
	if (run_tasklog_on(r) && (buf_append(&r->tl_q, sl->tl, n) == -1 ||
	    run_tasklog_wait(r, r->out_pos + r->oq.len, n) == -1)) {
		cmd_warn(r->ce, "--tasklog");
		r->fail = 1;
	}
	free(sl->tl);
	sl->tl = NULL;
}

/*
 * The end: the lines whose replies are out are written, the rest are
 * not (a resumed run does those tasks again). With the output all
 * written and nothing failed, every reply is out.
 */
void
run_tasklog_close(struct run *r)
{
	if (r->cf->tasklog_path == NULL)
		return;
	if (r->tasklog_fd != -1) {
		if (r->oq.len == 0 && !r->out_dead && !r->fail)
			r->out_pos = UINT64_MAX;
		run_tasklog_sync(r);
	}
	if (r->tasklog_fd != -1 && close(r->tasklog_fd) == -1) {
		cmd_warn(r->ce, "--tasklog '%s'", r->cf->tasklog_path);
		r->fail = 1;
	}
	r->tasklog_fd = -1;
	buf_release(&r->tl_q);
	free(r->tl_wait.v);
	memset(&r->tl_wait, 0, sizeof r->tl_wait);
	seqset_release(&r->tl_done);
}
