/* SPDX-License-Identifier: ISC */
/*
 * ipcrun check: the relay's input validation as a filter of its own. Good
 * lines pass through byte for byte; each bad line is reported in the GNU
 * FILE:LINE:COLUMN: form and skipped.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "cmd.h"
#include "ipcrun.h"

#define OUT_IOV		64	/* runs of good lines per writev(2) */
#define MAXLINE_DEFAULT	((size_t)64 * 1024 * 1024)

struct check {
	const struct cmd_entry	*ce;
	size_t			 maxline;
	int			 strict;
	int			 node;
	int			 bad;		/* a bad line was seen */
	int			 status;	/* EXIT_FAIL or EXIT_PIPE once set */
	/* Runs of good lines, pointing into the read buffer. */
	struct iovec		 iov[OUT_IOV];
	int			 niov;
};

static char newline[] = "\n";

/*
 * Another process sharing the open file description (Node does this) may
 * have made it non-blocking: wait until fd is ready instead of failing.
 */
static int
wait_fd(int fd, short events)
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
static int
out_flush(struct check *c)
{
	struct iovec	*v = c->iov;
	int		 cnt = c->niov;
	ssize_t		 w;

	c->niov = 0;
	while (cnt > 0) {
		if ((w = writev(STDOUT_FILENO, v, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wait_fd(STDOUT_FILENO, POLLOUT) == 0)
				continue;
			if (errno == EPIPE)
				c->status = EXIT_PIPE;
			else {
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
static int
out_line(struct check *c, const char *p, size_t n, int nl)
{
	struct iovec	*v = c->niov > 0 ? &c->iov[c->niov - 1] : NULL;

	if (v != NULL && v->iov_base != newline &&
	    (const char *)v->iov_base + v->iov_len == p) {
		v->iov_len += n;
	} else {
		if (c->niov >= OUT_IOV - 1 && out_flush(c) == -1)
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

static void
report(struct check *c, const char *name, uint64_t lineno, size_t off,
    const char *why)
{
	cmd_warnx(c->ce, "%s:%" PRIu64 ":%zu: %s", name, lineno, off + 1, why);
	c->bad = 1;
}

/*
 * Check one input. Returns 0 to go on with the next one, -1 to stop
 * (--strict, or stdout is gone).
 */
static int
check_fd(struct check *c, int fd, const char *name)
{
	struct frame		 f;
	struct frame_line	 l;
	char			 why[256], *p;
	size_t			 n;
	ssize_t			 r;
	int			 k, cmdkey = -1, stop = 0;

	if (frame_init(&f, c->maxline, 1) == -1) {
		cmd_warn(c->ce, "%s", name);
		c->status = EXIT_FAIL;
		return -1;
	}
	if (c->node)
		cmdkey = jscan_want(&f.js, "cmd", 3);
	while (!stop) {
		if ((p = frame_space(&f, &n)) == NULL) {
			cmd_warn(c->ce, "%s", name);
			c->status = EXIT_FAIL;
			break;
		}
		if ((r = read(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wait_fd(fd, POLLIN) == 0)
				continue;
			cmd_warn(c->ce, "%s: read error", name);
			c->status = EXIT_FAIL;
			break;
		}
		if (r == 0)
			frame_set_eof(&f);
		else
			frame_filled(&f, (size_t)r);
		while ((k = frame_next(&f, &l)) != FRAME_NONE) {
			if (k == FRAME_BLANK)
				continue;
			if (k == FRAME_BAD) {
				frame_reason(&f, &l, why, sizeof why);
				report(c, name, l.lineno, l.err_off, why);
			} else if (cmdkey >= 0 && f.js.span[cmdkey].len != 0 &&
			    jscan_node_internal(l.p + f.js.span[cmdkey].off,
			    f.js.span[cmdkey].len)) {
				char txt[200];

				jscan_printable(l.p + f.js.span[cmdkey].off,
				    f.js.span[cmdkey].len, txt, sizeof txt);
				snprintf(why, sizeof why,
				    "internal Node message (cmd \"%s\")", txt);
				report(c, name, l.lineno,
				    f.js.span[cmdkey].off, why);
				k = FRAME_BAD;
			} else if (out_line(c, l.p, l.len, l.nl) == -1) {
				stop = 1;
				break;
			}
			if (k == FRAME_BAD && c->strict) {
				stop = 1;
				break;
			}
		}
		/*
		 * Lines go out as soon as they are complete (tail -f), and
		 * before the next read may move them in the buffer.
		 */
		if (c->niov > 0 && out_flush(c) == -1)
			stop = 1;
		if (r == 0)
			break;
	}
	frame_release(&f);
	return stop || c->status == EXIT_PIPE ? -1 : 0;
}

enum { O_MAX_LINE = 256, O_NODE, O_STRICT };

static const struct cmd_opt check_opts[] = {
	{ "node", 0, O_NODE, NULL, NULL,
	    "also refuse Node's internal messages" },
	{ "strict", 0, O_STRICT, NULL, NULL,
	    "stop at the first bad line" },
	{ "max-line", 0, O_MAX_LINE, "BYTES", NULL,
	    "longest line, with K, M or G (default: 64M)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static int
cmd_check_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct check	 c;
	const char	*cause, *env;
	int		 ch, i, fd;

	memset(&c, 0, sizeof c);
	c.ce = ce;
	c.maxline = MAXLINE_DEFAULT;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case O_MAX_LINE:
			if (cmd_parse_size(optarg, &c.maxline, &cause) == -1)
				return cmd_usage_error(ce, "--max-line '%s': %s",
				    optarg, cause);
			break;
		case O_NODE:
			c.node = 1;
			break;
		case O_STRICT:
			c.strict = 1;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;

	if ((env = getenv("IPCRUN_JSCAN")) != NULL && *env != '\0' &&
	    jscan_set_impl(env) == -1) {
		cmd_warnx(ce, "IPCRUN_JSCAN '%s': not available on this CPU "
		    "(use avx512, avx2, sse42, sse2 or scalar)", env);
		return EXIT_FAIL;
	}
	if (argc == 0)
		check_fd(&c, STDIN_FILENO, "-");
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			if (check_fd(&c, STDIN_FILENO, "-") == -1)
				break;
			continue;
		}
		if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) == -1) {
			cmd_warn(ce, "%s", argv[i]);
			c.status = EXIT_FAIL;
			continue;
		}
		ch = check_fd(&c, fd, argv[i]);
		close(fd);
		if (ch == -1)
			break;
	}
	if (c.status != 0)
		return c.status;
	return c.bad ? 1 : 0;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "[FILE ...]",
	.summary = "validate NDJSON as a Node IPC peer would",
	.exec = cmd_check_exec,
	.opts = check_opts
};
