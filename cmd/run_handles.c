/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run --handles: descriptors to Node children, both from the
 * shell and from child to child. An input line
 * {"handle":"fd:N"|"tcp:HOST:PORT"|"unix:PATH","listen":BOOL,"msg":M}
 * goes to its child as Node's NODE_HANDLE frame with the descriptor
 * (inherited, listened on or connected), M its message; a child's handle
 * whose message is an envelope {"to":NAME,"msg":M} goes on to NAME. The
 * descriptor is classified first: what Node would abort on or refuse for
 * ever never goes (lib/nodechan). Called by input routing (run_in.c) and
 * by the gathering of frames (run_out.c); calls down only.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "addr.h"
#include "chan.h"
#include "fdpass.h"
#include "jscan.h"
#include "nodechan.h"
#include "relay.h"

/*
 * fd (ipcrun's, given up in every case) to child w as a handle with msg
 * (JSON text): 0, or -1 with why filled.
 */
int
run_handle_send(struct run *r, struct worker *w, int fd, const char *msg,
    size_t msglen, char *why, size_t whylen)
{
	const char	*cause, *type;
	char		*frame;
	size_t		 len = msglen + 80;
	int		 n;

	if (!run_takes(w) || !chan_can_write(&w->ch)) {
		snprintf(why, whylen, "child '%s' takes no more input",
		    w->name);
		goto fail;
	}
	if (nodechan_fd_check(fd, &cause) == -1 ||
	    (type = nodechan_handle_type(fd, &cause)) == NULL) {
		snprintf(why, whylen, "%s", cause);
		goto fail;
	}
	if ((frame = malloc(len)) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	n = nodechan_handle_frame(frame, len, type, msg, msglen);
	if (n == -1 || chan_send_fd(&w->ch, frame, (size_t)n, fd) == -1) {
		snprintf(why, whylen, "%s", errno == ENOBUFS ? "too many "
		    "handles wait for the child's answer" : strerror(errno));
		free(frame);
		goto fail;
	}
	run_trace(r, "-> %s %d bytes internal cmd \"NODE_HANDLE\" %s",
	    w->name, n, type);
	run_show(r, w, ">", 1, frame, (size_t)n - 1);
	free(frame);
	w->in_lines++;
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * An input line, when it asks for a handle: 0 when it does not (it goes
 * as a line), 1 when its handle went, 2 when it was refused (why, and
 * *off the column), -1 on ipcrun's own failure.
 */
int
run_handle_line(struct run *r, struct worker *w, const char *p, size_t n,
    size_t *off, char *why, size_t whylen)
{
	struct jscan	 js;
	struct addr	 a;
	char		*line, spec[400], err[256];
	const char	*msg = "null";
	size_t		 mlen = 4, sl;
	int		 kh, kl, km, fd, rc = 2;

	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n == 0 || p[0] != '{' || memmem(p, n, "\"handle\"", 8) == NULL)
		return 0;
	if ((line = malloc(n + 1)) == NULL)
		return -1;
	memcpy(line, p, n);
	line[n] = '\n';
	jscan_init(&js);
	kh = jscan_want(&js, "handle", 6);
	kl = jscan_want(&js, "listen", 6);
	km = jscan_want(&js, "msg", 3);
	if (jscan_line(&js, line, n) != JSCAN_GOOD || js.span[kh].len == 0) {
		free(line);
		return 0;
	}
	*off = js.span[kh].off;
	sl = js.span[kh].len;
	if (sl < 2 || line[js.span[kh].off] != '"' || sl - 2 >= sizeof spec ||
	    memchr(line + js.span[kh].off, '\\', sl) != NULL) {
		snprintf(why, whylen, "\"handle\" must be a string: fd:N, "
		    "tcp:HOST:PORT or unix:PATH (line not delivered)");
		goto out;
	}
	memcpy(spec, line + js.span[kh].off + 1, sl - 2);
	spec[sl - 2] = '\0';
	if (js.span[km].len > 0) {
		msg = line + js.span[km].off;
		mlen = js.span[km].len;
	}
	if (addr_parse(&a, spec, err, sizeof err) == -1) {
		snprintf(why, whylen, "handle '%s': %s (line not delivered)",
		    spec, err);
		goto out;
	}
	if (a.kind == ADDR_FD)
		fd = fcntl(a.fd, F_DUPFD_CLOEXEC, 3);
	else if (js.span[kl].len == 4 && memcmp(line + js.span[kl].off,
	    "true", 4) == 0)
		fd = addr_listen(&a, 0600, err, sizeof err);
	else
		fd = addr_connect(&a, err, sizeof err);
	if (fd == -1) {
		snprintf(why, whylen, "handle '%s': %s (line not delivered)",
		    spec, a.kind == ADDR_FD ? strerror(errno) : err);
		goto out;
	}
	/* A unix socket ipcrun made: the child has it now, ipcrun not. */
	if (a.kind == ADDR_UNIX && a.created)
		a.created = 0;
	if (run_handle_send(r, w, fd, msg, mlen, err, sizeof err) == -1) {
		snprintf(why, whylen, "handle '%s' for '%s': %s (line not "
		    "delivered)", spec, w->name, err);
		goto out;
	}
	rc = 1;
out:
	free(line);
	return rc;
}

/*
 * --handle-sink ADDR: a unix socket to connect to for each handle (as
 * send-fd does), or fd:N, a connected unix socket given for all of them.
 * 0, or the exit status of a usage error.
 */
int
run_handle_sink_open(struct run *r, struct relay_conf *c)
{
	char		err[256];
	socklen_t	len = sizeof(int);
	int		dom;

	if (!c->node)
		return cmd_usage_error(r->ce, "--handle-sink: handles come on "
		    "the node channel, not with --channel stdio");
	if (addr_parse(&c->sink, c->sink_arg, err, sizeof err) == -1)
		return cmd_usage_error(r->ce, "--handle-sink '%s': %s",
		    c->sink_arg, err);
	r->sink_fd = -1;
	if (c->sink.kind == ADDR_TCP)
		return cmd_usage_error(r->ce, "--handle-sink '%s': descriptors "
		    "travel only over unix sockets", c->sink_arg);
	if (c->sink.kind != ADDR_FD)
		return 0;
	/* Connected, unix, and from now on non-blocking and not inherited. */
	if ((r->sink_fd = addr_connect(&c->sink, err, sizeof err)) == -1)
		return cmd_usage_error(r->ce, "--handle-sink '%s': %s",
		    c->sink_arg, err);
	if (getsockopt(r->sink_fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == -1 ||
	    dom != AF_UNIX)
		return cmd_usage_error(r->ce, "--handle-sink '%s': descriptors "
		    "travel only over unix sockets", c->sink_arg);
	return 0;
}

/*
 * Send all of p on sock without waiting, fd with the first byte: 0, or -1
 * with errno (EAGAIN when it does not fit now: a sink that lags loses the
 * handle rather than holding up the relay).
 */
static int
run_sink_write(int sock, const char *p, size_t n, int fd)
{
	ssize_t	k;

	while (n > 0) {
		if (fd != -1)
			k = fdpass_send(sock, p, n, fd);
		else {
			do
				k = send(sock, p, n, MSG_NOSIGNAL |
				    MSG_DONTWAIT);
			while (k == -1 && errno == EINTR);
		}
		if (k == -1)
			return -1;
		p += k;
		n -= (size_t)k;
		fd = -1;
	}
	return 0;
}

/*
 * --handle-sink: a child's handle (fd, given up in every case) that names
 * no child goes on with send-fd's wire: the header line
 * {"fds":1,"from":NAME,"type":TYPE,"msg":M}, then one byte with the
 * descriptor, which recv-fd takes. 0, or -1 after a report.
 */
int
run_handle_sink(struct run *r, struct worker *w, int fd, const char *type,
    size_t typelen, const char *msg, size_t msglen)
{
	char	*hdr = NULL, err[256];
	int	 sock = r->sink_fd, n, saved;

	if (r->cf->sink.kind == ADDR_FD && r->sink_fd == -1) {
		snprintf(err, sizeof err, "it failed before");
		goto fail;
	}
	if (typelen == 0) {
		type = "null";
		typelen = 4;
	}
	if ((n = asprintf(&hdr, "{\"fds\":1,\"from\":%s,\"type\":%.*s,"
	    "\"msg\":%.*s}\n", w->qname, (int)typelen, type, (int)msglen,
	    msg)) == -1) {
		hdr = NULL;
		snprintf(err, sizeof err, "%s", strerror(errno));
		goto fail;
	}
	if (sock == -1 && (sock = addr_connect(&r->cf->sink, err,
	    sizeof err)) == -1)
		goto fail;
	if (run_sink_write(sock, hdr, (size_t)n, -1) == -1 ||
	    run_sink_write(sock, "", 1, fd) == -1) {
		saved = errno;
		snprintf(err, sizeof err, "%s", saved == EAGAIN ?
		    "the peer is not reading" : strerror(saved));
		/* Half a record on the one connection: it is no use now. */
		if (sock == r->sink_fd) {
			close(r->sink_fd);
			r->sink_fd = -1;
		} else
			close(sock);
		goto fail;
	}
	if (sock != r->sink_fd)
		close(sock);
	close(fd);
	free(hdr);
	run_trace(r, "'%s' sent a handle: to --handle-sink %s", w->name,
	    r->cf->sink_arg);
	return 0;
fail:
	close(fd);
	free(hdr);
	if (!r->sink_failed || r->cf->sink.kind != ADDR_FD)
		cmd_warnx(r->ce, "'%s' sent a handle: --handle-sink '%s': %s "
		    "(closed)", w->name, r->cf->sink_arg, err);
	if (r->cf->sink.kind == ADDR_FD)
		r->sink_failed = 1;
	r->refused++;
	return -1;
}

/*
 * --handle-timeout: a handle the child has not answered (no ACK, no NACK)
 * within the time holds back every line after it, for ever if the child
 * does not speak Node's protocol or is stuck. Given up on: said, and the
 * lines go on; the descriptor is the child's now or lost, as ipcrun
 * closed its own copy when it sent it. The clock starts when the whole
 * frame is written, so a child slow to read its input is not blamed.
 */
void
run_handle_timers(struct run *r, int64_t now)
{
	struct worker	*w;
	uint64_t	 id;

	if (r->cf->handle_timeout == 0)
		return;
	for (w = r->w; w < r->w + r->nw; w++) {
		if ((id = chan_awaited(&w->ch)) == 0) {
			w->handle_at = 0;
			continue;
		}
		if (id != w->handle_id) {
			w->handle_id = id;
			w->handle_at = now + r->cf->handle_timeout;
			continue;
		}
		if (w->handle_at == 0 || now < w->handle_at)
			continue;
		w->handle_at = 0;
		(void)chan_give_up(&w->ch);
		cmd_warnx(r->ce, "'%s' did not answer a handle within %s (no "
		    "NODE_HANDLE_ACK): given up on, the lines after it go on",
		    w->name, r->cf->handle_timeout_arg != NULL ?
		    r->cf->handle_timeout_arg : "10s");
		run_flush_tq(r, w);
	}
}

/* When the handle a child was sent is given up on, or 0. */
int64_t
run_handle_deadline(const struct worker *w)
{
	return w->handle_at;
}
