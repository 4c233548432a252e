/* SPDX-License-Identifier: ISC */
/*
 * What ipcrun knows of Node's channel: the environment a Node child needs
 * (NODE_CHANNEL_FD, json mode, the drain preload through NODE_OPTIONS),
 * and the internal messages of ipcrun's end-of-input protocol.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "frame.h"
#include "jscan.h"
#include "nodechan.h"

/*
 * The preload as the option that loads it, built by make from
 * share/ipcrun-preload.mjs: a data: URL, percent-encoded, so it holds no
 * quote, backslash or space and needs no escape inside the double quotes.
 */
static const char nodechan_embedded[] = "--import \"data:text/javascript,"
#include "ipcrun-preload.h"
    "\"";

_Static_assert(sizeof nodechan_embedded <= NODECHAN_PRELOAD_MAX,
    "the embedded preload outgrew NODECHAN_PRELOAD_MAX");

extern char **environ;

static int
nodechan_env_is(const char *entry, const char *name)
{
	size_t	n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Variables a child must never inherit from ipcrun's own environment. */
static int
nodechan_env_stale(const char *e, int node)
{
	if (nodechan_env_is(e, "NODE_CHANNEL_FD") ||
	    nodechan_env_is(e, "NODE_CHANNEL_SERIALIZATION_MODE") ||
	    nodechan_env_is(e, NODECHAN_ENV_OPTIONS) ||
	    nodechan_env_is(e, NODECHAN_ENV_CHANNEL))
		return 1;
	return node && nodechan_env_is(e, "NODE_OPTIONS");
}

static char *
nodechan_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
nodechan_strf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r == -1 ? NULL : s;
}

/*
 * Percent-encode s into o (room for len bytes) as a URL path: every byte
 * that a URL takes for syntax (% # ?), that Node's NODE_OPTIONS parser
 * takes for quoting (" \ space), control and non-ASCII bytes. The result
 * needs no escape inside double quotes. Returns its length, or -1.
 */
static ssize_t
nodechan_urlenc(const char *s, char *o, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		  n = 0;
	unsigned char	  c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c <= ' ' || c >= 0x7f || strchr("%#?\"\\", c) != NULL) {
			if (len - n < 4)
				return -1;
			o[n++] = '%';
			o[n++] = hex[c >> 4];
			o[n++] = hex[c & 0xf];
		} else {
			if (len - n < 2)
				return -1;
			o[n++] = (char)c;
		}
	}
	o[n] = '\0';
	return (ssize_t)n;
}

/*
 * The environment of a child: ipcrun's own, without any inherited
 * channel variables. chan_fd >= 0 adds the Node channel; preload, if not
 * NULL, is the option from nodechan_preload, put FIRST in NODE_OPTIONS
 * (Node stops reading NODE_OPTIONS at the first word that is not an
 * option, such as the stray "b" of --title=a\ b), with the user's value
 * kept in NODECHAN_ENV_OPTIONS (absent if NODE_OPTIONS was unset) so that
 * the preload can put it back exactly. ino names ipcrun's channel for the
 * preload. Returns a NULL-terminated array for nodechan_env_free.
 */
char **
nodechan_env(int chan_fd, const char *preload, unsigned long long ino)
{
	char		**env, **ep;
	const char	*user = getenv("NODE_OPTIONS");
	size_t		 n = 0, i = 0;

	for (ep = environ; *ep != NULL; ep++)
		n++;
	if ((env = calloc(n + 6, sizeof *env)) == NULL)
		return NULL;
	for (ep = environ; *ep != NULL; ep++) {
		if (nodechan_env_stale(*ep, preload != NULL))
			continue;
		if ((env[i++] = strdup(*ep)) == NULL)
			goto fail;
	}
	if (chan_fd >= 0) {
		if ((env[i++] = nodechan_strf("NODE_CHANNEL_FD=%d",
		    chan_fd)) == NULL)
			goto fail;
		if ((env[i++] = strdup("NODE_CHANNEL_SERIALIZATION_MODE=json"))
		    == NULL)
			goto fail;
	}
	if (preload != NULL) {
		env[i] = nodechan_strf("NODE_OPTIONS=%s%s%s", preload,
		    user && *user ? " " : "", user ? user : "");
		if (env[i++] == NULL)
			goto fail;
		if (user != NULL && (env[i++] = nodechan_strf("%s=%s",
		    NODECHAN_ENV_OPTIONS, user)) == NULL)
			goto fail;
		if ((env[i++] = nodechan_strf("%s=%llu", NODECHAN_ENV_CHANNEL,
		    ino)) == NULL)
			goto fail;
	}
	env[i] = NULL;
	return env;
fail:
	nodechan_env_free(env);
	return NULL;
}

void
nodechan_env_free(char **env)
{
	char	**ep;

	if (env == NULL)
		return;
	for (ep = env; *ep != NULL; ep++)
		free(*ep);
	free(env);
}

/*
 * The NODE_OPTIONS option that loads the drain preload, into buf (len
 * bytes, NODECHAN_PRELOAD_MAX is enough): --import of the copy embedded
 * in the binary, which needs no file (wherever ipcrun is installed, and
 * under Node's permission model), or of $IPCRUN_PRELOAD as a file: URL.
 * That must be a readable regular file: a directory would pass access()
 * and make Node die with "Cannot find module". Returns 0, or -1 with buf
 * naming the file and *cause saying what is wrong with it.
 */
int
nodechan_preload(char *buf, size_t len, const char **cause)
{
	static const char pre[] = "--import \"file://";
	char		 abs[PATH_MAX];
	const char	*env = getenv("IPCRUN_PRELOAD");
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	*cause = NULL;
	if (env == NULL || *env == '\0') {
		if (len < sizeof nodechan_embedded) {
			*cause = strerror(ENAMETOOLONG);
			return -1;
		}
		memcpy(buf, nodechan_embedded, sizeof nodechan_embedded);
		return 0;
	}
	if ((size_t)snprintf(buf, len, "%s", env) >= len) {
		*cause = strerror(ENAMETOOLONG);
		return -1;
	}
	/* Only a regular file is opened: opening a device can do things. */
	if (stat(env, &st) == -1)
		*cause = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		*cause = strerror(EISDIR);
	else if (!S_ISREG(st.st_mode))
		*cause = "not a regular file";
	else if ((fd = open(env, O_RDONLY | O_CLOEXEC)) == -1)
		*cause = strerror(errno);
	else {
		close(fd);
		if (realpath(env, abs) == NULL)
			*cause = strerror(errno);
		/*
		 * Node's ES module loader takes \ for a path separator even
		 * where it is not one, encoded or not: no URL names the file.
		 */
		else if (strchr(abs, '\\') != NULL)
			*cause = "Node cannot import a path with a backslash";
	}
	if (*cause != NULL)
		return -1;
	/* Absolute, or node would take "dir/x.js" for a package name. */
	if (len < sizeof pre + 1 || (n = nodechan_urlenc(abs,
	    buf + sizeof pre - 1, len - sizeof pre)) == -1) {
		snprintf(buf, len, "%s", env);
		*cause = strerror(ENAMETOOLONG);
		return -1;
	}
	memcpy(buf, pre, sizeof pre - 1);
	memcpy(buf + sizeof pre - 1 + n, "\"", 2);
	return 0;
}

/*
 * Whether the JSON string at span (quotes included) decodes to exactly
 * name. Used on the top-level cmd of a child's internal message.
 */
int
nodechan_cmd_is(const char *span, size_t n, const char *name)
{
	char	out[64];
	ssize_t	r;
	size_t	len = strlen(name);

	if (len >= sizeof out)
		return 0;
	r = jscan_unescape(span, n, out, sizeof out);
	return r >= 0 && (size_t)r == len && memcmp(out, name, len) == 0;
}

/*
 * Is p (n bytes, its newline included) one of ipcrun's own frames? The
 * preload's end of input, and every internal message ipcrun writes
 * itself (always with "cmd" first): the answers to a handle, to socket
 * bookkeeping and to the cluster protocol. Not a NODE_HANDLE frame that
 * carries an input line's message (run --handles): that one is a line.
 * Input lines never are internal messages: validation refuses them.
 */
int
nodechan_own_frame(const char *p, size_t n)
{
	static const char	 pre[] = "{\"cmd\":\"NODE_";
	static const char	 handle[] = "{\"cmd\":\"NODE_HANDLE\",";
	static const char	 cluster[] = "\"msg\":{\"cmd\":\"NODE_CLUSTER\"";

	if (n == sizeof NODECHAN_EOF_LINE - 1 &&
	    memcmp(p, NODECHAN_EOF_LINE, n) == 0)
		return 1;
	if (n < sizeof pre - 1 || memcmp(p, pre, sizeof pre - 1) != 0)
		return 0;
	if (n < sizeof handle - 1 || memcmp(p, handle, sizeof handle - 1) != 0)
		return 1;
	/* A handle frame: ipcrun's own only as a cluster reply. */
	return memmem(p, n, cluster, sizeof cluster - 1) != NULL;
}

/*
 * As a Node child: the channel a Node parent passed in NODE_CHANNEL_FD,
 * and whether NODE_CHANNEL_SERIALIZATION_MODE asks for advanced mode.
 * Both variables are removed from the environment first, whatever they
 * hold (a stale channel variable in a grandchild is a trap: Deno panicked
 * on one). Returns 0 with ch->fd an open socket; 1 when there is no
 * channel (the variable unset or empty); -1 with err saying what is wrong.
 */
int
nodechan_channel(struct nodechan_chan *ch, char *err, size_t len)
{
	const char	*fdstr, *mode, *errstr;
	char		*fdbuf = ch->text, modebuf[64];
	struct stat	 st;
	long long	 n;

	/* Copies: unsetenv may free what getenv returned. */
	fdstr = getenv("NODE_CHANNEL_FD");
	mode = getenv("NODE_CHANNEL_SERIALIZATION_MODE");
	snprintf(fdbuf, sizeof ch->text, "%s", fdstr ? fdstr : "");
	snprintf(modebuf, sizeof modebuf, "%s", mode ? mode : "");
	unsetenv("NODE_CHANNEL_FD");
	unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");

	if (fdbuf[0] == '\0')
		return 1;
	n = strtonum(fdbuf, 0, INT_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(err, len, "NODE_CHANNEL_FD '%s': not a file "
		    "descriptor number", fdbuf);
		return -1;
	}
	if (strcmp(modebuf, "") == 0 || strcmp(modebuf, "json") == 0)
		ch->advanced = 0;
	else if (strcmp(modebuf, "advanced") == 0)
		ch->advanced = 1;
	else {
		snprintf(err, len, "NODE_CHANNEL_SERIALIZATION_MODE '%s': "
		    "must be json or advanced", modebuf);
		return -1;
	}
	if (fstat((int)n, &st) == -1) {
		snprintf(err, len, "NODE_CHANNEL_FD '%s': not an open "
		    "descriptor", fdbuf);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "NODE_CHANNEL_FD '%s': not a socket",
		    fdbuf);
		return -1;
	}
	ch->fd = (int)n;
	return 0;
}

/*
 * The answer of a child that holds none of the parent's sockets to the
 * parent's internal message cmd (its JSON string) with key (a JSON value,
 * or key_len 0 when absent): none are open, and all are closed. Into
 * buf, at most len bytes. Returns the answer's length, or 0 for no answer
 * (others, NODE_CLUSTER say, are ignored as Node ignores them).
 */
size_t
nodechan_answer(const char *cmd, size_t cmd_len, const char *key,
    size_t key_len, char *buf, size_t len)
{
	int	n;

	/* Room for the longest answer around the key, or no answer. */
	if (key_len == 0 || len < 80 || key_len > len - 80)
		return 0;
	if (nodechan_cmd_is(cmd, cmd_len, "NODE_SOCKET_GET_COUNT"))
		n = snprintf(buf, len,
		    "{\"cmd\":\"NODE_SOCKET_COUNT\",\"key\":%.*s,\"count\":0}",
		    (int)key_len, key);
	else if (nodechan_cmd_is(cmd, cmd_len, "NODE_SOCKET_NOTIFY_CLOSE"))
		n = snprintf(buf, len,
		    "{\"cmd\":\"NODE_SOCKET_ALL_CLOSED\",\"key\":%.*s}",
		    (int)key_len, key);
	else
		return 0;
	return n < 0 ? 0 : (size_t)n;
}

/*
 * A good frame from a Node child, by its "cmd" member (key, the scanner's
 * key for it, or -1): the user's data, or one of Node's own messages and
 * which. Only the name decides: Node's own rule (a string starting with
 * NODE_), the handle, and the preload's announcement.
 */
enum nodechan_msg
nodechan_classify(const struct frame *f, int key, const struct frame_line *l)
{
	const char	*span;
	size_t		 n;

	if (key < 0 || f->js.span[key].len == 0)
		return NODECHAN_MSG_DATA;
	span = l->p + f->js.span[key].off;
	n = f->js.span[key].len;
	if (!jscan_node_internal(span, n))
		return NODECHAN_MSG_DATA;
	if (nodechan_cmd_is(span, n, "NODE_HANDLE"))
		return NODECHAN_MSG_HANDLE;
	if (nodechan_cmd_is(span, n, "NODE_HANDLE_ACK") ||
	    nodechan_cmd_is(span, n, "NODE_HANDLE_NACK"))
		return NODECHAN_MSG_ANSWER;
	if (nodechan_cmd_is(span, n, NODECHAN_READY))
		return NODECHAN_MSG_READY;
	return NODECHAN_MSG_OTHER;
}

/*
 * As a Node child: the duty for the parent's internal message cmd (its
 * JSON string) with key (a JSON value, key_len 0 when absent), when
 * have_fd says whether a received fd waits to be claimed. NODE_HANDLE
 * gets exactly one ACK when an fd came for it and a NACK when none did:
 * an unsolicited or a missing answer crashes or stalls a Node parent
 * (NODE-IPC.md section 5). The bookkeeping of a child that holds none of
 * the parent's sockets is nodechan_answer's. What to send goes into buf
 * (len bytes, 80 or more), its length in *n; nothing is sent here.
 */
enum nodechan_duty
nodechan_duty(const char *cmd, size_t cmd_len, const char *key,
    size_t key_len, int have_fd, char *buf, size_t len, size_t *n)
{
	const char	*ans = have_fd ? NODECHAN_ACK : NODECHAN_NACK;

	*n = 0;
	if (nodechan_cmd_is(cmd, cmd_len, "NODE_HANDLE")) {
		if (len <= strlen(ans))
			return NODECHAN_DUTY_NONE;
		*n = strlen(ans);
		memcpy(buf, ans, *n + 1);
		return have_fd ? NODECHAN_DUTY_ACK : NODECHAN_DUTY_NACK;
	}
	if ((*n = nodechan_answer(cmd, cmd_len, key, key_len, buf, len)) > 0)
		return NODECHAN_DUTY_ANSWER;
	return NODECHAN_DUTY_NONE;
}

/*
 * May fd go to a Node child as a handle? Node classifies a received fd
 * itself: a TCP, UDP or unix stream socket, or a FIFO, it takes; a
 * regular file, a terminal or a character device aborts it (a C++ CHECK,
 * SIGABRT), and any other socket it refuses with a NACK that stays at
 * the head of its queue, so that every later handle is refused too
 * (NODE-IPC.md section 5). What it takes is made O_NONBLOCK, on the open
 * file description that the child will share: libuv does not set the
 * flag on a received fd, and a blocking one stalls the child's whole loop
 * (a lost accept race, a slow client). Returns 0, or -1 with *cause.
 */
int
nodechan_fd_check(int fd, const char **cause)
{
	int	kind, fl;

	if ((kind = fdpass_kind(fd)) == -1) {
		*cause = strerror(errno);
		return -1;
	}
	if (!fdpass_node_accepts(kind)) {
		switch (kind) {
		case FDPASS_FILE:
		case FDPASS_TTY:
		case FDPASS_CHR:
		case FDPASS_BLK:
		case FDPASS_DIR:
			*cause = "Node aborts on this kind of descriptor; it "
			    "takes TCP, UDP and unix stream sockets and pipes";
			break;
		default:
			*cause = "Node refuses this kind of descriptor, and "
			    "every handle after it; it takes TCP, UDP and "
			    "unix stream sockets and pipes";
			break;
		}
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)) {
		*cause = strerror(errno);
		return -1;
	}
	return 0;
}

/*
 * The frame that carries a handle: {"cmd":"NODE_HANDLE","type":TYPE,
 * "msg":MSG} and its newline, MSG being msg_len bytes of JSON. Returns
 * its length, or -1 when buf (len bytes) is too small.
 */
int
nodechan_handle_frame(char *buf, size_t len, const char *type,
    const char *msg, size_t msg_len)
{
	int	n;

	n = snprintf(buf, len, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"%s\","
	    "\"msg\":%.*s}\n", type, (int)msg_len, msg);
	if (n < 0 || (size_t)n >= len || msg_len > INT_MAX)
		return -1;
	return n;
}

/*
 * The handle type a Node child is to take fd as: a listening socket is a
 * net.Server, a UDP socket a dgram.Socket, a connected stream socket or a
 * pipe a net.Socket. NULL, with *cause, for what nodechan_fd_check
 * refuses.
 */
const char *
nodechan_handle_type(int fd, const char **cause)
{
	socklen_t	len = sizeof(int);
	int		kind, on = 0;

	if ((kind = fdpass_kind(fd)) == -1) {
		*cause = strerror(errno);
		return NULL;
	}
	switch (kind) {
	case FDPASS_UDP:
		return "dgram.Socket";
	case FDPASS_FIFO:
		return "net.Socket";
	case FDPASS_TCP:
	case FDPASS_UNIX_STREAM:
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1) {
			*cause = strerror(errno);
			return NULL;
		}
		return on ? "net.Server" : "net.Socket";
	}
	*cause = "not a descriptor Node takes as a handle";
	return NULL;
}

/*
 * Node's answer to a NACK for a net.Socket (NODE-IPC.md section 5): it
 * sends the same frame again, up to 3 times, wrapped as
 * {"cmd":"NODE_HANDLE","type":"net.Native","msg":FIRST}, FIRST being
 * {"cmd":"NODE_HANDLE","type":"net.Socket","msg":M[,"key":K]}. Given a
 * handle frame's type and msg (JSON text), point them at FIRST's and
 * return 1; 0 when it is no such frame, or -1 (ENOMEM).
 */
int
nodechan_unwrap(const char **type, size_t *tlen, const char **msg,
    size_t *mlen)
{
	struct jscan	 js;
	char		*copy;
	int		 kcmd, ktype, kmsg, found;

	if (*tlen != 12 || memcmp(*type, "\"net.Native\"", 12) != 0 ||
	    *mlen < 2 || (*msg)[0] != '{')
		return 0;
	if ((copy = malloc(*mlen + 1)) == NULL)
		return -1;
	memcpy(copy, *msg, *mlen);
	copy[*mlen] = '\n';
	jscan_init(&js);
	kcmd = jscan_want(&js, "cmd", 3);
	ktype = jscan_want(&js, "type", 4);
	kmsg = jscan_want(&js, "msg", 3);
	found = jscan_line(&js, copy, *mlen) == JSCAN_GOOD &&
	    js.span[kcmd].len > 0 && nodechan_cmd_is(copy + js.span[kcmd].off,
	    js.span[kcmd].len, "NODE_HANDLE") && js.span[ktype].len > 0 &&
	    js.span[kmsg].len > 0;
	free(copy);
	if (!found)
		return 0;
	/* The copy was byte for byte: its spans are the original's. */
	*type = *msg + js.span[ktype].off;
	*tlen = js.span[ktype].len;
	*msg = *msg + js.span[kmsg].off;
	*mlen = js.span[kmsg].len;
	return 1;
}
