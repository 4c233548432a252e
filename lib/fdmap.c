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

#include "ipcrun.h"

/*
 * Make dst[i] a copy of src[i], for i < n, with CLOEXEC cleared on each
 * target so that it survives exec. Every source is first lifted above the
 * highest target (a CLOEXEC copy replaces it in src, the original is
 * closed), so no dup2 can land on a source. The targets must be distinct.
 * On return src[] holds the lifted copies, still owned by the caller and
 * closed at exec. Returns 0, or -1 with errno (some targets may be placed).
 */
int
fdmap_place(int *src, const int *dst, size_t n)
{
	size_t	i;
	int	top = 0, fd;

	for (i = 0; i < n; i++) {
		if (dst[i] < 0) {
			errno = EBADF;
			return -1;
		}
		if (dst[i] > top)
			top = dst[i];
	}
	for (i = 0; i < n; i++) {
		if (src[i] > top)
			continue;
		if ((fd = fcntl(src[i], F_DUPFD_CLOEXEC, top + 1)) == -1)
			return -1;
		close(src[i]);
		src[i] = fd;
	}
	/* dup2 clears CLOEXEC on the new number. */
	for (i = 0; i < n; i++) {
		if (dup2(src[i], dst[i]) == -1)
			return -1;
	}
	return 0;
}
