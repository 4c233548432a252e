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
