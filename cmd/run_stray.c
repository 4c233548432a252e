/* SPDX-License-Identifier: ISC */
/*
 * A stdio child's stray line on its stdout, such as "starting up": the
 * most common first mistake with a non-Node child. Its report shows the
 * line and a caret under the column, as check's excerpts do, and the
 * first one of the run says what to do about it, as ipcrun-run(1) does.
 * Calls run_report.c only.
 */
#include "compat.h"

#include <sys/ioctl.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "excerpt.h"
#include "frame.h"
#include "relay.h"

/*
 * Frame N of worker w was not one good line: off is the byte at fault,
 * why the reason. Counted by the caller.
 */
void
run_bad_frame(struct run *r, struct worker *w, const struct frame_line *l,
    size_t off, const char *why)
{
	struct winsize	 ws;
	char		 num[24], text[4096], line[4200];
	size_t		 col, gw, width, cols = 80;
	int		 n;

	cmd_warnx(r->ce, "'%s' frame %" PRIu64 ":%zu: %s (not forwarded)",
	    w->name, w->out_frames, off + 1, why);
	if (r->cf->quiet || w->node)
		return;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		cols = ws.ws_col;
	snprintf(num, sizeof num, "%" PRIu64, w->out_frames);
	gw = strlen(num) + 1 < 5 ? 5 : strlen(num) + 1;
	width = cols > gw + 4 ? cols - gw - 4 : 0;
	col = excerpt_line(l->p, l->len - (size_t)l->nl, l->more, off, width,
	    text, sizeof text);
	n = snprintf(line, sizeof line, "%*s | %s\n%*s | %*s^\n", (int)gw,
	    num, text, (int)gw, "", (int)col, "");
	if (n > 0)
		run_put_err(r, line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
	if (!r->stray_hinted) {
		r->stray_hinted = 1;
		cmd_warnx(r->ce, "hint: on the stdio channel each line '%s' "
		    "prints on its stdout is a message: print logs to "
		    "standard error", w->name);
	}
}
