/* SPDX-License-Identifier: ISC */
/*
 * ctl.c: a control socket and its clients, for run, serve and spy. Where
 * it lives ($XDG_RUNTIME_DIR/ipcrun, or /tmp/ipcrun-UID, a 0700 directory
 * that must be ours), listening on it 0600 (a stale socket replaced, a
 * live one refused: lib/addr.c), a bounded table of clients whose
 * credentials were checked, their requests as NDJSON lines (bounded), and
 * their replies and tap events in bounded queues: a tap event that does
 * not fit is dropped and counted, so that a slow client never holds the
 * relay up. ctlproto.c parses the requests; the caller answers them.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "buf.h"

#define CTL_MAXCLIENTS	16		/* clients at once */
#define CTL_REQMAX	(1024 * 1024)	/* longest request line */
#define CTL_OUTMAX	(8 * 1024 * 1024)	/* a client's queue */
#define CTL_NAMEMAX	64		/* a run's name, in the path */

struct ctl_client {
	int		 fd;		/* -1: a free slot */
	struct buf	 in;		/* request bytes */
	struct buf	 out;		/* replies and events */
	int		 eof;		/* it closed its end: finish, close */
	int		 tap;		/* the tap's request id */
	int		 tapall;	/* tapping every child */
	unsigned char	*tapset;	/* else these, by index */
	size_t		 ntapset;
	int		 events;	/* subscribed to events */
	int		 evid;		/* with this request id */
	uint64_t	 dropped;	/* tap events not queued */
	uint64_t	 said;		/* of them, told already */
};

struct ctl {
	int		 lfd;		/* -1: no control socket */
	struct addr	 a;
	char		 name[300];	/* as bound, for reports */
	struct ctl_client c[CTL_MAXCLIENTS];
	unsigned	 ntap;		/* clients tapping: 0 on the hot path */
	unsigned	 nevents;	/* clients subscribed to events */
	uint64_t	 refused;	/* peers of another uid, or too many */
	uint64_t	 dropped;	/* tap events dropped, all clients */
};

int		 ctl_dir(char *, size_t, char *, size_t);
int		 ctl_default_path(const char *, char *, size_t, char *, size_t);
void		 ctl_init(struct ctl *);
int		 ctl_listen(struct ctl *, const char *, char *, size_t);
void		 ctl_close(struct ctl *);
int		 ctl_accept(struct ctl *, struct addr_peer *, const char **);
int		 ctl_adopt(struct ctl *, int);
int		 ctl_read(struct ctl *, struct ctl_client *);
int		 ctl_next(struct ctl_client *, const char **, size_t *);
void		 ctl_shut(struct ctl_client *);
void		 ctl_consumed(struct ctl_client *, size_t);
int		 ctl_put(struct ctl_client *, const char *, size_t);
int		 ctl_put_event(struct ctl *, struct ctl_client *, int,
		    const char *, size_t);
int		 ctl_write(struct ctl_client *);
struct ctl_client *ctl_client_of(struct ctl *, int);
int		 ctl_io(struct ctl *, struct ctl_client *, short);
void		 ctl_drop(struct ctl *, struct ctl_client *);
int		 ctl_tap(struct ctl *, struct ctl_client *, int, size_t,
		    const unsigned *, size_t);
void		 ctl_untap(struct ctl *, struct ctl_client *);
void		 ctl_subscribe(struct ctl *, struct ctl_client *, int);
int		 ctl_taps(const struct ctl_client *, size_t);

#endif
