/* SPDX-License-Identifier: ISC */
/*
 * A supervised child's lifecycle, as s6-supervise keeps it: one state and
 * one deadline whose meaning depends on the state, moved only by the
 * events below. The relay does the I/O, the signalling and the spawning
 * that the returned action names; nothing here reads a clock, draws a
 * random number or prints, so every path is tested exactly
 * (test/unit/super_test.c).
 *
 *	state	 CLOSED		STOP		TIMEOUT		exit
 *	DOWN	 -		-		-		-
 *	UP	 GRACE +kt	GRACE now	-		finish
 *	GRACE	 -		-		TERM +kt, TERM	finish
 *	TERM	 -		-		KILL, KILL	finish (stopped)
 *	KILL	 -		-		-		finish (stopped)
 *	EXITED	 -		-		-		-
 *	BACKOFF	 -		DONE		SPAWN		-
 *	DONE	 -		-		-		-
 *
 * Death and the end of the channel (DRAINED: every frame the child wrote
 * has been read) come in either order, and the child is finished only
 * when both have come, as tmux's job.c waits for DEAD and CLOSED: an exit
 * while the channel still holds frames goes to EXITED, and DRAINED
 * finishes it there. "finish" hands over what the exit decided: BACKOFF
 * (RESTART, the delay counted from the finish, so that a restart never
 * waits for the old channel), or DONE (ENDED, GIVEUP). The relay reports
 * the exit then, after the child's last data.
 *
 * CANCEL takes BACKOFF to DONE, and a pending restart in EXITED to an
 * end. RESTART is a command: a running child is stopped as by STOP and
 * started again once finished, whatever the policy and without counting
 * against --max-restarts; one waiting (BACKOFF) or done starts now.
 * A child in GRACE that exits was not stopped by ipcrun (no signal was
 * sent yet) and may be restarted; one that ipcrun signalled never is
 * (unless told to RESTART), and its status is not its own.
 */
#include "compat.h"

#include <signal.h>
#include <string.h>

#include "restart.h"
#include "super.h"

#define SUPER_MS	INT64_C(1000000)

/*
 * A fresh child, down, with the restart policy's backoff and a tally of
 * max deaths within window ms (allocated only when restarts are wanted).
 */
int
super_init(struct super *s, const struct super_policy *pol,
    const struct restart_backoff *backoff, unsigned max, int64_t window)
{
	memset(s, 0, sizeof *s);
	s->state = SUPER_DOWN;
	if (pol->restart == RESTART_NO)
		return 0;
	s->backoff = *backoff;
	return restart_tally_init(&s->tally, max, window);
}

void
super_release(struct super *s)
{
	restart_tally_release(&s->tally);
}

/* An incarnation has started, at now, with its channel open. */
void
super_spawned(struct super *s, int64_t now)
{
	s->state = SUPER_UP;
	s->deadline = 0;
	s->spawned = now;
	s->stopped = 0;
	s->open = 1;
	s->again = 0;
	s->pending = SUPER_NONE;
}

int
super_alive(const struct super *s)
{
	return s->state == SUPER_UP || s->state == SUPER_GRACE ||
	    s->state == SUPER_TERM || s->state == SUPER_KILL;
}

/* When the table wants a TIMEOUT, or 0. */
int64_t
super_deadline(const struct super *s)
{
	switch (s->state) {
	case SUPER_GRACE:
	case SUPER_TERM:
	case SUPER_BACKOFF:
		return s->deadline;
	default:
		return 0;
	}
}

/*
 * Both the exit and the end of the channel have come: what the exit
 * decided takes effect now.
 */
static enum super_action
super_finish(struct super *s, int64_t now)
{
	enum super_action	act = s->pending;

	s->pending = SUPER_NONE;
	if (act == SUPER_RESTART) {
		s->state = SUPER_BACKOFF;
		s->deadline = now + s->delay_ms * SUPER_MS;
	} else {
		s->state = SUPER_DONE;
		s->deadline = 0;
	}
	return act;
}

enum super_action
super_step(struct super *s, const struct super_policy *pol,
    enum super_event ev, int64_t now)
{
	switch (ev) {
	case SUPER_EV_DRAINED:
		if (!s->open)
			return SUPER_NONE;
		s->open = 0;
		return s->state == SUPER_EXITED ? super_finish(s, now) :
		    SUPER_NONE;
	case SUPER_EV_RESTART:
	case SUPER_EV_RELOAD:
		switch (s->state) {
		case SUPER_BACKOFF:
		case SUPER_DONE:
			/* Started at the next timer pass. */
			s->state = SUPER_BACKOFF;
			s->deadline = now;
			return SUPER_NONE;
		case SUPER_EXITED:
			if (s->pending != SUPER_RESTART) {
				s->pending = SUPER_RESTART;
				s->delay_ms = 0;
				s->restarts++;
			}
			return SUPER_NONE;
		case SUPER_DOWN:
			return SUPER_NONE;
		default:
			/* Stopped, then started again once finished. */
			s->again = 1;
			ev = ev == SUPER_EV_RELOAD ? SUPER_EV_CLOSED :
			    SUPER_EV_STOP;
			break;
		}
		/* FALLTHROUGH */
	case SUPER_EV_CLOSED:
	case SUPER_EV_STOP:
		if (ev == SUPER_EV_STOP && s->state == SUPER_BACKOFF) {
			s->state = SUPER_DONE;
			s->deadline = 0;
			return SUPER_CANCELLED;
		}
		/* A stop already under way keeps its own pace. */
		if (s->state != SUPER_UP)
			return SUPER_NONE;
		s->state = SUPER_GRACE;
		s->deadline = ev == SUPER_EV_STOP ? now :
		    now + pol->kill_timeout;
		return SUPER_NONE;
	case SUPER_EV_TIMEOUT:
		if (s->deadline == 0 || now < s->deadline)
			return SUPER_NONE;
		switch (s->state) {
		case SUPER_GRACE:
			s->state = SUPER_TERM;
			s->stopped = SIGTERM;
			s->deadline = now + pol->kill_timeout;
			return SUPER_SEND_TERM;
		case SUPER_TERM:
			s->state = SUPER_KILL;
			s->stopped = SIGKILL;
			s->deadline = 0;
			return SUPER_SEND_KILL;
		case SUPER_BACKOFF:
			/* Still BACKOFF until super_spawned says it is up. */
			return SUPER_SPAWN;
		default:
			return SUPER_NONE;
		}
	case SUPER_EV_CANCEL:
		if (s->state == SUPER_EXITED && s->pending == SUPER_RESTART) {
			s->pending = SUPER_ENDED;
			return SUPER_CANCELLED;
		}
		if (s->state != SUPER_BACKOFF)
			return SUPER_NONE;
		s->state = SUPER_DONE;
		s->deadline = 0;
		return SUPER_CANCELLED;
	}
	return SUPER_NONE;
}

/*
 * The child was reaped with wait status status at now. may is the
 * relay's word on a restart (not while it is stopping, nor after the
 * child got its end of input); rnd is the backoff's jitter. A child
 * ipcrun signalled is never restarted, unless it was told to RESTART.
 * The decision takes effect when the channel has drained too: until
 * then the child is EXITED and this returns SUPER_NONE.
 */
enum super_action
super_exited(struct super *s, const struct super_policy *pol, int status,
    int may, int64_t now, uint32_t rnd)
{
	if (!super_alive(s))
		return SUPER_NONE;
	s->status = status;
	s->deadline = 0;
	s->state = SUPER_EXITED;
	if (s->again && may) {
		s->delay_ms = 0;
		s->restarts++;
		s->pending = SUPER_RESTART;
	} else if (!may || s->stopped != 0 || pol->restart == RESTART_NO ||
	    !restart_wanted(pol->restart, status != 0))
		s->pending = SUPER_ENDED;
	else if (restart_tally_add(&s->tally, (now - pol->t0) / SUPER_MS) != 0)
		s->pending = SUPER_GIVEUP;
	else {
		s->delay_ms = restart_backoff_next(&s->backoff,
		    (now - s->spawned) / SUPER_MS, rnd);
		s->restarts++;
		s->pending = SUPER_RESTART;
	}
	return s->open ? SUPER_NONE : super_finish(s, now);
}

/*
 * The start of a new incarnation failed (exec error: status as a wait
 * status): the child stays down, with that status as its last.
 */
void
super_start_failed(struct super *s, int status)
{
	s->state = SUPER_DONE;
	s->deadline = 0;
	s->pending = SUPER_NONE;
	s->open = 0;
	s->status = status;
}

const char *
super_state_name(enum super_state st)
{
	static const char *const names[] = { "down", "up", "grace", "term",
	    "kill", "exited", "backoff", "done" };

	if ((unsigned)st >= sizeof names / sizeof names[0])
		return "?";
	return names[st];
}
