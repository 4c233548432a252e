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

#include "color.h"
#include "ctlc.h"

enum { O_TIMEOUT = 256, O_NAMES, O_COLOR, O_NO_REPL };

static const struct cmd_opt ctl_opts[] = {
	{ "color", 0, O_COLOR, "auto|always|never", "auto|always|never",
	    "colour the REPL's replies (default: auto)" },
	{ "names", 0, O_NAMES, NULL, NULL,
	    "print the runs' names; with TARGET, its children's" },
	{ "no-repl", 0, O_NO_REPL, NULL, NULL,
	    "requests from stdin, even at a terminal" },
	{ "timeout", 0, O_TIMEOUT, "DUR", NULL,
	    "wait so long for an answer (default: 10s)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

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
		if ((c->fd = ctlc_connect(target, err, sizeof err)) == -1) {
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
	if ((c->fd = ctlc_connect(path, err, sizeof err)) != -1)
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
			/* A name too long for a socket path is none of ours. */
			if (snprintf(path, sizeof path, "unix:%s/%s", dir,
			    de->d_name) >= (int)sizeof path)
				continue;
			if ((fd = ctlc_connect(path, err, sizeof err)) ==
			    -1)
				continue;
			c->fd = fd;
			info = NULL;
			if (ctlc_request(c, "info", NULL, 0, 0, 1, &info) == 0 &&
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
		if (snprintf(path, sizeof path, "unix:%s/%s", dir,
		    de->d_name) >= (int)sizeof path)
			continue;
		/* A stale socket (its run was killed) is no run. */
		if ((c->fd = ctlc_connect(path, err, sizeof err)) == -1)
			continue;
		c->target = path + 5;
		info = NULL;
		/*
		 * The names, for a shell's completion: a live socket is
		 * enough, with no answer to wait for (a stopped run's
		 * socket still takes connections, and would hold the
		 * completion for --timeout).
		 */
		if (names)
			printf("%.*s\n", (int)strlen(de->d_name) - 5,
			    de->d_name);
		else if (ctlc_request(c, "info", NULL, 0, 0, 1, &info) == 0) {
			json_object_set_new(info, "socket",
			    json_string(path + 5));
			if (!tty)
				ctlc_print(info);
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
			} else if (ctlc_send_all(c->fd, b, (size_t)k) == -1) {
				cmd_warn(c->ce, "%s", c->target);
				return EXIT_FAIL;
			}
		}
		if (pfd[1].revents) {
			while ((rc = ctlc_recv_line(c, &line, 0)) == 1) {
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
	enum color_mode	 color = COLOR_AUTO;
	const char	*term = getenv("TERM");
	int		 ch, rc, stream, names = 0, repl = 1;
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
		case O_COLOR:
			if (color_parse(optarg, &color) == -1)
				return cmd_usage_error(ce, "--color '%s': must be "
				    "auto, always or never", optarg);
			break;
		case O_NO_REPL:
			repl = 0;
			break;
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
		if ((rc = ctlc_request(&c, "ps", NULL, 0, 0, 0, &ps)) == 0) {
			json_array_foreach(ps, i, v)
				printf("%s\n", json_string_value(
				    json_object_get(v, "name")));
		}
		json_decref(ps);
	} else if (argc == 1 && repl && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO) && term != NULL && *term != '\0' &&
	    strcmp(term, "dumb") != 0)
		rc = ctl_repl(&c, color_on(color, STDOUT_FILENO), NULL);
	else if (argc == 1)
		rc = ctl_pipe(&c);
	else {
		stream = strcmp(argv[1], "tap") == 0 ||
		    strcmp(argv[1], "events") == 0;
		rc = ctlc_request(&c, argv[1], argv + 2, argc - 2, stream, 0,
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
