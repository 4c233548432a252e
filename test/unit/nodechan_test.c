/* SPDX-License-Identifier: ISC */
/*
 * nodechan_channel: the channel variables read and always removed, each
 * refusal with its words, fd and mode as given; nodechan_answer: the
 * answers of a child that holds no sockets, and what it leaves unanswered.
 * TAP.
 */
#include "compat.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame.h"
#include "jscan.h"
#include "nodechan.h"
#include "tap.h"

/* Set (or, for NULL, unset) both variables. */
static void
env(const char *fd, const char *mode)
{
	if (fd != NULL)
		setenv("NODE_CHANNEL_FD", fd, 1);
	else
		unsetenv("NODE_CHANNEL_FD");
	if (mode != NULL)
		setenv("NODE_CHANNEL_SERIALIZATION_MODE", mode, 1);
	else
		unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
}

static int
gone(void)
{
	return getenv("NODE_CHANNEL_FD") == NULL &&
	    getenv("NODE_CHANNEL_SERIALIZATION_MODE") == NULL;
}

static void
refused(const char *fd, const char *mode, const char *want)
{
	struct nodechan_chan	ch;
	char			err[256], what[128];
	int			r;

	env(fd, mode);
	strlcpy(err, "(accepted)", sizeof err);
	r = nodechan_channel(&ch, err, sizeof err);
	snprintf(what, sizeof what, "NODE_CHANNEL_FD '%s', mode '%s' refused",
	    fd, mode ? mode : "(unset)");
	is_str(r == -1 ? err : "(not refused)", want, what);
	ok(gone(), "and both variables removed");
}

static void
channel(void)
{
	struct nodechan_chan	ch;
	char			err[256], num[16];
	int			sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();

	env(NULL, "advanced");
	ok(nodechan_channel(&ch, err, sizeof err) == 1 && gone(),
	    "unset: no channel, and the mode removed too");
	env("", NULL);
	ok(nodechan_channel(&ch, err, sizeof err) == 1 && gone(),
	    "empty: no channel");

	snprintf(num, sizeof num, "%d", sv[0]);
	env(num, NULL);
	ok(nodechan_channel(&ch, err, sizeof err) == 0 && ch.fd == sv[0] &&
	    ch.advanced == 0 && strcmp(ch.text, num) == 0 && gone(),
	    "a socket, no mode: json");
	env(num, "json");
	ok(nodechan_channel(&ch, err, sizeof err) == 0 && ch.advanced == 0,
	    "json");
	env(num, "advanced");
	ok(nodechan_channel(&ch, err, sizeof err) == 0 && ch.fd == sv[0] &&
	    ch.advanced == 1 && gone(), "advanced");

	refused("3x", NULL,
	    "NODE_CHANNEL_FD '3x': not a file descriptor number");
	refused("-1", NULL,
	    "NODE_CHANNEL_FD '-1': not a file descriptor number");
	refused("99999999999", NULL,
	    "NODE_CHANNEL_FD '99999999999': not a file descriptor number");
	refused(num, "Advanced", "NODE_CHANNEL_SERIALIZATION_MODE "
	    "'Advanced': must be json or advanced");
	refused("1000000", NULL,
	    "NODE_CHANNEL_FD '1000000': not an open descriptor");
	snprintf(num, sizeof num, "%d", fd);
	snprintf(err, sizeof err, "NODE_CHANNEL_FD '%d': not a socket", fd);
	refused(num, "json", err);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

static void
answer(void)
{
	static const char	 key[] = "\"k1\"";
	char			 buf[512], big[600];
	size_t			 n;

#define CMD(s)	"\"" s "\"", sizeof "\"" s "\"" - 1
	n = nodechan_answer(CMD("NODE_SOCKET_GET_COUNT"), key, sizeof key - 1,
	    buf, sizeof buf);
	is_str(n > 0 ? buf : "(none)",
	    "{\"cmd\":\"NODE_SOCKET_COUNT\",\"key\":\"k1\",\"count\":0}",
	    "GET_COUNT: none open");
	is_int((int64_t)n, (int64_t)strlen(buf), "with its length");
	n = nodechan_answer(CMD("NODE_SOCKET_NOTIFY_CLOSE"), "7", 1, buf,
	    sizeof buf);
	is_str(n > 0 ? buf : "(none)",
	    "{\"cmd\":\"NODE_SOCKET_ALL_CLOSED\",\"key\":7}",
	    "NOTIFY_CLOSE: all closed, the key as it came");
	n = nodechan_answer("\"NODE_SOCKET_\\u0047ET_COUNT\"", 28, key,
	    sizeof key - 1, buf, sizeof buf);
	ok(n > 0, "the cmd compared decoded (an escaped letter)");
	ok(nodechan_answer(CMD("NODE_CLUSTER"), key, sizeof key - 1, buf,
	    sizeof buf) == 0, "NODE_CLUSTER: no answer");
	ok(nodechan_answer(CMD("NODE_SOCKET_GET_COUNT"), key, 0, buf,
	    sizeof buf) == 0, "no key: no answer");
	memset(big, '1', sizeof big);
	ok(nodechan_answer(CMD("NODE_SOCKET_GET_COUNT"), big, sizeof buf - 80,
	    buf, sizeof buf) == sizeof buf - 80 +
	    strlen("{\"cmd\":\"NODE_SOCKET_COUNT\",\"key\":,\"count\":0}"),
	    "the longest key the buffer holds is answered");
	ok(nodechan_answer(CMD("NODE_SOCKET_GET_COUNT"), big,
	    sizeof buf - 79, buf, sizeof buf) == 0,
	    "a key too long for the buffer: no answer");
#undef CMD
}

/* A Node child's duties: one ACK per handle with an fd, else a NACK. */
static void
duty(void)
{
	char	buf[512];
	size_t	n;

#define CMD(s)	"\"" s "\"", sizeof "\"" s "\"" - 1
	is_int(nodechan_duty(CMD("NODE_HANDLE"), NULL, 0, 1, buf, sizeof buf,
	    &n), NODECHAN_DUTY_ACK, "a handle with an fd: ACK");
	is_str(buf, NODECHAN_ACK, "the ACK's text");
	is_int((int64_t)n, (int64_t)strlen(NODECHAN_ACK), "and its length");
	is_int(nodechan_duty(CMD("NODE_HANDLE"), "\"k\"", 3, 0, buf,
	    sizeof buf, &n), NODECHAN_DUTY_NACK, "a handle without one: NACK");
	is_str(buf, NODECHAN_NACK, "the NACK's text");
	is_int(nodechan_duty(CMD("NODE_SOCKET_GET_COUNT"), "\"k\"", 3, 1, buf,
	    sizeof buf, &n), NODECHAN_DUTY_ANSWER,
	    "GET_COUNT is answered, an fd waiting or not");
	is_str(buf, "{\"cmd\":\"NODE_SOCKET_COUNT\",\"key\":\"k\",\"count\":0}",
	    "none open");
	is_int(nodechan_duty(CMD("NODE_HANDLE_ACK"), NULL, 0, 1, buf,
	    sizeof buf, &n), NODECHAN_DUTY_NONE,
	    "an ACK from the parent: nothing to send, no fd claimed");
	is_int((int64_t)n, 0, "and nothing to send");
	is_int(nodechan_duty(CMD("NODE_CLUSTER"), "1", 1, 0, buf, sizeof buf,
	    &n), NODECHAN_DUTY_NONE, "NODE_CLUSTER: ignored, as Node does");
#undef CMD
}

/* Frames from a Node child, told apart by their top-level cmd. */
static void
classify(void)
{
	static const struct {
		const char		*line;
		enum nodechan_msg	 want;
		const char		*what;
	} t[] = {
		{ "{\"a\":1}\n", NODECHAN_MSG_DATA, "no cmd: data" },
		{ "{\"cmd\":\"go\"}\n", NODECHAN_MSG_DATA,
		    "a cmd of the user's: data" },
		{ "{\"x\":{\"cmd\":\"NODE_HANDLE\"}}\n", NODECHAN_MSG_DATA,
		    "a nested cmd is not Node's" },
		{ "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\"}\n",
		    NODECHAN_MSG_HANDLE, "a handle" },
		{ "{\"cmd\":\"NODE_\\u0048ANDLE\"}\n", NODECHAN_MSG_HANDLE,
		    "a handle, its name escaped" },
		{ "{\"cmd\":\"" NODECHAN_READY "\"}\n", NODECHAN_MSG_READY,
		    "the preload's announcement" },
		{ "{\"cmd\":\"NODE_HANDLE_ACK\"}\n", NODECHAN_MSG_ANSWER,
		    "the answer to a handle ipcrun sent: taken" },
		{ "{\"cmd\":\"NODE_HANDLE_NACK\"}\n", NODECHAN_MSG_ANSWER,
		    "the answer to a handle ipcrun sent: refused" },
		{ "{\"cmd\":\"NODE_SOCKET_COUNT\"}\n", NODECHAN_MSG_OTHER,
		    "another of Node's own: consumed" },
		{ "[\"NODE_HANDLE\"]\n", NODECHAN_MSG_DATA, "not an object" },
	};
	struct frame		f;
	struct frame_line	l;
	size_t			i, n;
	int			key;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (frame_init(&f, 4096, 1) == -1) {
			ok(0, "frame_init");
			return;
		}
		key = jscan_want(&f.js, "cmd", 3);
		n = strlen(t[i].line);
		memcpy(frame_space(&f, &(size_t){ 0 }), t[i].line, n);
		frame_filled(&f, n);
		if (frame_next(&f, &l) != FRAME_GOOD)
			ok(0, "%s: a good frame", t[i].what);
		else
			is_int(nodechan_classify(&f, key, &l), t[i].want,
			    t[i].what);
		frame_release(&f);
	}
}

/* Node's retry of a NACK'd socket, unwrapped to its first frame's. */
static void
unwrap(void)
{
	static const struct {
		const char	*type, *msg;
		int		 want;
		const char	*wtype, *wmsg;
	} t[] = {
		{ "\"net.Native\"", "{\"cmd\":\"NODE_HANDLE\",\"type\":"
		    "\"net.Socket\",\"msg\":{\"a\":[1]},\"key\":\"4:x:0\"}", 1,
		    "\"net.Socket\"", "{\"a\":[1]}" },
		/* A user's own message that looks like one, under another type. */
		{ "\"net.Socket\"", "{\"cmd\":\"NODE_HANDLE\",\"type\":"
		    "\"net.Socket\",\"msg\":1}", 0, NULL, NULL },
		{ "\"net.Native\"", "{\"a\":1}", 0, NULL, NULL },
		{ "\"net.Native\"", "{\"cmd\":\"NODE_HANDLE\",\"msg\":1}", 0,
		    NULL, NULL },
		{ "\"net.Native\"", "[1]", 0, NULL, NULL },
		{ "\"net.Native\"", "{\"cmd\":\"NODE_HANDLE\",\"type\":", 0,
		    NULL, NULL },
	};
	const char	*type, *msg;
	size_t		 tlen, mlen, i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		type = t[i].type;
		msg = t[i].msg;
		tlen = strlen(type);
		mlen = strlen(msg);
		ok(nodechan_unwrap(&type, &tlen, &msg, &mlen) == t[i].want,
		    "unwrap %zu", i);
		if (t[i].want != 1)
			continue;
		ok(tlen == strlen(t[i].wtype) && memcmp(type, t[i].wtype,
		    tlen) == 0, "unwrap %zu: type", i);
		ok(mlen == strlen(t[i].wmsg) && memcmp(msg, t[i].wmsg,
		    mlen) == 0, "unwrap %zu: msg", i);
	}
}

int
main(void)
{
	unwrap();
	channel();
	answer();
	duty();
	classify();
	return done();
}
