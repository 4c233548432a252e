/* SPDX-License-Identifier: ISC */
/*
 * exitlat: how long after a Node child's 'exit' event does the command
 * that runs it exit? Runs CMD with stdin from FILE and stdout to
 * /dev/null, reaps it, and compares CLOCK_MONOTONIC at that moment with
 * the stamp bench/exit_probe.js left in $EXIT_STAMP. Prints one JSON line.
 *
 *   exitlat FILE -- CMD [ARGS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec	ts;
	char		path[] = "/tmp/exitlat.XXXXXX", buf[64];
	long long	child_ns, end_ns;
	int		fd, status;
	pid_t		pid;
	ssize_t		n;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: exitlat FILE -- CMD [ARGS]\n");
		return 2;
	}
	if ((fd = mkstemp(path)) == -1)
		return 2;
	close(fd);
	setenv("EXIT_STAMP", path, 1);
	if ((pid = fork()) == 0) {
		int in = open(argv[1], O_RDONLY), out = open("/dev/null", O_WRONLY);

		dup2(in, 0);
		dup2(out, 1);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end_ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	fd = open(path, O_RDONLY);
	n = fd == -1 ? -1 : read(fd, buf, sizeof buf - 1);
	unlink(path);
	if (n <= 0) {
		fprintf(stderr, "exitlat: the child left no stamp\n");
		return 1;
	}
	buf[n] = '\0';
	child_ns = atoll(buf);
	printf("{\"exit_status\":%d,\"after_child_exit_ms\":%.3f}\n",
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	    (end_ns - child_ns) / 1e6);
	return 0;
}
