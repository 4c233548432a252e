/* SPDX-License-Identifier: ISC */
/*
 * task.c: run --tasks' bookkeeping. A task is one input line that must get
 * exactly one reply: its number (the input line), a copy of its bytes so
 * that it can be sent again, how often it failed, and when its current
 * child began on it. A taskq is a FIFO of tasks (the queue of tasks to
 * send again, or the tasks one child holds, oldest first); a child that
 * answers in order answers its oldest, and with --id the reply names its
 * task by the hash of a member (route_key). With a route that names its
 * child (--route key, --envelope), a task keeps that child's index, and
 * an envelope's task sends the message and keeps the whole envelope.
 */
#ifndef TASK_H
#define TASK_H

#include <stddef.h>
#include <stdint.h>

struct task {
	uint64_t	 seq;		/* its input line */
	uint64_t	 ord;		/* its place among the tasks, from 1 */
	unsigned	 tries;		/* failed tries so far */
	int		 has_id;	/* --id: the member was there */
	uint64_t	 id;		/* --id: its value's hash */
	int64_t		 start;		/* sent, or its child began on it */
	int		 to;		/* its child's index, or -1: any */
	size_t		 len;		/* bytes sent, with the newline */
	size_t		 olen;		/* the input line after them, or 0 */
	char		 line[];
};

struct taskq {
	struct task	**v;
	size_t		 head;		/* the oldest */
	size_t		 n;
	size_t		 cap;		/* a power of two, or 0 */
};

struct task	*task_new(uint64_t, const char *, size_t);
struct task	*task_new_part(uint64_t, const char *, size_t, size_t, size_t);
void		 task_input(const struct task *, const char **, size_t *);
void		 task_free(struct task *);

void		 taskq_init(struct taskq *);
void		 taskq_release(struct taskq *);
int		 taskq_push(struct taskq *, struct task *);
int		 taskq_push_front(struct taskq *, struct task *);
struct task	*taskq_pop(struct taskq *);
struct task	*taskq_peek(const struct taskq *);
struct task	*taskq_at(const struct taskq *, size_t);
struct task	*taskq_take_id(struct taskq *, uint64_t);

#endif
