/* SPDX-License-Identifier: ISC */
/*
 * Socket addresses in one syntax for every command (unix:PATH, unix:@NAME,
 * tcp:HOST:PORT, fd:N, a bare path), and listening and connecting on them.
 * Every socket is CLOEXEC and non-blocking from birth; a listening unix
 * socket never replaces a live one or a file that is not a socket.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"

#define ADDR_PATHMAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define ADDR_TMPROOM	12	/* ".PID.tmp" beside a listening path */

static int __attribute__((format(printf, 3, 4)))
addr_bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/*
 * Parse s into a. Returns 0, or -1 with a one-line reason in err naming
 * the part that is wrong.
 */
int
addr_parse(struct addr *a, const char *s, char *err, size_t errlen)
{
	const char	*p, *colon, *host, *port;
	char		*end;
	size_t		 hostlen, n;
	long		 v;

	memset(a, 0, sizeof *a);
	a->fd = -1;
	if (*s == '\0')
		return addr_bad(err, errlen, "empty address");

	/* A scheme is letters before the first ':' with no '/' before it. */
	for (p = s; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9'); p++)
		;
	if (*p != ':' || p == s) {
		/* A bare path. */
		a->kind = ADDR_UNIX;
		p = s;
		goto unixpath;
	}
	n = (size_t)(p - s);
	if (n == 4 && strncmp(s, "unix", 4) == 0) {
		a->kind = ADDR_UNIX;
		p++;
		goto unixpath;
	}
	if (n == 2 && strncmp(s, "fd", 2) == 0) {
		a->kind = ADDR_FD;
		p++;
		if (*p < '0' || *p > '9')
			return addr_bad(err, errlen,
			    "descriptor '%s' is not a number", p);
		errno = 0;
		v = strtol(p, &end, 10);
		if (*end != '\0' || errno != 0 || v > INT_MAX)
			return addr_bad(err, errlen,
			    "descriptor '%s' is not a number from 0 to 2147483647",
			    p);
		a->fd = (int)v;
		return 0;
	}
	if (n == 3 && strncmp(s, "tcp", 3) == 0) {
		a->kind = ADDR_TCP;
		p++;
		if (*p == '[') {
			host = p + 1;
			if ((colon = strchr(host, ']')) == NULL)
				return addr_bad(err, errlen,
				    "host '%s' lacks its closing ']'", p);
			hostlen = (size_t)(colon - host);
			colon++;
			if (*colon != ':')
				return addr_bad(err, errlen,
				    "'%s' after ']' is not ':PORT'", colon);
			if (hostlen == 0 || memchr(host, ':', hostlen) == NULL)
				return addr_bad(err, errlen,
				    "'%s' in brackets is not an IPv6 address",
				    p);
		} else {
			host = p;
			if ((colon = strrchr(p, ':')) == NULL)
				return addr_bad(err, errlen,
				    "'%s' lacks ':PORT'", p);
			hostlen = (size_t)(colon - host);
			if (memchr(host, ':', hostlen) != NULL)
				return addr_bad(err, errlen,
				    "IPv6 host in '%s' needs brackets, as in "
				    "tcp:[::1]:PORT", p);
		}
		if (hostlen == 0)
			return addr_bad(err, errlen, "host is missing in '%s'",
			    p);
		if (hostlen >= sizeof a->host)
			return addr_bad(err, errlen, "host in '%s' is too long",
			    p);
		port = colon + 1;
		if (*port < '0' || *port > '9')
			return addr_bad(err, errlen,
			    "port '%s' is not a number from 0 to 65535", port);
		errno = 0;
		v = strtol(port, &end, 10);
		if (*end != '\0' || errno != 0 || v > 65535 || end - port > 5)
			return addr_bad(err, errlen,
			    "port '%s' is not a number from 0 to 65535", port);
		memcpy(a->host, host, hostlen);
		a->host[hostlen] = '\0';
		a->port = (int)v;
		return 0;
	}
	snprintf(err, errlen, "unknown address type '%.*s:' (use unix:, tcp: "
	    "or fd:, or ./ before a path with ':')", (int)(n > 32 ? 32 : n), s);
	errno = EINVAL;
	return -1;

unixpath:
	if (*p == '@') {
		a->abstract = 1;
		p++;
		if (*p == '\0')
			return addr_bad(err, errlen, "abstract name is empty");
	} else if (*p == '\0')
		return addr_bad(err, errlen, "socket path is empty");
	if ((n = strlen(p)) > ADDR_PATHMAX - a->abstract) {
		snprintf(err, errlen, "socket path is too long (%zu bytes, at "
		    "most %zu)", n, ADDR_PATHMAX - a->abstract);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a->path, p, n + 1);
	return 0;
}

static socklen_t
addr_sun(const struct addr *a, const char *path, struct sockaddr_un *sun)
{
	size_t	n = strlen(path);

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (a->abstract) {
		/* Abstract: a NUL first, and the length says where it ends. */
		memcpy(sun->sun_path + 1, path, n);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    1 + n);
	}
	memcpy(sun->sun_path, path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static int
addr_fail(char *err, size_t errlen, const char *what)
{
	int	saved = errno;

	snprintf(err, errlen, "%s: %s", what, strerror(saved));
	errno = saved;
	return -1;
}

/* Wait for a non-blocking connect to finish. */
static int
addr_connect_wait(int fd)
{
	struct pollfd	pfd;
	socklen_t	len = sizeof(int);
	int		soerr, r;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		r = poll(&pfd, 1, -1);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int
addr_connect_sa(int family, const struct sockaddr *sa, socklen_t len)
{
	int	fd, saved;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, sa, len) == -1 &&
	    (errno != EINPROGRESS || addr_connect_wait(fd) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Take an inherited descriptor: a socket, listening or not as wanted. */
static int
addr_take_fd(const struct addr *a, int listening, char *err, size_t errlen)
{
	socklen_t	len = sizeof(int);
	int		acc, flags;

	if (fcntl(a->fd, F_GETFD) == -1)
		return addr_fail(err, errlen, "descriptor");
	if (getsockopt(a->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
		return addr_fail(err, errlen, "descriptor");
	if (!acc != !listening) {
		snprintf(err, errlen, "descriptor %s a listening socket",
		    acc ? "is" : "is not");
		errno = EINVAL;
		return -1;
	}
	/* Ours now: it must not leak into the children we start. */
	if (fcntl(a->fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (flags = fcntl(a->fd, F_GETFL)) == -1 ||
	    fcntl(a->fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return addr_fail(err, errlen, "descriptor");
	return a->fd;
}

/*
 * Connect to a. Returns the socket, or -1 with errno and a reason in err.
 */
int
addr_connect(const struct addr *a, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res, *ai;
	char			 port[8];
	int			 fd = -1, r, saved = 0;

	switch (a->kind) {
	case ADDR_FD:
		return addr_take_fd(a, 0, err, errlen);
	case ADDR_UNIX:
		fd = addr_connect_sa(AF_UNIX, (struct sockaddr *)&sun,
		    addr_sun(a, a->path, &sun));
		return fd == -1 ? addr_fail(err, errlen, "connect") : fd;
	default:
		break;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", a->port);
	if ((r = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "host '%s': %s", a->host,
		    gai_strerror(r));
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = addr_connect_sa(ai->ai_family, ai->ai_addr,
		    ai->ai_addrlen)) != -1)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = saved;
		return addr_fail(err, errlen, "connect");
	}
	return fd;
}

/*
 * Does a listening unix socket have the file st names? Asked of the
 * kernel (sock_diag, as ss -xl does) so that nobody connects: a probe by
 * connect would be taken by a one-peer listener for its peer and end its
 * session. 1 yes, 0 no, -1 when the kernel cannot say.
 */
static int
addr_listening_diag(const struct stat *st)
{
	struct {
		struct nlmsghdr		nlh;
		struct unix_diag_req	req;
	} q;
	struct sockaddr_nl	 nl;
	struct nlmsghdr		*h;
	struct unix_diag_msg	*m;
	struct rtattr		*rta;
	struct unix_diag_vfs	 vfs;
	char			 buf[16384];
	ssize_t			 n;
	int			 fd, found = 0, done = 0, len;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&q, 0, sizeof q);
	q.nlh.nlmsg_len = sizeof q;
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = 1 << 10;	/* TCP_LISTEN */
	q.req.udiag_show = UDIAG_SHOW_VFS;
	memset(&nl, 0, sizeof nl);
	nl.nl_family = AF_NETLINK;
	if (sendto(fd, &q, sizeof q, 0, (struct sockaddr *)&nl,
	    sizeof nl) == -1) {
		close(fd);
		return -1;
	}
	while (!done) {
		if ((n = recv(fd, buf, sizeof buf, 0)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				close(fd);
				return -1;
			}
			m = NLMSG_DATA(h);
			len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
			for (rta = (struct rtattr *)(m + 1); RTA_OK(rta, len);
			    rta = RTA_NEXT(rta, len)) {
				if (rta->rta_type != UNIX_DIAG_VFS ||
				    RTA_PAYLOAD(rta) < sizeof vfs)
					continue;
				memcpy(&vfs, RTA_DATA(rta), sizeof vfs);
				/* The kernel's dev_t: major << 20 | minor. */
				if (vfs.udiag_vfs_ino == st->st_ino &&
				    vfs.udiag_vfs_dev >> 20 ==
				    major(st->st_dev) &&
				    (vfs.udiag_vfs_dev & 0xfffff) ==
				    minor(st->st_dev))
					found = 1;
			}
		}
	}
	close(fd);
	return found;
}

/*
 * Is a socket at path being listened on? 1 yes, 0 no (stale), -1 error.
 * The kernel is asked first; only a socket it does not know of listening
 * (or a kernel that cannot say) is probed by connecting, since a file
 * system such as overlayfs may show an inode other than the kernel's.
 */
static int
addr_live(const struct addr *a, const struct stat *st)
{
	struct sockaddr_un	sun;
	int			fd;

	if (addr_listening_diag(st) == 1)
		return 1;
	fd = addr_connect_sa(AF_UNIX, (struct sockaddr *)&sun,
	    addr_sun(a, a->path, &sun));
	if (fd != -1) {
		close(fd);
		return 1;
	}
	/* EAGAIN: the backlog is full, so somebody does listen there. */
	if (errno == ECONNREFUSED)
		return 0;
	return errno == EAGAIN ? 1 : -1;
}

static int
addr_listen_unix(struct addr *a, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 tmp[sizeof sun.sun_path];
	mode_t			 old;
	int			 fd, r, live, saved, tries;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return addr_fail(err, errlen, "socket");
	if (a->abstract) {
		if (bind(fd, (struct sockaddr *)&sun,
		    addr_sun(a, a->path, &sun)) == -1 ||
		    listen(fd, SOMAXCONN) == -1)
			goto fail;
		return fd;
	}

	/*
	 * Bind and listen under a temporary name, then link it into place:
	 * link never replaces a file, and the path exists only once it is
	 * listened on, so its existence means "ready" to a waiting peer.
	 */
	if (strlen(a->path) + ADDR_TMPROOM > ADDR_PATHMAX) {
		snprintf(err, errlen, "socket path is too long to listen on "
		    "(%zu bytes, at most %zu)", strlen(a->path),
		    ADDR_PATHMAX - ADDR_TMPROOM);
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", a->path,
	    (long)getpid()) >= (int)sizeof tmp) {
		snprintf(err, errlen, "socket path is too long to listen on");
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	(void)unlink(tmp);	/* left by a dead process with our pid */
	old = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, addr_sun(a, tmp, &sun));
	saved = errno;
	umask(old);
	if (r == -1) {
		errno = saved;
		goto fail;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		goto fail;
	}
	for (tries = 0; link(tmp, a->path) == -1; tries++) {
		saved = errno;
		if (saved != EEXIST || tries > 0 ||
		    lstat(a->path, &st) == -1) {
			(void)unlink(tmp);
			close(fd);
			errno = saved;
			return addr_fail(err, errlen, "bind");
		}
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "exists and is not a socket");
			goto refuse;
		}
		if ((live = addr_live(a, &st)) != 0) {
			if (live == 1)
				snprintf(err, errlen, "a live socket is "
				    "listening there");
			else
				addr_fail(err, errlen, "checking the socket "
				    "there");
			goto refuse;
		}
		/* Stale: nobody listens. Replace it, once. */
		if (unlink(a->path) == -1 && errno != ENOENT) {
			saved = errno;
			(void)unlink(tmp);
			close(fd);
			errno = saved;
			return addr_fail(err, errlen,
			    "removing the stale socket");
		}
	}
	(void)unlink(tmp);
	if (lstat(a->path, &st) == 0) {
		a->dev = st.st_dev;
		a->ino = st.st_ino;
		a->created = 1;
	}
	return fd;

refuse:
	(void)unlink(tmp);
	close(fd);
	errno = EADDRINUSE;
	return -1;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return addr_fail(err, errlen, "bind");
}

/*
 * Listen on a (mode applies to a unix path). Returns the listening socket,
 * or -1 with errno and a reason in err. A path created here is recorded
 * in a, for addr_unlink.
 */
int
addr_listen(struct addr *a, mode_t mode, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[8];
	int		 fd = -1, r, one = 1, saved = 0;

	switch (a->kind) {
	case ADDR_FD:
		return addr_take_fd(a, 1, err, errlen);
	case ADDR_UNIX:
		return addr_listen_unix(a, mode, err, errlen);
	default:
		break;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof port, "%d", a->port);
	if ((r = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "host '%s': %s", a->host,
		    gai_strerror(r));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = saved;
		return addr_fail(err, errlen, "bind");
	}
	return fd;
}

/* Accept one peer: CLOEXEC and non-blocking from birth. */
int
addr_accept(int lfd)
{
	int	fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd == -1 && errno == EINTR);
	return fd;
}

/*
 * Remove the path addr_listen created, if it is still that socket.
 * Only async-signal-safe calls: a signal handler may call it.
 */
void
addr_unlink(struct addr *a)
{
	struct stat	st;

	if (!a->created)
		return;
	a->created = 0;
	if (lstat(a->path, &st) == 0 && st.st_dev == a->dev &&
	    st.st_ino == a->ino)
		(void)unlink(a->path);
}

/*
 * The address socket fd listens on, from a, in the syntax addr_parse
 * reads: for tcp: port 0, the real port. Returns 0, or -1 with errno.
 */
int
addr_name(const struct addr *a, int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl = sizeof ss;
	char			 host[INET6_ADDRSTRLEN];
	size_t			 n;

	if (a->kind == ADDR_UNIX && !a->abstract) {
		/* getsockname would give the temporary name it was bound to. */
		snprintf(buf, len, "unix:%s", a->path);
		return 0;
	}
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	switch (ss.ss_family) {
	case AF_UNIX:
		n = sl > offsetof(struct sockaddr_un, sun_path) ?
		    sl - offsetof(struct sockaddr_un, sun_path) : 0;
		if (n > 0 && sun->sun_path[0] == '\0')
			snprintf(buf, len, "unix:@%.*s", (int)(n - 1),
			    sun->sun_path + 1);
		else
			snprintf(buf, len, "unix:%.*s", (int)n, sun->sun_path);
		return 0;
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, len, "tcp:%s:%u", host, ntohs(sin->sin_port));
		return 0;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "tcp:[%s]:%u", host,
		    ntohs(sin6->sin6_port));
		return 0;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
}

/*
 * Fill p with the credentials of the peer of the connected socket fd.
 * Returns 0 (p->known is 0 for a socket that is not AF_UNIX, which has
 * none), or -1 with errno (ENOTSOCK for a file that is not a socket).
 */
int
addr_peer(int fd, struct addr_peer *p)
{
	struct ucred	cred;
	socklen_t	len = sizeof(int);
	int		domain;

	memset(p, 0, sizeof *p);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
		return -1;
	/*
	 * On other sockets Linux answers SO_PEERCRED too, with uid -1 and
	 * pid 0: that is no answer, not a peer of uid -1.
	 */
	if (domain != AF_UNIX)
		return 0;
	len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	p->known = 1;
	p->uid = cred.uid;
	p->gid = cred.gid;
	p->pid = cred.pid;
	return 0;
}

/*
 * May this peer be served? Our own (effective) uid and root always, and
 * the uids of allow[]; a peer whose credentials are unknown (TCP) is
 * outside the rule and allowed. 1 or 0.
 */
int
addr_peer_allowed(const struct addr_peer *p, const uid_t *allow, size_t n)
{
	size_t	i;

	if (!p->known || p->uid == geteuid() || p->uid == 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (allow[i] == p->uid)
			return 1;
	}
	return 0;
}
