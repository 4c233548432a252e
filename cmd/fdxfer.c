/* SPDX-License-Identifier: ISC */
/*
 * ipcrun send-fd and recv-fd: pass descriptors over a unix socket. One
 * JSON header line, {"fds":N,"names":[...]}, then N descriptors, each
 * riding alone with one byte. recv-fd chainloads CMD with them in place.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "addr.h"
#include "fdmap.h"
#include "fdpass.h"
#include "spawn.h"

#define HEADER_MAX	(64 * 1024)	/* longest header line accepted */

/*
 * Split argv at the first "--": options and operands before it, CMD after
 * (so CMD's own options are never taken for ours). Returns the index of
 * "--", or argc.
 */
static int
split_ddash(int argc, char **argv)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i;
	}
	return argc;
}

/* A descriptor number from 0 to max, or -1. */
static int
parse_fdnum(const char *s, long max)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return -1;
	return (int)v;
}

static long
fd_limit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= INT_MAX)
		return (long)rl.rlim_cur - 1;
	return INT_MAX;
}

/* -w DUR: how long to keep trying to connect. */
static int
parse_retry(const struct cmd_entry *ce, const char *s, int64_t *ns)
{
	const char	*cause;

	if (cmd_parse_duration(s, ns, &cause) == -1)
		return cmd_usage_error(ce, "-w '%s': %s", s, cause);
	return 0;
}

/*
 * -w is for a command that connects; -v and --ready-fd for one that
 * listens. lflag names the flag that makes it listen, or NULL when it
 * listens unless -c.
 */
static int
listen_or_connect(const struct cmd_entry *ce, int listen,
    const struct sock_conf *sc, const char *lflag)
{
	if (listen && sc->retry_ns > 0)
		return cmd_usage_error(ce, "-w is for connecting: %s",
		    lflag != NULL ? "not with -l" : "it needs -c");
	if (!listen && sc->ready_fd != -1)
		return cmd_usage_error(ce, "--ready-fd is for listening%s",
		    lflag != NULL ? ": it needs -l" : ", not with -c");
	if (!listen && sc->verbose)
		return cmd_usage_error(ce, "-v is for listening%s",
		    lflag != NULL ? ": it needs -l" : ", not with -c");
	return 0;
}

/* Send all of p (and fd with its first byte); -1 with errno on failure. */
static int
send_all(int sock, const char *p, size_t len, int fd)
{
	ssize_t	r;

	while (len > 0) {
		if ((r = fdpass_send(sock, p, len, fd)) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (sock_wait(sock, POLLOUT, -1) == -1)
				return -1;
			continue;
		}
		p += r;
		len -= (size_t)r;
		fd = -1;	/* it went with the first byte */
	}
	return 0;
}

/* Receive one byte and what came with it; 1, 0 at EOF, -1 with errno. */
static int
recv_byte(int sock, char *c, int *fd, unsigned *flags)
{
	ssize_t	r;

	for (;;) {
		if ((r = fdpass_recv(sock, c, 1, fd, flags)) != -1)
			return r > 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (sock_wait(sock, POLLIN, -1) == -1)
			return -1;
	}
}

enum { O_ALLOW_UID = 256, O_AS, O_MODE, O_MSG, O_NAMES, O_NODE, O_READY_FD };

static const struct cmd_opt send_fd_opts[] = {
	{ NULL, 'l', 'l', NULL, NULL,
	    "listen on ADDR instead of connecting" },
	{ "allow-uid", 0, O_ALLOW_UID, "UID", NULL,
	    "send to a peer of UID too (default: own uid, root)" },
	{ "mode", 0, O_MODE, "MODE", NULL,
	    "with -l, a unix socket's mode (default: 0600)" },
	{ "msg", 0, O_MSG, "JSON", NULL,
	    "a message for the descriptors, in the header" },
	{ "names", 0, O_NAMES, "NAME[,NAME...]", NULL,
	    "a name for each descriptor, in the header" },
	{ "node", 0, O_NODE, NULL, NULL,
	    "refuse a descriptor a Node peer would not take" },
	{ "ready-fd", 0, O_READY_FD, "N", NULL,
	    "with -l, write ADDR to N once listening" },
	{ "retry", 'w', 'w', "DUR", NULL,
	    "keep trying to connect for DUR (default: 0, once)" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "with -l, say 'listening on ADDR' on stderr" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static int
cmd_send_fd_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct addr	 a;
	struct sock_allow allow;
	struct sock_conf sc = { 0, -1, 0 };
	mode_t		 mode = 0600;
	char		*names_arg = NULL, **names = NULL, *header = NULL, *p;
	const char	*msg = NULL;
	const char	*name;
	int		*fds = NULL, ch, listen = 0, modeset = 0, node = 0;
	int		 dd, sock = -1, status = EXIT_FAIL, kind, r;
	size_t		 nfds, nnames, i;

	memset(&allow, 0, sizeof allow);
	if ((dd = split_ddash(argc, argv)) != argc)
		return cmd_usage_error(ce, "unexpected '--'");
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case 'l':
			listen = 1;
			break;
		case O_ALLOW_UID:
			if ((r = sock_allow_add(ce, &allow, optarg)) != 0)
				return r;
			break;
		case O_MODE:
			if (sock_parse_mode(optarg, &mode) == -1)
				return cmd_usage_error(ce, "--mode '%s': not "
				    "an octal mode from 0 to 777", optarg);
			modeset = 1;
			break;
		case O_MSG:
			if (fdpass_msg_check(optarg, HEADER_MAX / 2) == -1)
				return cmd_usage_error(ce, "--msg '%s': not one "
				    "JSON value on one line of at most %d bytes",
				    optarg, HEADER_MAX / 2);
			msg = optarg;
			break;
		case O_NAMES:
			names_arg = optarg;
			break;
		case O_NODE:
			node = 1;
			break;
		case O_READY_FD:
			if ((r = sock_parse_ready_fd(ce, optarg,
			    &sc.ready_fd)) != 0)
				return r;
			break;
		case 'v':
			sc.verbose = 1;
			break;
		case 'w':
			if ((r = parse_retry(ce, optarg, &sc.retry_ns)) != 0)
				return r;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cmd_usage_error(ce, "no address given");
	if (argc < 2)
		return cmd_usage_error(ce, "no descriptor given");
	name = argv[0];
	if (sock_parse_addr(ce, &a, name) == -1)
		return EXIT_FAIL;
	if (a.kind == ADDR_TCP)
		return cmd_usage_error(ce, "address '%s': descriptors travel "
		    "only over unix sockets", name);
	if (modeset && !listen)
		return cmd_usage_error(ce, "--mode needs -l");
	if ((r = listen_or_connect(ce, listen, &sc, "-l")) != 0)
		return r;
	nfds = (size_t)argc - 1;
	if (nfds > FDPASS_MAX)
		return cmd_usage_error(ce, "too many descriptors (%zu, at most "
		    "%d)", nfds, FDPASS_MAX);
	if ((fds = calloc(nfds, sizeof *fds)) == NULL) {
		cmd_warn(ce, "calloc");
		return EXIT_FAIL;
	}
	for (i = 0; i < nfds; i++) {
		if ((fds[i] = parse_fdnum(argv[i + 1], INT_MAX)) == -1) {
			cmd_usage_error(ce, "'%s' is not a descriptor number",
			    argv[i + 1]);
			goto out;
		}
		if (fcntl(fds[i], F_GETFD) == -1) {
			cmd_warn(ce, "descriptor %d", fds[i]);
			goto out;
		}
		if (node && !fdpass_node_accepts(kind = fdpass_kind(fds[i]))) {
			cmd_warnx(ce, "descriptor %d is a %s, which a Node "
			    "peer does not accept (--node)", fds[i],
			    kind == -1 ? "file that cannot be examined" :
			    fdpass_kind_name(kind));
			goto out;
		}
	}
	if (names_arg != NULL) {
		/* One name per descriptor, comma-separated. */
		for (nnames = 1, p = names_arg; *p != '\0'; p++)
			nnames += *p == ',';
		if (nnames != nfds) {
			cmd_usage_error(ce, "--names gives %zu name%s for %zu "
			    "descriptor%s", nnames, nnames == 1 ? "" : "s", nfds,
			    nfds == 1 ? "" : "s");
			goto out;
		}
		if ((names = calloc(nfds + 1, sizeof *names)) == NULL) {
			cmd_warn(ce, "calloc");
			goto out;
		}
		for (i = 0, p = names_arg; i < nfds; i++) {
			names[i] = strsep(&p, ",");
		}
	}
	if ((header = fdpass_header_format(nfds, names)) == NULL) {
		if (errno == EILSEQ)
			cmd_usage_error(ce, "--names '%s': not valid UTF-8",
			    names_arg);
		else
			cmd_warn(ce, "header");
		goto out;
	}
	if (msg != NULL && (header = fdpass_header_add_msg(header, msg)) == NULL) {
		cmd_warn(ce, "header");
		goto out;
	}

	/* Descriptors go only to a peer of ours, root, or --allow-uid's. */
	if ((sock = sock_one_peer(ce, &a, name, listen, mode, &allow, &sc,
	    &status)) == -1)
		goto out;
	status = 1;
	if (send_all(sock, header, strlen(header), -1) == -1) {
		cmd_warn(ce, "%s: sending the header", name);
		goto out;
	}
	for (i = 0; i < nfds; i++) {
		if (send_all(sock, "", 1, fds[i]) == -1) {
			cmd_warn(ce, "%s: sending descriptor %d (%zu of %zu)",
			    name, fds[i], i + 1, nfds);
			goto out;
		}
	}
	status = 0;
out:
	if (sock != -1)
		close(sock);
	addr_unlink(&a);
	free(header);
	free(names);
	free(fds);
	return status;
}

/* --as N[,M...]: distinct descriptor numbers this process may have. */
static int
parse_as(const struct cmd_entry *ce, const char *s, int **out, size_t *n)
{
	char	*copy, *p, *tok;
	int	*v;
	long	 max = fd_limit();
	size_t	 i, cnt;

	for (cnt = 1, p = (char *)(uintptr_t)s; *p != '\0'; p++)
		cnt += *p == ',';
	if (cnt > FDPASS_MAX) {
		cmd_usage_error(ce, "--as '%s': more than %d numbers", s,
		    FDPASS_MAX);
		return -1;
	}
	if ((copy = strdup(s)) == NULL ||
	    (v = calloc(cnt, sizeof *v)) == NULL) {
		free(copy);
		cmd_warn(ce, "malloc");
		return -1;
	}
	for (i = 0, p = copy; i < cnt; i++) {
		tok = strsep(&p, ",");
		if ((v[i] = parse_fdnum(tok, max)) == -1) {
			cmd_usage_error(ce, "--as '%s': '%s' is not a "
			    "descriptor number from 0 to %ld", s, tok, max);
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (v[j] == v[i]) {
				cmd_usage_error(ce, "--as '%s': %d appears "
				    "twice", s, v[i]);
				goto fail;
			}
		}
	}
	free(copy);
	*out = v;
	*n = cnt;
	return 0;
fail:
	free(copy);
	free(v);
	return -1;
}

/*
 * Read the header line one byte at a time: a descriptor may follow the
 * newline at once, and it must not be taken with the header's bytes.
 * Returns the line (NUL-terminated, without its newline) or NULL after
 * reporting.
 */
static char *
recv_header(const struct cmd_entry *ce, int sock, const char *name)
{
	char		*line;
	size_t		 len = 0;
	unsigned	 flags;
	int		 r, fd;

	if ((line = malloc(HEADER_MAX + 1)) == NULL) {
		cmd_warn(ce, "malloc");
		return NULL;
	}
	for (;;) {
		if ((r = recv_byte(sock, line + len, &fd, &flags)) == -1) {
			cmd_warn(ce, "%s: receiving the header", name);
			break;
		}
		if (fd != -1) {
			close(fd);
			cmd_warnx(ce, "%s: wrong peer: a descriptor came with "
			    "the header", name);
			break;
		}
		if (r == 0) {
			cmd_warnx(ce, "%s: %s", name, len == 0 ?
			    "the peer sent no header" :
			    "the peer closed the connection inside the header");
			break;
		}
		if (line[len] == '\n') {
			line[len] = '\0';
			return line;
		}
		if (++len == HEADER_MAX) {
			cmd_warnx(ce, "%s: wrong peer: no header line within "
			    "%d bytes", name, HEADER_MAX);
			break;
		}
	}
	free(line);
	return NULL;
}

/* Receive h->nfds descriptors into fds[]; 0, or -1 after reporting. */
static int
recv_fds(const struct cmd_entry *ce, int sock, const char *name,
    size_t nfds, int *fds)
{
	unsigned	flags;
	size_t		i;
	char		c;
	int		r;

	for (i = 0; i < nfds; i++) {
		if ((r = recv_byte(sock, &c, &fds[i], &flags)) == -1) {
			cmd_warn(ce, "%s: receiving descriptor %zu of %zu",
			    name, i + 1, nfds);
			return -1;
		}
		if (r == 0) {
			cmd_warnx(ce, "%s: the peer sent %zu of %zu announced "
			    "descriptor%s", name, i, nfds, nfds == 1 ? "" : "s");
			return -1;
		}
		if (flags & (FDPASS_CTRUNC | FDPASS_BADCMSG)) {
			if (fds[i] != -1)
				close(fds[i]);
			fds[i] = -1;
			cmd_warnx(ce, "%s: descriptor %zu of %zu: %s", name,
			    i + 1, nfds, (flags & FDPASS_CTRUNC) ?
			    "control data truncated (MSG_CTRUNC)" :
			    "malformed control message");
			return -1;
		}
		if (fds[i] == -1) {
			cmd_warnx(ce, "%s: wrong peer: a byte came without "
			    "descriptor %zu of %zu", name, i + 1, nfds);
			return -1;
		}
		if (flags & FDPASS_SURPLUS)
			cmd_warnx(ce, "%s: the peer sent more than one "
			    "descriptor with one byte; the extra ones were "
			    "closed", name);
	}
	return 0;
}

static const struct cmd_opt recv_fd_opts[] = {
	{ NULL, 'c', 'c', NULL, NULL,
	    "connect to ADDR instead of listening on it" },
	{ "allow-uid", 0, O_ALLOW_UID, "UID", NULL,
	    "serve a peer of UID too (default: own uid, root)" },
	{ "as", 0, O_AS, "N[,N...]", NULL,
	    "where CMD gets them (default: 3, 4, ...)" },
	{ "mode", 0, O_MODE, "MODE", NULL,
	    "a unix socket's mode (default: 0600)" },
	{ "ready-fd", 0, O_READY_FD, "N", NULL,
	    "write ADDR to N once listening" },
	{ "retry", 'w', 'w', "DUR", NULL,
	    "with -c, keep trying to connect for DUR (default: 0)" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "say 'listening on ADDR' on stderr" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static int
cmd_recv_fd_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct fdpass_header	 h;
	struct addr		 a;
	struct sock_allow	 allow;
	struct sock_conf	 sc = { 0, -1, 0 };
	mode_t			 mode = 0600;
	char			*line = NULL, *out, **cmdv = NULL;
	const char		*name, *as_arg = NULL, *cause;
	int			*as = NULL, *fds = NULL, ch, connect = 0;
	int			 modeset = 0, dd, sock = -1, status = EXIT_FAIL;
	int			 err2, e, top;
	size_t			 nas = 0, i, got = 0;

	memset(&h, 0, sizeof h);
	memset(&allow, 0, sizeof allow);
	dd = split_ddash(argc, argv);
	if (dd < argc) {
		if (dd + 1 == argc)
			return cmd_usage_error(ce, "no CMD after '--'");
		cmdv = argv + dd + 1;
	}
	optind = 1;
	while ((ch = cmd_getopts(ce, dd, argv)) != -1) {
		switch (ch) {
		case O_ALLOW_UID:
			if ((e = sock_allow_add(ce, &allow, optarg)) != 0)
				return e;
			break;
		case O_AS:
			as_arg = optarg;
			break;
		case 'c':
			connect = 1;
			break;
		case 'h':
			return cmd_help(ce);
		case O_MODE:
			if (sock_parse_mode(optarg, &mode) == -1)
				return cmd_usage_error(ce, "--mode '%s': not "
				    "an octal mode from 0 to 777", optarg);
			modeset = 1;
			break;
		case O_READY_FD:
			if ((e = sock_parse_ready_fd(ce, optarg,
			    &sc.ready_fd)) != 0)
				return e;
			break;
		case 'v':
			sc.verbose = 1;
			break;
		case 'w':
			if ((e = parse_retry(ce, optarg, &sc.retry_ns)) != 0)
				return e;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	if (optind >= dd)
		return cmd_usage_error(ce, "no address given");
	if (optind + 1 < dd)
		return cmd_usage_error(ce, "unexpected operand '%s' (put '--' "
		    "before CMD)", argv[optind + 1]);
	name = argv[optind];
	if (sock_parse_addr(ce, &a, name) == -1)
		return EXIT_FAIL;
	if (a.kind == ADDR_TCP)
		return cmd_usage_error(ce, "address '%s': descriptors travel "
		    "only over unix sockets", name);
	if (modeset && connect)
		return cmd_usage_error(ce, "--mode is for listening, not with "
		    "-c");
	if ((e = listen_or_connect(ce, !connect, &sc, NULL)) != 0)
		return e;
	if (as_arg != NULL && cmdv == NULL)
		return cmd_usage_error(ce, "--as needs a CMD to run");
	if (as_arg != NULL && parse_as(ce, as_arg, &as, &nas) == -1)
		return EXIT_FAIL;

	if ((sock = sock_one_peer(ce, &a, name, !connect, mode, &allow, &sc,
	    &status)) == -1)
		goto out;
	status = 1;
	if ((line = recv_header(ce, sock, name)) == NULL)
		goto out;
	if (fdpass_header_parse(&h, line, strlen(line), &cause) == -1) {
		cmd_warnx(ce, "%s: wrong peer: %s", name, cause);
		goto out;
	}
	if (cmdv != NULL && as != NULL && nas != h.nfds) {
		cmd_warnx(ce, "%s: the peer announced %zu descriptor%s, --as "
		    "names %zu", name, h.nfds, h.nfds == 1 ? "" : "s", nas);
		goto out;
	}
	if ((fds = calloc(h.nfds + 1, sizeof *fds)) == NULL) {
		cmd_warn(ce, "calloc");
		status = EXIT_FAIL;
		goto out;
	}
	got = h.nfds;
	for (i = 0; i < h.nfds; i++)
		fds[i] = -1;
	if (recv_fds(ce, sock, name, h.nfds, fds) == -1)
		goto out;
	close(sock);
	sock = -1;

	if (cmdv == NULL) {
		/* No CMD: say what came, and let the descriptors go. */
		if ((out = fdpass_header_format(h.nfds, h.names)) == NULL) {
			cmd_warn(ce, "header");
			status = EXIT_FAIL;
			goto out;
		}
		fputs(out, stdout);
		free(out);
		status = cmd_flush_stdout(ce);
		goto out;
	}

	/* Chainload: the descriptors at their numbers, then exec CMD. */
	if (as == NULL) {
		if ((as = calloc(h.nfds + 1, sizeof *as)) == NULL) {
			cmd_warn(ce, "calloc");
			status = EXIT_FAIL;
			goto out;
		}
		for (i = 0; i < h.nfds; i++)
			as[i] = 3 + (int)i;
		nas = h.nfds;
	}
	if (cmd_flush_stdout(ce) != 0) {
		status = EXIT_FAIL;
		goto out;
	}
	/*
	 * Keep a way to report a failed exec when --as replaces fd 2, above
	 * every target so that no placement lands on it.
	 */
	for (i = 0, top = 2; i < nas; i++)
		top = as[i] > top ? as[i] : top;
	if ((err2 = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, top + 1)) == -1) {
		cmd_warn(ce, "dup");
		status = EXIT_FAIL;
		goto out;
	}
	if (fdmap_place(fds, as, nas) == -1) {
		e = errno;
		(void)dup2(err2, STDERR_FILENO);
		errno = e;
		cmd_warn(ce, "placing the descriptors");
		status = EXIT_FAIL;
		goto out;
	}
	/* main ignores SIGPIPE for ipcrun itself; CMD gets the default. */
	signal(SIGPIPE, SIG_DFL);
	execvp(cmdv[0], cmdv);
	e = errno;
	(void)dup2(err2, STDERR_FILENO);
	errno = e;
	cmd_warn(ce, "'%s'", cmdv[0]);
	status = spawn_exec_status(e);
out:
	if (sock != -1)
		close(sock);
	addr_unlink(&a);
	for (i = 0; i < got; i++) {
		if (fds[i] != -1)
			close(fds[i]);
	}
	free(fds);
	free(as);
	free(line);
	fdpass_header_release(&h);
	return status;
}

const struct cmd_entry cmd_send_fd_entry = {
	.name = "send-fd",
	.usage = "ADDR FD ...",
	.summary = "send descriptors over a unix socket",
	.permute = 1,
	.notes = sock_addr_notes,
	.exec = cmd_send_fd_exec,
	.opts = send_fd_opts
};

const struct cmd_entry cmd_recv_fd_entry = {
	.name = "recv-fd",
	.usage = "ADDR [-- CMD [ARG ...]]",
	.summary = "receive descriptors over a unix socket, and run CMD with "
	    "them",
	/* Split at "--" first: CMD's options are never taken for ours. */
	.permute = 1,
	.notes = sock_addr_notes,
	.exec = cmd_recv_fd_exec,
	.opts = recv_fd_opts
};
