/* SPDX-License-Identifier: ISC */
/*
 * drain.c: the end of input of one child as a state x event table: its
 * --eof policy, the idle rule, the looks at an unannounced child, the
 * hint, and the deadlines that judge it, held while ipcrun's own stdout
 * is full. No I/O and no clock: the relay passes times (ns) and what it
 * saw, and does what the returned action says.
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

enum drain_state {
	DRAIN_FEEDING,		/* its input goes in */
	DRAIN_TOLD,		/* the notice is queued behind its last lines */
	DRAIN_LOOKING,		/* delivered, unannounced: look at what runs */
	DRAIN_BARE,		/* a look found Node without the preload */
	DRAIN_IDLING,		/* the idle rule, not quiet yet */
	DRAIN_QUIET,		/* the idle rule, quiet since `since' */
	DRAIN_NOTICED,		/* delivered, the notice sent */
	DRAIN_WAITING,		/* delivered: nothing runs but --eof-timeout */
	DRAIN_EXITED_FED,	/* exited while its input went in */
	DRAIN_EXITED		/* exited */
};

enum drain_event {
	DRAIN_EV_DELIVERED,	/* its input is all in the channel */
	DRAIN_EV_ANNOUNCED,	/* the preload said it is ready */
	DRAIN_EV_INPUT_ENDED,	/* no more input will come (now: since when) */
	DRAIN_EV_RX,		/* the child sent bytes */
	DRAIN_EV_CLOSED,	/* its channel is being closed */
	DRAIN_EV_TIMEOUT,	/* drain_deadline() has come */
	DRAIN_EV_TIMEOUT_HELD	/* the same, while stdout is full */
};

enum drain_action {
	DRAIN_NONE,
	DRAIN_NOTICE,		/* queue the end-of-input notice */
	DRAIN_HALF_CLOSE,	/* end of file for the child */
	DRAIN_CLOSE,		/* close the channel (the policy, or idle) */
	DRAIN_IDLE,		/* the idle rule started */
	DRAIN_IDLE_PLAIN,	/* the same, for Node without the preload */
	DRAIN_LOOK,		/* look at its group: drain_looked */
	DRAIN_TICK,		/* is it quiet: drain_ticked */
	DRAIN_WEIGH,		/* the hint's time: drain_weighed */
	DRAIN_HINT,		/* say once how to end a child kept alive */
	DRAIN_EOF_TIMEOUT,	/* --eof-timeout is over */
	DRAIN_EXIT_TIMEOUT	/* its channel outlived it too long */
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

/*
 * One state, one deadline whose meaning depends on it (the table in
 * drain.c), and --eof-timeout's end, which runs beside the states.
 */
struct drain {
	enum drain_state state;
	int64_t		 deadline;	/* ns; 0 in states without one */
	int64_t		 eof_at;	/* --eof-timeout's end, or 0 */
	int64_t		 since;		/* QUIET: when the quiet began */
	int64_t		 look_every;	/* the looks' backoff */
	long long	 hint_cpu;	/* the group's CPU time at the hint */
	int		 ready;		/* the preload announced itself */
};

int64_t		 drain_deadline(const struct drain *, int);
void		 drain_hold(struct drain *, int64_t);
enum drain_action drain_step(struct drain *, const struct drain_policy *,
		    enum drain_event, int64_t);
enum drain_action drain_looked(struct drain *, int64_t, enum drain_seen,
		    int, int64_t);
enum drain_action drain_ticked(struct drain *, const struct drain_policy *,
		    int64_t, int);
enum drain_action drain_weighed(struct drain *, int64_t, int, long long);
void		 drain_noticed(struct drain *, const struct drain_policy *,
		    int64_t, long long);
void		 drain_exited(struct drain *, const struct drain_policy *,
		    int64_t, int);
int		 drain_takes_input(const struct drain *);
int		 drain_undelivered(const struct drain *);
int		 drain_notice_queued(const struct drain *);
int		 drain_looking(const struct drain *);
int		 drain_ready(const struct drain *);

#endif
