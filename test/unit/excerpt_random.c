/* SPDX-License-Identifier: ISC */
/*
 * excerpt_json and excerpt_line on random lines (ASCII, control bytes,
 * valid and broken UTF-8, wide characters) at random columns and widths.
 * excerpt_line's text must hold no control byte and only valid UTF-8,
 * and its caret must fit the width; each excerpt_json string is printed
 * on a line of its own for jq to judge. Exits 1 with a reason on a fault.
 * Not TAP, so it is run by check.bats and not unit.bats (as ev_storm is
 * by hardening.bats).
 */
#include "compat.h"

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "excerpt.h"

static const char *const pieces[] = {
	"a", "{", "\"", "\\", " ", "\t", "\r", "\033", "\177", "\x01",
	"\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xcc\x81",
	"\xc2\x85", "\xe2\x80\xa8", "\xc0", "\xff", "\x80", "\xe2\x82",
	"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf0\x9f"
};

/* 1 if p holds only valid UTF-8 and no byte below 0x20 or 0x7f. */
static int
clean(const unsigned char *p)
{
	size_t	k, i;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		k = *p < 0x80 ? 1 : *p >= 0xc2 && *p < 0xe0 ? 2 :
		    *p >= 0xe0 && *p < 0xf0 ? 3 : *p >= 0xf0 && *p < 0xf5 ?
		    4 : 0;
		if (k == 0)
			return 0;
		for (i = 1; i < k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		}
		p += k;
	}
	return 1;
}

int
main(void)
{
	static char	line[8192], out[8192], js[6 * 8192 + 3];
	size_t		n, off, width, col, i;
	int		round;

	setlocale(LC_CTYPE, "C.UTF-8");
	srandom(18);
	for (round = 0; round < 20000; round++) {
		n = 0;
		for (i = (size_t)random() % 700; i > 0; i--) {
			const char *pc = pieces[(size_t)random() %
			    (sizeof pieces / sizeof pieces[0])];

			if (n + strlen(pc) >= sizeof line)
				break;
			memcpy(line + n, pc, strlen(pc));
			n += strlen(pc);
		}
		off = n > 0 ? (size_t)random() % (n + 1) : 0;
		width = 10 + (size_t)random() % 300;
		col = excerpt_line(line, n, (int)(random() % 2), off, width,
		    out, sizeof out);
		if (!clean((const unsigned char *)out)) {
			printf("round %d: unclean excerpt\n", round);
			return 1;
		}
		if (col > (width < 20 ? 20 : width > 256 ? 256 : width)) {
			printf("round %d: caret %zu past width %zu\n", round,
			    col, width);
			return 1;
		}
		excerpt_json(line, n, (size_t)random() % (n + 2), js,
		    (size_t)random() % 2 ? sizeof js : 40);
		printf("%s\n", js);
	}
	return 0;
}
