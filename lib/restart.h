/* SPDX-License-Identifier: ISC */
/*
 * restart.c: the restart policy, backoff and give-up tally; no clocks.
 */
#ifndef RESTART_H
#define RESTART_H

#include <stdint.h>

enum {
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS
};

#define RESTART_BACKOFF_MIN	100	/* ms, the default MIN */
#define RESTART_BACKOFF_MAX	10000	/* ms, the default MAX */
#define RESTART_STABLE		10000	/* ms up, at least, to reset attempts */
#define RESTART_TALLY_MAX	10000	/* N in --max-restarts N/WINDOW */

struct restart_backoff {
	int64_t		 min;		/* ms */
	int64_t		 max;		/* ms */
	unsigned	 attempt;	/* restarts since the last reset */
};

struct restart_tally {
	int64_t		*t;		/* ring of the last n + 1 deaths */
	unsigned	 n;		/* restarts allowed within window */
	int64_t		 window;	/* ms; 0: the whole run */
	unsigned	 head;		/* next slot to write */
	unsigned	 count;		/* deaths in the ring */
};

int		 restart_parse(const char *, int *, const char **);
int		 restart_wanted(int, int);
int		 restart_backoff_parse(struct restart_backoff *, const char *,
		    const char **);
int64_t		 restart_backoff_next(struct restart_backoff *, int64_t,
		    uint32_t);
int		 restart_tally_parse(const char *, unsigned *, int64_t *,
		    const char **);
int		 restart_tally_init(struct restart_tally *, unsigned, int64_t);
void		 restart_tally_release(struct restart_tally *);
int		 restart_tally_add(struct restart_tally *, int64_t);

#endif
