/* SPDX-License-Identifier: ISC */
/*
 * task.c: the tasks of run --tasks and their FIFOs (task.h). A FIFO is a
 * ring that doubles when full: the relay bounds how many tasks it holds
 * (--max-inflight per child, and what they hand back), so it never grows
 * with the input.
 */
#include "compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

/* A task for line seq: p's n bytes, with a newline added if missing. */
struct task *
task_new(uint64_t seq, const char *p, size_t n)
{
	struct task	*t;
	int		 nl = n == 0 || p[n - 1] != '\n';

	if (n > SIZE_MAX - sizeof *t - 1) {
		errno = ENOMEM;
		return NULL;
	}
	if ((t = malloc(sizeof *t + n + nl)) == NULL)
		return NULL;
	memset(t, 0, sizeof *t);
	t->seq = seq;
	t->to = -1;
	memcpy(t->line, p, n);
	if (nl)
		t->line[n] = '\n';
	t->len = n + nl;
	return t;
}

/*
 * A task for line seq (p, n bytes) that sends only its part at off, len
 * bytes (an envelope's message), with a newline; the whole line is kept
 * after it, for what reports the input (task_input).
 */
struct task *
task_new_part(uint64_t seq, const char *p, size_t n, size_t off, size_t len)
{
	struct task	*t, *big;
	int		 nl = n == 0 || p[n - 1] != '\n';

	if (off > n || len > n - off || n > SIZE_MAX / 2 - sizeof *t - 2) {
		errno = EINVAL;
		return NULL;
	}
	if ((t = task_new(seq, p + off, len)) == NULL)
		return NULL;
	if ((big = realloc(t, sizeof *t + t->len + n + nl)) == NULL) {
		task_free(t);
		return NULL;
	}
	t = big;
	memcpy(t->line + t->len, p, n);
	if (nl)
		t->line[t->len + n] = '\n';
	t->olen = n + nl;
	return t;
}

/* The input line t came from, with its newline: what --rejects keeps. */
void
task_input(const struct task *t, const char **p, size_t *n)
{
	if (t->olen > 0) {
		*p = t->line + t->len;
		*n = t->olen;
	} else {
		*p = t->line;
		*n = t->len;
	}
}

void
task_free(struct task *t)
{
	free(t);
}

void
taskq_init(struct taskq *q)
{
	memset(q, 0, sizeof *q);
}

/* The tasks still in it are freed with it. */
void
taskq_release(struct taskq *q)
{
	struct task	*t;

	while ((t = taskq_pop(q)) != NULL)
		task_free(t);
	free(q->v);
	memset(q, 0, sizeof *q);
}

static int
taskq_grow(struct taskq *q)
{
	struct task	**v;
	size_t		  cap, i;

	if (q->n < q->cap)
		return 0;
	cap = q->cap == 0 ? 16 : q->cap * 2;
	if ((v = reallocarray(NULL, cap, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < q->n; i++)
		v[i] = q->v[(q->head + i) & (q->cap - 1)];
	free(q->v);
	q->v = v;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int
taskq_push(struct taskq *q, struct task *t)
{
	if (taskq_grow(q) == -1)
		return -1;
	q->v[(q->head + q->n) & (q->cap - 1)] = t;
	q->n++;
	return 0;
}

/* Before the others: a task handed back goes out again first. */
int
taskq_push_front(struct taskq *q, struct task *t)
{
	if (taskq_grow(q) == -1)
		return -1;
	q->head = (q->head + q->cap - 1) & (q->cap - 1);
	q->v[q->head] = t;
	q->n++;
	return 0;
}

struct task *
taskq_pop(struct taskq *q)
{
	struct task	*t;

	if (q->n == 0)
		return NULL;
	t = q->v[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
	return t;
}

struct task *
taskq_peek(const struct taskq *q)
{
	return q->n == 0 ? NULL : q->v[q->head];
}

/* The i-th oldest, or NULL. */
struct task *
taskq_at(const struct taskq *q, size_t i)
{
	return i >= q->n ? NULL : q->v[(q->head + i) & (q->cap - 1)];
}

/*
 * The oldest task whose id is id, taken out (the ones after it close
 * up, keeping their order), or NULL. A child holds few tasks
 * (--max-inflight), so a look at each is cheap.
 */
struct task *
taskq_take_id(struct taskq *q, uint64_t id)
{
	struct task	*t;
	size_t		 i, j;

	for (i = 0; i < q->n; i++) {
		t = q->v[(q->head + i) & (q->cap - 1)];
		if (!t->has_id || t->id != id)
			continue;
		for (j = i; j + 1 < q->n; j++)
			q->v[(q->head + j) & (q->cap - 1)] =
			    q->v[(q->head + j + 1) & (q->cap - 1)];
		q->n--;
		return t;
	}
	return NULL;
}
