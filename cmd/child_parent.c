/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child, the parent's side: the channel read with its fds, json
 * frames or advanced ones decoded to NDJSON for CMD, Node's internal
 * messages answered here and never passed on, and frames to the parent.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "ev.h"
#include "fdpass.h"
#include "frame.h"
#include "jscan.h"
#include "nodechan.h"
#include "v8frame.h"
#include "v8ser.h"
#include "v8tag.h"
#include "super.h"
#include "child.h"

/* One frame to the parent: the JSON text as it is, or V8-encoded. */
int
child_to_parent(struct child *c, const char *json, size_t n, int nl,
    struct v8ser_err *e)
{
	/* ipcrun's own answers are Node's messages: {"cmd":"NODE_... */
	show_frame(&c->sh, 0, n > 13 && memcmp(json, "{\"cmd\":\"NODE_", 13) ==
	    0, json, n - (nl != 0), n + !nl);
	if (c->advanced && c->tagged)
		return v8frame_encode_tagged(&c->par.tq, json, n, e,
		    &c->re_seen);
	if (c->advanced)
		return v8frame_encode(&c->par.tq, json, n, e);
	/* Counted by the chan: a handle's frame queued after it goes at
	   its own first byte. */
	if (chan_queue(&c->par, json, n) == -1 ||
	    (!nl && chan_queue(&c->par, "\n", 1) == -1)) {
		e->what = "out of memory";
		return -1;
	}
	return 0;
}

/* ipcrun's own answers to the parent's internal messages. */
static void
child_answer(struct child *c, const char *json, size_t n)
{
	struct v8ser_err	e;

	if (c->disconnected || c->cmd_ended)
		return;
	if (child_to_parent(c, json, n, 0, &e) == -1) {
		cmd_warnx(c->ce, "answer to the parent: %s", e.what);
		c->fail = 1;
	}
}

/*
 * An internal message from the parent (cmd "NODE_..."): Node's rules for
 * handles (NODE-IPC.md §5), and the socket bookkeeping a server's owner
 * waits on. CMD never sees these.
 */
static void	child_from_parent(struct child *, const char *, size_t, int,
		    const struct jscan *, const int *);

/*
 * The message that came with a handle still goes to CMD, as a Node
 * child's 'message' listener would get it (unless it is internal too).
 */
static void
child_handle_msg(struct child *c, const char *p, size_t n)
{
	struct jscan	js;
	char		*line;
	int		 k;

	if (n == 0 || (line = malloc(n + 1)) == NULL)
		return;
	memcpy(line, p, n);
	line[n] = '\n';
	jscan_init(&js);
	k = jscan_want(&js, "cmd", 3);
	if (jscan_line(&js, line, n) == JSCAN_GOOD &&
	    (js.span[k].len == 0 || !jscan_node_internal(line +
	    js.span[k].off, js.span[k].len)))
		child_from_parent(c, line, n + 1, 1, &js, NULL);
	free(line);
}

/*
 * --fd-as: the first handle is CMD's, at fd_as once it starts. CMD learns
 * of it first on its stdin, before anything sent after it:
 * {"handle":TYPE,"fd":N,"msg":M}, TYPE as Node would make it of the
 * descriptor (Node's receiver ignores the sender's type too).
 */
static void
child_handed(struct child *c, int fd, const char *msg, size_t mlen)
{
	const char	*type, *cause;
	char		 head[96];
	int		 n;

	if ((type = nodechan_handle_type(fd, &cause)) == NULL)
		type = "unknown";
	n = snprintf(head, sizeof head, "{\"handle\":\"%s\",\"fd\":%d,"
	    "\"msg\":", type, c->fd_as);
	if (buf_append(&c->cq, head, (size_t)n) == -1 ||
	    buf_append(&c->cq, msg, mlen) == -1 ||
	    buf_append(&c->cq, "}\n", 2) == -1) {
		close(fd);
		cmd_warn(c->ce, "queue");
		c->fail = 1;
		return;
	}
	c->hfd = fd;
	c->await = CH_HANDED;
}

static void
child_internal(struct child *c, const char *line, const struct jscan *js,
    const int *k)
{
	const char	*span = line + js->span[k[0]].off;
	size_t		 n = js->span[k[0]].len;
	int		 kkey = k[1], kmsg = k[2], ktype = k[3];
	const char	*type = "null", *msg = "null";
	size_t		 tlen = 4, mlen = 4;
	char		 reply[512];
	size_t		 rn;

	/* The fd that came with a handle frame's first bytes, if any. */
	switch (nodechan_duty(span, n, kkey >= 0 ? line + js->span[kkey].off :
	    NULL, kkey >= 0 ? js->span[kkey].len : 0, c->par.nfds > 0, reply,
	    sizeof reply, &rn)) {
	case NODECHAN_DUTY_NACK:
		child_answer(c, reply, rn);
		cmd_warnx(c->ce, "the parent sent a handle without a "
		    "descriptor: refused");
		break;
	case NODECHAN_DUTY_ACK:
		child_answer(c, reply, rn);
		if (js->span[kmsg].len > 0) {
			msg = line + js->span[kmsg].off;
			mlen = js->span[kmsg].len;
		}
		if (js->span[ktype].len > 0) {
			type = line + js->span[ktype].off;
			tlen = js->span[ktype].len;
		}
		/* Node's retry of a socket after a NACK: its first frame's. */
		if (nodechan_unwrap(&type, &tlen, &msg, &mlen) == -1) {
			cmd_warn(c->ce, "malloc");
			c->fail = 1;
		}
		if (c->await == CH_AWAIT) {
			child_handed(c, chan_fd_take(&c->par), msg, mlen);
			break;
		}
		close(chan_fd_take(&c->par));
		if (c->fd_as == -1)
			cmd_warnx(c->ce, "the parent sent a handle: "
			    "acknowledged and closed, not passed on to '%s' "
			    "(no --fd-as)", c->name);
		else
			cmd_warnx(c->ce, "the parent sent another handle: "
			    "acknowledged and closed, not passed on to '%s' "
			    "(--fd-as %d took the first)", c->name, c->fd_as);
		if (js->span[kmsg].len > 0)
			child_handle_msg(c, msg, mlen);
		break;
	case NODECHAN_DUTY_ANSWER:
		/* ipcrun keeps no sockets of the parent's: none are open. */
		child_answer(c, reply, rn);
		break;
	case NODECHAN_DUTY_NONE:
		/* ipcrun run's notice: the input has ended, replies go on. */
		if (nodechan_cmd_is(span, n, "NODE_IPCRUN_EOF"))
			c->input_ended = 1;
		/*
		 * The answer to a handle of CMD's: the lines after it go. A
		 * NACK'd socket goes again first, as Node sends it again.
		 */
		else if (nodechan_cmd_is(span, n, "NODE_HANDLE_ACK")) {
			if (chan_answered(&c->par) != 0)
				cmd_warnx(c->ce, "the parent answered a handle "
				    "it was not sent");
		} else if (nodechan_cmd_is(span, n, "NODE_HANDLE_NACK")) {
			int	again = chan_refused(&c->par);

			if (again == 0)
				cmd_warnx(c->ce, "the parent refused a handle "
				    "(NODE_HANDLE_NACK)");
			else if (again != 2)
				cmd_warnx(c->ce, "the parent answered a handle "
				    "it was not sent");
		}
		break;
	}
}

/* A good line from the parent: internal, or queued for CMD. */
/* k: the jscan indexes of cmd, key and msg; NULL when not wanted. */
static void
child_from_parent(struct child *c, const char *line, size_t n, int nl,
    const struct jscan *js, const int *k)
{
	if (k != NULL && js->span[k[0]].len != 0 &&
	    jscan_node_internal(line + js->span[k[0]].off,
	    js->span[k[0]].len)) {
		show_frame(&c->sh, 1, 1, line, n - (nl != 0), n + !nl);
		child_internal(c, line, js, k);
		return;
	}
	show_frame(&c->sh, 1, 0, line, n - (nl != 0), n + !nl);
	/* --fd-as: CMD is not started yet; it gets these once it is. */
	if (c->await == CH_STARTED && (c->cin == -1 || c->cin_dead ||
	    !super_alive(&c->sv))) {
		c->undelivered++;
		return;
	}
	if (buf_append(&c->cq, line, n) == -1 ||
	    (!nl && buf_append(&c->cq, "\n", 1) == -1)) {
		cmd_warn(c->ce, "queue");
		c->fail = 1;
	}
}

void
child_pump_json(struct child *c)
{
	struct frame_line	l;
	char			why[256];
	int			k;

	while (c->cq.len < CH_QSIZE && !c->fail && c->await != CH_HANDED) {
		k = frame_next(&c->par.rd, &l);
		if (k == FRAME_NONE)
			break;
		if (k == FRAME_BLANK)
			continue;
		c->par_frames++;
		/*
		 * The channel ended mid-frame (Node never sends a frame
		 * without its newline). After CMD's end that is one more
		 * message CMD never got, counted with the others; before, it
		 * is said so, whether or not the piece parses.
		 */
		if (!l.nl && c->par.eof) {
			if (c->cin == -1 || c->cin_dead || !super_alive(&c->sv))
				c->undelivered++;
			else
				cmd_warnx(c->ce, "parent message %" PRIu64 ": cut "
				    "short by the end of the channel (not "
				    "delivered)", c->par_frames);
			continue;
		}
		if (k == FRAME_BAD) {
			frame_reason(&c->par.rd, &l, why, sizeof why);
			cmd_warnx(c->ce, "parent message %" PRIu64 ":%zu: %s "
			    "(not delivered)", c->par_frames, l.err_off + 1,
			    why);
			continue;
		}
		if (!l.nl) {
			/* Node never sends one: the channel ended mid-frame. */
			cmd_warnx(c->ce, "parent message %" PRIu64 ": cut short "
			    "by the end of the channel (not delivered)",
			    c->par_frames);
			continue;
		}
		child_from_parent(c, l.p, l.len, l.nl, &c->par.rd.js, c->par_k);
	}
}

static void
child_v8_refused(struct child *c, const struct v8ser_err *e)
{
	if (e->what != NULL && strcmp(e->what, "unknown tag") == 0)
		cmd_warnx(c->ce, "parent message %" PRIu64 ": byte %zu: unknown "
		    "tag 0x%02x (not delivered)", c->par_frames, e->off,
		    e->tag & 0xff);
	else if (e->type)
		cmd_warnx(c->ce, "parent message %" PRIu64 ": %s is outside "
		    "the JSON subset (not delivered)", c->par_frames, e->what);
	else
		cmd_warnx(c->ce, "parent message %" PRIu64 ": byte %zu: %s "
		    "(not delivered)", c->par_frames, e->off, e->what);
}

/* advanced: 4-byte big-endian length, then a V8 payload. */
void
child_pump_advanced(struct child *c)
{
	struct v8ser_err	 e;
	const char		*p;
	size_t			 mark;
	uint32_t		 len;
	int			 r;

	while (c->cq.len < CH_QSIZE && !c->fail && c->await != CH_HANDED) {
		if ((r = v8frame_next(&c->vin, &p, &len)) == V8FRAME_NONE)
			break;
		c->par_frames++;
		if (r == V8FRAME_LONG) {
			cmd_warnx(c->ce, "parent message %" PRIu64 ": %" PRIu32
			    " bytes, longer than %zu (not delivered)",
			    c->par_frames, len, CH_MAXMSG);
			continue;
		}
		/* Decoded straight onto CMD's queue, then checked there. */
		mark = c->cq.len;
		r = c->tagged ? v8tag_decode(p, len, &c->cq, CH_MAXMSG, &e,
		    &c->re_seen) : v8ser_decode(p, len, &c->cq, CH_MAXMSG, &e);
		v8frame_drop(&c->vin);
		if (r == -1) {
			child_v8_refused(c, &e);
			continue;
		}
		r = jscan_line(&c->js, c->cq.p + c->cq.off + mark,
		    c->cq.len - mark);
		if (r != JSCAN_GOOD) {
			/* Cannot happen: the decoder writes only JSON. */
			c->cq.len = mark;
			cmd_warnx(c->ce, "parent message %" PRIu64 ": decoded to "
			    "invalid JSON (not delivered)", c->par_frames);
			continue;
		}
		if ((c->js.span[c->js_k[0]].len != 0 &&
		    jscan_node_internal(c->cq.p + c->cq.off + mark +
		    c->js.span[c->js_k[0]].off, c->js.span[c->js_k[0]].len)) ||
		    (c->await == CH_STARTED && (c->cin == -1 || c->cin_dead ||
		    !super_alive(&c->sv)))) {
			/* Take it off the queue; an internal one is answered. */
			struct buf	line;

			if (buf_init(&line, c->cq.len - mark + 1) == -1 ||
			    buf_append(&line, c->cq.p + c->cq.off + mark,
			    c->cq.len - mark) == -1) {
				buf_release(&line);
				cmd_warn(c->ce, "queue");
				c->fail = 1;
				return;
			}
			c->cq.len = mark;
			child_from_parent(c, line.p, line.len, 1, &c->js,
			    c->js_k);
			buf_release(&line);
			continue;
		}
		if (buf_append(&c->cq, "\n", 1) == -1) {
			cmd_warn(c->ce, "queue");
			c->fail = 1;
		}
	}
}

void
child_on_chan(struct ev *ev, int fd, short revents, void *arg)
{
	struct child	*c = arg;
	char		*p;
	size_t		 n;
	ssize_t		 got;
	unsigned	 flags;

	(void)ev;
	/* The flush pass after poll writes; a full socket has room again. */
	if (revents & POLLOUT)
		chan_writable(&c->par);
	if (!(revents & (POLLIN | POLLHUP | POLLERR)) || chan_ended(&c->par))
		return;
	p = c->advanced ? v8frame_space(&c->vin, &n) :
	    frame_space(&c->par.rd, &n);
	if (p == NULL) {
		cmd_warn(c->ce, "channel buffer");
		c->fail = 1;
		return;
	}
	if (n > CH_READ)
		n = CH_READ;
	/* The fds that come wait in the chan until a NODE_HANDLE claims one. */
	if ((got = chan_recv(&c->par, p, n, &flags)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* A reset is the parent's end, like an end of file. */
		if (errno != ECONNRESET) {
			cmd_warn(c->ce, "read from the parent");
			c->fail = 1;
		}
		chan_set_eof(&c->par);
		got = 0;
	}
	if (flags & FDPASS_CTRUNC)
		cmd_warnx(c->ce, "descriptors from the parent were cut short "
		    "(MSG_CTRUNC)");
	if (got == 0) {
		if (!c->advanced)
			frame_set_eof(&c->par.rd);
		return;
	}
	if (c->advanced)
		v8frame_filled(&c->vin, (size_t)got);
	else
		frame_filled(&c->par.rd, (size_t)got);
}

/* The parent went away: what CMD says from now on cannot reach it. */
void
child_disconnect(struct child *c)
{
	if (c->disconnected)
		return;
	c->disconnected = 1;
	chan_drop_queued(&c->par);
	if (c->par.fd != -1) {
		ev_del(&c->ev, c->par.fd);
		chan_close(&c->par);
	}
	chan_fds_close(&c->par);
}
