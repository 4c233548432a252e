/* SPDX-License-Identifier: ISC */
/*
 * spawn.c: fork/exec with fd hygiene and an exec-error pipe, and what a
 * child left unread in its stdin pipe.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

/* A command that could not be started, as a shell says it (POSIX). */
#define SPAWN_EXIT_NOEXEC	126	/* found, but could not be run */
#define SPAWN_EXIT_NOTFOUND	127	/* not found */

struct spawn_opts {
	char *const	*argv;
	char *const	*envp;
	int		 fd[3];		/* what becomes the child's 0, 1, 2 */
	int		 chan_fd;	/* -1, or the fd to pass on as chan_to */
	int		 chan_to;	/* > 2 */
	int		 pgroup;	/* own process group */
	int		 pdeathsig;	/* 0: none */
	const struct rlimit *nofile;	/* RLIMIT_NOFILE to give it, or NULL */
	/*
	 * More fds, at 3 and up in this order (systemd's LISTEN_FDS): the
	 * channel, if any, goes above them. pid_slot, if set, is an entry
	 * of envp that ends in SPAWN_PID_ROOM NULs after its "NAME=": the
	 * child writes its own pid there (LISTEN_PID) before its exec.
	 */
	const int	*extra;
	int		 nextra;	/* at most SPAWN_MAXEXTRA */
	char		*pid_slot;
};

#define SPAWN_MAXEXTRA	64
#define SPAWN_PID_ROOM	24

pid_t		 spawn_start(const struct spawn_opts *, int *);
pid_t		 spawn_begin(const struct spawn_opts *, int *);
int		 spawn_finish(pid_t, int);
int		 spawn_reap(pid_t, int *);
int		 spawn_peek(pid_t, int *);
int		 spawn_std_fds(int *);
int		 spawn_exit_code(int);
int		 spawn_exec_status(int);
int		 spawn_watch_start(pid_t *);
int		 spawn_watch(int, pid_t);
void		 spawn_watch_end(int, pid_t);
int		 spawn_pipe_reader(int);
char		*spawn_pipe_unread(int, size_t *, size_t *);

#endif
