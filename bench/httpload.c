/* SPDX-License-Identifier: ISC */
/*
 * httpload: a small HTTP/1.1 load client for bench/run-serve. CONNS
 * connections (one epoll thread) send "GET PATH" again and again, each
 * waiting for its answer: on one connection each (keep-alive) or on a new
 * connection each ("Connection: close": the server closes first, so its
 * side keeps the TIME_WAIT). Answers must carry Content-Length (Node's
 * res.end(body) does). Prints one JSON line: requests answered with a 2xx
 * in the timed window, req/s, and every error counted by kind.
 *
 *   httpload [-k | -c] [-n CONNS] [-d SECS | -r REQS] [-w WARMUP]
 *       [-p PATH] [-t TIMEOUT] HOST PORT
 *
 * -k keep-alive (default), -c a new connection per request; -n 16
 * connections; -d 3 seconds or -r a number of requests; -w 0.5 s of
 * warm-up not counted; -t 5 s without progress is a timeout. HOST is an
 * IPv4 or IPv6 literal.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, WRITING, READING, WAITEOF };

struct conn {
	int		 fd;
	enum state	 st;
	size_t		 off;		/* bytes of the request written */
	char		 buf[8192];
	size_t		 len;		/* bytes of the answer held in buf */
	size_t		 need;		/* total answer bytes once known, else 0 */
	int		 status;
	double		 since;		/* last progress */
};

static struct sockaddr_storage	 ss;
static socklen_t		 sslen;
static int			 ep;
static int			 keepalive = 1;
static char			 req[512];
static size_t			 reqlen;
static unsigned long long	 done, bad_status, e_connect, e_reset, e_eof,
				 e_parse, e_timeout, connects;
static int			 counting;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "httpload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: httpload [-k | -c] [-n CONNS] [-d SECS | -r REQS] "
	    "[-w WARMUP] [-p PATH] [-t TIMEOUT] HOST PORT\n");
	exit(2);
}

static void
conn_open(struct conn *c)
{
	struct epoll_event	ev;
	int			one = 1;

	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->st = CONNECTING;
	c->off = c->len = c->need = 0;
	c->status = 0;
	c->since = now();
	connects++;
	if (connect(c->fd, (struct sockaddr *)&ss, sslen) == 0)
		c->st = WRITING;
	else if (errno != EINPROGRESS)
		die("connect");
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		die("epoll_ctl");
}

static void
conn_reopen(struct conn *c)
{
	close(c->fd);
	conn_open(c);
}

static void
want(struct conn *c, unsigned int events)
{
	struct epoll_event	ev;

	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl");
}

/* The header is whole in buf[0..len): find the status and the length. */
static int
parse_head(struct conn *c, size_t hend)
{
	const char	*p = c->buf, *end = c->buf + hend, *nl;
	long long	 cl = -1;

	if (hend < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(p + 9);
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		if (end - p > 15 && strncasecmp(p, "content-length:", 15) == 0)
			cl = strtoll(p + 15, NULL, 10);
		else if (end - p > 18 && strncasecmp(p, "transfer-encoding:", 18) == 0)
			return -1;	/* chunked: not spoken here */
	}
	if (cl < 0 || hend + (size_t)cl > sizeof c->buf)
		return -1;
	c->need = hend + (size_t)cl;
	return 0;
}

static void
answered(struct conn *c)
{
	if (counting) {
		if (c->status >= 200 && c->status < 300)
			done++;
		else
			bad_status++;
	}
	if (keepalive) {
		c->st = WRITING;
		c->off = c->len = c->need = 0;
		want(c, EPOLLOUT | EPOLLIN);
	} else {
		c->st = WAITEOF;
		want(c, EPOLLIN);
	}
}

static void
on_event(struct conn *c, unsigned int events)
{
	ssize_t	n;
	int	err = 0;
	socklen_t el = sizeof err;
	char	*h;

	c->since = now();
	if (c->st == CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 || err) {
			if (counting)
				e_connect++;
			conn_reopen(c);
			return;
		}
		c->st = WRITING;
	}
	if (c->st == WRITING && (events & EPOLLOUT)) {
		n = write(c->fd, req + c->off, reqlen - c->off);
		if (n == -1) {
			if (errno == EAGAIN)
				return;
			if (counting)
				e_reset++;
			conn_reopen(c);
			return;
		}
		c->off += (size_t)n;
		if (c->off == reqlen) {
			c->st = READING;
			want(c, EPOLLIN);
		}
		return;
	}
	if (c->st == WAITEOF) {
		char	junk[512];

		n = read(c->fd, junk, sizeof junk);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n > 0 && counting)
			e_parse++;	/* bytes after the answer */
		conn_reopen(c);
		return;
	}
	if (c->st != READING)
		return;
	for (;;) {
		n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (counting) {
				if (n == 0)
					e_eof++;
				else
					e_reset++;
			}
			conn_reopen(c);
			return;
		}
		c->len += (size_t)n;
		if (c->need == 0) {
			h = memmem(c->buf, c->len, "\r\n\r\n", 4);
			if (h == NULL) {
				if (c->len == sizeof c->buf)
					goto bad;
				continue;
			}
			if (parse_head(c, (size_t)(h - c->buf) + 4) == -1)
				goto bad;
		}
		if (c->len > c->need)
			goto bad;	/* pipelining is not used: nothing may follow */
		if (c->len == c->need) {
			answered(c);
			return;
		}
	}
bad:
	if (counting)
		e_parse++;
	conn_reopen(c);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	struct epoll_event	 evs[256];
	struct conn		*conns;
	const char		*path = "/", *host;
	double			 secs = 3, warm = 0.5, tmo = 5, t0, tstart, tend, t;
	double			 tcheck = 0;
	unsigned long long	 maxreqs = 0;
	int			 nconns = 16, ch, i, n, port;

	while ((ch = getopt(argc, argv, "cd:kn:p:r:t:w:")) != -1) {
		switch (ch) {
		case 'c': keepalive = 0; break;
		case 'k': keepalive = 1; break;
		case 'd': secs = atof(optarg); break;
		case 'n': nconns = atoi(optarg); break;
		case 'p': path = optarg; break;
		case 'r': maxreqs = strtoull(optarg, NULL, 10); break;
		case 't': tmo = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 2 || nconns < 1 || secs <= 0 || warm < 0 || tmo <= 0)
		usage();
	host = argv[optind];
	port = atoi(argv[optind + 1]);
	if (port < 1 || port > 65535)
		usage();
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		sslen = sizeof *s4;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		sslen = sizeof *s6;
	} else {
		fprintf(stderr, "httpload: '%s': not an IP address\n", host);
		return 2;
	}
	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n",
	    path, host, port, keepalive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof req)
		usage();
	reqlen = (size_t)n;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	if ((conns = calloc((size_t)nconns, sizeof *conns)) == NULL)
		die("calloc");
	t0 = now();
	for (i = 0; i < nconns; i++)
		conn_open(&conns[i]);
	counting = warm == 0;
	tstart = t0 + warm;
	tend = tstart + secs;
	for (;;) {
		n = epoll_wait(ep, evs, 256, 50);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events);
		t = now();
		if (!counting && t >= tstart) {
			counting = 1;
			done = bad_status = 0;
			tstart = t;
			tend = tstart + secs;
		}
		if (counting && (maxreqs ? done >= maxreqs : t >= tend))
			break;
		if (t - tcheck < 0.1)
			continue;
		tcheck = t;
		for (i = 0; i < nconns; i++) {
			if (t - conns[i].since > tmo) {
				if (counting)
					e_timeout++;
				conn_reopen(&conns[i]);
			}
		}
	}
	t = now() - tstart;
	printf("{\"mode\":\"%s\",\"conns\":%d,\"secs\":%.3f,\"requests\":%llu,"
	    "\"req_per_s\":%.0f,\"errors\":%llu,\"bad_status\":%llu,"
	    "\"connect_errors\":%llu,\"reset_errors\":%llu,\"eof_errors\":%llu,"
	    "\"parse_errors\":%llu,\"timeouts\":%llu,\"connects\":%llu}\n",
	    keepalive ? "keepalive" : "close", nconns, t, done, done / t,
	    bad_status + e_connect + e_reset + e_eof + e_parse + e_timeout,
	    bad_status, e_connect, e_reset, e_eof, e_parse, e_timeout, connects);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout");
	return 0;
}
