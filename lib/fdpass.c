/* SPDX-License-Identifier: ISC */
/*
 * Descriptor passing over AF_UNIX stream sockets (SCM_RIGHTS): at most one
 * fd per sendmsg, riding with at least one byte; received fds are CLOEXEC
 * from birth and surplus ones are closed. Also the send-fd header and the
 * kinds of descriptor a Node peer accepts.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fdpass.h"

/* Room for this many fds in one message: more are closed, not lost. */
#define FDPASS_CMSG_FDS	8

/*
 * Send len bytes (at least one when fd is not -1) and fd with them.
 * Returns the bytes sent (the fd went with them), or -1 with errno. The
 * caller still owns fd.
 */
ssize_t
fdpass_send(int sock, const void *p, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 r;

	if (fd != -1 && len == 0) {
		/* A zero-byte sendmsg carries no fd at all. */
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof msg);
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof cm);
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof cm.buf;
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	return r;
}

/*
 * Receive up to len bytes and at most one fd (*fdp, CLOEXEC, or -1).
 * Never use read() on a socket that may carry fds: it drops them. Extra
 * fds that came with the same bytes are closed and FDPASS_SURPLUS is set
 * in *flags; FDPASS_CTRUNC says the kernel had to drop some (so the one
 * kept may not be the one meant), FDPASS_BADCMSG that a control message
 * had a length that is not a whole number of fds. Returns the bytes read
 * (0 at EOF), or -1 with errno; *fdp is -1 unless bytes were read.
 */
ssize_t
fdpass_recv(int sock, void *p, size_t len, int *fdp, unsigned *flags)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(FDPASS_CMSG_FDS * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd;

	*fdp = -1;
	*flags = 0;
	memset(&msg, 0, sizeof msg);
	iov.iov_base = p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	*flags = fdpass_take(&msg, &fd, &n, 1);
	if (n == 1)
		*fdp = fd;
	return r;
}

/*
 * The fds a message received with recvmsg carried, appended to fds (*n
 * held, room for max): once it is full the others are closed, never
 * leaked. Returns the FDPASS_* flags for what went wrong: SURPLUS for
 * fds closed so, CTRUNC when the kernel dropped some, BADCMSG for a
 * control message whose length is not a whole number of fds.
 */
unsigned
fdpass_take(struct msghdr *msg, int *fds, size_t *n, size_t max)
{
	struct cmsghdr	*c;
	size_t		 k, i, datalen;
	unsigned	 flags = 0;
	int		 fd;

	if (msg->msg_flags & MSG_CTRUNC)
		flags |= FDPASS_CTRUNC;
	for (c = CMSG_FIRSTHDR(msg); c != NULL;
	    c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		datalen = c->cmsg_len - CMSG_LEN(0);
		if (datalen % sizeof(int) != 0)
			flags |= FDPASS_BADCMSG;
		k = datalen / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			if (*n < max)
				fds[(*n)++] = fd;
			else {
				close(fd);
				flags |= FDPASS_SURPLUS;
			}
		}
	}
	return flags;
}

/* What kind of file fd is, in the terms Node's handle passing uses. */
int
fdpass_kind(int fd)
{
	struct stat	st;
	socklen_t	len;
	int		domain, type;

	if (fstat(fd, &st) == -1)
		return -1;
	if (S_ISREG(st.st_mode))
		return FDPASS_FILE;
	if (S_ISDIR(st.st_mode))
		return FDPASS_DIR;
	if (S_ISFIFO(st.st_mode))
		return FDPASS_FIFO;
	if (S_ISCHR(st.st_mode))
		return isatty(fd) ? FDPASS_TTY : FDPASS_CHR;
	if (S_ISBLK(st.st_mode))
		return FDPASS_BLK;
	if (!S_ISSOCK(st.st_mode))
		return FDPASS_OTHER;
	len = sizeof domain;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
		return -1;
	len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return -1;
	if (domain == AF_INET || domain == AF_INET6) {
		if (type == SOCK_STREAM)
			return FDPASS_TCP;
		if (type == SOCK_DGRAM)
			return FDPASS_UDP;
	} else if (domain == AF_UNIX) {
		if (type == SOCK_STREAM)
			return FDPASS_UNIX_STREAM;
		if (type == SOCK_DGRAM)
			return FDPASS_UNIX_DGRAM;
		if (type == SOCK_SEQPACKET)
			return FDPASS_UNIX_SEQPACKET;
	}
	return FDPASS_SOCKET;
}

const char *
fdpass_kind_name(int kind)
{
	static const char *const names[] = {
		[FDPASS_FILE] = "regular file",
		[FDPASS_DIR] = "directory",
		[FDPASS_FIFO] = "FIFO",
		[FDPASS_TTY] = "tty",
		[FDPASS_CHR] = "character device",
		[FDPASS_BLK] = "block device",
		[FDPASS_TCP] = "TCP socket",
		[FDPASS_UDP] = "UDP socket",
		[FDPASS_UNIX_STREAM] = "unix stream socket",
		[FDPASS_UNIX_DGRAM] = "unix datagram socket",
		[FDPASS_UNIX_SEQPACKET] = "unix seqpacket socket",
		[FDPASS_SOCKET] = "socket",
		[FDPASS_OTHER] = "file",
	};

	if (kind < 0 || (size_t)kind >= sizeof names / sizeof names[0] ||
	    names[kind] == NULL)
		return "unknown";
	return names[kind];
}

/*
 * Would a Node peer take this kind as a handle? Node classifies the fd
 * itself: TCP, UDP, AF_UNIX stream and FIFOs are accepted; a regular
 * file, tty or character device makes it abort, other sockets are NACKed
 * and block every later handle (NODE-IPC.md section 5).
 */
int
fdpass_node_accepts(int kind)
{
	return kind == FDPASS_TCP || kind == FDPASS_UDP ||
	    kind == FDPASS_UNIX_STREAM || kind == FDPASS_FIFO;
}

/*
 * Parse a send-fd header line, {"fds":N,"names":[...]} (members in any
 * order, unknown ones ignored, names optional). Returns 0, or -1 with
 * *cause. On success the caller frees h with fdpass_header_release.
 */
int
fdpass_header_parse(struct fdpass_header *h, const char *p, size_t len,
    const char **cause)
{
	json_t		*root, *v, *name;
	json_error_t	 jerr;
	json_int_t	 n;
	size_t		 i;

	memset(h, 0, sizeof *h);
	if ((root = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		*cause = "the header is not valid JSON";
		return -1;
	}
	if (!json_is_object(root)) {
		*cause = "the header is not a JSON object";
		goto fail;
	}
	v = json_object_get(root, "fds");
	if (v == NULL || !json_is_integer(v)) {
		*cause = "the header has no \"fds\" count";
		goto fail;
	}
	n = json_integer_value(v);
	if (n < 0 || n > FDPASS_MAX) {
		*cause = "the header's \"fds\" is not from 0 to 253";
		goto fail;
	}
	h->nfds = (size_t)n;
	if ((v = json_object_get(root, "names")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) != h->nfds) {
			*cause = "the header's \"names\" is not an array of "
			    "one string per descriptor";
			goto fail;
		}
		if ((h->names = calloc(h->nfds + 1, sizeof *h->names)) ==
		    NULL) {
			*cause = "out of memory";
			goto fail;
		}
		for (i = 0; i < h->nfds; i++) {
			name = json_array_get(v, i);
			if (!json_is_string(name)) {
				*cause = "the header's \"names\" is not an "
				    "array of one string per descriptor";
				goto fail;
			}
			if ((h->names[i] = strdup(json_string_value(name))) ==
			    NULL) {
				*cause = "out of memory";
				goto fail;
			}
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	fdpass_header_release(h);
	return -1;
}

void
fdpass_header_release(struct fdpass_header *h)
{
	size_t	i;

	if (h->names != NULL) {
		for (i = 0; i < h->nfds && h->names[i] != NULL; i++)
			free(h->names[i]);
		free(h->names);
	}
	h->names = NULL;
	h->nfds = 0;
}

/*
 * The header line for nfds descriptors and optional names, with its
 * newline. Returns a string the caller frees, or NULL with errno.
 */
char *
fdpass_header_format(size_t nfds, char *const *names)
{
	json_t	*root, *arr = NULL;
	char	*s, *line;
	size_t	 i, n;

	if ((root = json_object()) == NULL)
		goto nomem;
	if (json_object_set_new(root, "fds", json_integer((json_int_t)nfds))
	    == -1)
		goto nomem;
	if (names != NULL) {
		if ((arr = json_array()) == NULL ||
		    json_object_set_new(root, "names", arr) == -1)
			goto nomem;
		for (i = 0; i < nfds; i++) {
			json_t	*js = json_string(names[i]);

			if (js == NULL) {
				/* Not UTF-8: jansson refuses it. */
				json_decref(root);
				errno = EILSEQ;
				return NULL;
			}
			if (json_array_append_new(arr, js) == -1)
				goto nomem;
		}
	}
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		goto nomem_noroot;
	n = strlen(s);
	if ((line = malloc(n + 2)) != NULL) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = '\0';
	}
	free(s);
	if (line == NULL)
		goto nomem_noroot;
	return line;
nomem:
	json_decref(root);
nomem_noroot:
	errno = ENOMEM;
	return NULL;
}

/*
 * A header's "msg" (send-fd --msg): one JSON value on one line, as the
 * header is one line, of at most max bytes. 0, or -1.
 */
int
fdpass_msg_check(const char *m, size_t max)
{
	json_t	*js;

	if (strlen(m) > max || strpbrk(m, "\r\n") != NULL ||
	    (js = json_loads(m, JSON_DECODE_ANY, NULL)) == NULL)
		return -1;
	json_decref(js);
	return 0;
}

/*
 * The header h (from fdpass_header_format, which this frees) with
 * "msg":msg after its other members, msg's text as given, for ipcrun
 * child's IPCRUN_HANDLE_SOCK (the message of a Node handle). Returns
 * the new header, or NULL with errno.
 */
char *
fdpass_header_add_msg(char *h, const char *msg)
{
	char	*out;
	size_t	 n = strlen(h);

	/* h ends in "}\n". */
	if (n < 2 || asprintf(&out, "%.*s,\"msg\":%s}\n", (int)(n - 2), h,
	    msg) == -1)
		out = NULL;
	free(h);
	return out;
}
