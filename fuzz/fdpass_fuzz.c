/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the send-fd header parser (lib/fdpass.c,
 * fdpass_header_parse). An accepted header has a count from 0 to 253 and
 * either no names or one string per descriptor; formatting it again and
 * parsing that gives the same header. A refused one has a reason. Nothing
 * may crash, over-read or leak.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=N]. See fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdpass.h"

static void
fail(const char *what)
{
	fprintf(stderr, "fdpass_fuzz: %s\n", what);
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdpass_header	 h, g;
	const char		*cause = NULL;
	char			*line, *in;
	size_t			 i, n;

	if ((in = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	if (fdpass_header_parse(&h, in, size, &cause) == -1) {
		if (cause == NULL || *cause == '\0')
			fail("refused without a reason");
		if (h.names != NULL || h.nfds != 0)
			fail("refused header not released");
		free(in);
		return 0;
	}
	if (h.nfds > FDPASS_MAX)
		fail("count above FDPASS_MAX");
	if ((line = fdpass_header_format(h.nfds, h.names)) == NULL)
		goto out;	/* names that are not UTF-8 cannot occur */
	n = strlen(line);
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
		fail("formatted header is not one line");
	if (fdpass_header_parse(&g, line, n, &cause) == -1)
		fail("formatted header refused");
	if (g.nfds != h.nfds || (g.names == NULL) != (h.names == NULL))
		fail("formatted header parses differently");
	for (i = 0; h.names != NULL && i < h.nfds; i++) {
		if (strcmp(g.names[i], h.names[i]) != 0)
			fail("a name changed");
	}
	fdpass_header_release(&g);
	free(line);
out:
	fdpass_header_release(&h);
	free(in);
	return 0;
}
