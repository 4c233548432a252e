/* SPDX-License-Identifier: ISC */
/*
 * ipcrun attach: an NDJSON-aware nc. Lines from standard input are
 * validated as run validates them and sent to a socket; records from the
 * socket are validated and printed one per line. This file is the
 * options, connecting or listening (peer after peer with -k);
 * attach_session.c is one peer's conversation.
 */
#include "compat.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "addr.h"
#include "buf.h"
#include "chan.h"
#include "ev.h"
#include "fdpass.h"
#include "frame.h"
#include "jscan.h"
#include "spawn.h"

#include "attach.h"

/* --rs: one control byte, literal or as \n, \f, \v, \e, \0 or \xHH. */
static int
parse_rs(const char *s)
{
	unsigned	v;
	char		*end;

	if (s[0] != '\0' && s[1] == '\0')
		v = (unsigned char)s[0];
	else if (s[0] == '\\' && s[1] != '\0' && s[2] == '\0') {
		switch (s[1]) {
		case 'n': v = '\n'; break;
		case 'f': v = '\f'; break;
		case 'v': v = '\v'; break;
		case 'e': v = 0x1b; break;
		case '0': v = 0; break;
		default: return -1;
		}
	} else if (s[0] == '\\' && s[1] == 'x' && s[2] != '\0') {
		v = (unsigned)strtoul(s + 2, &end, 16);
		if (*end != '\0' || end - (s + 2) > 2)
			return -1;
	} else
		return -1;
	/*
	 * Only a byte that valid JSON never holds raw can end a record:
	 * control characters, but not tab and CR, which are whitespace.
	 */
	if (v >= 0x20 || v == '\t' || v == '\r')
		return -1;
	return (int)v;
}

enum { O_ALLOW_UID = 256, O_IDLE_TIMEOUT, O_MODE, O_NODE, O_READY_FD, O_RS };

#define QUIT_FF_NS	((int64_t)2 * 1000000000)	/* -q with --rs '\f' */

static const struct cmd_opt attach_opts[] = {
	{ NULL, 'k', 'k', NULL, NULL,
	    "with -l, serve peer after peer (default: one)" },
	{ NULL, 'l', 'l', NULL, NULL,
	    "listen on ADDR instead of connecting" },
	{ NULL, 's', 's', "N", NULL,
	    "-v: bytes of a record shown (default: 64, 0: all)" },
	{ "allow-uid", 0, O_ALLOW_UID, "UID", NULL,
	    "with -l, serve UID's peers too (default: own, root)" },
	{ "idle-timeout", 0, O_IDLE_TIMEOUT, "DUR", NULL,
	    "after EOF, close after DUR of silence (default: no)" },
	{ "mode", 0, O_MODE, "MODE", NULL,
	    "with -l, a unix socket's mode (default: 0600)" },
	{ "node", 0, O_NODE, NULL, NULL,
	    "also refuse Node's internal messages, both ways" },
	{ "quit-after", 'q', 'q', "DUR", NULL,
	    "hold EOF up to DUR for replies (default: 0; \\f: 2s)" },
	{ "ready-fd", 0, O_READY_FD, "N", NULL,
	    "with -l, write ADDR to N once listening" },
	{ "retry", 'w', 'w', "DUR", NULL,
	    "keep trying to connect for DUR (default: 0, once)" },
	{ "rs", 0, O_RS, "SEP", NULL,
	    "the peer's record separator (default: '\\n')" },
	{ "stats", 0, 'S', NULL, NULL,
	    "counts of records and bytes on stderr at the end" },
	{ "trace", 0, 'T', NULL, NULL,
	    "log each record's direction and size on stderr" },
	{ "trace-file", 0, 'F', "FILE", NULL,
	    "write every record to FILE as NDJSON (spy's trace)" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "show records on stderr; with -l, 'listening on ADDR'" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static int
cmd_attach_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct attach	 at;
	struct addr	 a;
	struct sock_allow allow;
	mode_t		 mode = 0600;
	const char	*cause;
	int		 ch, listen = 0, keep = 0, modeset = 0, lfd = -1;
	int		 verbose = 0;
	int		 sock, status = EXIT_FAIL, r, closed, readyfd = -1;
	int64_t		 retry_ns = 0;

	memset(&at, 0, sizeof at);
	memset(&allow, 0, sizeof allow);
	at.ce = ce;
	show_init(&at.sh, ce);
	at.sep = '\n';
	at.idle_ns = -1;
	at.quit_ns = -1;
	optind = 1;
	while ((ch = cmd_getopts(ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(ce);
		case O_ALLOW_UID:
			if ((r = sock_allow_add(ce, &allow, optarg)) != 0)
				return r;
			break;
		case O_IDLE_TIMEOUT:
			if (cmd_parse_duration(optarg, &at.idle_ns,
			    &cause) == -1)
				return cmd_usage_error(ce, "--idle-timeout "
				    "'%s': %s", optarg, cause);
			if (at.idle_ns == 0)
				return cmd_usage_error(ce, "--idle-timeout "
				    "'%s': must be above 0", optarg);
			break;
		case 'k':
			keep = 1;
			break;
		case 'v':
			verbose = 1;
			/* FALLTHROUGH */
		case 's':
		case 'S':
		case 'T':
		case 'F':
			if ((r = show_option(&at.sh, ch, optarg)) != 1)
				return r;
			break;
		case 'l':
			listen = 1;
			break;
		case O_MODE:
			if (sock_parse_mode(optarg, &mode) == -1)
				return cmd_usage_error(ce, "--mode '%s': not "
				    "an octal mode from 0 to 777", optarg);
			modeset = 1;
			break;
		case O_NODE:
			at.node = 1;
			break;
		case 'q':
			if (cmd_parse_duration(optarg, &at.quit_ns,
			    &cause) == -1)
				return cmd_usage_error(ce, "-q '%s': %s",
				    optarg, cause);
			break;
		case O_READY_FD:
			if ((r = sock_parse_ready_fd(ce, optarg,
			    &readyfd)) != 0)
				return r;
			break;
		case 'w':
			if (cmd_parse_duration(optarg, &retry_ns,
			    &cause) == -1)
				return cmd_usage_error(ce, "-w '%s': %s",
				    optarg, cause);
			break;
		case O_RS:
			if ((at.sep = parse_rs(optarg)) == -1)
				return cmd_usage_error(ce, "--rs '%s': not one "
				    "control character other than tab and CR, "
				    "such as '\\n', '\\f' or '\\x1e'", optarg);
			break;
		default:
			return EXIT_FAIL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cmd_usage_error(ce, "no address given");
	if (argc > 1)
		return cmd_usage_error(ce, "unexpected operand '%s'", argv[1]);
	if (keep && !listen)
		return cmd_usage_error(ce, "-k needs -l");
	/* node-ipc's peers close on the half-close: wait for replies. */
	if (at.quit_ns == -1)
		at.quit_ns = at.sep == '\f' ? QUIT_FF_NS : 0;
	if (modeset && !listen)
		return cmd_usage_error(ce, "--mode needs -l");
	if (allow.n > 0 && !listen)
		return cmd_usage_error(ce, "--allow-uid needs -l");
	if (readyfd != -1 && !listen)
		return cmd_usage_error(ce, "--ready-fd is for listening: it "
		    "needs -l");
	if (retry_ns > 0 && listen)
		return cmd_usage_error(ce, "-w is for connecting: not with -l");
	at.name = argv[0];
	at.sh.who = at.name;
	if (sock_parse_addr(ce, &a, at.name) == -1)
		return EXIT_FAIL;
	/*
	 * fds 0-2 open before any socket is: a socket on a closed fd 0 or 1
	 * would be read as the input or written as the output, and the
	 * peer's lines would go back to it.
	 */
	if (spawn_std_fds(&closed) == -1) {
		cmd_warn(ce, "/dev/null");
		return EXIT_FAIL;
	}
	at.out_closed = (closed & 1 << STDOUT_FILENO) != 0;
	if (allow.n > 0 && a.kind == ADDR_TCP)
		return cmd_usage_error(ce, "--allow-uid is for unix sockets: "
		    "a TCP peer has no uid");

	if (frame_init(&at.in, MAXLINE, 1) == -1 ||
	    buf_init(&at.wq, WQ_SIZE) == -1 ||
	    buf_init(&at.linenos, 4096) == -1) {
		cmd_warn(ce, "malloc");
		frame_release(&at.in);
		buf_release(&at.wq);
		buf_release(&at.linenos);
		return EXIT_FAIL;
	}
	at.q = &at.wq;
	at.inkey = at.node ? jscan_want(&at.in.js, "cmd", 3) : -1;
	/* The trace's "from": stdin's lines go to the peer. */
	at.sh.sent_to = "stdin";
	at.sh.sent_from = "peer";
	if (show_start(&at.sh) == -1)
		goto out;
	if (!listen) {
		if ((sock = sock_connect(ce, &a, at.name, retry_ns,
		    &status)) == -1)
			goto out;
		status = attach_session(&at, sock);
		close(sock);
		goto out;
	}
	if ((lfd = sock_listen(ce, &a, at.name, mode)) == -1)
		goto out;
	/* Quiet unless asked, as nc -l and recv-fd are (issue 30). */
	sock_ready(ce, &a, lfd, at.name, verbose, &readyfd);
	do {
		if ((sock = sock_accept_allowed(ce, lfd, at.name,
		    &allow)) == -1) {
			status = EXIT_FAIL;
			break;
		}
		if (!keep) {
			/* One peer: nobody else may connect meanwhile. */
			close(lfd);
			lfd = -1;
			addr_unlink(&a);
		}
		r = attach_session(&at, sock);
		close(sock);
		status = r;
		if (keep && !at.stop)
			attach_drop_cut(&at);
	} while (keep && !at.stop);
out:
	show_stats(&at.sh, NULL);
	show_end(&at.sh);
	if (lfd != -1)
		close(lfd);
	addr_unlink(&a);
	frame_release(&at.in);
	buf_release(&at.wq);
	buf_release(&at.linenos);
	if (at.stop)
		return at.stop;
	if (status == 0 && at.bad)
		return 1;
	return status;
}

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.usage = "ADDR",
	.summary = "an NDJSON-aware nc: send validated lines to a socket, "
	    "print its replies",
	.permute = 1,
	.notes = sock_addr_notes,
	.exec = cmd_attach_exec,
	.opts = attach_opts
};
