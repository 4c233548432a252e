/* SPDX-License-Identifier: ISC */
/*
 * cparent: the reference for the Node-channel relay benchmarks. A plain C
 * parent that execs CMD with one end of a socketpair at fd 3
 * (NODE_CHANNEL_FD=3, json), copies stdin to it in large writes and the
 * child's replies to stdout, with one poll loop and no validation: what a
 * relay costs when it does nothing but move bytes.
 *
 *   cparent echo|oneway -- CMD [ARGS]
 *
 * echo: after stdin's EOF, wait until as many lines came back as went out,
 * then close the channel. oneway: close the channel at stdin's EOF (the
 * child has nothing to send, so nothing is lost) and wait for the child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFSZ	(256 * 1024)

static void
die(const char *what)
{
	perror(what);
	exit(125);
}

int
main(int argc, char **argv)
{
	static char	 in[BUFSZ], out[BUFSZ];
	size_t		 inlen = 0, inoff = 0;
	long		 sent = 0, got = 0;
	int		 sv[2], echo, eof = 0, chan_open = 1, status;
	pid_t		 pid;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: cparent echo|oneway -- CMD [ARGS]\n");
		return 125;
	}
	echo = strcmp(argv[1], "echo") == 0;
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		dup2(sv[1], 3);
		setenv("NODE_CHANNEL_FD", "3", 1);
		setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);

	while (chan_open) {
		struct pollfd	pfd[2];
		int		n = 0;

		pfd[0].fd = sv[0];
		pfd[0].events = POLLIN | (inlen > inoff ? POLLOUT : 0);
		pfd[1].fd = 0;
		pfd[1].events = POLLIN;
		n = (!eof && inlen == inoff) ? 2 : 1;
		if (poll(pfd, (nfds_t)n, -1) == -1 && errno != EINTR)
			die("poll");
		if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP))) {
			ssize_t r = read(0, in, sizeof in);

			if (r > 0) {
				/* Send whole lines only; keep a partial tail. */
				inlen = (size_t)r;
				inoff = 0;
				for (ssize_t i = 0; i < r; i++)
					sent += in[i] == '\n';
			} else if (r == 0)
				eof = 1;
		}
		if (inlen > inoff) {
			ssize_t w = write(sv[0], in + inoff, inlen - inoff);

			if (w > 0)
				inoff += (size_t)w;
			if (inoff == inlen)
				inlen = inoff = 0;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(sv[0], out, sizeof out);

			if (r == 0)
				break;
			if (r > 0) {
				for (ssize_t i = 0; i < r; i++)
					got += out[i] == '\n';
				for (ssize_t o = 0; o < r;) {
					ssize_t w = write(1, out + o, (size_t)(r - o));
					if (w <= 0)
						die("write");
					o += w;
				}
			}
		}
		if (eof && inlen == inoff && (!echo || got >= sent)) {
			close(sv[0]);
			chan_open = 0;
		}
	}
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
