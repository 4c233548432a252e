/* SPDX-License-Identifier: ISC */
/*
 * ctl.c: the control socket of run, serve and spy, and its clients. See
 * ctl.h. No I/O but the socket's own, never blocking; no printing.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

/*
 * The directory of the control sockets: $XDG_RUNTIME_DIR/ipcrun (the
 * runtime directory is the user's, 0700, by its specification), else
 * /tmp/ipcrun-UID. Made 0700 if missing; in either case it must be a
 * directory, not a link, ours, and closed to others, or someone else
 * could replace our sockets. Returns 0, or -1 with err set.
 */
int
ctl_dir(char *buf, size_t len, char *err, size_t errlen)
{
	const char	*rt = getenv("XDG_RUNTIME_DIR");
	struct stat	 st;
	int		 n;

	if (rt != NULL && *rt == '/')
		n = snprintf(buf, len, "%s/ipcrun", rt);
	else
		n = snprintf(buf, len, "/tmp/ipcrun-%lu",
		    (unsigned long)geteuid());
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "control directory: path too long");
		return -1;
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "control directory '%s': %s", buf,
		    strerror(errno));
		return -1;
	}
	if (lstat(buf, &st) == -1) {
		snprintf(err, errlen, "control directory '%s': %s", buf,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "control directory '%s': not a "
		    "directory", buf);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "control directory '%s': owned by uid "
		    "%lu, not by us (%lu)", buf, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "control directory '%s': mode %03o, "
		    "must be 0700", buf, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

/* DIR/NAME.sock, for a name that is one path component. */
int
ctl_default_path(const char *name, char *buf, size_t len, char *err,
    size_t errlen)
{
	char	dir[200];
	int	n;

	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL ||
	    strlen(name) > CTL_NAMEMAX) {
		snprintf(err, errlen, "name '%s' cannot name a control socket "
		    "(a '/', a leading '.', or more than %d bytes)", name,
		    CTL_NAMEMAX);
		return -1;
	}
	if (ctl_dir(dir, sizeof dir, err, errlen) == -1)
		return -1;
	n = snprintf(buf, len, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "control socket path too long");
		return -1;
	}
	return 0;
}

void
ctl_init(struct ctl *c)
{
	size_t	i;

	memset(c, 0, sizeof *c);
	c->lfd = -1;
	for (i = 0; i < CTL_MAXCLIENTS; i++)
		c->c[i].fd = -1;
}

/*
 * Listen on spec (an address: unix:PATH or unix:@NAME), 0600. Returns
 * the listening fd, or -1 with err set.
 */
int
ctl_listen(struct ctl *c, const char *spec, char *err, size_t errlen)
{
	char	why[256];

	if (addr_parse(&c->a, spec, why, sizeof why) == -1) {
		snprintf(err, errlen, "'%s': %s", spec, why);
		return -1;
	}
	if (c->a.kind != ADDR_UNIX) {
		snprintf(err, errlen, "'%s': a control socket is a unix: "
		    "address", spec);
		return -1;
	}
	if ((c->lfd = addr_listen(&c->a, 0600, why, sizeof why)) == -1) {
		snprintf(err, errlen, "'%s': %s", spec, why);
		return -1;
	}
	strlcpy(c->name, spec, sizeof c->name);
	return c->lfd;
}

/* Every client goes, and the socket with its path, if ours. */
void
ctl_close(struct ctl *c)
{
	size_t	i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		if (c->c[i].fd != -1)
			ctl_drop(c, &c->c[i]);
	}
	if (c->lfd != -1) {
		close(c->lfd);
		c->lfd = -1;
		addr_unlink(&c->a);
	}
}

/*
 * One peer from the listening socket. Returns its slot's index, or -1:
 * nobody was there (*why NULL), or the peer was refused and closed, *why
 * saying why and p who it was (p->known).
 */
int
ctl_accept(struct ctl *c, struct addr_peer *p, const char **why)
{
	struct ctl_client	*cl;
	int			 fd;
	size_t			 i;

	*why = NULL;
	memset(p, 0, sizeof *p);
	if ((fd = addr_accept(c->lfd)) == -1)
		return -1;
	if (addr_peer(fd, p) == -1 || !p->known) {
		*why = "its uid cannot be known";
		goto refuse;
	}
	if (!addr_peer_allowed(p, NULL, 0)) {
		*why = "another uid";
		goto refuse;
	}
	for (i = 0; i < CTL_MAXCLIENTS && c->c[i].fd != -1; i++)
		;
	if (i == CTL_MAXCLIENTS) {
		*why = "too many clients";
		goto refuse;
	}
	cl = &c->c[i];
	memset(cl, 0, sizeof *cl);
	if (buf_init(&cl->in, 4096) == -1 || buf_init(&cl->out, 4096) == -1) {
		buf_release(&cl->in);
		*why = "out of memory";
		goto refuse;
	}
	cl->fd = fd;
	return (int)i;
refuse:
	c->refused++;
	close(fd);
	return -1;
}

/*
 * A connection ipcrun made itself (one end of a socket pair, for run's
 * REPL): a client like an accepted one, with no peer to check, served
 * with or without a listening socket. Returns its slot's index, or -1
 * (no slot, no memory; fd is still the caller's).
 */
int
ctl_adopt(struct ctl *c, int fd)
{
	struct ctl_client	*cl;
	size_t			 i;

	for (i = 0; i < CTL_MAXCLIENTS && c->c[i].fd != -1; i++)
		;
	if (i == CTL_MAXCLIENTS)
		return -1;
	cl = &c->c[i];
	memset(cl, 0, sizeof *cl);
	if (buf_init(&cl->in, 4096) == -1 || buf_init(&cl->out, 4096) == -1) {
		buf_release(&cl->in);
		return -1;
	}
	cl->fd = fd;
	return (int)i;
}

/*
 * Read what the client sent, up to CTL_REQMAX bytes not yet taken.
 * Returns 1 (progress), 0 (its end closed) or -1 (an error: drop it).
 */
int
ctl_read(struct ctl *c, struct ctl_client *cl)
{
	ssize_t	n;

	(void)c;
	if (cl->eof || cl->in.len >= CTL_REQMAX)
		return 1;
	if (buf_reserve(&cl->in, 65536) == -1)
		return -1;
	do
		n = read(cl->fd, cl->in.p + cl->in.off + cl->in.len,
		    CTL_REQMAX - cl->in.len < cl->in.cap - cl->in.off -
		    cl->in.len ? CTL_REQMAX - cl->in.len :
		    cl->in.cap - cl->in.off - cl->in.len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 1 : -1;
	if (n == 0) {
		cl->eof = 1;
		return 0;
	}
	cl->in.len += (size_t)n;
	return 1;
}

/* The next whole request line, without its newline: 1, or 0 for none. */
int
ctl_next(struct ctl_client *cl, const char **p, size_t *n)
{
	const char	*b = cl->in.p + cl->in.off, *nl;

	if (cl->in.len == 0 ||
	    (nl = memchr(b, '\n', cl->in.len)) == NULL)
		return 0;
	*p = b;
	*n = (size_t)(nl - b);
	return 1;
}

/*
 * No more is read from the client (a request too long): what it sent is
 * dropped, and it goes once its replies are out.
 */
void
ctl_shut(struct ctl_client *cl)
{
	buf_consume(&cl->in, cl->in.len);
	cl->eof = 1;
	(void)shutdown(cl->fd, SHUT_RD);
}

/* The line ctl_next gave (n bytes) and its newline are done. */
void
ctl_consumed(struct ctl_client *cl, size_t n)
{
	buf_consume(&cl->in, n + 1);
}

/* A reply: queued whole, or -1 if the client's queue is full. */
int
ctl_put(struct ctl_client *cl, const char *p, size_t n)
{
	if (cl->out.len + n > CTL_OUTMAX) {
		errno = ENOBUFS;
		return -1;
	}
	return buf_append(&cl->out, p, n);
}

/*
 * A tap or events line: {"id":N then body (which goes on from there:
 * ,"event":...}\n), queued whole, or dropped and counted when the client
 * lags (its queue is full). A count not told yet goes first, once there
 * is room, as {"id":N,"event":"dropped","count":C}.
 */
int
ctl_put_event(struct ctl *c, struct ctl_client *cl, int id, const char *body,
    size_t n)
{
	char	note[96], head[32];
	int	k, h;

	if (cl->dropped > cl->said) {
		k = snprintf(note, sizeof note, "{\"id\":%d,\"event\":"
		    "\"dropped\",\"count\":%llu}\n", id,
		    (unsigned long long)cl->dropped);
		if (cl->out.len + (size_t)k + n <= CTL_OUTMAX &&
		    buf_append(&cl->out, note, (size_t)k) == 0)
			cl->said = cl->dropped;
	}
	h = snprintf(head, sizeof head, "{\"id\":%d", id);
	if (cl->out.len + (size_t)h + n > CTL_OUTMAX ||
	    buf_reserve(&cl->out, (size_t)h + n) == -1) {
		cl->dropped++;
		c->dropped++;
		return -1;
	}
	(void)buf_append(&cl->out, head, (size_t)h);
	(void)buf_append(&cl->out, body, n);
	return 0;
}

/* Write what is queued: 1 (progress or nothing to do), or -1: drop it. */
int
ctl_write(struct ctl_client *cl)
{
	ssize_t	n;

	while (cl->out.len > 0) {
		n = send(cl->fd, cl->out.p + cl->out.off, cl->out.len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? 1 : -1;
		buf_consume(&cl->out, (size_t)n);
	}
	return 1;
}

void
ctl_drop(struct ctl *c, struct ctl_client *cl)
{
	if (cl->fd == -1)
		return;
	ctl_untap(c, cl);
	if (cl->events)
		c->nevents--;
	close(cl->fd);
	buf_release(&cl->in);
	buf_release(&cl->out);
	memset(cl, 0, sizeof *cl);
	cl->fd = -1;
}

/*
 * The client taps (request id) every child (all), or those of idx[0..n)
 * among nchild.
 */
int
ctl_tap(struct ctl *c, struct ctl_client *cl, int id, size_t nchild,
    const unsigned *idx, size_t n)
{
	size_t	i;

	ctl_untap(c, cl);
	if (n > 0) {
		if ((cl->tapset = calloc(nchild, 1)) == NULL)
			return -1;
		cl->ntapset = nchild;
		for (i = 0; i < n; i++) {
			if (idx[i] < nchild)
				cl->tapset[idx[i]] = 1;
		}
	} else
		cl->tapall = 1;
	cl->tap = id;
	c->ntap++;
	return 0;
}

void
ctl_untap(struct ctl *c, struct ctl_client *cl)
{
	if (!cl->tapall && cl->tapset == NULL)
		return;
	free(cl->tapset);
	cl->tapset = NULL;
	cl->ntapset = 0;
	cl->tapall = 0;
	cl->tap = 0;
	c->ntap--;
}

/* Does the client tap the child of index idx? */
int
ctl_taps(const struct ctl_client *cl, size_t idx)
{
	if (cl->fd == -1)
		return 0;
	if (cl->tapall)
		return 1;
	return cl->tapset != NULL && idx < cl->ntapset && cl->tapset[idx];
}

/* The client is streamed the events, as replies to request id. */
void
ctl_subscribe(struct ctl *c, struct ctl_client *cl, int id)
{
	if (!cl->events)
		c->nevents++;
	cl->events = 1;
	cl->evid = id;
}

/* The client on descriptor fd, or NULL. */
struct ctl_client *
ctl_client_of(struct ctl *ctl, int fd)
{
	size_t	i;

	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		if (ctl->c[i].fd == fd)
			return &ctl->c[i];
	}
	return NULL;
}

/*
 * What poll said of a client: its replies and events written out, its
 * requests read in. -1 when it must go (a request too long, a broken
 * connection): the caller takes it out of its poll set and drops it.
 */
int
ctl_io(struct ctl *ctl, struct ctl_client *cl, short revents)
{
	if ((revents & POLLOUT) && ctl_write(cl) == -1)
		return -1;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && ctl_read(ctl, cl) == -1)
		return -1;
	return 0;
}
