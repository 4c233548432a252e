/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: what it says. --trace and -v lines, notices,
 * --events, the exit and give-up reports, --stats, and the children's
 * stderr behind "NAME| " (--log prefix).
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "ev.h"
#include "envelope.h"
#include "jscan.h"
#include "proc.h"
#include "spawn.h"
#include "relay.h"

/*
 * A line for stderr: into its queue once the run has one (written as the
 * reader takes it, lost and counted if it lags too far), the meter
 * erased first. Before the queue and after it, straight to stderr.
 */
void
run_put_err(struct run *r, const char *line, size_t n)
{
	meter_erase(&r->meter);
	if (r->errq.fd == -1) {
		(void)fwrite(line, 1, n, stderr);
		return;
	}
	(void)outq_put(&r->errq, line, n);
}

static void __attribute__((format(printf, 2, 3)))
run_say(struct run *r, const char *fmt, ...)
{
	va_list	ap;
	char	line[1024];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	run_put_err(r, line, (size_t)n);
}

void
run_trace_(struct run *r, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];
	int64_t	t;

	t = ev_now() - r->t0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	run_say(r, "ipcrun: %s: trace %" PRId64 ".%06" PRId64 " %s\n",
	    r->ce->name, t / SEC, (t % SEC) / 1000, msg);
}

/*
 * One frame to (">") or from ("<") child w, as strace -s shows a string:
 * its first -s bytes (SHOW_MAX by default, all with 0), then "..." if
 * there is more. Controls, backslashes, invalid UTF-8 and the code points
 * that reorder or break a line are escaped, so that a frame cannot upset
 * the terminal.
 */
void
run_show_(struct run *r, const struct worker *w, const char *dir,
    int internal, const char *p, size_t n)
{
	char		 small[SHOW_MAX * 5 + 320], *out = small, *raw;
	const unsigned char *u;
	size_t		 i = 0, k, m, show, cap = sizeof small;
	uint32_t	 c;
	int		 len;
	int64_t		 t = ev_now() - r->t0;

	if (n > 0 && p[n - 1] == '\n')
		n--;
	show = r->cf->show == 0 || r->cf->show > n ? n : r->cf->show;
	/* Room for the escaped bytes, the prefix and a NUL-ended copy. */
	if (show * 5 + 320 > cap) {
		cap = show * 5 + 320;
		if ((out = malloc(cap)) == NULL)
			return;
	}
	/* A NUL after the copy: jscan_utf8_len reads no further. */
	raw = out + cap - (show + 5);
	m = n < show + 4 ? n : show + 4;
	memcpy(raw, p, m);
	raw[m] = '\0';
	u = (const unsigned char *)raw;
	k = (size_t)snprintf(out, 256, "ipcrun: %s: %" PRId64 ".%06" PRId64
	    " %s %s %s", r->ce->name, t / SEC, (t % SEC) / 1000, w->name, dir,
	    internal ? "internal " : "");
	if (k >= 256)
		k = 255;
	while (i < n && i < show) {
		len = jscan_utf8_len(raw + i);
		if (len > 1 && i + (size_t)len > show)
			break;	/* a character that does not fit whole */
		c = len == 2 ? (u[i] & 0x1fu) << 6 | (u[i + 1] & 0x3fu) :
		    len == 3 ? (u[i] & 0x0fu) << 12 | (u[i + 1] & 0x3fu) << 6 |
		    (u[i + 2] & 0x3fu) : len == 4 ? (u[i] & 0x07u) << 18 |
		    (u[i + 1] & 0x3fu) << 12 | (u[i + 2] & 0x3fu) << 6 |
		    (u[i + 3] & 0x3fu) : u[i];
		if (len == 1 && (c == '\\' || c == '\n' || c == '\r' ||
		    c == '\t')) {
			out[k++] = '\\';
			out[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' :
			    c == '\t' ? 't' : '\\';
		} else if (len == 0 || (len == 1 && (c < 0x20 || c == 0x7f))) {
			k += (size_t)snprintf(out + k, 5, "\\x%02x", u[i]);
			len = 1;
		} else if (len > 1 && jscan_hostile(c))
			k += (size_t)snprintf(out + k, 11,
			    c > 0xffff ? "\\U%08X" : "\\u%04X", (unsigned)c);
		else {
			memcpy(out + k, raw + i, (size_t)len);
			k += (size_t)len;
		}
		i += (size_t)len;
	}
	if (i < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k++] = '\n';
	run_put_err(r, out, k);
	if (out != small)
		free(out);
}

void
run_notice(struct run *r, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	if (!r->cf->verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cmd_warnx(r->ce, "%s", msg);
}

static struct run *run_active;	/* for run_report */

static void	 run_event_line(struct run *, const char *, size_t);

/*
 * Each of run's reports, whole: with -q every report but an error of
 * ipcrun's own (cmd_warn's, with an errno), which is what decides exit
 * status 125 and up, is dropped; the rest goes into stderr's queue.
 */
static int
run_report(int errnum, const char *line, size_t n)
{
	struct run	*r = run_active;

	if (r->cf->quiet && errnum == 0)
		return 1;
	run_put_err(r, line, n);
	return 1;
}

/*
 * serve: the sockets are bound (a port 0 has its real port): -v says so,
 * --events has a "listening" event for each, before any spawn, and
 * --ready-fd gets their addresses, one a line.
 */
void
run_listening(struct run *r)
{
	char		 q[sizeof r->lname[0] * 2 + 2], line[1024];
	char		 all[sizeof r->lname + SERVE_MAXLISTEN];
	unsigned	 i;
	size_t		 k, len = 0;
	int		 n;

	for (i = 0; i < r->nlisten; i++) {
		len += (size_t)snprintf(all + len, sizeof all - len, "%s%s",
		    i > 0 ? "\n" : "", r->lname[i]);
		run_notice(r, "listening on %s", r->lname[i]);
		if (!r->events_on)
			continue;
		if ((k = envelope_quote(q, sizeof q, r->lname[i])) >= sizeof q)
			continue;
		n = snprintf(line, sizeof line, "{\"event\":\"listening\","
		    "\"t\":0.000,\"address\":%.*s}\n", (int)k, q);
		if (n > 0 && (size_t)n < sizeof line)
			run_event_line(r, line, (size_t)n);
	}
	if (r->nlisten > 0 && sock_ready_write(&r->ready_fd, all) == -1)
		cmd_warn(r->ce, "--ready-fd: write");
}

/* A write to --events-fd failed: the events stop, the run goes on. */
static void
run_events_failed(struct run *r)
{
	if (r->evout != &r->evq || !r->events_on)
		return;
	errno = r->evq.err;
	cmd_warn(r->ce, "--events-fd %d", r->cf->events_fd);
	r->events_on = 0;
}

void
run_event(struct run *r, struct worker *w, const char *event,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 line[1024];
	int64_t	 t;
	int	 n, m;

	if (!r->events_on && r->ctl.nevents == 0)
		return;
	t = ev_now() - r->t0;
	n = snprintf(line, sizeof line, "{\"event\":\"%s\",\"t\":%" PRId64
	    ".%03" PRId64 ",\"name\":%s,\"pid\":%ld", event, t / SEC,
	    (t % SEC) / MSEC, w->qname, (long)w->pid);
	if (n < 0 || (size_t)n >= sizeof line - 3)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		m = vsnprintf(line + n, sizeof line - 3 - (size_t)n, fmt, ap);
		va_end(ap);
		if (m < 0 || (size_t)m >= sizeof line - 3 - (size_t)n)
			return;
		n += m;
	}
	line[n++] = '}';
	line[n++] = '\n';
	run_tap_event(r, line, (size_t)n);
	if (r->events_on)
		run_event_line(r, line, (size_t)n);
}

/* One event, formatted: to stdout with the data, or to its queue. */
static void
run_event_line(struct run *r, const char *line, size_t n)
{
	if (r->cf->events_fd == -1) {
		if (!r->out_dead && buf_append(&r->oq, line, n) == -1) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
		}
		return;
	}
	/*
	 * A reader of --events-fd that is slow or never reads must not hold
	 * up the relay: the events wait in a bounded queue, and what does
	 * not fit is lost, counted, and said at the end.
	 */
	if (r->evout == &r->errq)
		meter_erase(&r->meter);
	if (outq_put(r->evout, line, n) == 0 && r->evout->dead)
		run_events_failed(r);
}

/* What the readers of stderr and --events-fd take now, without waiting. */
void
run_flush_sinks(struct run *r)
{
	if (outq_pending(&r->errq))
		(void)outq_flush(&r->errq);
	if (outq_pending(&r->evq) && outq_flush(&r->evq) == -1)
		run_events_failed(r);
}

void
run_on_sink(struct ev *ev, int fd, short revents, void *arg)
{
	(void)ev;
	(void)fd;
	(void)revents;
	run_flush_sinks(arg);
}

/* Ask for POLLOUT on a queue's descriptor while it holds lines. */
void
run_sinks_interest(struct run *r)
{
	if (r->errq.fd != -1)
		ev_set(&r->ev, r->errq.wfd, outq_pending(&r->errq) ? POLLOUT :
		    0);
	if (r->evq.fd != -1)
		ev_set(&r->ev, r->evq.wfd, outq_pending(&r->evq) ? POLLOUT : 0);
}

/*
 * stderr's queue, and --events-fd's when it is another descriptor: each
 * written through a description of its own that never blocks. A
 * descriptor not polled yet is added to the poll set; a regular file,
 * which never stalls, is written as it is.
 */
int
run_sinks_start(struct run *r)
{
	r->evout = &r->errq;
	if (outq_open(&r->errq, STDERR_FILENO, ERRQ_MAX) == -1 ||
	    (ev_add(&r->ev, r->errq.wfd, 0, run_on_sink, r) == -1 &&
	    errno != EEXIST)) {
		outq_close(&r->errq);
		cmd_warn(r->ce, "stderr");
		return -1;
	}
	if (!r->events_on || r->cf->events_fd == -1 ||
	    r->cf->events_fd == STDERR_FILENO)
		return 0;
	r->evout = &r->evq;
	if (outq_open(&r->evq, r->cf->events_fd, EVQ_MAX) == -1 ||
	    (ev_add(&r->ev, r->evq.wfd, 0, run_on_sink, r) == -1 &&
	    errno != EEXIST)) {
		cmd_warn(r->ce, "--events-fd %d", r->cf->events_fd);
		return -1;
	}
	return 0;
}

/*
 * Wait while the queues hold lines, as their readers take them, until a
 * stop signal (INT, TERM, HUP) comes. A run that a stop signal ended
 * gives them SINK_GRACE more, no longer: its reports still reach a
 * reader that reads, and a reader that does not cannot keep it.
 */
static void
run_sinks_wait(struct run *r)
{
	struct pollfd	 pfd[3];
	nfds_t		 n;
	int		 sig, stop = 0;
	int64_t		 end = 0, now;

	if (r->interrupted)
		end = ev_now() + SINK_GRACE;
	while (!stop) {
		n = 0;
		if (outq_pending(&r->errq)) {
			pfd[n].fd = r->errq.wfd;
			pfd[n++].events = POLLOUT;
		}
		if (outq_pending(&r->evq)) {
			pfd[n].fd = r->evq.wfd;
			pfd[n++].events = POLLOUT;
		}
		if (n == 0 || r->sigfd == -1)
			break;
		pfd[n].fd = r->sigfd;
		pfd[n].events = POLLIN;
		now = ev_now();
		if (end != 0 && now >= end)
			break;
		if (poll(pfd, n + 1, ev_timeout_ms(end)) == -1 &&
		    errno != EINTR)
			break;
		if (pfd[n].revents & POLLIN) {
			while ((sig = ev_signal_next(&r->ev)) != 0) {
				if (sig == SIGINT || sig == SIGTERM ||
				    sig == SIGHUP) {
					r->interrupted = sig;
					stop = 1;
				}
			}
		}
		run_flush_sinks(r);
	}
}

/*
 * At the end: the lines still queued go out as their readers take them;
 * what is left, and what never fit, is said in one line each, last.
 */
void
run_sinks_finish(struct run *r)
{
	uint64_t	lost;

	if (r->errq.fd == -1)
		return;
	run_sinks_wait(r);
	if (r->evq.fd != -1) {
		lost = r->evq.lost + outq_drop(&r->evq);
		if (lost > 0 && r->events_on)
			cmd_warnx(r->ce, "%" PRIu64 " event%s lost: --events-fd "
			    "%d was not read%s", lost, lost == 1 ? "" : "s",
			    r->cf->events_fd, r->interrupted ?
			    " (interrupted)" : " fast enough");
		ev_del(&r->ev, r->evq.wfd);
		outq_close(&r->evq);
	}
	/*
	 * stderr's own loss is said on stderr, so the line waits for the
	 * reader too; at a stop signal it goes if there is room, or not.
	 */
	lost = r->errq.lost;
	if (lost > 0)
		cmd_warnx(r->ce, "%" PRIu64 " line%s of reports and logs lost: "
		    "stderr was not read%s", lost, lost == 1 ? "" : "s",
		    r->interrupted ? " (interrupted)" : " fast enough");
	run_sinks_wait(r);
	(void)outq_drop(&r->errq);
	ev_del(&r->ev, r->errq.wfd);
	outq_close(&r->errq);
}

const char *
run_signame(int sig)
{
	static char	buf[16];
	const char	*s = sigabbrev_np(sig);

	if (s == NULL) {
		snprintf(buf, sizeof buf, "%d", sig);
		return buf;
	}
	snprintf(buf, sizeof buf, "SIG%s", s);
	return buf;
}

/*
 * The exit event, and with several children a word on stderr when lines
 * went elsewhere or may be lost: the lines it had read and not answered
 * (at most; a child may answer a line with no reply, or with several).
 */
void
run_exit_report(struct run *r, struct worker *w, int status)
{
	char		 how[48], said[32];
	uint64_t	 read_, unanswered;

	read_ = w->in_lines - w->rerouted - w->kept - w->undelivered;
	if (read_ > w->in_lines)
		read_ = 0;
	unanswered = read_ > w->out_frames ? read_ - w->out_frames : 0;
	/* --tasks knows: the tasks it held, which go back (run_task_lost). */
	if (r->cf->tasks)
		unanswered = r->held[w->idx].n;
	if (WIFSIGNALED(status)) {
		snprintf(how, sizeof how, "\"signal\":\"%s\"",
		    run_signame(WTERMSIG(status)));
		snprintf(said, sizeof said, "%s", run_signame(WTERMSIG(status)));
	} else {
		snprintf(how, sizeof how, "\"code\":%d", WEXITSTATUS(status));
		snprintf(said, sizeof said, "status %d", WEXITSTATUS(status));
	}
	run_event(r, w, "exit", ",%s,\"rerouted\":%" PRIu64 ",\"undelivered\":"
	    "%" PRIu64 ",\"unanswered\":%" PRIu64, how, w->rerouted + w->kept,
	    w->undelivered, unanswered);
	if (r->nw == 1 || r->out_dead || r->interrupted)
		return;
	if (w->rerouted > 0)
		run_notice(r, "'%s' (pid %ld) exited with %" PRIu64 " input "
		    "line%s unread: sent to the other children", w->name,
		    (long)w->pid, w->rerouted, w->rerouted == 1 ? "" : "s");
	if (w->kept > 0)
		run_notice(r, "'%s' (pid %ld) exited with %" PRIu64 " input "
		    "line%s unread: kept for its restart", w->name,
		    (long)w->pid, w->kept, w->kept == 1 ? "" : "s");
	if (r->cf->tasks && unanswered > 0)
		run_notice(r, "'%s' (pid %ld) ended holding %" PRIu64 " task%s "
		    "not answered: handed back", w->name, (long)w->pid,
		    unanswered, unanswered == 1 ? "" : "s");
	else if (unanswered > 0 && (status != 0 || !r->in_done))
		cmd_warnx(r->ce, "'%s' (pid %ld) exited (%s) with %" PRIu64
		    " line%s read and not answered: possibly lost", w->name,
		    (long)w->pid, said, unanswered,
		    unanswered == 1 ? "" : "s");
}

/* Too many deaths: it stays down (after its exit event). */
void
run_giveup(struct run *r, struct worker *w)
{
	cmd_warnx(r->ce, "'%s' (pid %ld) exited %u time%s within %s: giving "
	    "up (--max-restarts)", w->name, (long)w->pid, w->sv.restarts + 1,
	    w->sv.restarts == 0 ? "" : "s", r->cf->restart_window == 0 ?
	    "the run" : "the window");
	run_event(r, w, "giveup", ",\"restarts\":%u", w->sv.restarts);
	r->gave_up++;
}

/* The table set the backoff: the timer pass starts it again. */
void
run_schedule_restart(struct run *r, struct worker *w)
{
	run_trace(r, "'%s' restarts in %" PRId64 " ms (attempt %u)", w->name,
	    w->sv.delay_ms, w->sv.backoff.attempt);
	run_event(r, w, "restart", ",\"attempt\":%u,\"delay_ms\":%" PRId64,
	    w->sv.backoff.attempt, w->sv.delay_ms);
}

/*
 * --log prefix: a child's stderr (and, on the node channel, its stdout)
 * comes through a pipe, and goes to ipcrun's stderr line by line behind
 * "NAME| ", so that the children's lines never mix within a line. They
 * share stderr's bounded queue with the reports: a stderr too slow for
 * them loses lines, counted at the end, and never holds up the data.
 */
static void
run_log_line(struct run *r, struct worker *w, const char *p, size_t n,
    int cut)
{
	struct iovec	 iov[4];

	meter_erase(&r->meter);
	iov[0].iov_base = (void *)(uintptr_t)w->name;
	iov[0].iov_len = strlen(w->name);
	iov[1].iov_base = (void *)(uintptr_t)"| ";
	iov[1].iov_len = 2;
	iov[2].iov_base = (void *)(uintptr_t)p;
	iov[2].iov_len = n;
	iov[3].iov_base = (void *)(uintptr_t)(cut ? "...\n" : "\n");
	iov[3].iov_len = cut ? 4 : 1;
	(void)outq_putv(&r->errq, iov, 4);
}

/* The end of a child's log pipe: what is left is a last line. */
void
run_log_close(struct run *r, struct worker *w)
{
	if (w->loglen > 0)
		run_log_line(r, w, w->logbuf, w->loglen, 0);
	w->loglen = 0;
	ev_del(&r->ev, w->logfd);
	close(w->logfd);
	w->logfd = -1;
}

/* Read a child's log pipe; at its end, what is left is a last line. */
void
run_log_read(struct run *r, struct worker *w)
{
	char	*nl, *p;
	ssize_t	 got;
	size_t	 n;

	for (;;) {
		got = read(w->logfd, w->logbuf + w->loglen,
		    LOG_LINE - w->loglen);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == -1 && errno == EAGAIN)
				return;
			run_log_close(r, w);
			return;
		}
		w->loglen += (size_t)got;
		p = w->logbuf;
		while ((nl = memchr(p, '\n', w->loglen - (size_t)(p -
		    w->logbuf))) != NULL) {
			run_log_line(r, w, p, (size_t)(nl - p), 0);
			p = nl + 1;
		}
		n = w->loglen - (size_t)(p - w->logbuf);
		if (n == LOG_LINE) {
			run_log_line(r, w, w->logbuf, n, 1);
			n = 0;
		} else
			memmove(w->logbuf, p, n);
		w->loglen = n;
	}
}

void
run_on_log(struct ev *ev, int fd, short revents, void *arg)
{
	struct worker	*w = arg;

	(void)ev;
	(void)fd;
	(void)revents;
	run_log_read(w->r, w);
}

/* At the end: what the log pipes hold now, without waiting for more. */
void
run_log_finish(struct run *r)
{
	struct worker	*w;

	for (w = r->w; w < r->w + r->nw; w++) {
		if (w->logfd == -1)
			continue;
		run_log_read(r, w);
		if (w->logfd != -1)
			run_log_close(r, w);
	}
}

/*
 * --stats: one line at the end, in a fixed form for grep and awk. Lines
 * in are those taken from stdin (blank and refused ones too), delivered
 * those the children read, at most (as in the exit reports: a line left
 * unread in a channel or queue is not), one per child with broadcast;
 * replies are the frames forwarded, their bytes as the children sent them.
 */
void
run_stats(struct run *r)
{
	struct worker	*w;
	uint64_t	 delivered = r->delivered_gone, d;
	double		 secs = (double)(ev_now() - r->t0) / SEC;

	for (w = r->w; w < r->w + r->nw; w++) {
		d = w->in_lines - w->rerouted - w->undelivered;
		if (d <= w->in_lines)
			delivered += d;
	}
	/* --tasks: a task sent again is still one line. */
	if (r->cf->tasks)
		delivered = r->t_done + r->t_given_up;
	cmd_warnx(r->ce, "stats: in %" PRIu64 " lines %" PRIu64 " B, refused %"
	    PRIu64 ", delivered %" PRIu64 ", replies %" PRIu64 " lines %"
	    PRIu64 " B, %.3f s, %.0f lines/s in", r->fin.lineno, r->in_bytes,
	    r->refused, delivered, r->replies, r->reply_bytes, secs,
	    secs > 0 ? (double)r->fin.lineno / secs : 0);
	if (r->cf->tasks)
		cmd_warnx(r->ce, "stats: tasks %" PRIu64 ", done %" PRIu64
		    ", failed %" PRIu64 ", retried %" PRIu64 ", timed out %"
		    PRIu64 ", sends %" PRIu64 ", unmatched replies %" PRIu64,
		    r->t_read, r->t_done, r->t_given_up, r->t_retried,
		    r->t_timedout, r->t_sends, r->t_stray);
	if (r->cf->tasks && r->cf->resume_failed)
		cmd_warnx(r->ce, "stats: tasks skipped %" PRIu64 " (answered "
		    "in '%s' before)", r->t_skipped, r->cf->tasklog_path);
}

/*
 * A child's own status, or 0 when ipcrun stopped it (in a shutdown) and
 * it died of that signal, or said so with 128 + the signal.
 */
int
run_worker_code(struct run *r, struct worker *w)
{
	int	st = w->sv.status, code;

	code = spawn_exit_code(st);
	if (w->sv.stopped != 0 && ((WIFSIGNALED(st) &&
	    (WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGKILL)) ||
	    code == 128 + w->sv.stopped)) {
		run_notice(r, "'%s' (pid %ld) was stopped by ipcrun with %s",
		    w->name, (long)w->pid, run_signame(w->sv.stopped));
		code = 0;
	}
	return code;
}

/* From here on, every report of ipcrun's goes through run_report. */
void
run_report_start(struct run *r)
{
	run_active = r;
	cmd_report_hook = run_report;
	r->events_on = r->cf->events;
}
