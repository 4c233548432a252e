/* SPDX-License-Identifier: ISC */
/*
 * spawn_pipe_unread: what is left in a child's stdin pipe, copied without
 * being read (from the write end, with the read end still open or
 * closed, from a reader kept by spawn_pipe_reader), and nothing from an
 * empty pipe. TAP.
 */
#include "compat.h"

#include <sys/ioctl.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"

static int
inq(int fd)
{
	int	n = -1;

	(void)ioctl(fd, FIONREAD, &n);
	return n;
}

int
main(void)
{
	char	 got[8], *p;
	size_t	 n, all;
	int	 fd[2], keep;

	if (pipe2(fd, O_CLOEXEC) == -1 || write(fd[1], "a\nb\nc\n", 6) != 6 ||
	    read(fd[0], got, 2) != 2)
		abort();
	p = spawn_pipe_unread(fd[1], &n, &all);
	ok(p != NULL && n == 4 && all == 4 && memcmp(p, "b\nc\n", 4) == 0,
	    "the unread bytes, from the write end");
	free(p);
	ok(inq(fd[1]) == 4 && read(fd[0], got, 2) == 2 &&
	    memcmp(got, "b\n", 2) == 0, "left in the pipe, in order");
	close(fd[0]);
	p = spawn_pipe_unread(fd[1], &n, &all);
	ok(p != NULL && n == 2 && memcmp(p, "c\n", 2) == 0,
	    "with the read end closed (the child gone)");
	free(p);
	keep = spawn_pipe_reader(fd[1]);
	close(fd[1]);
	p = spawn_pipe_unread(keep, &n, &all);
	ok(keep != -1 && p != NULL && n == 2 && memcmp(p, "c\n", 2) == 0,
	    "through a reader kept after the write end closed");
	free(p);
	if (read(keep, got, 2) != 2)
		abort();
	p = spawn_pipe_unread(keep, &n, &all);
	ok(p == NULL && n == 0 && all == 0, "nothing from an empty pipe");
	close(keep);
	return done();
}
