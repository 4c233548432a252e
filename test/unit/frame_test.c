/* SPDX-License-Identifier: ISC */
/*
 * frame_node_internal: which good lines Node would take for its own
 * internal messages, where their "cmd" is, and the reason as check,
 * attach and child report it. Lines go through a real frame. TAP.
 */
#include "compat.h"

#include <stdlib.h>

#include "frame.h"
#include "jscan.h"
#include "tap.h"

/* Frame one line and ask; -2 when the line was not a good one. */
static ssize_t
internal(const char *line, int want_key, char *why, size_t len)
{
	struct frame		 f;
	struct frame_line	 l;
	size_t			 room, n = strlen(line);
	char			*p;
	ssize_t			 off = -2;
	int			 key;

	if (frame_init(&f, 1024, 1) == -1)
		abort();
	key = want_key ? jscan_want(&f.js, "cmd", 3) : -1;
	if ((p = frame_space(&f, &room)) == NULL || room < n)
		abort();
	memcpy(p, line, n);
	frame_filled(&f, n);
	if (frame_next(&f, &l) == FRAME_GOOD)
		off = frame_node_internal(&f, key, &l, why, len);
	frame_release(&f);
	return off;
}

static void
is_internal(const char *line, ssize_t want_off, const char *want_why)
{
	char	why[256] = "(untouched)", what[128];
	ssize_t	off = internal(line, 1, why, sizeof why);

	snprintf(what, sizeof what, "%.*s", (int)strlen(line) - 1, line);
	if (!is_int(off, want_off, what))
		return;
	if (want_why != NULL)
		is_str(why, want_why, "  with its reason");
}

int
main(void)
{
	char	why[256];

	is_internal("{\"cmd\":\"NODE_HANDLE\"}\n", 7,
	    "internal Node message (cmd \"NODE_HANDLE\")");
	is_internal("{\"a\":[1],\"cmd\":\"NODE_X\"}\n", 15,
	    "internal Node message (cmd \"NODE_X\")");
	is_internal("{\"cmd\":\"\\u004eODE_Y\"}\n", 7,
	    "internal Node message (cmd \"NODE_Y\")");
	is_internal("{\"cmd\":\"NODE_\"}\n", -1, NULL);
	is_internal("{\"cmd\":\"node_x\"}\n", -1, NULL);
	is_internal("{\"cmd\":1}\n", -1, NULL);
	is_internal("{\"c\":{\"cmd\":\"NODE_X\"}}\n", -1, NULL);
	is_internal("[\"cmd\",\"NODE_X\"]\n", -1, NULL);
	is_internal("{\"cmd\":\"NODE_\\n\\u202e\"}\n", 7,
	    "internal Node message (cmd \"NODE_\\x0a\\u202E\")");
	ok(internal("{\"cmd\":\"NODE_X\"}\n", 0, why, sizeof why) == -1,
	    "no key asked for: never internal");
	return done();
}
