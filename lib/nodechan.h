/* SPDX-License-Identifier: ISC */
/*
 * nodechan.c: the Node channel's environment and ipcrun's messages.
 */
#ifndef NODECHAN_H
#define NODECHAN_H

#include <stddef.h>

struct frame;
struct frame_line;

#define NODECHAN_PRELOAD_MAX	16384	/* room for nodechan_preload */
#define NODECHAN_ENV_OPTIONS	"IPCRUN_NODE_OPTIONS"	/* user's, to restore */
#define NODECHAN_ENV_CHANNEL	"IPCRUN_CHANNEL"	/* inode of the channel */
#define NODECHAN_READY		"NODE_IPCRUN_READY"	/* preload -> ipcrun */
#define NODECHAN_EOF_LINE	"{\"cmd\":\"NODE_IPCRUN_EOF\"}\n"	/* ipcrun -> preload */
#define NODECHAN_READY_LINE	"{\"cmd\":\"" NODECHAN_READY "\",\"version\":1}\n"	/* preload, child -> ipcrun */
/* A child's answers to NODE_HANDLE: the handle taken, or refused. */
#define NODECHAN_ACK		"{\"cmd\":\"NODE_HANDLE_ACK\"}"
#define NODECHAN_NACK		"{\"cmd\":\"NODE_HANDLE_NACK\"}"

/* The channel a Node parent passed to ipcrun, as nodechan_channel read it. */
struct nodechan_chan {
	int		 fd;
	int		 advanced;	/* NODE_CHANNEL_SERIALIZATION_MODE */
	char		 text[32];	/* NODE_CHANNEL_FD as given */
};

char		**nodechan_env(int, const char *, unsigned long long);
void		 nodechan_env_free(char **);
int		 nodechan_preload(char *, size_t, const char **);
int		 nodechan_cmd_is(const char *, size_t, const char *);
int		 nodechan_channel(struct nodechan_chan *, char *, size_t);
size_t		 nodechan_answer(const char *, size_t, const char *, size_t,
		    char *, size_t);
int		 nodechan_own_frame(const char *, size_t);

/* What a frame from a Node child is, by its top-level "cmd" member. */
enum nodechan_msg {
	NODECHAN_MSG_DATA,	/* the user's: not an internal message */
	NODECHAN_MSG_HANDLE,	/* carries a handle: answer with a NACK */
	NODECHAN_MSG_ANSWER,	/* ACK or NACK of a handle ipcrun sent */
	NODECHAN_MSG_READY,	/* the drain preload announces itself */
	NODECHAN_MSG_OTHER	/* another of Node's own: consumed */
};

enum nodechan_msg nodechan_classify(const struct frame *, int,
		    const struct frame_line *);

/* What a Node child owes its parent for one of the parent's own messages. */
enum nodechan_duty {
	NODECHAN_DUTY_NONE,	/* consumed: nothing to send */
	NODECHAN_DUTY_ACK,	/* a handle with its fd: claim the fd, ACK */
	NODECHAN_DUTY_NACK,	/* a handle without one: NACK, drop the message */
	NODECHAN_DUTY_ANSWER	/* socket bookkeeping: send the answer */
};

enum nodechan_duty nodechan_duty(const char *, size_t, const char *, size_t,
		    int, char *, size_t, size_t *);

#define NODECHAN_NACK_LINE	NODECHAN_NACK "\n"	/* ipcrun -> Node, framed */

int		 nodechan_fd_check(int, const char **);
const char	*nodechan_handle_type(int, const char **);
int		 nodechan_unwrap(const char **, size_t *, const char **,
		    size_t *);
int		 nodechan_handle_frame(char *, size_t, const char *, const char *,
		    size_t);

#endif
