/* SPDX-License-Identifier: ISC */
/*
 * cluster_query.c: what a cluster worker asks for, read from its
 * NODE_CLUSTER message (the key built as Node's primary builds it), and
 * the socket bound for a queryServer: TCP, UDP or a unix path, with the
 * options the query carries, non-blocking (NODE-CLUSTER.md T1).
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cluster.h"

/* JS's String(v) of a member, for the key; 0, or -1 if it does not fit. */
static int
cluster_jsstr(char *p, size_t len, json_t *v)
{
	int	n;

	if (v == NULL)
		n = snprintf(p, len, "undefined");
	else if (json_is_null(v))
		n = snprintf(p, len, "null");
	else if (json_is_string(v))
		n = snprintf(p, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(p, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		n = snprintf(p, len, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		n = snprintf(p, len, "%s", json_is_true(v) ? "true" : "false");
	else
		n = snprintf(p, len, "[object Object]");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int64_t
cluster_int(json_t *o, const char *name, int64_t dflt)
{
	json_t	*v = json_object_get(o, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/*
 * A NODE_CLUSTER frame from a worker (p, n: one line, without its
 * newline). 0, or -1 when it is not an object or a member is beyond
 * what ipcrun keeps (the caller reports and ignores it).
 */
int
cluster_parse(struct cluster_msg *m, const char *p, size_t n)
{
	static const struct { const char *name; enum cluster_act act; } acts[] = {
		{ "online", CLUSTER_ACT_ONLINE },
		{ "queryServer", CLUSTER_ACT_QUERY },
		{ "listening", CLUSTER_ACT_LISTENING },
		{ "close", CLUSTER_ACT_CLOSE },
		{ "exitedAfterDisconnect", CLUSTER_ACT_EXITED },
		{ NULL, CLUSTER_ACT_OTHER }
	};
	json_t		*o, *v, *at;
	const char	*act;
	char		*d;
	size_t		 k, i;
	int		 rc = -1;

	memset(m, 0, sizeof *m);
	m->ack = -1;
	if ((o = json_loadb(p, n, 0, NULL)) == NULL)
		return -1;
	if (!json_is_object(o))
		goto out;
	m->seq = cluster_int(o, "seq", 0);
	m->ack = cluster_int(o, "ack", -1);
	m->accepted = json_is_true(json_object_get(o, "accepted"));
	if ((act = json_string_value(json_object_get(o, "act"))) == NULL)
		m->act = CLUSTER_ACT_NONE;
	else {
		for (i = 0; acts[i].name != NULL; i++)
			if (strcmp(acts[i].name, act) == 0)
				break;
		m->act = acts[i].act;
	}
	if (m->act == CLUSTER_ACT_CLOSE) {
		if (cluster_jsstr(m->key, sizeof m->key,
		    json_object_get(o, "key")) == -1)
			goto out;
	}
	if (m->act != CLUSTER_ACT_QUERY && m->act != CLUSTER_ACT_LISTENING) {
		rc = 0;
		goto out;
	}
	v = json_object_get(o, "address");
	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) >= sizeof m->address)
			goto out;
		snprintf(m->address, sizeof m->address, "%s",
		    json_string_value(v));
	} else
		m->noaddr = 1;
	v = json_object_get(o, "port");
	m->port_set = json_is_integer(v);
	m->port = m->port_set ? (int64_t)json_integer_value(v) : 0;
	at = json_object_get(o, "addressType");
	if (json_is_string(at))
		m->udp = strcmp(json_string_value(at), "udp6") == 0 ? 6 :
		    strcmp(json_string_value(at), "udp4") == 0 ? 4 : -1;
	else
		m->family = (int)cluster_int(o, "addressType", 4);
	if (m->udp == -1)
		goto out;
	v = json_object_get(o, "fd");
	m->fd_set = json_is_integer(v) && json_integer_value(v) >= 0;
	m->flags = (int)cluster_int(o, "flags", 0);
	m->backlog = (int)cluster_int(o, "backlog", 0);
	m->readable_all = json_is_true(json_object_get(o, "readableAll"));
	m->writable_all = json_is_true(json_object_get(o, "writableAll"));
	v = json_object_get(o, "data");
	if (v != NULL && !json_is_null(v)) {
		if ((d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) ==
		    NULL)
			goto out;
		if (strlen(d) >= sizeof m->data) {
			free(d);
			goto out;
		}
		snprintf(m->data, sizeof m->data, "%s", d);
		free(d);
	}
	/* address:port:addressType:fd:index, as Node's primary keys them. */
	k = 0;
	if (cluster_jsstr(m->key, sizeof m->key, json_object_get(o,
	    "address")) == -1)
		goto out;
	k = strlen(m->key);
	m->key[k++] = ':';
	if (cluster_jsstr(m->key + k, sizeof m->key - k, json_object_get(o,
	    "port")) == -1)
		goto out;
	k += strlen(m->key + k);
	m->key[k++] = ':';
	if (cluster_jsstr(m->key + k, sizeof m->key - k, at) == -1)
		goto out;
	k += strlen(m->key + k);
	m->key[k++] = ':';
	if (cluster_jsstr(m->key + k, sizeof m->key - k, json_object_get(o,
	    "fd")) == -1)
		goto out;
	k += strlen(m->key + k);
	m->key[k++] = ':';
	if (k >= sizeof m->key || cluster_jsstr(m->key + k, sizeof m->key -
	    k, json_object_get(o, "index")) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int
cluster_setsockopt(int fd, int level, int opt, int on)
{
	return setsockopt(fd, level, opt, &on, sizeof on);
}

/* Bind what the query asks for; the fd, or -1 with errno. */
int
cluster_bind(const struct cluster_msg *m, enum cluster_kind *kind)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 sl;
	int			 fd, af, v6, any, saved;
	mode_t			 mode;

	memset(&ss, 0, sizeof ss);
	if (m->family == -1 && !m->udp) {
		*kind = CLUSTER_UNIX;
		if (strlen(m->address) >= sizeof sun->sun_path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, m->address, strlen(m->address));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1)
			return -1;
		if (bind(fd, (struct sockaddr *)sun, sizeof *sun) == -1 ||
		    listen(fd, m->backlog > 0 ? m->backlog : 511) == -1)
			goto fail;
		mode = 0;
		if (m->readable_all)
			mode |= 0444;
		if (m->writable_all)
			mode |= 0222;
		if (mode != 0 && chmod(m->address, 0600 | mode) == -1)
			goto fail;
		return fd;
	}
	*kind = m->udp ? CLUSTER_UDP : CLUSTER_TCP;
	any = m->noaddr;
	v6 = m->udp ? m->udp == 6 : any || m->family == 6;
again:
	af = v6 ? AF_INET6 : AF_INET;
	memset(&ss, 0, sizeof ss);
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)m->port);
		if (!any && inet_pton(AF_INET6, m->address,
		    &sin6->sin6_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		sl = sizeof *sin6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)m->port);
		if (!any && inet_pton(AF_INET, m->address,
		    &sin->sin_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		sl = sizeof *sin;
	}
	if ((fd = socket(af, (m->udp ? SOCK_DGRAM : SOCK_STREAM) |
	    SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1) {
		/* No IPv6 here: Node's primary falls back to 0.0.0.0 too. */
		if (any && v6 && errno == EAFNOSUPPORT && !m->udp) {
			v6 = 0;
			goto again;
		}
		return -1;
	}
	if (m->udp ? (m->flags & 4) != 0 : 1)
		(void)cluster_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (v6 && cluster_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    (m->flags & 1) != 0) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		goto fail;
	if (!m->udp && listen(fd, m->backlog > 0 ? m->backlog : 511) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

