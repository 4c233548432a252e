/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: what the relay asks of its own state, at the bottom of
 * cmd/run*.c: whether a child lives, takes input, waits for its restart,
 * whether stdout holds the channels back, line counts; and the request
 * to stop, which the loop carries out in its pass. Nothing here calls
 * into another cmd/run*.c file, so that every one of them may call here.
 */
#include "compat.h"

#include <stdint.h>
#include <stdlib.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "super.h"
#include "relay.h"

/*
 * The send buffer of a child's end of the channel: room for what it
 * writes just before it exits (lib/chan.c), with a bound on the kernel
 * memory that many children share.
 */
int
run_peer_sndbuf(const struct run *r)
{
	if (r->nw <= RUN_PEER_SNDALL / RUN_PEER_SNDBUF)
		return RUN_PEER_SNDBUF;
	if (r->nw >= RUN_PEER_SNDALL / RUN_PEER_SNDMIN)
		return RUN_PEER_SNDMIN;
	return (int)(RUN_PEER_SNDALL / r->nw);
}

/*
 * The send buffer of ipcrun's own end of a child's channel: room for a
 * whole run (RUN_QSIZE) in one send. At the kernel's default (about 214
 * KiB taken on a 256 KiB run) each run went out in two sends with a poll
 * between and its tail copied into the chan's queue, and the relay and
 * the child took turns; with the room, stdin's next read and the child's
 * output are handled while the child works on the run before (issue 31).
 * 0 (the default kept) past the children whose buffers RUN_PEER_SNDALL
 * bounds.
 */
int
run_own_sndbuf(const struct run *r)
{
	return r->nw <= RUN_PEER_SNDALL / (2 * RUN_QSIZE) ? RUN_QSIZE : 0;
}

/* ipcrun's stdout is full: the channel is not being read. */
int
run_backpressured(const struct run *r)
{
	return r->oq.len >= RUN_QSIZE && !r->out_dead;
}

int
run_alive(const struct worker *w)
{
	return super_alive(&w->sv);
}

/* Waiting for its restart. */
int
run_pending(const struct worker *w)
{
	return w->sv.state == SUPER_BACKOFF;
}

/* Can the child take input lines (it may still be running without)? */
int
run_accepting(const struct worker *w)
{
	return chan_can_write(&w->ch) &&
	    drain_takes_input(&w->dr) && !w->gone && !w->restarting;
}

/*
 * Input for it can be queued: it takes input, or will once restarted
 * (after its backoff, or a graceful restart under way).
 */
int
run_takes(const struct worker *w)
{
	return run_accepting(w) || run_pending(w) ||
	    (w->restarting == RUN_RESTART && !w->gone);
}

/* Does a child other than w still take input? */
int
run_others_accept(struct run *r, const struct worker *w)
{
	const struct worker	*o;

	for (o = r->w; o < r->w + r->nw; o++) {
		if (o != w && run_takes(o))
			return 1;
	}
	return 0;
}

/* The drain's policy for w: Node's channel, or stdio in a mixed pool. */
const struct drain_policy *
run_dp(const struct run *r, const struct worker *w)
{
	return w->node ? &r->cf->dp : &r->cf->dp_stdio;
}

/*
 * Lines (whole or begun) in bytes, not counting ipcrun's own frames on a
 * node channel (a pool may mix kinds: the worker's own, not the run's).
 */
uint64_t
run_count_lines(int node, const char *p, size_t len)
{
	return chan_lines(p, len, node);
}

/*
 * What the child left unread in its end of the channel: *bytes, and the
 * input lines among them. Peeked through ipcrun's copy of that end, which
 * nobody else reads once the child is gone.
 */
uint64_t
run_peer_unread(struct run *r, struct worker *w, size_t *bytes)
{
	uint64_t	 n = 0;
	char		*p;

	if ((p = chan_unread(&w->ch, bytes)) != NULL)
		n = run_count_lines(w->node, p, *bytes);
	free(p);
	return n;
}

/*
 * ipcrun cannot go on (out of memory, a failed write of its own): the
 * run stops at the end of this step, in the loop's pass, which is where
 * channels are closed and groups signalled.
 */
void
run_fail(struct run *r)
{
	r->fail = 1;
	r->stop = 1;
}
