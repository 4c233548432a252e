/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the address parser (lib/addr.c, addr_parse). Every
 * input either parses into an address that is well formed (a kind, a
 * path that fits sun_path, a host and a port from 0 to 65535, an fd), and
 * that parses back the same from its canonical spelling; or it is refused
 * with a reason. Nothing may crash, over-read or leave err empty.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=N]. See fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

static void
fail(const char *what, const char *in)
{
	fprintf(stderr, "addr_fuzz: %s for input '%s'\n", what, in);
	__builtin_trap();
}

/* The canonical spelling of a parsed address. */
static void
spell(const struct addr *a, char *buf, size_t len)
{
	switch (a->kind) {
	case ADDR_UNIX:
		snprintf(buf, len, "unix:%s%s", a->abstract ? "@" : "",
		    a->path);
		break;
	case ADDR_TCP:
		if (strchr(a->host, ':') != NULL)
			snprintf(buf, len, "tcp:[%s]:%d", a->host, a->port);
		else
			snprintf(buf, len, "tcp:%s:%d", a->host, a->port);
		break;
	case ADDR_FD:
		snprintf(buf, len, "fd:%d", a->fd);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr	 a, b;
	char		*in, err[256], again[512];
	size_t		 n;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	err[0] = '\0';
	if (addr_parse(&a, in, err, sizeof err) == -1) {
		if (err[0] == '\0')
			fail("refused without a reason", in);
		free(in);
		return 0;
	}
	switch (a.kind) {
	case ADDR_UNIX:
		n = strlen(a.path);
		if (n == 0 || n + (size_t)a.abstract >=
		    sizeof(((struct sockaddr_un *)0)->sun_path))
			fail("bad unix path length", in);
		break;
	case ADDR_TCP:
		if (a.host[0] == '\0' || a.port < 0 || a.port > 65535)
			fail("bad host or port", in);
		break;
	case ADDR_FD:
		if (a.fd < 0)
			fail("negative fd", in);
		break;
	default:
		fail("unknown kind", in);
	}
	spell(&a, again, sizeof again);
	if (addr_parse(&b, again, err, sizeof err) == -1)
		fail("canonical spelling refused", in);
	if (b.kind != a.kind || b.abstract != a.abstract || b.fd != a.fd ||
	    b.port != a.port || strcmp(b.path, a.path) != 0 ||
	    strcmp(b.host, a.host) != 0)
		fail("canonical spelling parses differently", in);
	free(in);
	return 0;
}
