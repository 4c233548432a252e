/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: what a child is given when it starts. Its environment (the
 * preload's NODE_OPTIONS, serve's LISTEN_* and cluster variables), the
 * names it is known by, and serve's sockets handed on its channel.
 * run_child.c's spawn calls these.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "cluster.h"
#include "nodechan.h"
#include "spawn.h"
#include "words.h"
#include "relay.h"

/*
 * Keep "NODE_OPTIONS=<ipcrun's part>" of the child's environment: a Node
 * process whose environment starts so was started with the preload. The
 * user's own options, if any, follow ipcrun's after a space.
 */
void
run_keep_pre_entry(struct run *r, struct worker *w, char **env)
{
	const char	*user = getenv("NODE_OPTIONS");
	size_t		 n, u;

	if (!w->preloaded || env == NULL)
		return;
	for (; *env != NULL; env++) {
		if (strncmp(*env, "NODE_OPTIONS=", 13) != 0)
			continue;
		if ((w->pre_entry = strdup(*env)) == NULL)
			return;
		n = strlen(w->pre_entry);
		u = user != NULL && *user != '\0' ? strlen(user) + 1 : 0;
		if (u > 0 && n >= 13 + u &&
		    strcmp(w->pre_entry + n - u + 1, user) == 0)
			w->pre_entry[n - u] = '\0';
		return;
	}
}

/* The child's name as JSON, and the {"from":...} of its lines. */
int
run_worker_names(struct run *r, struct worker *w)
{
	size_t	n;

	free(w->qname);
	free(w->prefix);
	w->prefix = NULL;
	n = envelope_quote(NULL, 0, w->name);
	if ((w->qname = malloc(n + 1)) == NULL)
		return -1;
	envelope_quote(w->qname, n, w->name);
	w->qname[n] = '\0';
	if (!r->cf->wrap)
		return 0;
	w->prefixlen = envelope_prefix(NULL, 0, w->name, w->pid);
	if ((w->prefix = malloc(w->prefixlen)) == NULL)
		return -1;
	envelope_prefix(w->prefix, w->prefixlen, w->name, w->pid);
	return 0;
}

/*
 * --handoff systemd: the environment with LISTEN_FDS, LISTEN_FDNAMES and
 * a LISTEN_PID the child fills in with its own pid (sd_listen_fds(3)
 * checks it), and any the caller inherited left out; the sockets go at
 * 3 and up (so->extra). A new array of env's own entries and three of
 * its own, or NULL.
 */
char **
run_listen_env(struct run *r, char **env, struct spawn_opts *so)
{
	static const char *const drop[] = { "LISTEN_FDS=", "LISTEN_PID=",
	    "LISTEN_FDNAMES=", NULL };
	char		**e;
	size_t		 n, k = 0, i, d;

	for (n = 0; env[n] != NULL; n++)
		;
	if ((e = calloc(n + 4, sizeof *e)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		for (d = 0; drop[d] != NULL; d++)
			if (strncmp(env[i], drop[d], strlen(drop[d])) == 0)
				break;
		if (drop[d] == NULL)
			e[k++] = env[i];
	}
	if (asprintf(&e[k], "LISTEN_FDS=%u", r->nlisten) == -1) {
		free(e);
		return NULL;
	}
	if ((e[++k] = calloc(1, sizeof "LISTEN_PID=" + SPAWN_PID_ROOM)) ==
	    NULL) {
		free(e[k - 1]);
		free(e);
		return NULL;
	}
	memcpy(e[k], "LISTEN_PID=", sizeof "LISTEN_PID=" - 1);
	so->pid_slot = e[k++];
	if (r->fdnames != NULL)
		e[k++] = r->fdnames;
	e[k] = NULL;
	so->extra = r->lfd;
	so->nextra = (int)r->nlisten;
	return e;
}

/*
 * --handoff cluster: a cluster worker has NODE_UNIQUE_ID, a new one at
 * each start as Node's primary gives them (never empty: T10), and any
 * the caller inherited left out. A new array of env's entries and one of
 * its own, or NULL.
 */
char **
run_cluster_env(struct run *r, struct worker *w, char **env)
{
	char	**e;
	size_t	 n, k = 0, i;

	for (n = 0; env[n] != NULL; n++)
		;
	if ((e = calloc(n + 2, sizeof *e)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(env[i], "NODE_UNIQUE_ID=", 15) != 0)
			e[k++] = env[i];
	if (asprintf(&e[k], "NODE_UNIQUE_ID=%u",
	    cluster_spawned(&r->cl, w->idx)) == -1) {
		free(e);
		return NULL;
	}
	e[k + 1] = NULL;
	return e;
}

/* Free what run_listen_env made: not env's entries, nor keep. */
void
run_listen_env_free(char **e, char **env, const char *keep)
{
	size_t	i, j;

	for (i = 0; e[i] != NULL; i++) {
		for (j = 0; env[j] != NULL && env[j] != e[i]; j++)
			;
		if (env[j] == NULL && e[i] != keep)
			free(e[i]);
	}
	free(e);
}

/*
 * --handoff server: each listening socket goes to the child as Node's
 * net.Server handle, with --message (or "server") as the message, the
 * source's child.send('server', server). A copy of ipcrun's socket goes,
 * so that a child started again gets it too; the chan holds the lines
 * after it until the child's ACK.
 */
int
run_hand_servers(struct run *r, struct worker *w)
{
	char		 frame[SERVE_MSG_MAX + 128];
	const char	*msg = r->cf->handoff_msg != NULL ? r->cf->handoff_msg :
			    "\"server\"";
	unsigned	 i;
	int		 n, fd;

	for (i = 0; i < r->nlisten; i++) {
		n = nodechan_handle_frame(frame, sizeof frame, "net.Server",
		    msg, strlen(msg));
		if (n == -1 || (fd = fcntl(r->lfd[i], F_DUPFD_CLOEXEC, 3)) ==
		    -1 || chan_send_fd(&w->ch, frame, (size_t)n, fd) == -1) {
			cmd_warn(r->ce, "handing the server to '%s'", w->name);
			return -1;
		}
		run_trace(r, "-> child %d bytes internal cmd \"NODE_HANDLE\" "
		    "with a listening socket", n);
	}
	return 0;
}
