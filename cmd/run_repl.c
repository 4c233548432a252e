/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run at a terminal: the REPL. It is ctl's (ctl_repl.c), in a
 * process of its own that holds the terminal, while the relay runs as
 * always with a pipe for its stdin (the values typed, one line each), a
 * pipe for its stdout (what the REPL shows) and one end of a socket pair
 * as a control client of its own (the dot-commands; with --no-control
 * too). The relay never reads the terminal, and the REPL never touches
 * a child: what run does with lines, it does with typed ones.
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "color.h"
#include "ctlc.h"
#include "relay.h"

/* Both ends are terminals, one that edits (DESIGN.md: not dumb). */
static int
run_repl_wanted(const struct run *r)
{
	const char	*term = getenv("TERM");

	return r->cf->repl && !r->cf->serve && run_from_stdin(r) &&
	    r->to.kind == END_STDIO && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO) && term != NULL && *term != '\0' &&
	    strcmp(term, "dumb") != 0;
}

/* The REPL's process: it ends with the REPL, never returns. */
static void
run_repl_child(struct run *r, pid_t parent, int in, int out, int sock)
{
	struct ctlc	 c;
	const char	*word;

	(void)prctl(PR_SET_PDEATHSIG, SIGHUP);
	if (getppid() != parent)
		_exit(0);
	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof c);
	word = r->nw == 1 ? r->w[0].name : r->cf->ctl_name != NULL ?
	    r->cf->ctl_name : "run";
	c.ce = r->ce;
	c.target = word;
	c.fd = sock;
	c.wait_ms = CTL_WAIT;
	if (fcntl(sock, F_SETFL, O_NONBLOCK) == -1 ||
	    buf_init(&c.in, 65536) == -1)
		_exit(EXIT_FAIL);
	_exit(repl_run(&c, color_on(r->cf->color, STDOUT_FILENO), word,
	    r->cf->wrap, in, out));
}

/*
 * Before anything else of the run: the REPL's process, and the pipes in
 * place of the terminal on the relay's stdin and stdout. Returns 0 (a
 * REPL, or none wanted), or -1.
 */
int
run_repl_start(struct run *r)
{
	int	in[2] = { -1, -1 }, out[2] = { -1, -1 }, sp[2] = { -1, -1 };
	pid_t	pid, self = getpid();

	r->repl_pid = -1;
	r->repl_fd = -1;
	if (!run_repl_wanted(r))
		return 0;
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    sp) == -1)
		goto fail;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		close(in[0]);
		close(out[1]);
		close(sp[0]);
		run_repl_child(r, self, in[1], out[0], sp[1]);
	}
	if (dup2(in[0], STDIN_FILENO) == -1 ||
	    dup2(out[1], STDOUT_FILENO) == -1) {
		cmd_warn(r->ce, "dup2");
		(void)kill(pid, SIGHUP);
		(void)waitpid(pid, NULL, 0);
		goto fail_quiet;
	}
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
	close(sp[1]);
	r->repl_pid = pid;
	r->repl_fd = sp[0];
	return 0;
fail:
	cmd_warn(r->ce, "the REPL");
fail_quiet:
	if (in[0] != -1) {
		close(in[0]);
		close(in[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	if (sp[0] != -1) {
		close(sp[0]);
		close(sp[1]);
	}
	return -1;
}

/*
 * The run is over: its stdout closes, so that the REPL shows the rest and
 * leaves (it is draining after Ctrl-D); if the run ended while a value
 * was being typed, the REPL is told to leave (SIGHUP: the terminal back
 * as it was). The REPL is waited for, so that the shell gets the
 * terminal back only after it.
 */
void
run_repl_end(struct run *r)
{
	int	fd, status;

	if (r->repl_pid <= 0)
		return;
	if (r->out_fd != STDOUT_FILENO && r->out_fd != -1)
		close(r->out_fd);
	r->out_fd = -1;
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
		(void)dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if (!r->in_eof)
		(void)kill(r->repl_pid, SIGHUP);
	while (waitpid(r->repl_pid, &status, 0) == -1 && errno == EINTR)
		;
	r->repl_pid = -1;
}
