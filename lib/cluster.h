/* SPDX-License-Identifier: ISC */
/*
 * cluster.c: Node's cluster protocol as the primary speaks it, for
 * unmodified workers whose listen() asks the primary for the socket:
 * the servers by key, who listens on each, the connections accepted and
 * not yet taken (round robin), and the frames of the primary's part. No
 * channel I/O: the caller sends the frames and answers; the sockets are
 * bound and accepted here.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_MAXSERVERS	64	/* sockets, one per distinct key */
#define CLUSTER_MAXKEYS		16	/* keys naming one socket */
#define CLUSTER_KEYMAX		600	/* a key, as Node builds it */
#define CLUSTER_PENDING		1024	/* connections waiting, per socket */
#define CLUSTER_FRAMEMAX	(CLUSTER_KEYMAX + 4096)	/* a reply, data included */
#define CLUSTER_DATAMAX		4096	/* a queryServer's data member */

enum cluster_kind { CLUSTER_TCP, CLUSTER_UNIX, CLUSTER_UDP };

/* What a worker sent, as parsed by cluster_parse. */
enum cluster_act {
	CLUSTER_ACT_NONE,	/* an answer: "ack" without "act" */
	CLUSTER_ACT_ONLINE,
	CLUSTER_ACT_QUERY,	/* queryServer */
	CLUSTER_ACT_LISTENING,
	CLUSTER_ACT_CLOSE,
	CLUSTER_ACT_EXITED,	/* exitedAfterDisconnect */
	CLUSTER_ACT_OTHER	/* unknown: ignored, as Node's primary does */
};

struct cluster_msg {
	enum cluster_act act;
	int64_t		 seq;
	int64_t		 ack;		/* -1: none */
	int		 accepted;	/* newconn's answer */
	char		 key[CLUSTER_KEYMAX];	/* built (query) or quoted */
	/* queryServer and listening */
	char		 address[256];	/* "" and noaddr: null */
	int		 noaddr;
	int64_t		 port;		/* -1: a unix path */
	int		 port_set;
	int		 udp;		/* 4 or 6: dgram */
	int		 family;	/* 4, 6, or -1: unix */
	int		 fd_set;	/* listen({fd}) */
	int		 flags;
	int		 backlog;
	int		 readable_all, writable_all;
	char		 data[CLUSTER_DATAMAX];	/* JSON text, "" for null */
};

struct cluster_server {
	int		 fd;
	enum cluster_kind kind;
	int		 shared;	/* the fd goes to the workers */
	int		 prebound;	/* serve --listen: not closed here */
	int		 port;		/* bound, tcp and udp */
	char		 sockname[320];	/* rr tcp: the reply's sockname */
	char		 name[300];	/* for reports: 127.0.0.1:8000, a path */
	char		*path;		/* a unix path bound here: unlinked */
	char		*data;		/* the first non-null data, or NULL */
	char		*keys[CLUSTER_MAXKEYS];
	char		*qkeys[CLUSTER_MAXKEYS];	/* as JSON strings */
	unsigned	 nkeys;
	unsigned char	*wkey;		/* per worker: 0, or 1 + its key's */
	int		*wconn;		/* rr: the newconn not answered, -1 */
	int64_t		*wseq;		/* ... and its seq */
	unsigned	*ring;		/* rr: free workers, FIFO */
	unsigned char	*inring;
	unsigned	 rhead, nring;
	int		 pend[CLUSTER_PENDING];	/* rr: accepted, FIFO */
	unsigned	 phead, npend;
	int		 polled;	/* in the caller's poll set */
	int		 plain;		/* --handoff socket: net.Socket frames */
	int		 full_said;
	uint64_t	 conns;		/* accepted */
};

struct cluster_worker {
	unsigned	 id;		/* NODE_UNIQUE_ID, 1 and up */
	int		 disconnect;	/* "disconnect" sent or asked */
	int		 listening;
	/* The frames with an fd it has not answered: newconn seqs, or -1. */
	int64_t		 held[64];
	unsigned	 hhead, nheld;
};

struct cluster {
	struct cluster_server	*sv[CLUSTER_MAXSERVERS];
	unsigned		 nsv;
	struct cluster_worker	*w;
	unsigned		 nw;
	unsigned		 next_id;
	int64_t			 seq;
	int			 rr;	/* --sched rr, else shared */
	const int		*pre;	/* serve --listen's sockets */
	unsigned		 npre;
	const char		*msg;	/* --handoff socket: the message */
};

int		 cluster_init(struct cluster *, unsigned, int, const int *,
		    unsigned);
void		 cluster_release(struct cluster *);
unsigned	 cluster_spawned(struct cluster *, unsigned);
int		 cluster_parse(struct cluster_msg *, const char *, size_t);
int		 cluster_bind(const struct cluster_msg *, enum cluster_kind *);
int		 cluster_query(struct cluster *, unsigned,
		    const struct cluster_msg *, char *, size_t);
int		 cluster_reply(struct cluster *, unsigned, int,
		    const struct cluster_msg *, int, char *, size_t);
int		 cluster_error_reply(struct cluster *, const struct cluster_msg *,
		    int, char *, size_t);
int		 cluster_ack_frame(struct cluster *, int64_t, char *, size_t);
int		 cluster_disconnect_frame(struct cluster *, char *, size_t);
int		 cluster_accept(struct cluster *, unsigned, uint64_t *);
int		 cluster_next(struct cluster *, unsigned, unsigned *, int *,
		    char *, size_t);
int		 cluster_answered(struct cluster *, unsigned, int64_t, int);
void		 cluster_held(struct cluster *, unsigned, int64_t);
int		 cluster_handle_answer(struct cluster *, unsigned, int);
void		 cluster_close_key(struct cluster *, unsigned, const char *);
void		 cluster_leave(struct cluster *, unsigned, int);
unsigned	 cluster_drop_pending(struct cluster *);
int		 cluster_wants_accept(const struct cluster_server *);
int		 cluster_adopt(struct cluster *, const char *);
void		 cluster_join(struct cluster *, unsigned);

#endif
