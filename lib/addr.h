/* SPDX-License-Identifier: ISC */
/*
 * addr.c: unix:PATH, unix:@NAME, tcp:HOST:PORT, fd:N; listen and connect.
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

int		 addr_parse(struct addr *, const char *, char *, size_t);
int		 addr_connect(const struct addr *, char *, size_t);
int		 addr_listen(struct addr *, mode_t, char *, size_t);
int		 addr_accept(int);
void		 addr_unlink(struct addr *);
int		 addr_name(const struct addr *, int, char *, size_t);

#endif
