/* SPDX-License-Identifier: ISC */
/*
 * fdpass.c: SCM_RIGHTS, one fd per sendmsg; the send-fd header; fd kinds.
 */
#ifndef FDPASS_H
#define FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX	253	/* the kernel's SCM_MAX_FD */

enum {
	FDPASS_SURPLUS = 1,	/* more fds than one came: the others closed */
	FDPASS_CTRUNC = 2,	/* the kernel dropped fds (MSG_CTRUNC) */
	FDPASS_BADCMSG = 4	/* an SCM_RIGHTS length not a whole fd count */
};

enum {
	FDPASS_FILE,
	FDPASS_DIR,
	FDPASS_FIFO,
	FDPASS_TTY,
	FDPASS_CHR,
	FDPASS_BLK,
	FDPASS_TCP,
	FDPASS_UDP,
	FDPASS_UNIX_STREAM,
	FDPASS_UNIX_DGRAM,
	FDPASS_UNIX_SEQPACKET,
	FDPASS_SOCKET,
	FDPASS_OTHER
};

struct fdpass_header {
	size_t		 nfds;
	char		**names;	/* NULL, or nfds strings */
};

ssize_t		 fdpass_send(int, const void *, size_t, int);
ssize_t		 fdpass_recv(int, void *, size_t, int *, unsigned *);
struct msghdr;
unsigned	 fdpass_take(struct msghdr *, int *, size_t *, size_t);
int		 fdpass_kind(int);
const char	*fdpass_kind_name(int);
int		 fdpass_node_accepts(int);
int		 fdpass_header_parse(struct fdpass_header *, const char *, size_t,
		    const char **);
void		 fdpass_header_release(struct fdpass_header *);
char		*fdpass_header_format(size_t, char *const *);
int		 fdpass_msg_check(const char *, size_t);
char		*fdpass_header_add_msg(char *, const char *);

#endif
