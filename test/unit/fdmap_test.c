/* SPDX-License-Identifier: ISC */
/*
 * fdmap_place: a descriptor map for exec that never clobbers a source
 * still to be placed. Each case runs in a child, as spawn does between
 * fork and exec, and reads back which pipe each target number holds.
 */
#include "compat.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdmap.h"
#include "tap.h"

#define NPIPE	3

/*
 * In a child: place src -> dst, then write one byte per target (the
 * target's number) into it; the parent reads which pipe got which. The
 * child exits 0 when every target is open without CLOEXEC.
 */
static int
place(int *src, const int *dst, size_t n)
{
	pid_t	pid;
	size_t	i;
	int	st, fl;
	char	c;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (fdmap_place(src, dst, n) == -1)
			_exit(2);
		for (i = 0; i < n; i++) {
			if ((fl = fcntl(dst[i], F_GETFD)) == -1 ||
			    (fl & FD_CLOEXEC))
				_exit(3);
			c = (char)('0' + dst[i]);
			if (write(dst[i], &c, 1) != 1)
				_exit(4);
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* What pipe k received: the target numbers written to it, in order. */
static void
got(int rd, char *buf, size_t len)
{
	ssize_t	n;

	n = read(rd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

int
main(void)
{
	int	p[NPIPE][2], src[4], dst[4], rc, i, base;
	char	b[NPIPE][16];

	/* Work at numbers where a swap can really clobber: 10, 11, 12. */
	base = 10;
	for (i = 0; i < NPIPE; i++) {
		if (pipe2(p[i], O_NONBLOCK | O_CLOEXEC) == -1 ||
		    dup2(p[i][1], base + i) == -1)
			return 1;
		close(p[i][1]);
		p[i][1] = base + i;
	}

	/* Swap: 10 <- 11, 11 <- 10. */
	src[0] = 11; dst[0] = 10;
	src[1] = 10; dst[1] = 11;
	rc = place(src, dst, 2);
	is_int(rc, 0, "a swapped map places both");
	got(p[0][0], b[0], sizeof b[0]);
	got(p[1][0], b[1], sizeof b[1]);
	is_str(b[1], ":", "target 10 holds what 11 was");
	is_str(b[0], ";", "target 11 holds what 10 was");

	/* One source to two targets, one of them itself: 11 <- 10, 10 <- 10. */
	src[0] = 10; dst[0] = 11;
	src[1] = 10; dst[1] = 10;
	rc = place(src, dst, 2);
	is_int(rc, 0, "one source placed at two targets, one its own number");
	got(p[0][0], b[0], sizeof b[0]);
	is_str(b[0], ";:", "both targets hold the source");

	/* A rotation of three: 10 <- 12, 11 <- 10, 12 <- 11. */
	src[0] = 12; dst[0] = 10;
	src[1] = 10; dst[1] = 11;
	src[2] = 11; dst[2] = 12;
	rc = place(src, dst, 3);
	is_int(rc, 0, "a rotation of three");
	for (i = 0; i < NPIPE; i++)
		got(p[i][0], b[i], sizeof b[i]);
	is_str(b[2], ":", "10 holds what 12 was");
	is_str(b[0], ";", "11 holds what 10 was");
	is_str(b[1], "<", "12 holds what 11 was");

	/* Sources that stay where they are lose CLOEXEC all the same. */
	if (fcntl(10, F_SETFD, FD_CLOEXEC) == -1)
		return 1;
	src[0] = 10; dst[0] = 10;
	rc = place(src, dst, 1);
	is_int(rc, 0, "a source already at its target survives exec");
	got(p[0][0], b[0], sizeof b[0]);
	is_str(b[0], ":", "and is the same pipe");

	/* A closed source is an error, not a silent gap. */
	src[0] = 40; dst[0] = 10;
	rc = place(src, dst, 1);
	is_int(rc, 2, "a closed source fails");
	src[0] = -1; dst[0] = 10;
	rc = place(src, dst, 1);
	is_int(rc, 2, "a negative source fails");
	return done();
}
