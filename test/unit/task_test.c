/* SPDX-License-Identifier: ISC */
/*
 * lib/task.c: a task keeps its line (with a newline added when missing),
 * and a taskq is a FIFO that grows across its wrap, takes tasks back at
 * the front, and gives up a task by id from the middle in order. TAP.
 */
#include "compat.h"

#include <stdlib.h>
#include <string.h>

#include "task.h"
#include "tap.h"

static void
lines(void)
{
	struct task	*t;

	t = task_new(7, "{\"a\":1}", 7);
	ok(t != NULL && t->seq == 7 && t->len == 8 &&
	    memcmp(t->line, "{\"a\":1}\n", 8) == 0 && t->tries == 0,
	    "a line without its newline gets one");
	task_free(t);
	t = task_new(8, "1\n", 2);
	ok(t != NULL && t->len == 2 && memcmp(t->line, "1\n", 2) == 0,
	    "a line with its newline is kept as it is");
	task_free(t);
	task_free(NULL);
	ok(1, "task_free(NULL)");
}

static void
parts(void)
{
	const char	*env = "{\"to\":\"db\",\"msg\":{\"q\":1}}";
	const char	*p;
	struct task	*t;
	size_t		 n;

	t = task_new(3, "{\"a\":1}", 7);
	task_input(t, &p, &n);
	ok(t->to == -1 && t->olen == 0 && p == t->line && n == 8,
	    "a whole line is its own input, for any child");
	task_free(t);
	t = task_new_part(4, env, strlen(env), 17, 7);
	ok(t != NULL && t->seq == 4 && t->len == 8 &&
	    memcmp(t->line, "{\"q\":1}\n", 8) == 0,
	    "an envelope's task sends its message, with a newline");
	task_input(t, &p, &n);
	ok(n == strlen(env) + 1 && memcmp(p, env, n - 1) == 0 &&
	    p[n - 1] == '\n', "and keeps the envelope, for --rejects");
	task_free(t);
	ok(task_new_part(5, env, strlen(env), 20, 40) == NULL,
	    "a part beyond the line is refused");
}

static void
fifo(void)
{
	struct taskq	 q;
	struct task	*t;
	uint64_t	 i, want;
	int		 good = 1;

	taskq_init(&q);
	ok(taskq_pop(&q) == NULL && taskq_peek(&q) == NULL,
	    "an empty queue gives nothing");
	/* Wrap the ring many times while it grows: the order holds. */
	want = 1;
	for (i = 1; i <= 1000; i++) {
		if (taskq_push(&q, task_new(i, "1", 1)) == -1)
			good = 0;
		if (i % 3 == 0) {
			t = taskq_pop(&q);
			good &= t != NULL && t->seq == want++;
			task_free(t);
		}
	}
	while ((t = taskq_pop(&q)) != NULL) {
		good &= t->seq == want++;
		task_free(t);
	}
	ok(good && want == 1001, "1000 tasks come out in order across "
	    "growth and wrap (next %" PRIu64 ")", want);
	taskq_push(&q, task_new(2, "2", 1));
	taskq_push(&q, task_new(3, "3", 1));
	taskq_push_front(&q, task_new(1, "1", 1));
	ok(taskq_peek(&q)->seq == 1 && taskq_at(&q, 1)->seq == 2 &&
	    taskq_at(&q, 2)->seq == 3 && taskq_at(&q, 3) == NULL,
	    "a task handed back goes first");
	taskq_release(&q);
	ok(q.n == 0 && q.v == NULL, "release frees the tasks left");
}

static void
ids(void)
{
	struct taskq	 q;
	struct task	*t;
	uint64_t	 i;

	taskq_init(&q);
	for (i = 0; i < 20; i++) {
		t = task_new(i + 1, "x", 1);
		t->has_id = i != 5;
		t->id = 100 + i;
		/* Start off the ring's first slot, so that it wraps. */
		if (i < 10)
			taskq_push(&q, t);
		else
			taskq_push_front(&q, t);
	}
	t = taskq_take_id(&q, 103);
	ok(t != NULL && t->seq == 4 && q.n == 19, "take by id from the "
	    "middle");
	task_free(t);
	ok(taskq_take_id(&q, 103) == NULL, "an id taken is gone (a "
	    "second reply matches nothing)");
	ok(taskq_take_id(&q, 105) == NULL, "a task without the member "
	    "matches no id");
	ok(taskq_take_id(&q, 999) == NULL, "an unknown id matches nothing");
	ok(taskq_at(&q, 0)->seq == 20 && taskq_at(&q, 9)->seq == 11 &&
	    taskq_at(&q, 10)->seq == 1 && taskq_at(&q, 12)->seq == 3 &&
	    taskq_at(&q, 13)->seq == 5, "the others keep their order");
	t = taskq_take_id(&q, 119);
	ok(t != NULL && t->seq == 20 && taskq_peek(&q)->seq == 19,
	    "take the oldest by id");
	task_free(t);
	taskq_release(&q);
}

int
main(void)
{
	lines();
	parts();
	fifo();
	ids();
	return done();
}
