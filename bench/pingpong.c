/* SPDX-License-Identifier: ISC */
/*
 * pingpong: round-trip latency through a command that echoes lines. CMD
 * gets one end of a socketpair as stdin and stdout; one 100-byte line at a
 * time goes out and must come back before the next. Prints one JSON line
 * with the median, p99 and mean round trip in microseconds.
 *
 *   pingpong COUNT SIZE -- CMD [ARGS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	long	 count, i, warm;
	size_t	 size;
	double	*rtt, sum = 0;
	char	*msg, buf[65536];
	int	 sv[2], status;
	pid_t	 pid;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: pingpong COUNT SIZE -- CMD [ARGS]\n");
		return 2;
	}
	count = atol(argv[1]);
	size = (size_t)atol(argv[2]);
	warm = count / 10 + 100;
	if (size < 16 || size > sizeof buf)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	msg = malloc(size);
	rtt = calloc((size_t)count, sizeof *rtt);
	memset(msg, 'x', size);
	memcpy(msg, "{\"p\":\"", 6);
	memcpy(msg + size - 3, "\"}\n", 3);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return 2;
	if ((pid = fork()) == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(sv[1]);
	for (i = -warm; i < count; i++) {
		double	t0 = now_us();
		size_t	got = 0;

		if (write(sv[0], msg, size) != (ssize_t)size)
			return 1;
		while (got < size) {
			ssize_t r = read(sv[0], buf, sizeof buf);

			if (r <= 0)
				return 1;
			got += (size_t)r;
		}
		if (i >= 0) {
			rtt[i] = now_us() - t0;
			sum += rtt[i];
		}
	}
	shutdown(sv[0], SHUT_WR);
	while (read(sv[0], buf, sizeof buf) > 0)
		;
	waitpid(pid, &status, 0);
	qsort(rtt, (size_t)count, sizeof *rtt, cmpd);
	printf("{\"round_trips\":%ld,\"size\":%zu,\"rtt_median_us\":%.2f,"
	    "\"rtt_p99_us\":%.2f,\"rtt_mean_us\":%.2f}\n", count, size,
	    rtt[count / 2], rtt[count * 99 / 100], sum / count);
	return 0;
}
