/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: round robin over several children by runs. A run of good
 * input lines is taken from stdin's frame in one call and dealt out a
 * line to each child in turn, exactly as run_pump_input would route the
 * lines one at a time, without a frame_next, a route and a room check
 * per line.
 */
#include "compat.h"

#include <stdint.h>
#include <string.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "frame.h"
#include "relay.h"

#define DEAL_MAX	1024	/* children; more go line by line */
#define DEAL_MIN	4096	/* least room worth a run */

/* Can lines be dealt at all: no line needs a look or a route of its own? */
static int
run_deals(const struct run *r)
{
	const struct relay_conf	*cf = r->cf;

	return r->nw > 1 && r->nw <= DEAL_MAX && cf->route == ROUTE_RR &&
	    !cf->envelope && r->incmd < 0 && !cf->trace && !cf->verbose &&
	    !cf->tasks && !cf->handles && r->ctl.ntap == 0;
}

/*
 * Round robin gives each line to the next child, in turn, that takes
 * input and has room (run_route_room). While every child taking input
 * has more room than a whole run, none is passed over for want of it,
 * so dealing the run's lines to them in turn, from r->rr, gives each
 * the lines it would have got one by one. Returns 1 if lines were
 * dealt; 0 when frame_next must take the next line (a line to report,
 * or not whole yet), or 2 when a child is short of room (the lines go
 * one by one, by room, until the next round); -1 when ipcrun stops.
 */
int
run_input_deal(struct run *r)
{
	struct worker	*to[DEAL_MAX], *w;
	const char	*p, *e, *nl;
	size_t		 least = RUN_QSIZE, n, k;
	uint64_t	 lines;
	unsigned	 i, m = 0, j;

	if (!run_deals(r))
		return 2;
	for (i = 0; i < r->nw; i++) {
		w = &r->w[(r->rr + i) % r->nw];
		if (!run_accepting(w))
			continue;
		/* A queue may pass RUN_QSIZE by a line: test that first. */
		if (w->ch.tq.len >= RUN_QSIZE ||
		    RUN_QSIZE - w->ch.tq.len < DEAL_MIN + 1)
			return 2;
		if (RUN_QSIZE - w->ch.tq.len < least)
			least = RUN_QSIZE - w->ch.tq.len;
		to[m++] = w;
	}
	if (m == 0)
		return 2;
	/*
	 * Within least - 1 bytes, no child reaches RUN_QSIZE before its
	 * last line; a first line longer than that comes alone, and goes to
	 * to[0], which has room, as it would by itself.
	 */
	if ((n = frame_run(&r->fin, least - 1, &p, &lines)) == 0)
		return 0;
	for (e = p + n, j = 0; p < e; p += k) {
		nl = memchr(p, '\n', (size_t)(e - p));
		k = (size_t)(nl - p) + 1;
		w = to[j];
		if (chan_queue(&w->ch, p, k) == -1) {
			cmd_warn(r->ce, "queue");
			r->fail = 1;
			run_stop(r);
			return -1;
		}
		w->in_lines++;
		if (++j == m)
			j = 0;
	}
	r->rr = (to[j == 0 ? m - 1 : j - 1]->idx + 1) % r->nw;
	return 1;
}
