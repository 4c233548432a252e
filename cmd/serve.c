/* SPDX-License-Identifier: ISC */
/*
 * ipcrun serve: run's relay, with sockets bound before any child starts
 * and shared with every child: as a net.Server handle on the node channel
 * (--handoff server, the source's child.send('server', server)), or at
 * fd 3 and up in systemd's convention (--handoff systemd). Its children
 * read no input and are always started again; a stop signal is a
 * graceful stop. This file is its options; run.c parses the rest, and
 * run_loop.c runs it.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "addr.h"
#include "relay.h"

const struct cmd_opt serve_opts[] = {
	{ "listen", 'l', 'l', "[NAME=]ADDR", NULL,
	    "bind and listen on ADDR (tcp:HOST:PORT, unix:PATH)" },
	{ "handoff", 0, O_HANDOFF, "cluster|server|socket|systemd",
	    "cluster|server|socket|systemd",
	    "how children get sockets (Node: cluster)" },
	{ "sched", 0, O_SCHED, "rr|shared", "rr|shared",
	    "cluster: ipcrun accepts (rr) or workers do" },
	{ "message", 0, O_MESSAGE, "JSON", NULL,
	    "the handle's message (\"server\", \"socket\")" },
	{ "ready-fd", 0, O_READY_FD, "N", NULL,
	    "write the addresses to N once all are listened on" },
	{ "copies", 'n', 'n', "N", NULL,
	    "run N copies of CMD, NAME.1 to NAME.N" },
	{ "name", 0, O_NAME, "NAME", NULL,
	    "name of the copies (default: CMD's or its script's)" },
	OPT_CHANNEL,
	{ "channel-fd", 0, O_CHANNEL_FD, "N", NULL,
	    "node channel descriptor (default: above the sockets)" },
	{ "restart", 0, O_RESTART, "no|on-failure|always",
	    "no|on-failure|always",
	    "start an ended child again (default: always)" },
	OPT_BACKOFF,
	OPT_MAX_RESTARTS,
	{ "kill-timeout", 0, O_KILL_TIMEOUT, "DUR", NULL,
	    "on a stop: SIGTERM after DUR, SIGKILL (default: 5s)" },
	{ "events", 0, O_EVENTS, NULL, NULL,
	    "spawn, handle, exit... events as JSON lines" },
	OPT_EVENTS_FD,
	OPT_LOG,
	OPT_RAW,
	OPT_TRACE,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_CONTROL,
	OPT_NO_CONTROL,
	OPT_SHOW,
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/*
 * serve --listen [NAME=]ADDR: bound now, before any child starts, so that
 * a bad address or a port in use is said at once (125). NAME (systemd's
 * LISTEN_FDNAMES) is letters, digits, '_', '-' and '.'; an ADDR has a
 * ':' before any '=', which tells the two forms apart.
 */
static int
serve_listen(struct run *r, struct relay_conf *c, const char *arg,
    struct addr *a, char *names, size_t len)
{
	const char	*eq = strchr(arg, '='), *colon = strchr(arg, ':');
	const char	*spec = arg;
	char		 name[64], err[256];
	size_t		 k, nl = 0;
	int		 fd;

	if (r->nlisten == SERVE_MAXLISTEN)
		return cmd_usage_error(r->ce, "--listen: more than %d "
		    "addresses", SERVE_MAXLISTEN);
	if (eq != NULL && (colon == NULL || eq < colon)) {
		nl = (size_t)(eq - arg);
		if (nl == 0 || nl >= sizeof name || nl != strspn(arg,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-."))
			return cmd_usage_error(r->ce, "--listen '%s': the name "
			    "before '=' must be 1 to 63 letters, digits, '_', "
			    "'-' or '.'", arg);
		spec = eq + 1;
	}
	if (addr_parse(a, spec, err, sizeof err) == -1)
		return cmd_usage_error(r->ce, "--listen '%s': %s", arg, err);
	if (a->kind == ADDR_FD)
		return cmd_usage_error(r->ce, "--listen '%s': fd: is not an "
		    "address to listen on (use tcp: or unix:)", arg);
	if ((fd = addr_listen(a, 0600, err, sizeof err)) == -1) {
		cmd_warnx(r->ce, "--listen '%s': %s", arg, err);
		return EXIT_FAIL;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	r->lfd[r->nlisten] = fd;
	if (addr_name(a, fd, r->lname[r->nlisten], sizeof r->lname[0]) == -1)
		snprintf(r->lname[r->nlisten], sizeof r->lname[0], "%s", spec);
	r->nlisten++;
	/* LISTEN_FDNAMES: the names, or "unknown" as systemd has it. */
	k = strlen(names);
	snprintf(names + k, len - k, "%s%.*s", r->nlisten > 1 ? ":" : "",
	    nl > 0 ? (int)nl : 7, nl > 0 ? arg : "unknown");
	return 0;
}

/*
 * Is CMD Node? Its name says so, as for the handoff's default: "node",
 * "nodejs", or a script named *.js, *.mjs or *.cjs.
 */
static int
serve_is_node(char **argv)
{
	const char	*b = strrchr(argv[0], '/');
	size_t		 n;

	b = b != NULL ? b + 1 : argv[0];
	n = strlen(b);
	return strcmp(b, "node") == 0 || strcmp(b, "nodejs") == 0 ||
	    (n > 3 && strcmp(b + n - 3, ".js") == 0) ||
	    (n > 4 && (strcmp(b + n - 4, ".mjs") == 0 ||
	    strcmp(b + n - 4, ".cjs") == 0));
}

/*
 * A Node command without a script (node -e, node -p, node alone): its
 * listen() would never reach the primary and it would exit 0 at once
 * (NODE-CLUSTER.md T10). Other commands (sh -c, npm) may start Node.
 */
static const char *
serve_no_script(char **argv)
{
	const char	*b = strrchr(argv[0], '/');
	int		 i;

	b = b != NULL ? b + 1 : argv[0];
	if (strcmp(b, "node") != 0 && strcmp(b, "nodejs") != 0)
		return NULL;
	for (i = 1; argv[i] != NULL; i++) {
		if (strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "-p") == 0 ||
		    strncmp(argv[i], "--eval", 6) == 0 ||
		    strncmp(argv[i], "--print", 7) == 0 ||
		    strcmp(argv[i], "-") == 0)
			return argv[i];
		if (argv[i][0] != '-')
			return NULL;
	}
	return "no script";
}

/*
 * serve's options together: a handoff (cluster for a Node command,
 * systemd for others), addresses where the handoff needs them (cluster
 * binds what the workers ask for), and the node channel above the
 * sockets.
 */
int
serve_check(struct run *r, struct relay_conf *c, char **argv,
    unsigned nlisten, int set_fd)
{
	const char	*why;

	/* 0 is no --ready-fd: it takes 3 and up. */
	if (r->ready_fd == 0)
		r->ready_fd = -1;
	if (c->handoff == HANDOFF_NONE)
		c->handoff = serve_is_node(argv) ? HANDOFF_CLUSTER :
		    HANDOFF_SYSTEMD;
	if (nlisten == 0 && c->handoff != HANDOFF_CLUSTER)
		return cmd_usage_error(r->ce, "--listen: at least one address "
		    "to serve (tcp:HOST:PORT or unix:PATH)");
	if (c->handoff == HANDOFF_CLUSTER) {
		if (!c->node)
			return cmd_usage_error(r->ce, "--handoff cluster: the "
			    "workers ask for sockets on the node channel, not "
			    "with --channel stdio");
		if ((why = serve_no_script(argv)) != NULL)
			return cmd_usage_error(r->ce, "--handoff cluster: "
			    "'%s': a cluster worker is a script (node FILE); "
			    "with %s its listen() never reaches ipcrun",
			    argv[0], why);
	} else if (c->sched_rr != -1)
		return cmd_usage_error(r->ce, "--sched applies to --handoff "
		    "cluster only");
	if (c->sched_rr == -1)
		c->sched_rr = 1;
	if ((c->handoff == HANDOFF_SERVER || c->handoff == HANDOFF_SOCKET) &&
	    !c->node)
		return cmd_usage_error(r->ce, "--handoff %s: the handles "
		    "go on the node channel, not with --channel stdio",
		    c->handoff == HANDOFF_SERVER ? "server" : "socket");
	if (c->handoff_msg != NULL && c->handoff != HANDOFF_SERVER &&
	    c->handoff != HANDOFF_SOCKET)
		return cmd_usage_error(r->ce, "--message applies to --handoff "
		    "server or socket only");
	if (c->handoff == HANDOFF_SYSTEMD && c->node) {
		if (set_fd && c->chan_to < 3 + (int)nlisten)
			return cmd_usage_error(r->ce, "--channel-fd %d: the "
			    "sockets take 3 to %u", c->chan_to, 2 + nlisten);
		if (!set_fd)
			c->chan_to = 3 + (int)nlisten;
	}
	return 0;
}

/* An option of serve's own; 0, or the exit status of a usage error. */
int
serve_option(struct run *r, struct relay_conf *c, int ch, const char *arg,
    const char **listen_arg, unsigned *nlisten)
{
	json_t	*js;

	switch (ch) {
	case 'l':
		if (*nlisten == SERVE_MAXLISTEN)
			return cmd_usage_error(r->ce, "--listen: more than %d "
			    "addresses", SERVE_MAXLISTEN);
		listen_arg[(*nlisten)++] = arg;
		return 0;
	case O_HANDOFF:
		if (strcmp(arg, "server") == 0)
			c->handoff = HANDOFF_SERVER;
		else if (strcmp(arg, "systemd") == 0)
			c->handoff = HANDOFF_SYSTEMD;
		else if (strcmp(arg, "cluster") == 0)
			c->handoff = HANDOFF_CLUSTER;
		else if (strcmp(arg, "socket") == 0)
			c->handoff = HANDOFF_SOCKET;
		else
			return cmd_usage_error(r->ce, "--handoff '%s': must be "
			    "cluster, server, socket or systemd", arg);
		return 0;
	case O_SCHED:
		if (strcmp(arg, "rr") == 0)
			c->sched_rr = 1;
		else if (strcmp(arg, "shared") == 0)
			c->sched_rr = 0;
		else
			return cmd_usage_error(r->ce, "--sched '%s': must be rr "
			    "or shared", arg);
		return 0;
	case O_READY_FD:
		return sock_parse_ready_fd(r->ce, arg, &r->ready_fd);
	case O_MESSAGE:
		if (strlen(arg) > SERVE_MSG_MAX || (js = json_loads(arg,
		    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL)) == NULL)
			return cmd_usage_error(r->ce, "--message '%s': not one "
			    "JSON value of at most %d bytes", arg,
			    SERVE_MSG_MAX);
		json_decref(js);
		c->handoff_msg = arg;
		return 0;
	}
	return EXIT_FAIL;
}

/*
 * Every --listen bound, in order, and systemd's LISTEN_FDNAMES made from
 * their names. 0, or 125 after a report; what was bound stays in r for
 * the caller to close.
 */
int
serve_bind(struct run *r, struct relay_conf *c, const char **listen_arg,
    unsigned nlisten, struct addr *la)
{
	char		names[SERVE_MAXLISTEN * 64 + 16] = "";
	unsigned	i;
	int		rc;

	for (i = 0; i < nlisten; i++) {
		if ((rc = serve_listen(r, c, listen_arg[i], &la[i], names,
		    sizeof names)) != 0)
			return rc;
	}
	if (c->handoff == HANDOFF_SYSTEMD &&
	    asprintf(&r->fdnames, "LISTEN_FDNAMES=%s", names) == -1) {
		r->fdnames = NULL;
		cmd_warn(r->ce, "malloc");
		return EXIT_FAIL;
	}
	return 0;
}
