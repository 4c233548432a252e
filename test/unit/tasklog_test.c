/* SPDX-License-Identifier: ISC */
/*
 * lib/tasklog.c: a --tasklog line is formatted and read back, the header
 * and bad lines are told apart, and a seqset answers for the tasks a log
 * says were answered, in any order, each once. TAP.
 */
#include "compat.h"

#include <string.h>

#include "tasklog.h"
#include "tap.h"

static void
lines(void)
{
	struct tasklog_ent	 e;
	const char		*cause = NULL;
	char			 b[TASKLOG_LINE];
	int			 n;

	n = tasklog_format(b, sizeof b, 17, "node.2", 4242,
	    INT64_C(1765147000123456789), INT64_C(2500000000), 1, 1);
	ok(n > 0 && strcmp(b, "17\tnode.2\t4242\t1765147000.123\t2.500\t1\tok\n")
	    == 0, "a line: %s", b);
	ok(tasklog_parse(b, (size_t)n - 1, &e, &cause) == 1 && e.seq == 17 &&
	    e.ok, "read back: seq 17, ok");
	n = tasklog_format(b, sizeof b, 3, "-", 0, 0, -5, 3, 0);
	ok(n > 0 && strcmp(b, "3\t-\t0\t0.000\t0.000\t3\tfailed\n") == 0,
	    "a task given up with no child: %s", b);
	ok(tasklog_parse(b, (size_t)n - 1, &e, &cause) == 1 && e.seq == 3 &&
	    !e.ok, "read back: seq 3, failed");
	ok(tasklog_format(b, 10, 3, "-", 0, 0, 0, 3, 0) == -1,
	    "a line that does not fit is refused");
	ok(tasklog_parse(TASKLOG_HEADER, sizeof TASKLOG_HEADER - 2, &e,
	    &cause) == 0, "the header");
#define BAD(s, why) do {						\
	cause = NULL;							\
	ok(tasklog_parse(s, sizeof s - 1, &e, &cause) == -1 &&		\
	    cause != NULL && strstr(cause, why) != NULL,		\
	    "bad: '%s': %s", s, cause != NULL ? cause : "-");		\
} while (0)
	BAD("1\ta\t1\t0\t0\t1", "7 tab-separated");
	BAD("1\ta\t1\t0\t0\t1\tok\tx", "7 tab-separated");
	BAD("x\ta\t1\t0\t0\t1\tok", "not a number");
	BAD("\ta\t1\t0\t0\t1\tok", "not a number");
	BAD("99999999999999999999\ta\t1\t0\t0\t1\tok", "not a number");
	BAD("0\ta\t1\t0\t0\t1\tok", "is 0");
	BAD("1\ta\t1\t0\t0\t1\tOK", "not ok or failed");
	BAD("1\ta\t1\t0\t0\t1\t", "not ok or failed");
}

static void
set(void)
{
	struct seqset	s;
	uint64_t	i;
	int		good = 1;

	seqset_init(&s);
	seqset_seal(&s);
	ok(!seqset_has(&s, 1), "an empty set has nothing");
	/* Evens, added backwards and twice. */
	for (i = 2000; i >= 2; i -= 2)
		good &= seqset_add(&s, i) == 0 && seqset_add(&s, i) == 0;
	seqset_seal(&s);
	ok(good && s.n == 1000, "1000 seqs, each once (%zu)", s.n);
	for (i = 1; i <= 2001; i++)
		good &= seqset_has(&s, i) == (i % 2 == 0);
	ok(good, "rising looks: the evens only");
	good = 1;
	for (i = 2001; i >= 1; i--)
		good &= seqset_has(&s, i) == (i % 2 == 0);
	ok(good, "falling looks: the evens only");
	seqset_release(&s);
	seqset_release(&s);
	ok(s.v == NULL && s.n == 0, "released twice");
}

int
main(void)
{
	lines();
	set();
	return done();
}
