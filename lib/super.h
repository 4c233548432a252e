/* SPDX-License-Identifier: ISC */
/*
 * super.c: a supervised child's lifecycle as a state x event table, in
 * the manner of s6-supervise: one state, one deadline whose meaning
 * depends on it. No I/O and no clock: times (ns) and randomness are
 * passed in, and the caller does what the returned action says.
 */
#ifndef SUPER_H
#define SUPER_H

#include <stdint.h>

#include "restart.h"

enum super_state {
	SUPER_DOWN,		/* not started yet */
	SUPER_UP,		/* running */
	SUPER_GRACE,		/* to be stopped: SIGTERM at the deadline */
	SUPER_TERM,		/* SIGTERM sent: SIGKILL at the deadline */
	SUPER_KILL,		/* SIGKILL sent: its exit will come */
	SUPER_EXITED,		/* exited: its channel is read to the end */
	SUPER_BACKOFF,		/* ended by itself: start again at the deadline */
	SUPER_DONE		/* ended for good */
};

enum super_event {
	SUPER_EV_CLOSED,	/* its channel is gone: a grace, then stop it */
	SUPER_EV_STOP,		/* stop it now */
	SUPER_EV_TIMEOUT,	/* the deadline has come */
	SUPER_EV_CANCEL,	/* no more restarts: ipcrun is stopping */
	SUPER_EV_DRAINED,	/* its channel is at its end, all of it read */
	SUPER_EV_RESTART,	/* the command: stop it, start it again */
	SUPER_EV_RELOAD		/* the same, its grace first (a rolling restart) */
};

enum super_action {
	SUPER_NONE,
	SUPER_SEND_TERM,	/* SIGTERM to its group, as ipcrun's own */
	SUPER_SEND_KILL,	/* SIGKILL to its group */
	SUPER_SPAWN,		/* the backoff is over: start it again */
	SUPER_RESTART,		/* it finished: started again after delay_ms */
	SUPER_GIVEUP,		/* it exited too often: it stays down */
	SUPER_ENDED,		/* it exited: it stays down */
	SUPER_CANCELLED		/* its pending restart will not happen */
};

struct super_policy {
	int		 restart;	/* RESTART_* */
	int64_t		 kill_timeout;	/* ns, grace and SIGTERM's wait */
	int64_t		 t0;		/* ns, the start of the run */
};

struct super {
	enum super_state state;
	int64_t		 deadline;	/* ns; 0 in states without one */
	int64_t		 spawned;	/* ns, when this incarnation started */
	int		 stopped;	/* the signal ipcrun ended it with */
	int		 status;	/* its last wait status */
	int		 open;		/* its channel has not drained yet */
	int		 again;		/* told to RESTART while running */
	enum super_action pending;	/* what the exit decided (EXITED) */
	unsigned	 restarts;	/* incarnations after the first */
	int64_t		 delay_ms;	/* the last backoff delay */
	struct restart_backoff backoff;
	struct restart_tally tally;
};

int		 super_init(struct super *, const struct super_policy *,
		    const struct restart_backoff *, unsigned, int64_t);
void		 super_release(struct super *);
void		 super_spawned(struct super *, int64_t);
enum super_action super_step(struct super *, const struct super_policy *,
		    enum super_event, int64_t);
enum super_action super_exited(struct super *, const struct super_policy *,
		    int, int, int64_t, uint32_t);
void		 super_start_failed(struct super *, int);
int		 super_alive(const struct super *);
int64_t		 super_deadline(const struct super *);
const char	*super_state_name(enum super_state);

#endif
