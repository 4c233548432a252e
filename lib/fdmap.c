/* SPDX-License-Identifier: ISC */
/*
 * A general descriptor map for exec: put each source fd at its target
 * number without one placement clobbering a source still to be placed
 * (recv-fd --as 1,0 swaps two).
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fdmap.h"

/*
 * Make dst[i] a copy of src[i], for i < n, with CLOEXEC cleared on each
 * target so that it survives exec. Every source at or below the highest
 * target is first lifted above it (a CLOEXEC copy replaces it in src, and
 * the original is closed), so no dup2 can
 * land on a source still to be placed: a map may swap (1 <- 2, 2 <- 1),
 * and one source may go to several targets (1 <- 2, 2 <- 2). The targets
 * must be distinct. On return src[] holds the copies, still owned by the
 * caller and closed at exec. Only async-signal-safe calls: a child may
 * call it between fork and exec. Returns 0, or -1 with errno (some
 * targets may be placed).
 */
int
fdmap_place(int *src, const int *dst, size_t n)
{
	size_t	i, j;
	int	top = 0, fd, orig;

	for (i = 0; i < n; i++) {
		if (dst[i] < 0 || src[i] < 0) {
			errno = EBADF;
			return -1;
		}
		if (dst[i] > top)
			top = dst[i];
	}
	for (i = 0; i < n; i++) {
		if (src[i] > top)
			continue;
		orig = src[i];
		if ((fd = fcntl(orig, F_DUPFD_CLOEXEC, top + 1)) == -1)
			return -1;
		/* The same source again gets the same copy. */
		for (j = i; j < n; j++) {
			if (src[j] == orig)
				src[j] = fd;
		}
		/* No source names it any more. */
		(void)close(orig);
	}
	/* Every source is above every target now; dup2 clears CLOEXEC. */
	for (i = 0; i < n; i++) {
		if (dup2(src[i], dst[i]) == -1)
			return -1;
	}
	return 0;
}
