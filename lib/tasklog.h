/* SPDX-License-Identifier: ISC */
/*
 * tasklog.c: run --tasklog's lines and --resume-failed's reading of them.
 * One TSV line per task settled: its input line number, the child's name
 * and pid, when its last try began (seconds since the epoch), how long it
 * ran (seconds), the tries it took, and ok or failed. A seqset is the
 * set of input lines a log says were answered: what a resumed run skips.
 */
#ifndef TASKLOG_H
#define TASKLOG_H

#include <stddef.h>
#include <stdint.h>

#define TASKLOG_HEADER	"seq\tchild\tpid\tstart\truntime\ttries\tstatus\n"
#define TASKLOG_LINE	256	/* a line's room, a 64-byte name included */

struct tasklog_ent {
	uint64_t	 seq;
	int		 ok;		/* status ok, else failed */
};

struct seqset {
	uint64_t	*v;
	size_t		 n;
	size_t		 cap;
};

int	tasklog_format(char *, size_t, uint64_t, const char *, long,
	    int64_t, int64_t, unsigned, int);
int	tasklog_parse(const char *, size_t, struct tasklog_ent *,
	    const char **);

void	seqset_init(struct seqset *);
void	seqset_release(struct seqset *);
int	seqset_add(struct seqset *, uint64_t);
void	seqset_seal(struct seqset *);
int	seqset_has(const struct seqset *, uint64_t);

#endif
