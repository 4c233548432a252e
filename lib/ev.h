/* SPDX-License-Identifier: ISC */
/*
 * ev.c: poll loop, self-pipe signals, monotonic time.
 */
#ifndef EV_H
#define EV_H

#include <stddef.h>
#include <stdint.h>

struct ev;
typedef void	(*ev_cb)(struct ev *, int, short, void *);

struct ev_io {
	int		 fd;
	short		 events;	/* 0: registered but not polled */
	ev_cb		 cb;
	void		*arg;
};

struct ev {
	struct ev_io	*io;
	struct pollfd	*pfd;
	size_t		 nio;
	size_t		 capio;
	size_t		*slot;		/* by fd: index in io + 1, 0: none */
	size_t		 nslot;
	int		 sigfd;		/* self-pipe read end, or -1 */
};

int		 ev_init(struct ev *);
void		 ev_release(struct ev *);
int		 ev_add(struct ev *, int, short, ev_cb, void *);
void		 ev_set(struct ev *, int, short);
void		 ev_del(struct ev *, int);
int		 ev_signals(struct ev *, const int *);
int		 ev_signal_next(struct ev *);
int		 ev_run_once(struct ev *, int);
int64_t		 ev_now(void);
int		 ev_timeout_ms(int64_t);
int64_t		 ev_deadline_min(int64_t, int64_t);

#endif
