/* SPDX-License-Identifier: ISC */
/*
 * fdpass_take over a real socketpair: the fds of one message kept in
 * order up to the room given, the others closed (not leaked) and said,
 * and a queue filled across messages; fdpass_recv, built on it, keeps
 * one. TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdpass.h"
#include "tap.h"

/* One byte with n fds, all in one SCM_RIGHTS. */
static void
send_fds(int sock, const int *fds, size_t n)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;

	memset(&msg, 0, sizeof msg);
	memset(&cm, 0, sizeof cm);
	iov.iov_base = (void *)(uintptr_t)"x";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		abort();
}

/* Receive one byte and take its fds into fds (room for max). */
static unsigned
recv_take(int sock, int *fds, size_t *n, size_t max)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	char		 b;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = &b;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		abort();
	return fdpass_take(&msg, fds, n, max);
}

/* The same file as want (by device and inode)? */
static int
same(int fd, int want)
{
	struct stat	a, b;

	return fstat(fd, &a) == 0 && fstat(want, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Descriptors open in this process. */
static int
nopen(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

int
main(void)
{
	int		 sv[2], p[2], src[3], got[4], fd, before;
	size_t		 n = 0;
	unsigned	 flags, f2;
	char		 b, *hdr;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1 ||
	    (src[2] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	src[0] = p[0];
	src[1] = p[1];
	before = nopen();

	send_fds(sv[0], src, 3);
	flags = recv_take(sv[1], got, &n, 2);
	ok(n == 2 && same(got[0], src[0]) && same(got[1], src[1]),
	    "the first two of three kept, in order");
	ok(flags == FDPASS_SURPLUS, "the third said as surplus (flags %u)",
	    flags);
	is_int(nopen(), before + 2, "and closed: two more fds open, not three");
	ok((fcntl(got[0], F_GETFD) & FD_CLOEXEC) != 0, "kept ones CLOEXEC");

	/* A queue across messages: one slot left of four, one came. */
	send_fds(sv[0], src + 2, 1);
	flags = recv_take(sv[1], got, &n, 4);
	ok(flags == 0 && n == 3 && same(got[2], src[2]),
	    "a second message appends to what is held");
	send_fds(sv[0], src, 2);
	flags = recv_take(sv[1], got, &n, 4);
	ok(flags == FDPASS_SURPLUS && n == 4 && same(got[3], src[0]),
	    "a full queue closes the rest");
	is_int(nopen(), before + 4, "four held, nothing leaked");
	for (n = 0; n < 4; n++)
		close(got[n]);

	send_fds(sv[0], src, 2);
	ok(fdpass_recv(sv[1], &b, 1, &fd, &f2) == 1 && same(fd, src[0]) &&
	    f2 == FDPASS_SURPLUS, "fdpass_recv keeps the first of two");
	close(fd);
	is_int(nopen(), before, "and closes the other");
	close(sv[0]);
	close(sv[1]);
	/* send-fd --msg: the header's message, checked and appended. */
	hdr = fdpass_header_add_msg(fdpass_header_format(1, NULL),
	    "{\"port\":80}");
	ok(hdr != NULL && strcmp(hdr, "{\"fds\":1,\"msg\":{\"port\":80}}\n")
	    == 0, "msg after the other members: %s", hdr ? hdr : "NULL");
	free(hdr);
	ok(fdpass_msg_check("[1,\"x\"]", 100) == 0, "a JSON value is a msg");
	ok(fdpass_msg_check("{\n}", 100) == -1, "not on two lines");
	ok(fdpass_msg_check("{\"a\":", 100) == -1, "not bad JSON");
	ok(fdpass_msg_check("\"abcdef\"", 4) == -1, "not longer than max");
	return done();
}
