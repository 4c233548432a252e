/* SPDX-License-Identifier: ISC */
/*
 * addr.c: unix:PATH, unix:@NAME, tcp:HOST:PORT, fd:N; listen and connect;
 * who the peer is.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>
#include <sys/types.h>

enum {
	ADDR_UNIX = 1,
	ADDR_TCP,
	ADDR_FD
};

struct addr {
	int		 kind;
	int		 abstract;	/* unix:@NAME */
	char		 path[108];	/* unix: the path or the abstract name */
	char		 host[256];	/* tcp: without brackets */
	int		 port;		/* tcp: 0 = any */
	int		 fd;		/* fd: */
	int		 created;	/* addr_listen made path; addr_unlink */
	dev_t		 dev;
	ino_t		 ino;
};

/*
 * Who is at the other end of a connected socket. A unix socket says
 * (SO_PEERCRED: the peer's credentials when it connected or listened); a
 * TCP socket cannot, and known is 0.
 */
struct addr_peer {
	int		 known;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
};

int		 addr_parse(struct addr *, const char *, char *, size_t);
int		 addr_connect(const struct addr *, char *, size_t);
int		 addr_listen(struct addr *, mode_t, char *, size_t);
int		 addr_accept(int);
void		 addr_unlink(struct addr *);
int		 addr_name(const struct addr *, int, char *, size_t);
int		 addr_peer(int, struct addr_peer *);
int		 addr_peer_allowed(const struct addr_peer *, const uid_t *,
		    size_t);

#endif
