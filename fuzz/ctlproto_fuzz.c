/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the control socket's request parser
 * (lib/ctlproto.c): each input is one request line. A refusal must come
 * with a reason, and its error answer must be one line of valid JSON; an
 * accepted request must name a known command, its args be an array, and
 * its answer (the request echoed as the result) one line of valid JSON.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=N]. See fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctlproto.h"

static void
fail(const char *what, const uint8_t *in, size_t len)
{
	size_t	i;

	fprintf(stderr, "ctlproto_fuzz: %s for input:", what);
	for (i = 0; i < len; i++)
		fprintf(stderr, " %02x", in[i]);
	fputc('\n', stderr);
	__builtin_trap();
}

/* One line, a newline at its end only, and valid JSON. */
static void
check_line(const char *s, size_t n, const uint8_t *in, size_t len)
{
	json_t		*v;
	json_error_t	 je;

	if (s == NULL || n == 0 || s[n - 1] != '\n' ||
	    memchr(s, '\n', n - 1) != NULL)
		fail("an answer is not one line", in, len);
	if ((v = json_loadb(s, n - 1, 0, &je)) == NULL)
		fail("an answer is not JSON", in, len);
	if (!json_is_boolean(json_object_get(v, "ok")))
		fail("an answer has no ok", in, len);
	json_decref(v);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlproto_req	 q;
	char			 err[256], *rep;
	size_t			 n = 0;

	err[0] = '\0';
	if (ctlproto_parse((const char *)data, size, &q, err,
	    sizeof err) == -1) {
		if (err[0] == '\0')
			fail("a refusal without a reason", data, size);
		rep = ctlproto_err(&q, &n, "%s", err);
		check_line(rep, n, data, size);
		free(rep);
		ctlproto_free(&q);
		return 0;
	}
	if (strcmp(ctlproto_cmd_name(q.cmd), q.name) != 0)
		fail("an accepted command that is not its own name", data,
		    size);
	if (!json_is_array(q.args) || json_array_size(q.args) != q.nargs)
		fail("args not an array of nargs", data, size);
	(void)ctlproto_str(&q, 0);
	rep = ctlproto_ok(&q, json_deep_copy(q.root), &n);
	check_line(rep, n, data, size);
	free(rep);
	ctlproto_free(&q);
	return 0;
}
