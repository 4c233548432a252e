/* SPDX-License-Identifier: ISC */
/*
 * chan.c: ipcrun's end of a child's channel, a stream socket: the frames
 * read from it, and two bounded write queues, the lines for the child
 * (tq) and ipcrun's own frames (cq), which go only between two lines of
 * tq. A copy of the child's end (peer) says what the child left unread
 * (chan_peer.c). Read with chan_read, or with chan_recv, which keeps the
 * fds that come with the bytes in a FIFO until a frame claims one.
 */
#ifndef CHAN_H
#define CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "frame.h"

#define CHAN_MAXFDS	16	/* received fds held, not yet claimed */
#define CHAN_MAXMARKS	64	/* frames with an fd queued, at the most */

/*
 * A frame of tq that carries an fd: it starts at byte at of the stream of
 * lines for the child (tq_in counts them), and the fd goes with its first
 * byte.
 */
struct chan_mark {
	uint64_t	 at;
	int		 fd;
	int		 tries;		/* times sent and refused before */
	int		 lent;		/* the caller's: never closed here */
};

#define CHAN_RETRIES	3	/* a refused net.Socket is sent again so
				   often, as Node does */

/*
 * How far ipcrun's side has gone, in order: a later state implies every
 * earlier one's "no more writes". The child's side is eof: it can come
 * in any of these (a child exits whatever ipcrun was doing), so it is
 * not a state of this enum. fd is -1 once closed.
 */
enum chan_state {
	CHAN_OPEN,	/* both ways */
	CHAN_WDEAD,	/* a write failed: the child closed its end */
	CHAN_SHUT,	/* SHUT_WR: the child reads EOF, may still write */
	CHAN_CLOSING	/* shut both ways: ipcrun reads what is left */
};

struct chan {
	int		 fd;		/* ipcrun's end, -1 once closed */
	int		 peer;		/* the child's end, or -1 */
	struct buf	 tq;		/* lines for the child */
	struct buf	 cq;		/* ipcrun's own frames: NACKs */
	int		 tq_mid;	/* a line of tq is half written */
	int		 cq_mid;	/* a frame of cq is half written */
	uint64_t	 sent;		/* bytes written */
	uint64_t	 received;	/* bytes read */
	enum chan_state	 state;		/* how far ipcrun ended it */
	int		 full;		/* no room: wait for POLLOUT */
	int		 eof;		/* the child's side: read gave 0 */
	struct frame	 rd;		/* the child's frames */
	int		 rd_ok;
	int		 fds[CHAN_MAXFDS];	/* received, oldest first */
	size_t		 nfds;

	/*
	 * Sending fds (Node's rule, NODE-IPC.md section 5): once a frame
	 * with an fd is out, the lines after it wait until the child
	 * answers with an ACK or a NACK (chan_answered); cq, the control
	 * lane, still goes between them.
	 */
	struct chan_mark marks[CHAN_MAXMARKS];	/* oldest first */
	size_t		 nmarks;
	uint64_t	 tq_in;		/* bytes ever queued into tq */
	uint64_t	 tq_out;	/* bytes of tq written */
	int		 hold;		/* a frame with an fd is out */
	uint64_t	 hold_end;	/* where that frame ends in the stream */
	uint64_t	 nheld;		/* frames with an fd ever sent */
	/*
	 * The frame out and its fd, kept until it is answered: a NACK'd
	 * net.Socket goes again (chan_refused), as Node sends it again.
	 */
	int		 out_fd;	/* -1: none kept */
	char		*out_frame;
	size_t		 out_len;
	int		 out_tries;
	int		 out_lent;
	/*
	 * Frames with an fd given up on (chan_give_up): answers still owed
	 * for them. Node answers in order, so the next answers are theirs.
	 */
	unsigned	 late;

	/*
	 * A graceful restart: the lines queued after the notice that ends
	 * the child's input wait for its next incarnation (chan_pause).
	 */
	int		 paused;
	uint64_t	 pause_at;	/* nothing in the stream from here goes */
};

void		 chan_blank(struct chan *);
int		 chan_init(struct chan *, size_t, int, size_t);
void		 chan_release(struct chan *);
void		 chan_open(struct chan *, int, int);
void		 chan_close(struct chan *);
int		 chan_flush(struct chan *);
int		 chan_send(struct chan *, const char *, size_t);
ssize_t		 chan_read(struct chan *, size_t);
ssize_t		 chan_read_fds(struct chan *, size_t, unsigned *);
int		 chan_half_close(struct chan *);
void		 chan_shut(struct chan *);
int		 chan_outq(const struct chan *);
int		 chan_quiet(const struct chan *);
char		*chan_unread(const struct chan *, size_t *);
uint64_t	 chan_lines(const char *, size_t, int);
ssize_t		 chan_recv(struct chan *, char *, size_t, unsigned *);
int		 chan_fd_take(struct chan *);
void		 chan_fds_close(struct chan *);
void		 chan_drop_peer(struct chan *);
void		 chan_set_eof(struct chan *);
int		 chan_detach(struct chan *);
void		 chan_set_sep(struct chan *, int);
void		 chan_writable(struct chan *);
void		 chan_drop_queued(struct chan *);
uint64_t	 chan_queued_lines(const struct chan *, int);
int		 chan_control(struct chan *, const char *, size_t);
void		 chan_take_queue(struct chan *, struct buf *);
void		 chan_put_queue(struct chan *, struct buf *);
int		 chan_queue(struct chan *, const char *, size_t);
int		 chan_send_fd(struct chan *, const char *, size_t, int);
int		 chan_lend_fd(struct chan *, const char *, size_t, int);
int		 chan_answered(struct chan *);
int		 chan_refused(struct chan *);
int		 chan_holding(const struct chan *);
uint64_t	 chan_awaited(const struct chan *);
int		 chan_give_up(struct chan *);
void		 chan_pause(struct chan *);
int		 chan_paused(const struct chan *);
int		 chan_widen_peer(int, int);

/*
 * The close state, asked on the relay's per-line paths: inline.
 * chan_can_write: lines may still go (open, and ipcrun has not ended it);
 * chan_is_shut: ipcrun ended the child's input (SHUT_WR, or both ways);
 * chan_closing: shut both ways, what is read is what the child had
 * written; chan_ended: the child's side ended (a read gave 0, a reset).
 */
static inline int
chan_can_write(const struct chan *c)
{
	return c->fd != -1 && c->state == CHAN_OPEN;
}

static inline int
chan_is_shut(const struct chan *c)
{
	return c->state >= CHAN_SHUT;
}

static inline int
chan_closing(const struct chan *c)
{
	return c->state == CHAN_CLOSING;
}

static inline int
chan_ended(const struct chan *c)
{
	return c->eof;
}

/* As many frames with a descriptor wait as it holds: queue no more yet. */
static inline int
chan_fds_full(const struct chan *c)
{
	return c->nmarks == CHAN_MAXMARKS;
}

#endif
