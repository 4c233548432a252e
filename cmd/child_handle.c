/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child: CMD hands a descriptor to the Node parent. CMD finds a
 * unix socket in IPCRUN_HANDLE_SOCK (in a directory of ipcrun's own,
 * 0700) and speaks send-fd's wire on it: `ipcrun send-fd
 * "$IPCRUN_HANDLE_SOCK" FD --msg JSON`. Each connection brings one
 * header, {"fds":1,...,"msg":M}, and one descriptor, which goes to the
 * parent as Node's NODE_HANDLE with M: the parent's
 * process.on('message', (m, handle)) gets it. What Node would abort on
 * is refused first. The json channel only: an advanced frame cannot
 * carry the fd as chan sends it. The other way, --fd-as N: CMD starts
 * once the parent's first handle has come, with it at fd N.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "chan.h"
#include "frame.h"
#include "ev.h"
#include "fdpass.h"
#include "jscan.h"
#include "nodechan.h"
#include "child.h"

#define HS_HEADER_MAX	(64 * 1024)	/* as recv-fd takes it */

static void
child_hconn_close(struct child *c, struct child_hconn *h)
{
	if (h->sock == -1)
		return;
	ev_del(&c->ev, h->sock);
	close(h->sock);
	h->sock = -1;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	free(h->buf);
	h->buf = NULL;
	h->len = 0;
}

/*
 * A whole header and its descriptor: the handle frame for the parent,
 * queued after what CMD printed before it. The lines after it wait for
 * the parent's ACK (chan).
 */
static void
child_hconn_done(struct child *c, struct child_hconn *h, size_t hlen)
{
	struct jscan	 js;
	const char	*cause, *type, *msg = "null";
	char		*frame;
	size_t		 mlen = 4, flen;
	int		 kfds, kmsg, n;

	jscan_init(&js);
	kfds = jscan_want(&js, "fds", 3);
	kmsg = jscan_want(&js, "msg", 3);
	h->buf[hlen] = '\n';
	if (jscan_line(&js, h->buf, hlen) != JSCAN_GOOD || h->buf[0] != '{' ||
	    js.span[kfds].len != 1 || h->buf[js.span[kfds].off] != '1') {
		cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: not a header of one "
		    "descriptor ({\"fds\":1,\"msg\":M}): refused");
		return;
	}
	if (js.span[kmsg].len > 0) {
		msg = h->buf + js.span[kmsg].off;
		mlen = js.span[kmsg].len;
	}
	if (c->disconnected || !chan_can_write(&c->par)) {
		cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: the parent is gone: the "
		    "descriptor is closed");
		return;
	}
	if (nodechan_fd_check(h->fd, &cause) == -1 ||
	    (type = nodechan_handle_type(h->fd, &cause)) == NULL) {
		cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: %s: refused", cause);
		return;
	}
	flen = mlen + 80;
	if ((frame = malloc(flen)) == NULL) {
		cmd_warn(c->ce, "malloc");
		return;
	}
	n = nodechan_handle_frame(frame, flen, type, msg, mlen);
	if (n == -1 || chan_send_fd(&c->par, frame, (size_t)n, h->fd) == -1)
		cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: %s: refused",
		    errno == ENOBUFS ? "too many handles wait for the "
		    "parent's answer" : strerror(errno));
	else
		h->fd = -1;	/* the chan's now */
	free(frame);
}

/* A connection of CMD's: its header, then one byte with the descriptor. */
static void
child_on_hconn(struct ev *ev, int sock, short revents, void *arg)
{
	struct child		*c = arg;
	struct child_hconn	*h;
	char			*nl;
	ssize_t			 k;
	unsigned		 flags;
	int			 fd, i;

	(void)ev;
	(void)revents;
	for (i = 0; i < CH_HCONNS && c->hc[i].sock != sock; i++)
		;
	if (i == CH_HCONNS)
		return;
	h = &c->hc[i];
	for (;;) {
		if (h->len == HS_HEADER_MAX) {
			cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: no header line "
			    "within %d bytes: refused", HS_HEADER_MAX);
			break;
		}
		k = fdpass_recv(sock, h->buf + h->len, HS_HEADER_MAX -
		    h->len, &fd, &flags);
		if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (fd != -1) {
			if (h->fd != -1) {
				close(fd);
				cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: more than "
				    "one descriptor: refused");
				break;
			}
			h->fd = fd;
		}
		if (k <= 0) {
			if (k == -1)
				cmd_warn(c->ce, "IPCRUN_HANDLE_SOCK");
			else if (h->fd == -1)
				cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: the "
				    "connection ended before a descriptor came");
			break;
		}
		h->len += (size_t)k;
		/* The header's newline, and the byte that carried the fd. */
		nl = memchr(h->buf, '\n', h->len);
		if (nl != NULL && h->fd != -1 &&
		    (size_t)(nl - h->buf) + 1 < h->len) {
			child_hconn_done(c, h, (size_t)(nl - h->buf));
			break;
		}
	}
	child_hconn_close(c, h);
}

/* CMD connects: one of CH_HCONNS slots, or it is turned away. */
static void
child_on_haccept(struct ev *ev, int lfd, short revents, void *arg)
{
	struct child	*c = arg;
	int		 s, i;

	(void)revents;
	while ((s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		for (i = 0; i < CH_HCONNS && c->hc[i].sock != -1; i++)
			;
		if (i == CH_HCONNS || (c->hc[i].buf =
		    malloc(HS_HEADER_MAX + 1)) == NULL) {
			cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: %d connections "
			    "at once: one turned away", CH_HCONNS);
			close(s);
			continue;
		}
		c->hc[i].sock = s;
		c->hc[i].len = 0;
		if (ev_add(ev, s, POLLIN, child_on_hconn, c) == -1) {
			cmd_warn(c->ce, "poll set");
			child_hconn_close(c, &c->hc[i]);
		}
	}
}

/*
 * The socket, before CMD starts, in a directory only ipcrun's user may
 * enter; CMD finds it in IPCRUN_HANDLE_SOCK. 0, or -1 after a report.
 */
int
child_handle_start(struct child *c)
{
	struct sockaddr_un	 sun;
	const char		*tmp = getenv("TMPDIR");
	int			 i, fd;

	for (i = 0; i < CH_HCONNS; i++)
		c->hc[i].sock = c->hc[i].fd = -1;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(&c->hs_dir, "%s/ipcrun-child.XXXXXX", tmp) == -1) {
		c->hs_dir = NULL;
		cmd_warn(c->ce, "malloc");
		return -1;
	}
	if (mkdtemp(c->hs_dir) == NULL) {
		cmd_warn(c->ce, "IPCRUN_HANDLE_SOCK: '%s'", c->hs_dir);
		free(c->hs_dir);
		c->hs_dir = NULL;
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s/h.sock",
	    c->hs_dir) >= sizeof sun.sun_path) {
		cmd_warnx(c->ce, "IPCRUN_HANDLE_SOCK: '%s': the path is too "
		    "long for a unix socket", c->hs_dir);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, CH_HCONNS) == -1 ||
	    setenv("IPCRUN_HANDLE_SOCK", sun.sun_path, 1) == -1 ||
	    ev_add(&c->ev, fd, POLLIN, child_on_haccept, c) == -1) {
		cmd_warn(c->ce, "IPCRUN_HANDLE_SOCK: '%s'", sun.sun_path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	c->hs_lfd = fd;
	return 0;
}

/* The socket and its directory go with ipcrun. */
void
child_handle_end(struct child *c)
{
	char	path[sizeof ((struct sockaddr_un *)0)->sun_path];
	int	i;

	if (c->hs_dir == NULL)
		return;
	for (i = 0; i < CH_HCONNS; i++)
		child_hconn_close(c, &c->hc[i]);
	if (c->hs_lfd != -1) {
		ev_del(&c->ev, c->hs_lfd);
		close(c->hs_lfd);
		c->hs_lfd = -1;
	}
	snprintf(path, sizeof path, "%s/h.sock", c->hs_dir);
	(void)unlink(path);
	(void)rmdir(c->hs_dir);
	free(c->hs_dir);
	c->hs_dir = NULL;
}

/*
 * --fd-as N: before CMD starts, the parent's channel alone until its
 * first handle has come (child_parent.c ACKs it and queues its notice).
 * What came before it waits for CMD in cq, bounded: a parent that sends
 * more than that first, or goes, or signals ipcrun, ends it here. 0 once
 * the handle is in c->hfd, or an exit status after a report.
 */
int
child_await_handle(struct child *c)
{
	int	w, rc = EXIT_FAIL;

	if (ev_add(&c->ev, c->par.fd, POLLIN, child_on_chan, c) == -1) {
		cmd_warn(c->ce, "poll set");
		return EXIT_FAIL;
	}
	c->await = CH_AWAIT;
	for (;;) {
		if (c->advanced)
			child_pump_advanced(c);
		else
			child_pump_json(c);
		/* The ACK, and answers to the parent's bookkeeping. */
		if ((w = chan_flush(&c->par)) != 0) {
			if (w == -1)
				cmd_warn(c->ce, "write to the parent");
			else
				cmd_warnx(c->ce, "--fd-as %d: the parent went "
				    "away before it sent a handle: '%s' not "
				    "started", c->fd_as, c->name);
			break;
		}
		if (c->fail)
			break;
		if (c->await == CH_HANDED) {
			rc = 0;
			break;
		}
		if (c->await_sig != 0)
			break;
		if (chan_ended(&c->par) && (c->advanced ?
		    !v8frame_ready(&c->vin) : frame_pending(&c->par.rd) == 0)) {
			cmd_warnx(c->ce, "--fd-as %d: the parent disconnected "
			    "before it sent a handle: '%s' not started",
			    c->fd_as, c->name);
			break;
		}
		if (c->cq.len >= CH_QSIZE) {
			cmd_warnx(c->ce, "--fd-as %d: %d KiB of messages came "
			    "before a handle: '%s' not started", c->fd_as,
			    CH_QSIZE / 1024, c->name);
			break;
		}
		ev_set(&c->ev, c->par.fd, (chan_ended(&c->par) ? 0 : POLLIN) |
		    (c->par.tq.len > 0 ? POLLOUT : 0));
		if (ev_run_once(&c->ev, -1) == -1) {
			cmd_warn(c->ce, "poll");
			break;
		}
	}
	ev_del(&c->ev, c->par.fd);
	return rc;
}
