/* SPDX-License-Identifier: ISC */
/*
 * proc_groups against real process groups: one pass over /proc tells
 * which of several groups still have a live member, the same answer as
 * proc_group gives for each; a zombie leader does not count. TAP.
 */
#include "compat.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "tap.h"

#define NGROUP	5

/* A child in a group of its own, sleeping until it is killed. */
static pid_t
group_leader(void)
{
	pid_t	pid;

	if ((pid = fork()) == -1) {
		ok(0, "fork");
		exit(1);
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		for (;;)
			pause();
	}
	(void)setpgid(pid, pid);
	return pid;
}

int
main(void)
{
	pid_t		 pg[NGROUP + 1], one;
	unsigned char	 alive[NGROUP + 1];
	siginfo_t	 si;
	int		 i, status;

	for (i = 0; i < NGROUP; i++)
		pg[i] = group_leader();
	/* A group id that no process has: a reaped child's. */
	one = group_leader();
	kill(one, SIGKILL);
	waitpid(one, &status, 0);
	pg[NGROUP] = one;

	is_int(proc_groups(pg, NGROUP + 1, alive), NGROUP,
	    "five live groups of six");
	for (i = 0; i < NGROUP; i++)
		ok(alive[i] == 1, "group %d is alive", i);
	ok(alive[NGROUP] == 0, "a reaped child's group is not");

	/* Killed, unreaped: a zombie leader is no live member. */
	kill(pg[1], SIGKILL);
	kill(pg[3], SIGKILL);
	waitid(P_PID, (id_t)pg[1], &si, WEXITED | WNOWAIT);
	waitid(P_PID, (id_t)pg[3], &si, WEXITED | WNOWAIT);
	is_int(proc_groups(pg, NGROUP + 1, alive), NGROUP - 2,
	    "two killed: three left");
	for (i = 0; i <= NGROUP; i++) {
		pid_t	got;

		ok(alive[i] == (proc_group(pg[i], &got, 1) > 0),
		    "group %d: the same answer as proc_group", i);
	}
	ok(alive[1] == 0 && alive[3] == 0, "the zombies' groups are not alive");
	is_int(proc_groups(pg, 0, alive), 0, "no groups: none alive");

	for (i = 0; i < NGROUP; i++) {
		kill(pg[i], SIGKILL);
		waitpid(pg[i], &status, 0);
	}
	is_int(proc_groups(pg, NGROUP, alive), 0, "all gone");
	return done();
}
