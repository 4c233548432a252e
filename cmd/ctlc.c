/* SPDX-License-Identifier: ISC */
/*
 * The client side of the control socket, for ctl.c and ctl_repl.c: see
 * ctlc.h. Blocking, with a deadline for each answer.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "addr.h"
#include "buf.h"
#include "ctlc.h"

/* Connect to spec (an address). Returns the fd, or -1 with err set. */
int
ctlc_connect(const char *spec, char *err, size_t errlen)
{
	struct addr	a;
	char		why[256];
	int		fd;

	if (addr_parse(&a, spec, why, sizeof why) == -1) {
		snprintf(err, errlen, "'%s': %s", spec, why);
		return -1;
	}
	if ((fd = addr_connect(&a, why, sizeof why)) == -1) {
		snprintf(err, errlen, "'%s': %s", spec, why);
		return -1;
	}
	return fd;
}

/* Write all of p, waiting while the socket is full. */
int
ctlc_send_all(int fd, const char *p, size_t n)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	ssize_t		k;

	while (n > 0) {
		k = send(fd, p, n, MSG_NOSIGNAL);
		if (k == -1 && errno == EAGAIN) {
			(void)poll(&pfd, 1, -1);
			continue;
		}
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * The next line from the run, into *line (NUL-terminated in place, valid
 * until the next call). Returns 1, 0 at its end, -1 on error or timeout.
 */
int
ctlc_recv_line(struct ctlc *c, char **line, int timeout)
{
	struct pollfd	 pfd = { c->fd, POLLIN, 0 };
	char		*nl;
	ssize_t		 k;
	int		 rc;

	if (c->used > 0) {
		buf_consume(&c->in, c->used);
		c->used = 0;
	}
	for (;;) {
		if (c->in.len > 0 && (nl = memchr(c->in.p + c->in.off, '\n',
		    c->in.len)) != NULL) {
			*nl = '\0';
			*line = c->in.p + c->in.off;
			c->used = (size_t)(nl - *line) + 1;
			return 1;
		}
		if (buf_reserve(&c->in, 65536) == -1)
			return -1;
		k = read(c->fd, c->in.p + c->in.off + c->in.len,
		    c->in.cap - c->in.off - c->in.len);
		if (k > 0) {
			c->in.len += (size_t)k;
			continue;
		}
		if (k == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		do
			rc = poll(&pfd, 1, timeout);
		while (rc == -1 && errno == EINTR);
		if (rc == 0)
			errno = ETIMEDOUT;
		if (rc <= 0)
			return -1;
	}
}

/* A result on stdout: an array one element a line, null as nothing. */
void
ctlc_print(json_t *res)
{
	size_t	 i;
	json_t	*v;

	if (json_is_array(res)) {
		json_array_foreach(res, i, v) {
			json_dumpf(v, stdout, JSON_COMPACT |
			    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
			    JSON_REAL_PRECISION(12));
			putchar('\n');
		}
	} else if (res != NULL && !json_is_null(res)) {
		json_dumpf(res, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER |
		    JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
		putchar('\n');
	}
}

/*
 * One request, its answer. Returns 0 (ok), 1 (an error reply), or
 * EXIT_FAIL. With stream, the events that follow go to stdout as they
 * come, until the run closes.
 */
int
ctlc_request(struct ctlc *c, const char *cmd, char **args, int nargs,
    int stream, int quiet, json_t **result)
{
	json_t		*req, *a, *v, *rep;
	json_error_t	 je;
	char		*s, *line;
	int		 i, rc;

	a = json_array();
	for (i = 0; i < nargs; i++) {
		/* send's message is JSON; everything else is a word. */
		if (strcmp(cmd, "send") == 0 && i == 1) {
			if ((v = json_loads(args[i], JSON_DECODE_ANY,
			    &je)) == NULL) {
				cmd_warnx(c->ce, "send: message '%s': invalid "
				    "JSON at column %d: %s", args[i], je.column,
				    je.text);
				json_decref(a);
				return EXIT_FAIL;
			}
		} else
			v = json_string(args[i]);
		json_array_append_new(a, v);
	}
	req = json_pack("{s:i,s:s,s:o}", "id", 1, "cmd", cmd, "args", a);
	s = req != NULL ? json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	json_decref(req);
	if (s == NULL) {
		cmd_warnx(c->ce, "'%s': not a request (invalid UTF-8?)", cmd);
		return EXIT_FAIL;
	}
	rc = ctlc_send_all(c->fd, s, strlen(s)) == -1 ||
	    ctlc_send_all(c->fd, "\n", 1) == -1;
	free(s);
	if (rc) {
		cmd_warn(c->ce, "%s", c->target);
		return EXIT_FAIL;
	}
	if ((rc = ctlc_recv_line(c, &line, c->wait_ms)) != 1) {
		if (rc == 0)
			cmd_warnx(c->ce, "%s: closed without an answer",
			    c->target);
		else
			cmd_warn(c->ce, "%s: no answer", c->target);
		return EXIT_FAIL;
	}
	if ((rep = json_loads(line, 0, &je)) == NULL ||
	    !json_is_boolean(json_object_get(rep, "ok"))) {
		cmd_warnx(c->ce, "%s: not an answer: '%.80s'", c->target, line);
		json_decref(rep);
		return EXIT_FAIL;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		if (!quiet)
			cmd_warnx(c->ce, "%s: %s: %s", c->target, cmd,
			    json_string_value(json_object_get(rep, "error")));
		json_decref(rep);
		return 1;
	}
	if (result != NULL)
		*result = json_incref(json_object_get(rep, "result"));
	else
		ctlc_print(json_object_get(rep, "result"));
	json_decref(rep);
	if (!stream)
		return 0;
	if (fflush(stdout) == EOF)
		return EXIT_FAIL;
	/* The events, whole lines as they come, until the run ends. */
	while ((rc = ctlc_recv_line(c, &line, -1)) == 1) {
		if (puts(line) == EOF || fflush(stdout) == EOF)
			return EXIT_PIPE;
	}
	return rc == 0 ? 0 : EXIT_FAIL;
}

/*
 * TARGET: an address (it has a ':'), or a name: NAME.sock in the
 * control directory; a pid also finds the run of that pid by asking each.
 */

/*
 * One request (an object; its id is set here), and its answer, the
 * events that come before it printed as they are. Returns the answer
 * (the caller's), or NULL after saying why.
 */
json_t *
ctlc_call(struct ctlc *c, json_t *req)
{
	static long long	 id = 100;
	json_error_t		 je;
	json_t			*rep;
	char			*s, *line;
	int			 rc;

	json_object_set_new(req, "id", json_integer(++id));
	if ((s = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		cmd_warnx(c->ce, "not a request (invalid UTF-8?)");
		return NULL;
	}
	rc = ctlc_send_all(c->fd, s, strlen(s)) == -1 ||
	    ctlc_send_all(c->fd, "\n", 1) == -1;
	free(s);
	if (rc) {
		cmd_warn(c->ce, "%s", c->target);
		return NULL;
	}
	for (;;) {
		if ((rc = ctlc_recv_line(c, &line, c->wait_ms)) != 1) {
			if (rc == 0)
				cmd_warnx(c->ce, "%s: the run has ended",
				    c->target);
			else
				cmd_warn(c->ce, "%s: no answer", c->target);
			return NULL;
		}
		if ((rep = json_loads(line, 0, &je)) == NULL)
			continue;
		if (json_integer_value(json_object_get(rep, "id")) == id &&
		    json_object_get(rep, "ok") != NULL)
			return rep;
		if (c->on_event != NULL)
			c->on_event(c, rep);
		json_decref(rep);
	}
}
