/* SPDX-License-Identifier: ISC */
/*
 * addr_peer and addr_peer_allowed on real sockets: a socketpair's peer is
 * this process; a peer of another uid (run as nobody when the test runs
 * as root) is refused unless allowed; a TCP peer has no credentials and
 * the rule does not apply to it. TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "addr.h"
#include "tap.h"

#define NOBODY	((uid_t)65534)

static void
test_socketpair(void)
{
	struct addr_peer	p;
	uid_t			other = geteuid() == NOBODY ? 4242 : NOBODY;
	int			sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	memset(&p, 0xff, sizeof p);
	is_int(addr_peer(sv[0], &p), 0, "socketpair: addr_peer succeeds");
	is_int(p.known, 1, "socketpair: the peer's credentials are known");
	is_int((int64_t)p.uid, (int64_t)geteuid(), "socketpair: our uid");
	is_int((int64_t)p.gid, (int64_t)getegid(), "socketpair: our gid");
	is_int((int64_t)p.pid, (int64_t)getpid(), "socketpair: our pid");
	is_int(addr_peer_allowed(&p, NULL, 0), 1,
	    "our own uid is allowed without a list");

	/* The policy on its own: root always, others only when listed. */
	p.uid = 0;
	is_int(addr_peer_allowed(&p, NULL, 0), 1, "root is allowed");
	p.uid = other;
	is_int(addr_peer_allowed(&p, NULL, 0), 0,
	    "another uid is refused without a list");
	{
		uid_t	list[] = { 1, other, 7 };
		uid_t	none[] = { 1, 7 };

		is_int(addr_peer_allowed(&p, list, 3), 1,
		    "another uid is allowed when listed");
		is_int(addr_peer_allowed(&p, none, 2), 0,
		    "another uid is refused when not listed");
	}
	close(sv[0]);
	close(sv[1]);
}

/* A peer of uid NOBODY, connecting to an abstract socket: root only. */
static void
test_other_uid(void)
{
	struct sockaddr_un	 sun;
	struct addr_peer	 p;
	socklen_t		 len;
	uid_t			 list[] = { NOBODY };
	pid_t			 pid;
	int			 lfd, fd, st;
	char			 b;

	if (geteuid() != 0) {
		ok(1, "a peer of another uid # SKIP needs root to be nobody");
		return;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1,
	    "ipcrun-addr-test-%ld", (long)getpid()));
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, len) == -1 ||
	    listen(lfd, 1) == -1)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
		    setuid(NOBODY) == -1)
			_exit(2);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, len) == -1 ||
		    read(fd, &b, 1) == -1)
			_exit(3);
		_exit(0);
	}
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		abort();
	is_int(addr_peer(fd, &p), 0, "other uid: addr_peer succeeds");
	is_int(p.known, 1, "other uid: credentials known");
	is_int((int64_t)p.uid, NOBODY, "other uid: the peer's uid");
	is_int((int64_t)p.pid, (int64_t)pid, "other uid: the peer's pid");
	is_int(addr_peer_allowed(&p, NULL, 0), 0,
	    "other uid: refused by default");
	is_int(addr_peer_allowed(&p, list, 1), 1,
	    "other uid: allowed when listed");
	close(fd);
	close(lfd);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
	    "other uid: the child connected as nobody");
}

/* TCP has no SO_PEERCRED: unknown, and the uid rule does not apply. */
static void
test_tcp(void)
{
	struct sockaddr_in	 sin;
	struct addr_peer	 p;
	socklen_t		 len = sizeof sin;
	int			 lfd, cfd, fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(cfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		abort();
	is_int(addr_peer(fd, &p), 0, "tcp: addr_peer succeeds");
	is_int(p.known, 0, "tcp: no credentials");
	is_int(addr_peer_allowed(&p, NULL, 0), 1,
	    "tcp: the uid rule does not apply");
	close(fd);
	close(cfd);
	close(lfd);
}

/* Not a socket: an error with errno, not a peer. */
static void
test_not_socket(void)
{
	struct addr_peer	p;
	int			pfd[2];

	if (pipe2(pfd, O_CLOEXEC) == -1)
		abort();
	errno = 0;
	is_int(addr_peer(pfd[0], &p), -1, "a pipe: -1");
	is_int(errno, ENOTSOCK, "a pipe: ENOTSOCK");
	close(pfd[0]);
	close(pfd[1]);
}

int
main(void)
{
	test_socketpair();
	test_other_uid();
	test_tcp();
	test_not_socket();
	return done();
}
