/* SPDX-License-Identifier: ISC */
/*
 * outq against a real pipe of one page that nobody reads: lines go whole
 * or are lost whole and counted, a line begun goes out to its end, the
 * writer never blocks, and the descriptor given keeps its flags. TAP.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outq.h"
#include "tap.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ	1031
#endif

static void
drain_into(int fd, char *got, size_t cap, size_t *len)
{
	ssize_t	n;

	while (*len < cap && (n = read(fd, got + *len, cap - *len)) > 0)
		*len += (size_t)n;
}

int
main(void)
{
	struct outq	 o;
	int		 p[2], fl, i, put = 0;
	char		 line[100], *got;
	size_t		 len = 0, cap = 1 << 20;
	uint64_t	 lines = 0;
	char		*s, *nl;

	signal(SIGPIPE, SIG_IGN);
	if (pipe(p) == -1 || (got = malloc(cap)) == NULL)
		return 1;
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	ok(outq_open(&o, p[1], 8192) == 0, "open on a pipe");
	ok(o.wfd != p[1], "a pipe gets a description of its own");
	fl = fcntl(p[1], F_GETFL);
	ok(!(fl & O_NONBLOCK), "the fd given stays blocking");

	/* 1,000 lines of 100 bytes into 4 KiB of pipe and 8 KiB of queue. */
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (i = 0; i < 1000; i++)
		if (outq_put(&o, line, sizeof line) == 0)
			put++;
	ok(put < 1000, "a stalled reader: not every line fits (%d did)", put);
	is_int((int64_t)o.lost, 1000 - put, "every line that did not fit is "
	    "counted");
	ok(outq_pending(&o), "the rest waits for the reader");
	ok(o.q.len <= 8192, "the queue stays within its bound");

	/* The reader comes back: every line taken goes out, whole. */
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (i = 0; i < 100 && outq_flush(&o) == 0; i++)
		drain_into(p[0], got, cap, &len);
	drain_into(p[0], got, cap, &len);
	is_int(outq_flush(&o), 1, "flushed once the reader reads");
	ok(!outq_pending(&o), "nothing pending");
	for (s = got; s < got + len; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(got + len - s))) == NULL ||
		    nl - s != (long)sizeof line - 1)
			break;
		lines++;
	}
	is_int((int64_t)len, (int64_t)put * (int64_t)sizeof line,
	    "the reader got every byte queued");
	is_int((int64_t)lines, put, "as whole lines");

	/* A line too long for the queue is lost, not cut. */
	{
		char	*big = malloc(9000);

		memset(big, 'y', 9000);
		big[8999] = '\n';
		is_int(outq_put(&o, big, 9000), -1, "a line over the bound");
		free(big);
	}
	is_int((int64_t)o.lost, 1000 - put + 1, "counted");

	/* What is dropped is counted by lines, a line begun as one. */
	{
		struct outq	 d;
		int		 q[2];
		char		 fill[4096];

		memset(fill, 'q', sizeof fill);
		if (pipe(q) == -1)
			return 1;
		(void)fcntl(q[1], F_SETPIPE_SZ, 4096);
		(void)outq_open(&d, q[1], 8192);
		(void)fcntl(d.wfd, F_SETFL, O_NONBLOCK);
		while (write(d.wfd, fill, sizeof fill) > 0)
			;
		(void)outq_put(&d, "a\nb\nc", 5);
		is_int((int64_t)outq_drop(&d), 3, "dropped: 3 lines, one begun");
		is_int((int64_t)d.lost, 3, "counted as lost");
		outq_close(&d);
		close(q[0]);
		close(q[1]);
	}

	/* A reader gone: the write fails, what was queued is lost. */
	close(p[0]);
	is_int(outq_put(&o, "z\n", 2), 0, "queued");
	ok(o.dead && o.err == EPIPE, "the failure is kept, with its errno");
	is_int(outq_put(&o, "z\n", 2), -1, "nothing more goes after it");
	outq_close(&o);
	close(p[1]);
	free(got);
	return done();
}
