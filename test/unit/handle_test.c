/* SPDX-License-Identifier: ISC */
/*
 * A listening socket handed to a real Node child through lib/chan and
 * lib/nodechan, as ipcrun serve's --handoff server will: the frame with
 * its fd, Node's ACK, the line sent after it held until then (without
 * the hold Node delivers it before the handle), and the child serving a
 * connection on the socket. argv[1]: test/fixtures/handle_child.js. TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "frame.h"
#include "nodechan.h"
#include "tap.h"

#define WAIT_MS	30000	/* for node to start and answer, at the most */

static pid_t
start_node(const char *script, int *chfd)
{
	int	sp[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		if (dup2(sp[1], 3) == -1)
			_exit(127);
		setenv("NODE_CHANNEL_FD", "3", 1);
		setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
		execlp("node", "node", script, (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	(void)fcntl(sp[0], F_SETFL, O_NONBLOCK);
	*chfd = sp[0];
	return pid;
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run the chan until want frames of the child's (not counting its ACKs)
 * are in got, one per line, or the deadline: Node's ACK releases the
 * hold. Returns the frames gathered.
 */
static int
pump(struct chan *ch, char *got, size_t cap, int want, int *acks)
{
	struct frame_line	 l;
	struct pollfd		 pfd;
	int64_t			 end = now_ms() + WAIT_MS;
	size_t			 n = strlen(got);
	int			 have = 0;

	while (have < want && now_ms() < end) {
		(void)chan_flush(ch);
		pfd.fd = ch->fd;
		pfd.events = POLLIN | (ch->full ? POLLOUT : 0);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & POLLOUT)
			chan_writable(ch);
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if (chan_read(ch, 0) <= 0 && errno != EAGAIN)
			break;
		while (frame_next(&ch->rd, &l) == FRAME_GOOD) {
			if (l.len >= 18 && memmem(l.p, l.len,
			    "NODE_HANDLE_ACK", 15) != NULL) {
				++*acks;
				(void)chan_answered(ch);
				continue;
			}
			if (n + l.len + 1 < cap) {
				memcpy(got + n, l.p, l.len);
				n += l.len;
				got[n] = '\0';
			}
			have++;
		}
	}
	return have;
}

int
main(int argc, char **argv)
{
	struct chan		 ch;
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof sin;
	char			 frame[256], got[1024] = "", reply[64];
	const char		*cause, *p;
	int			 lfd, chfd, cfd, n, acks = 0, status;
	unsigned		 port = 0;
	pid_t			 pid;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return 2;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1) {
		ok(0, "a listening socket on loopback");
		return done();
	}
	ok(nodechan_fd_check(lfd, &cause) == 0, "a listening TCP socket may "
	    "go to Node");
	memset(&ch, 0, sizeof ch);
	if ((pid = start_node(argv[1], &chfd)) == -1 ||
	    chan_init(&ch, 4096, 1, 65536) == -1) {
		ok(0, "node started");
		return done();
	}
	chan_open(&ch, chfd, -1);
	n = nodechan_handle_frame(frame, sizeof frame, "net.Server",
	    "\"server\"", 8);
	/* All three at once: the hold alone keeps "b" behind the handle. */
	chan_send(&ch, "\"a\"\n", 4);
	ok(n > 0 && chan_send_fd(&ch, frame, (size_t)n, dup(lfd)) == 0,
	    "the handle frame queued with the socket");
	chan_send(&ch, "\"b\"\n", 4);
	is_int(pump(&ch, got, sizeof got, 3, &acks), 3, "three answers");
	is_int(acks, 1, "Node ACKed the handle, once");
	p = strstr(got, "\"port\":");
	if (p != NULL)
		port = (unsigned)strtoul(p + 7, NULL, 10);
	ok(strncmp(got, "{\"got\":\"a\"}\n{\"got\":\"server\",\"port\":",
	    35) == 0 && strstr(got, "}\n{\"got\":\"b\"}\n") != NULL,
	    "in order: a, the handle, b (%s)", got);
	is_int(port, ntohs(sin.sin_port), "the child listens on our port");
	close(lfd);	/* the child serves alone from here */
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(connect(cfd, (struct sockaddr *)&sin, sizeof sin) == 0,
	    "a client connects, with ipcrun's copy closed");
	memset(reply, 0, sizeof reply);
	{
		struct pollfd	pfd = { cfd, POLLIN, 0 };

		if (poll(&pfd, 1, WAIT_MS) == 1 &&
		    read(cfd, reply, sizeof reply - 1) == -1)
			reply[0] = '\0';
	}
	is_str(reply, "served\n", "and the Node child serves it");
	close(cfd);
	chan_send(&ch, "\"bye\"\n", 6);
	(void)chan_flush(&ch);
	(void)waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ends, "
	    "status 0 (%d)", status);
	chan_release(&ch);
	return done();
}
