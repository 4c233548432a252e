/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: a child's Node internal messages, met while its frames are
 * gathered. A handle is checked, answered (ACK or NACK) and passed on to
 * another child, to --handle-sink, or closed; socket bookkeeping is
 * answered as Node's parent would; the cluster's messages go to
 * run_cluster.c; the preload's ready notice is noted. Answers go on the
 * channel's control lane. run_out.c's gathering calls this.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "chan.h"
#include "drain.h"
#include "ev.h"
#include "frame.h"
#include "jscan.h"
#include "nodechan.h"
#include "relay.h"

/* Queue one of ipcrun's own frames for the child: an ACK, an answer. */
static void
run_answer(struct run *r, struct worker *w, const char *p, size_t n)
{
	if (!chan_can_write(&w->ch) || !run_alive(w))
		return;
	if (chan_control(&w->ch, p, n) == -1) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
		return;
	}
	run_trace(r, "-> child %zu bytes internal cmd answer", n + 1);
	run_show(r, w, ">", 1, p, n);
	run_flush_tq(r, w);
}

/*
 * --handles: a child's handle whose message m (n bytes) is an envelope
 * {"to":NAME,"msg":M} goes to child NAME with M. 1 when it went or was
 * refused (said, counted, fd closed), 0 when m names no child.
 */
static int
run_handle_to(struct run *r, struct worker *from, const char *m, size_t n,
    int fd)
{
	struct jscan	 js;
	struct worker	*w;
	char		*env, why[300], txt[80];
	int		 kto, kmsg, rc = 0;

	if (n == 0 || m[0] != '{' || (env = malloc(n + 1)) == NULL)
		return 0;
	memcpy(env, m, n);
	env[n] = '\n';
	jscan_init(&js);
	kto = jscan_want(&js, "to", 2);
	kmsg = jscan_want(&js, "msg", 3);
	if (jscan_line(&js, env, n) != JSCAN_GOOD || js.span[kto].len < 2 ||
	    env[js.span[kto].off] != '"' || js.span[kmsg].len == 0)
		goto out;
	rc = 1;
	jscan_printable(env + js.span[kto].off + 1, js.span[kto].len - 2, txt,
	    sizeof txt);
	if ((w = run_find(r, env + js.span[kto].off + 1,
	    js.span[kto].len - 2)) == NULL) {
		close(fd);
		cmd_warnx(r->ce, "'%s' sent a handle for '%s': no child of "
		    "that name (closed)", from->name, txt);
		r->refused++;
		goto out;
	}
	if (run_handle_send(r, w, fd, env + js.span[kmsg].off,
	    js.span[kmsg].len, why, sizeof why) == -1) {
		cmd_warnx(r->ce, "'%s' sent a handle for '%s': %s (closed)",
		    from->name, w->name, why);
		r->refused++;
		goto out;
	}
	run_flush_tq(r, w);
out:
	free(env);
	return rc;
}

/*
 * A handle with its descriptor, from a Node child's process.send(m,
 * handle): ACKed exactly once, as a Node parent does (without it the
 * child would hold its later messages back), the descriptor closed, as
 * run passes handles nowhere yet, and the message goes on as data,
 * marked with the handle's type: {"from":...,"handle":TYPE,"msg":M}.
 */
static void
run_handle_from_child(struct run *r, struct worker *w,
    const struct frame_line *l, int fd)
{
	struct jscan	 js;
	char		*line;
	const char	*msg, *type = "null";
	size_t		 mlen, tlen = 4;
	int		 kmsg, ktype, ok, k;

	run_answer(r, w, NODECHAN_ACK, sizeof NODECHAN_ACK - 1);
	if ((line = malloc(l->len + 1)) == NULL) {
		close(fd);
		cmd_warn(r->ce, "malloc");
		r->fail = 1;
		return;
	}
	memcpy(line, l->p, l->len);
	line[l->len] = '\n';
	jscan_init(&js);
	kmsg = jscan_want(&js, "msg", 3);
	ktype = jscan_want(&js, "type", 4);
	if (jscan_line(&js, line, l->len) != JSCAN_GOOD ||
	    js.span[kmsg].len == 0) {
		close(fd);
		free(line);
		return;
	}
	msg = line + js.span[kmsg].off;
	mlen = js.span[kmsg].len;
	if (js.span[ktype].len > 0) {
		type = line + js.span[ktype].off;
		tlen = js.span[ktype].len;
	}
	/* Node's retry of a socket after a NACK: its first frame's. */
	if (nodechan_unwrap(&type, &tlen, &msg, &mlen) == -1) {
		close(fd);
		free(line);
		cmd_warn(r->ce, "malloc");
		r->fail = 1;
		return;
	}
	/* --handles: {"to":NAME,"msg":M} goes on to that child, fd and all. */
	if (r->cf->handles && (k = run_handle_to(r, w, msg, mlen, fd)) != 0) {
		free(line);
		return;
	}
	/* --handle-sink: on with send-fd's wire; its message goes on too. */
	if (r->cf->sink_arg != NULL)
		(void)run_handle_sink(r, w, fd, type, tlen, msg, mlen);
	else {
		close(fd);
		if (!w->handle_warned)
			cmd_warnx(r->ce, "'%s' sent a handle: acknowledged and "
			    "closed (%s); its message goes on", w->name,
			    r->cf->handles ? "its message names no child: "
			    "{\"to\":NAME,\"msg\":M}" : "give --handles to "
			    "pass it to another child");
		w->handle_warned = 1;
	}
	if (r->cf->wrap)
		ok = buf_append(&r->oq, w->prefix, w->prefixlen - 7) == 0 &&
		    buf_append(&r->oq, ",\"handle\":", 10) == 0 &&
		    buf_append(&r->oq, type, tlen) == 0 &&
		    buf_append(&r->oq, ",\"msg\":", 7) == 0 &&
		    buf_append(&r->oq, msg, mlen) == 0 &&
		    buf_append(&r->oq, "}\n", 2) == 0;
	else
		ok = buf_append(&r->oq, msg, mlen) == 0 &&
		    buf_append(&r->oq, "\n", 1) == 0;
	if (!ok) {
		cmd_warn(r->ce, "queue");
		r->fail = 1;
	} else {
		w->out_frames++;
		r->replies++;
		r->reply_bytes += mlen + 1;
	}
	free(line);
}

/*
 * Node's socket bookkeeping (getConnections(), close() of a server whose
 * sockets went to the parent): ipcrun holds none of them, so the count
 * is 0 and all are closed; without an answer the child's callbacks would
 * wait for ever. Other internal messages are consumed.
 */
static void
run_socket_bookkeeping(struct run *r, struct worker *w,
    const struct frame_line *l)
{
	struct jscan	 js;
	char		*line, reply[512];
	size_t		 n;
	int		 kcmd, kkey;

	if ((line = malloc(l->len + 1)) == NULL)
		return;
	memcpy(line, l->p, l->len);
	line[l->len] = '\n';
	jscan_init(&js);
	kcmd = jscan_want(&js, "cmd", 3);
	kkey = jscan_want(&js, "key", 3);
	if (jscan_line(&js, line, l->len) == JSCAN_GOOD &&
	    (n = nodechan_answer(line + js.span[kcmd].off, js.span[kcmd].len,
	    line + js.span[kkey].off, js.span[kkey].len, reply,
	    sizeof reply)) > 0)
		run_answer(r, w, reply, n);
	free(line);
}

void
run_internal_from_child(struct run *r, struct worker *w,
    const struct frame_line *l, enum nodechan_msg msg)
{
	const struct jscan_span	*sp = &w->ch.rd.js.span[w->outcmd];
	char			 txt[200];
	int			 fd, k, nack;

	jscan_printable(l->p + sp->off, sp->len, txt, sizeof txt);
	run_trace(r, "<- child %zu bytes internal cmd \"%s\"", l->len, txt);
	run_show(r, w, "<", 1, l->p, l->len);
	if (msg == NODECHAN_MSG_HANDLE && (fd = chan_fd_take(&w->ch)) != -1) {
		run_handle_from_child(r, w, l, fd);
		return;
	}
	if (msg == NODECHAN_MSG_OTHER) {
		if (r->cf->handoff == HANDOFF_CLUSTER && nodechan_cmd_is(l->p +
		    sp->off, sp->len, "NODE_CLUSTER"))
			run_cluster_frame(r, w, l->p, l->len);
		else
			run_socket_bookkeeping(r, w, l);
		return;
	}
	if (msg == NODECHAN_MSG_HANDLE) {
		/*
		 * A handle frame without a descriptor: Node's own answer is
		 * a NACK, which makes the child drop the message. Without an
		 * answer it would hold every later message back for ever.
		 */
		if (!w->handle_warned)
			cmd_warnx(r->ce, "'%s' sent a handle without a "
			    "descriptor: refused", w->name);
		w->handle_warned = 1;
		r->refused++;
		/*
		 * A child that sends handles and never reads the answers
		 * would fill the bounded NACK queue, and then hold the relay
		 * for ever (its frames are read only while the queue has
		 * room): a broken peer, as for a bad frame.
		 */
		if (chan_can_write(&w->ch) &&
		    w->ch.cq.len + sizeof NODECHAN_NACK_LINE > CQ_HIGH) {
			cmd_warnx(r->ce, "'%s' sent handles faster than it read "
			    "their answers (%d KiB of NACKs waiting): closing "
			    "its channel", w->name, CQ_HIGH / 1024);
			run_close_chan(r, w, CLOSE_BROKEN);
			return;
		}
		if (chan_can_write(&w->ch) && run_alive(w)) {
			if (chan_control(&w->ch, NODECHAN_NACK,
			    sizeof NODECHAN_NACK - 1) == -1) {
				cmd_warn(r->ce, "queue");
				r->fail = 1;
				return;
			}
			run_trace(r, "-> child %zu bytes internal cmd "
			    "\"NODE_HANDLE_NACK\"", sizeof NODECHAN_NACK_LINE - 1);
			run_show(r, w, ">", 1, NODECHAN_NACK_LINE,
			    sizeof NODECHAN_NACK_LINE - 1);
			run_flush_tq(r, w);
		}
		return;
	}
	if (msg == NODECHAN_MSG_ANSWER && RUN_PRIMARY(r)) {
		run_cluster_answered(r, w, nodechan_cmd_is(l->p + sp->off,
		    sp->len, "NODE_HANDLE_NACK"));
		return;
	}
	if (msg == NODECHAN_MSG_ANSWER) {
		/*
		 * serve's handle was taken or refused: the lines may go. A
		 * refused net.Socket goes again first, as Node's parent
		 * sends it again (chan_refused).
		 */
		nack = nodechan_cmd_is(l->p + sp->off, sp->len,
		    "NODE_HANDLE_NACK");
		if ((k = nack ? chan_refused(&w->ch) :
		    chan_answered(&w->ch)) == 2) {
			run_trace(r, "'%s' refused a socket: sent again",
			    w->name);
			run_flush_tq(r, w);
			return;
		}
		if (k == -1)
			run_trace(r, "'%s' answered a handle it was not sent",
			    w->name);
		else if (k == 1)
			cmd_warnx(r->ce, "'%s' answered a handle given up on "
			    "(--handle-timeout) late", w->name);
		else if (nack)
			cmd_warnx(r->ce, "'%s' refused %s (NODE_HANDLE_NACK)",
			    w->name, r->cf->serve ? "the listening socket" :
			    "a handle");
		else {
			w->serving = 1;
			run_event(r, w, "handle", NULL);
		}
		run_flush_tq(r, w);
		return;
	}
	if (msg != NODECHAN_MSG_READY)
		return;
	if (drain_ready(&w->dr)) {
		/*
		 * Another Node process on the same channel (sh -c 'node a;
		 * node b'): it needs the notice too, once the first has had
		 * it, or it would wait for input for ever.
		 */
		/*
		 * At most one notice queued at a time: a child that repeats
		 * its announcement cannot grow the queue.
		 */
		if (drain_notice_queued(&w->dr) && w->ch.tq.len == 0) {
			run_send_notice(r, w, 1);
			run_flush_tq(r, w);
		}
		return;
	}
	drain_step(&w->dr, run_dp(r, w), DRAIN_EV_ANNOUNCED, ev_now());
	run_event(r, w, "ready", NULL);
	run_task_ready(r, w);
	/* It came after the end of input: answer now (DESIGN.md). */
	if (w->preloaded && r->cf->eof == DRAIN_EOF_AUTO && r->in_done &&
	    (!r->cf->hold_eof || !drain_undelivered(&w->dr))) {
		run_send_notice(r, w, 0);
		run_flush_tq(r, w);
	}
}
