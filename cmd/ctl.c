/* SPDX-License-Identifier: ISC */
/*
 * ipcrun ctl [TARGET [COMMAND [ARG ...]]]: the client of the control
 * socket of a run or serve (cmd/run_ctl.c answers). Without TARGET, the
 * runs of this user; with a COMMAND, one request and its answer (tap and
 * events stream until the run ends or ctl is interrupted); with TARGET
 * alone, requests from stdin, one per line, and their answers.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "addr.h"
#include "buf.h"
#include "ctl.h"
#include "ev.h"

#define CTL_WAIT	(10 * 1000)	/* ms for an answer */

enum { O_TIMEOUT = 256, O_NAMES };

static const struct cmd_opt ctl_opts[] = {
	{ "names", 0, O_NAMES, NULL, NULL,
	    "print the runs' names; with TARGET, its children's" },
	{ "timeout", 0, O_TIMEOUT, "DUR", NULL,
	    "wait so long for an answer (default: 10s)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

struct ctlc {
	const struct cmd_entry	*ce;
	const char		*target;
	int			 fd;
	struct buf		 in;
	size_t			 used;	/* the last line given */
	int			 wait_ms;
};

/* Connect to spec (an address). Returns the fd, or -1 with err set. */
static int
ctl_connect_addr(const char *spec, char *err, size_t errlen)
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
static int
ctl_send_all(int fd, const char *p, size_t n)
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
static int
ctl_recv_line(struct ctlc *c, char **line, int timeout)
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
static void
ctl_print_result(json_t *res)
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
static int
ctl_request(struct ctlc *c, const char *cmd, char **args, int nargs,
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
	rc = ctl_send_all(c->fd, s, strlen(s)) == -1 ||
	    ctl_send_all(c->fd, "\n", 1) == -1;
	free(s);
	if (rc) {
		cmd_warn(c->ce, "%s", c->target);
		return EXIT_FAIL;
	}
	if ((rc = ctl_recv_line(c, &line, c->wait_ms)) != 1) {
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
		ctl_print_result(json_object_get(rep, "result"));
	json_decref(rep);
	if (!stream)
		return 0;
	if (fflush(stdout) == EOF)
		return EXIT_FAIL;
	/* The events, whole lines as they come, until the run ends. */
	while ((rc = ctl_recv_line(c, &line, -1)) == 1) {
		if (puts(line) == EOF || fflush(stdout) == EOF)
			return EXIT_PIPE;
	}
	return rc == 0 ? 0 : EXIT_FAIL;
}

/*
 * TARGET: an address (it has a ':'), or a name: NAME.sock in the
 * control directory; a pid also finds the run of that pid by asking each.
 */
static int
ctl_open(struct ctlc *c, const char *target)
{
	char		 dir[256], path[400], err[512];
	struct dirent	*de;
	DIR		*d;
	json_t		*info;
	const char	*p;
	int		 fd, pid;

	c->target = target;
	if (strchr(target, ':') != NULL) {
		if ((c->fd = ctl_connect_addr(target, err, sizeof err)) == -1) {
			cmd_warnx(c->ce, "%s", err);
			return -1;
		}
		return 0;
	}
	if (ctl_default_path(target, path + 5, sizeof path - 5, err,
	    sizeof err) == -1) {
		cmd_warnx(c->ce, "%s", err);
		return -1;
	}
	memcpy(path, "unix:", 5);
	if ((c->fd = ctl_connect_addr(path, err, sizeof err)) != -1)
		return 0;
	if (errno != ENOENT && errno != ECONNREFUSED) {
		cmd_warnx(c->ce, "%s", err);
		return -1;
	}
	for (p = target; *p >= '0' && *p <= '9'; p++)
		;
	if (*p == '\0' && ctl_dir(dir, sizeof dir, err, sizeof err) == 0 &&
	    (d = opendir(dir)) != NULL) {
		pid = atoi(target);
		while ((de = readdir(d)) != NULL) {
			if (strlen(de->d_name) < 6 || strcmp(de->d_name +
			    strlen(de->d_name) - 5, ".sock") != 0)
				continue;
			snprintf(path, sizeof path, "unix:%s/%s", dir,
			    de->d_name);
			if ((fd = ctl_connect_addr(path, err, sizeof err)) ==
			    -1)
				continue;
			c->fd = fd;
			info = NULL;
			if (ctl_request(c, "info", NULL, 0, 0, 1, &info) == 0 &&
			    json_integer_value(json_object_get(info, "pid")) ==
			    pid) {
				json_decref(info);
				closedir(d);
				return 0;
			}
			json_decref(info);
			close(fd);
			buf_consume(&c->in, c->in.len);
			c->used = 0;
		}
		closedir(d);
	}
	cmd_warnx(c->ce, "no run named '%s' (%s; 'ipcrun ctl' lists them)",
	    target, errno == ECONNREFUSED ? "its socket is stale" :
	    "no such socket");
	return -1;
}

/* Every run of ours: the info of each live socket in the directory. */
static int
ctl_list(struct ctlc *c, int names)
{
	char		 dir[256], path[400], err[512];
	struct dirent	*de;
	DIR		*d;
	json_t		*info;
	int		 tty = isatty(STDOUT_FILENO) && !names;
	size_t		 i;

	if (ctl_dir(dir, sizeof dir, err, sizeof err) == -1) {
		cmd_warnx(c->ce, "%s", err);
		return EXIT_FAIL;
	}
	if ((d = opendir(dir)) == NULL) {
		cmd_warn(c->ce, "%s", dir);
		return EXIT_FAIL;
	}
	if (tty)
		printf("%-16s %8s %8s %10s  %s\n", "NAME", "PID", "CHILDREN",
		    "UPTIME", "COMMAND");
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) < 6 || strcmp(de->d_name +
		    strlen(de->d_name) - 5, ".sock") != 0)
			continue;
		snprintf(path, sizeof path, "unix:%s/%s", dir, de->d_name);
		/* A stale socket (its run was killed) is no run. */
		if ((c->fd = ctl_connect_addr(path, err, sizeof err)) == -1)
			continue;
		c->target = path + 5;
		info = NULL;
		if (ctl_request(c, "info", NULL, 0, 0, 1, &info) == 0) {
			json_object_set_new(info, "socket",
			    json_string(path + 5));
			if (names)
				printf("%.*s\n", (int)strlen(de->d_name) - 5,
				    de->d_name);
			else if (!tty)
				ctl_print_result(info);
			else {
				json_t	*a = json_object_get(info, "command"),
					*v;
				printf("%-16.*s %8lld %8lld %9.0fs ",
				    (int)strlen(de->d_name) - 5, de->d_name,
				    (long long)json_integer_value(
				    json_object_get(info, "pid")),
				    (long long)json_integer_value(
				    json_object_get(info, "children")),
				    json_real_value(json_object_get(info,
				    "uptime")));
				json_array_foreach(a, i, v)
					printf(" %s", json_string_value(v));
				putchar('\n');
			}
		}
		json_decref(info);
		close(c->fd);
		c->fd = -1;
		buf_consume(&c->in, c->in.len);
		c->used = 0;
	}
	closedir(d);
	return cmd_flush_stdout(c->ce);
}

/*
 * TARGET alone, not at a terminal: requests from stdin, one a line, sent
 * as they are; the answers (and any events) to stdout as they come.
 */
static int
ctl_pipe(struct ctlc *c)
{
	struct pollfd	 pfd[2];
	char		 b[65536], *line;
	ssize_t		 k;
	int		 in_open = 1, rc;

	pfd[1].fd = c->fd;
	for (;;) {
		pfd[0].fd = in_open ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return EXIT_FAIL;
		}
		if (pfd[0].revents) {
			k = read(STDIN_FILENO, b, sizeof b);
			if (k <= 0) {
				in_open = 0;
				(void)shutdown(c->fd, SHUT_WR);
			} else if (ctl_send_all(c->fd, b, (size_t)k) == -1) {
				cmd_warn(c->ce, "%s", c->target);
				return EXIT_FAIL;
			}
		}
		if (pfd[1].revents) {
			while ((rc = ctl_recv_line(c, &line, 0)) == 1) {
				if (puts(line) == EOF)
					return EXIT_PIPE;
			}
			if (fflush(stdout) == EOF)
				return EXIT_PIPE;
			if (rc == 0)
				return 0;
			if (errno != ETIMEDOUT) {
				cmd_warn(c->ce, "%s", c->target);
				return EXIT_FAIL;
			}
		}
	}
}

static int
cmd_ctl_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct ctlc	 c;
	const char	*cause;
	int64_t		 ns;
	int		 ch, rc, stream, names = 0;
	json_t		*ps, *v;
	size_t		 i;

	memset(&c, 0, sizeof c);
	c.ce = ce;
	c.fd = -1;
	c.wait_ms = CTL_WAIT;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case O_NAMES:
			names = 1;
			break;
		case O_TIMEOUT:
			if (cmd_parse_duration(optarg, &ns, &cause) == -1)
				return cmd_usage_error(ce, "--timeout '%s': %s",
				    optarg, cause);
			c.wait_ms = ev_timeout_ms(ev_now() + ns);
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	signal(SIGPIPE, SIG_IGN);
	if (buf_init(&c.in, 65536) == -1) {
		cmd_warn(ce, "malloc");
		return EXIT_FAIL;
	}
	if (argc == 0) {
		rc = ctl_list(&c, names);
		buf_release(&c.in);
		return rc;
	}
	if (ctl_open(&c, argv[0]) == -1) {
		buf_release(&c.in);
		return EXIT_FAIL;
	}
	if (names) {
		/* The children's names, for the completions. */
		ps = NULL;
		if ((rc = ctl_request(&c, "ps", NULL, 0, 0, 0, &ps)) == 0) {
			json_array_foreach(ps, i, v)
				printf("%s\n", json_string_value(
				    json_object_get(v, "name")));
		}
		json_decref(ps);
	} else if (argc == 1)
		rc = ctl_pipe(&c);
	else {
		stream = strcmp(argv[1], "tap") == 0 ||
		    strcmp(argv[1], "events") == 0;
		rc = ctl_request(&c, argv[1], argv + 2, argc - 2, stream, 0,
		    NULL);
		if (rc == 0 || rc == 1) {
			ch = cmd_flush_stdout(ce);
			if (ch != 0)
				rc = ch;
		}
	}
	close(c.fd);
	buf_release(&c.in);
	return rc;
}

const struct cmd_entry cmd_ctl_entry = {
	.name = "ctl",
	.usage = "[TARGET [COMMAND [ARG ...]]]",
	.summary = "list, inspect and steer running runs and serves",
	.exec = cmd_ctl_exec,
	.opts = ctl_opts
};
