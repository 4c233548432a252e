/* SPDX-License-Identifier: ISC */
/*
 * cluster: keys built from real worker frames (NODE-CLUSTER.md's table)
 * as Node's primary builds them; a query bound on loopback and answered
 * (shared with the socket, rr with a sockname and the port asked for);
 * round robin over real connections: one unanswered newconn per worker,
 * a refused or NACKed one to the next, a dead worker's unACKed one back
 * at the front, accepted ones closed; a port in use is a negative errno.
 * TAP.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "tap.h"

static struct cluster_msg
parse(const char *s)
{
	struct cluster_msg	m;

	ok(cluster_parse(&m, s, strlen(s)) == 0, "parse %s", s);
	return m;
}

static int
dial(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		return -1;
	return fd;
}

int
main(void)
{
	struct cluster		 cl;
	struct cluster_msg	 m, m2;
	char			 f[CLUSTER_FRAMEMAX], err[256];
	unsigned		 w, w2;
	uint64_t		 got;
	int			 si, n, c, c2, d[3], fl;

	/* Keys, as Node's primary builds them. */
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":0,"
	    "\"data\":null,\"address\":null,\"port\":8001,\"addressType\":4,"
	    "\"backlog\":0,\"seq\":1}");
	is_str(m.key, "null:8001:4:undefined:0", "listen(8001)");
	ok(m.act == CLUSTER_ACT_QUERY && m.seq == 1 && m.noaddr, "act, seq");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":1,"
	    "\"data\":null,\"address\":\"/abs/rel.sock\",\"port\":-1,"
	    "\"addressType\":-1,\"backlog\":0,\"seq\":3}");
	is_str(m.key, "/abs/rel.sock:-1:-1:undefined:1", "a unix path, index 1");
	ok(m.family == -1, "a unix path is family -1");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":0,"
	    "\"data\":null,\"address\":\"0.0.0.0\",\"addressType\":\"udp4\","
	    "\"fd\":-1,\"flags\":0,\"seq\":1}");
	is_str(m.key, "0.0.0.0:undefined:udp4:-1:0", "dgram bind(): no port");
	ok(m.udp == 4 && !m.fd_set, "udp4, fd -1 is no fd");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":0,"
	    "\"data\":{\"ticketKeys\":\"ab\"},\"address\":null,\"port\":0,"
	    "\"addressType\":4,\"backlog\":0,\"seq\":1}");
	is_str(m.data, "{\"ticketKeys\":\"ab\"}", "data kept as JSON");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"close\",\"key\":\"k1\","
	    "\"seq\":6}");
	ok(m.act == CLUSTER_ACT_CLOSE && strcmp(m.key, "k1") == 0, "close");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"ack\":2,\"accepted\":true,"
	    "\"seq\":3}");
	ok(m.act == CLUSTER_ACT_NONE && m.ack == 2 && m.accepted, "accepted");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"bogus\",\"seq\":9}");
	ok(m.act == CLUSTER_ACT_OTHER, "an unknown act is other");
	ok(cluster_parse(&m, "[1]", 3) == -1, "not an object");

	/* Round robin with two workers on one loopback socket. */
	ok(cluster_init(&cl, 2, 1, NULL, 0) == 0, "init");
	ok(cluster_spawned(&cl, 0) == 1 && cluster_spawned(&cl, 1) == 2,
	    "ids 1, 2");
	m = parse("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":0,"
	    "\"data\":null,\"address\":\"127.0.0.1\",\"port\":0,"
	    "\"addressType\":4,\"backlog\":0,\"seq\":1}");
	si = cluster_query(&cl, 0, &m, err, sizeof err);
	ok(si == 0, "bound: %s", err);
	fl = fcntl(cl.sv[0]->fd, F_GETFL);
	ok((fl & O_NONBLOCK) != 0, "the socket is non-blocking");
	n = cluster_reply(&cl, 0, si, &m, 0, f, sizeof f);
	ok(n > 0 && strstr(f, "\"errno\":null,\"key\":\"127.0.0.1:0:4:"
	    "undefined:0\",\"ack\":1,\"data\":null,\"sockname\":{\"address\":"
	    "\"127.0.0.1\",\"family\":\"IPv4\",\"port\":") != NULL,
	    "rr reply: %s", f);
	ok(cluster_query(&cl, 1, &m, err, sizeof err) == si, "same key, "
	    "same socket");
	(void)cluster_reply(&cl, 1, si, &m, 0, f, sizeof f);
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 0, "nothing yet");
	d[0] = dial(cl.sv[si]->port);
	d[1] = dial(cl.sv[si]->port);
	d[2] = dial(cl.sv[si]->port);
	for (got = 0, n = 0; got < 3 && n < 1000; n++) {
		uint64_t k;
		(void)cluster_accept(&cl, si, &k);
		got += k;
		if (got < 3)
			usleep(1000);
	}
	ok(got == 3, "three accepted");
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 1 && w == 0,
	    "the first to worker 0");
	ok(strstr(f, "\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\","
	    "\"act\":\"newconn\"") != NULL, "newconn: %s", f);
	cluster_held(&cl, 0, cl.seq);
	ok(cluster_next(&cl, si, &w2, &c2, f, sizeof f) == 1 && w2 == 1,
	    "the second to worker 1");
	cluster_held(&cl, 1, cl.seq);
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 0,
	    "one unanswered each: the third waits");
	/* Worker 1 NACKs: back at the front, and worker 1 is free again. */
	ok(cluster_handle_answer(&cl, 1, 1) == 0, "NACK of a newconn");
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 1 && w == 1 &&
	    c == c2, "the NACKed one again, to worker 1");
	cluster_held(&cl, 1, cl.seq);
	/* Worker 0 ACKs then accepts: closed, free for the third. */
	ok(cluster_handle_answer(&cl, 0, 0) == 0, "ACK");
	ok(cluster_answered(&cl, 0, cl.sv[si]->wseq[0], 1) == 1, "accepted");
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 1 && w == 0,
	    "the third to worker 0");
	cluster_held(&cl, 0, cl.seq);
	/* Worker 1 dies before its ACK: its connection goes to worker 0. */
	cluster_leave(&cl, 1, 1);
	ok(cl.sv[si]->npend == 1, "a dead worker's unACKed one is back");
	ok(cluster_answered(&cl, 0, cl.sv[si]->wseq[0], 0) == 1,
	    "worker 0 refuses the third");
	ok(cl.sv[si]->npend == 2, "refused: back too");
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 1 && w == 0,
	    "worker 0 only");
	ok(cluster_next(&cl, si, &w, &c, f, sizeof f) == 0,
	    "worker 1 gone: no one else");

	/* The same port again, index 1: a new key, EADDRINUSE. */
	snprintf(f, sizeof f, "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\","
	    "\"index\":1,\"data\":null,\"address\":\"127.0.0.1\",\"port\":%d,"
	    "\"addressType\":4,\"backlog\":0,\"seq\":2}", cl.sv[si]->port);
	m2 = parse(f);
	ok(cluster_query(&cl, 0, &m2, err, sizeof err) == -EADDRINUSE,
	    "the port again: -EADDRINUSE");
	n = cluster_error_reply(&cl, &m2, -EADDRINUSE, f, sizeof f);
	ok(n > 0 && strstr(f, "\"errno\":-98,") != NULL && strstr(f,
	    "\"ack\":2,\"data\":null") != NULL, "error reply: %s", f);
	ok(cl.nsv == 1, "the failed key is not kept");
	ok(cluster_drop_pending(&cl) == 1, "the one waiting is closed at the stop");
	cluster_release(&cl);
	close(d[0]);
	close(d[1]);
	close(d[2]);
	return done();
}
