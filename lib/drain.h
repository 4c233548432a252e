/* SPDX-License-Identifier: ISC */
/*
 * drain.c: the end of input of one child: its --eof policy, the idle
 * rule, the looks at an unannounced child, the hint, and the deadlines
 * that judge it, held while ipcrun's own stdout is full. No I/O and no
 * clock: the relay passes times (ns) and what it saw, and does what the
 * returned action says.
 */
#ifndef DRAIN_H
#define DRAIN_H

#include <stdint.h>

enum drain_eof {
	DRAIN_EOF_AUTO,		/* the notice to Node, else a half-close */
	DRAIN_EOF_IDLE,		/* close after a quiet spell */
	DRAIN_EOF_WAIT,		/* until the child ends it */
	DRAIN_EOF_CLOSE		/* close at once */
};

/* What runs in the child's group, as seen in /proc. */
enum drain_seen {
	DRAIN_SEEN_OTHER,	/* no Node */
	DRAIN_SEEN_NODE_DRAIN,	/* Node with the preload: it will announce */
	DRAIN_SEEN_NODE_PLAIN	/* Node without it */
};

enum drain_action {
	DRAIN_NONE,
	DRAIN_NOTICE,		/* queue the end-of-input notice */
	DRAIN_HALF_CLOSE,	/* end of file for the child */
	DRAIN_CLOSE,		/* close the channel (the policy, or idle) */
	DRAIN_IDLE,		/* start the idle rule */
	DRAIN_IDLE_PLAIN,	/* the same, for Node without the preload */
	DRAIN_LOOK,		/* look at what runs in its group */
	DRAIN_HINT		/* say once how to end a child kept alive */
};

#define DRAIN_LOOK_EVERY	INT64_C(100000000)	/* 100 ms, doubling */
#define DRAIN_LOOK_MAX		INT64_C(1000000000)	/* to 1 s */
#define DRAIN_HINT_AFTER	INT64_C(3000000000)	/* 3 s of silence */
#define DRAIN_SETTLE		INT64_C(500000000)	/* no half-close younger */

struct drain_policy {
	enum drain_eof	 eof;
	int		 node;		/* the node channel; else stdio */
	int64_t		 idle_ns;	/* the idle rule's quiet spell */
	int64_t		 eof_timeout;	/* ns after the end of input; 0: none */
	int64_t		 kill_timeout;	/* ns: the read after the exit */
};

struct drain {
	int		 announced;	/* the preload said it is ready */
	int		 notice;	/* the notice is queued */
	int		 delivered;	/* input ended and its queue is empty */
	int		 idle;		/* the idle rule runs */
	int64_t		 idle_tick;
	int64_t		 quiet_since;	/* 0 while not quiet */
	int64_t		 last_rx;	/* when the child last sent bytes */
	int64_t		 look_at;	/* the next look, or 0 */
	int64_t		 look_every;
	int		 plain_seen;	/* the last look found Node bare */
	int64_t		 hint_at;	/* the hint's next look, or 0 */
	long long	 hint_cpu;	/* the group's CPU time then */
	int64_t		 eof_deadline;	/* --eof-timeout, or 0 */
	int64_t		 exit_deadline;	/* the read after its exit, or 0 */
};

int64_t		 drain_deadline(const struct drain *, int);
void		 drain_hold(struct drain *, int64_t);
int		 drain_due(int64_t *, int64_t);
enum drain_action drain_delivered(struct drain *, const struct drain_policy *);
enum drain_action drain_looked(struct drain *, int64_t, enum drain_seen,
		    int, int64_t);
void		 drain_look_after(struct drain *, int64_t);
void		 drain_announced(struct drain *);
void		 drain_idle_start(struct drain *, int64_t);
enum drain_action drain_idle_step(struct drain *, const struct drain_policy *,
		    int64_t, int);
void		 drain_noticed(struct drain *, const struct drain_policy *,
		    int64_t, long long);
void		 drain_renotice(struct drain *);
enum drain_action drain_hint_step(struct drain *, int64_t, int, long long);
void		 drain_input_ended(struct drain *, const struct drain_policy *,
		    int64_t);
void		 drain_rx(struct drain *, const struct drain_policy *, int64_t);
void		 drain_closed(struct drain *);
void		 drain_exited(struct drain *, const struct drain_policy *,
		    int64_t, int);

#endif
