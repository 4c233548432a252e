/* SPDX-License-Identifier: ISC */
/*
 * What /proc tells about the processes ipcrun started: the live members of
 * a process group, whether one is Node and with which environment, and
 * whether one still holds a given socket. Read-only, best effort: a process
 * that vanishes while it is looked at simply is not counted.
 */
#include "compat.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

/* Read a small /proc file whole; -1 if it cannot be read. */
static ssize_t
proc_read(const char *path, char *buf, size_t len)
{
	ssize_t	n, got = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - (size_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

/*
 * The process group of a live (not zombie) process named by a /proc
 * entry, or -1 (not a process, gone, or a zombie).
 */
static long
proc_entry_pgrp(const char *name, long *pidp)
{
	char	 path[64], stat[512], *p, state;
	long	 pid, pgrp;

	if ((pid = strtol(name, &p, 10)) <= 0 || *p != '\0')
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (proc_read(path, stat, sizeof stat) <= 0)
		return -1;
	/* pid (comm) state ppid pgrp: comm may hold anything. */
	if ((p = strrchr(stat, ')')) == NULL ||
	    sscanf(p + 1, " %c %*d %ld", &state, &pgrp) != 2)
		return -1;
	if (state == 'Z' || state == 'X')
		return -1;
	*pidp = pid;
	return pgrp;
}

/*
 * The live (not zombie) members of process group pgid, up to max of them
 * into pids. Returns how many were found (which may exceed max), or -1.
 */
ssize_t
proc_group(pid_t pgid, pid_t *pids, size_t max)
{
	struct dirent	*de;
	DIR		*d;
	long		 pid;
	size_t		 n = 0;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (proc_entry_pgrp(de->d_name, &pid) != (long)pgid)
			continue;
		if (n < max)
			pids[n] = (pid_t)pid;
		n++;
	}
	closedir(d);
	return (ssize_t)n;
}

static int
proc_cmp_pid(const void *a, const void *b)
{
	pid_t	x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Which of the n process groups pgids still have a live member: one pass
 * over /proc for all of them (a pass per group costs groups x processes
 * when hundreds of children end). alive[i] is set to 1 or 0; returns how
 * many groups are alive, or -1.
 */
ssize_t
proc_groups(const pid_t *pgids, size_t n, unsigned char *alive)
{
	struct dirent	*de;
	DIR		*d;
	pid_t		*sorted, key, *hit;
	unsigned char	*seen;
	long		 pid, pgrp;
	size_t		 i;
	ssize_t		 left = 0;

	memset(alive, 0, n);
	if (n == 0)
		return 0;
	if ((sorted = reallocarray(NULL, n, sizeof *sorted)) == NULL)
		return -1;
	if ((seen = calloc(n, 1)) == NULL) {
		free(sorted);
		return -1;
	}
	memcpy(sorted, pgids, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, proc_cmp_pid);
	if ((d = opendir("/proc")) == NULL) {
		free(seen);
		free(sorted);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((pgrp = proc_entry_pgrp(de->d_name, &pid)) <= 0)
			continue;
		key = (pid_t)pgrp;
		if ((hit = bsearch(&key, sorted, n, sizeof *sorted,
		    proc_cmp_pid)) != NULL)
			seen[hit - sorted] = 1;
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		key = pgids[i];
		hit = bsearch(&key, sorted, n, sizeof *sorted, proc_cmp_pid);
		alive[i] = hit != NULL && seen[hit - sorted];
		left += alive[i];
	}
	free(seen);
	free(sorted);
	return left;
}

/* Is the executable of pid named node* (node, nodejs, node20)? */
int
proc_is_node(pid_t pid)
{
	char		 path[64], exe[PATH_MAX];
	const char	*base;
	ssize_t		 n;

	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	if ((n = readlink(path, exe, sizeof exe - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "node", 4) == 0;
}

/*
 * Was pid started with entry ("NAME=VALUE") in its environment, exactly or
 * (prefix) as the start of one? The initial environment is what /proc
 * shows, whatever the process did to its own copy since. -1 when it
 * cannot be read.
 */
int
proc_env_has(pid_t pid, const char *entry, int prefix)
{
	char	 path[64], *env, *p, *e;
	size_t	 cap = 64 * 1024, len = strlen(entry);
	ssize_t	 n;
	int	 found = 0;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	for (;;) {
		if ((env = malloc(cap)) == NULL)
			return -1;
		if ((n = proc_read(path, env, cap)) == -1) {
			free(env);
			return -1;
		}
		if ((size_t)n < cap - 1 || cap >= 16 * 1024 * 1024)
			break;
		free(env);
		cap *= 4;
	}
	for (p = env, e = env + n; p < e; p += strlen(p) + 1) {
		if ((prefix || strlen(p) == len) &&
		    strncmp(p, entry, len) == 0) {
			found = 1;
			break;
		}
	}
	free(env);
	return found;
}

static int
proc_fd_is(pid_t pid, const char *fd, const char *want)
{
	char	path[300], link[64];	/* fd: a d_name, up to 255 bytes */
	ssize_t	n;

	snprintf(path, sizeof path, "/proc/%ld/fd/%s", (long)pid, fd);
	if ((n = readlink(path, link, sizeof link - 1)) <= 0)
		return 0;
	link[n] = '\0';
	return strcmp(link, want) == 0;
}

/*
 * Does pid hold the socket with inode ino? hint is the fd where it is
 * usually found, looked at first. -1 when pid's fds cannot be read.
 */
int
proc_holds_socket(pid_t pid, unsigned long long ino, int hint)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[64], want[48], num[16];
	int		 found = 0;

	snprintf(want, sizeof want, "socket:[%llu]", ino);
	snprintf(num, sizeof num, "%d", hint);
	if (hint >= 0 && proc_fd_is(pid, num, want))
		return 1;
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			found = proc_fd_is(pid, de->d_name, want);
	}
	closedir(d);
	return found;
}

/* CPU time pid has used so far, in clock ticks; -1 if unknown. */
long long
proc_cpu(pid_t pid)
{
	char		 path[64], stat[512], *p;
	unsigned long long ut, st;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (proc_read(path, stat, sizeof stat) <= 0 ||
	    (p = strrchr(stat, ')')) == NULL)
		return -1;
	/* After comm: state ppid pgrp session tty tpgid flags minflt
	   cminflt majflt cmajflt utime stime. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static int
proc_exe(pid_t pid, char *buf, size_t len)
{
	char	path[64];
	ssize_t	n;

	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	if ((n = readlink(path, buf, len - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static pid_t
proc_ppid(pid_t pid)
{
	char	path[64], stat[512], *p;
	long	ppid;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (proc_read(path, stat, sizeof stat) <= 0 ||
	    (p = strrchr(stat, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/*
 * Is one of pids (members of one group) a fork of another that has not
 * exec'd yet, the same executable as its parent in the group? A shell is
 * then about to start a program, which may be Node.
 */
int
proc_forking(const pid_t *pids, size_t n)
{
	char	exe[PATH_MAX], pexe[PATH_MAX];
	size_t	i, j;
	pid_t	pp;

	for (i = 0; i < n; i++) {
		if ((pp = proc_ppid(pids[i])) <= 0)
			continue;
		for (j = 0; j < n && pids[j] != pp; j++)
			;
		if (j == n || proc_exe(pids[i], exe, sizeof exe) == -1 ||
		    proc_exe(pp, pexe, sizeof pexe) == -1)
			continue;
		if (strcmp(exe, pexe) == 0)
			return 1;
	}
	return 0;
}

/*
 * A description of fd's own that never blocks, for what ipcrun writes to
 * a descriptor it was given (stdout, stderr, --events-fd): O_NONBLOCK on
 * fd itself would change a description others share (with 2>&1, a
 * child's stderr), so a pipe or a terminal is opened again through /proc.
 * A socket needs no flag (send with MSG_DONTWAIT: *sock is set), nor a
 * regular file. Returns the descriptor to write to: a new one (to close
 * after), or fd itself when nothing better can be had.
 */
int
proc_reopen_nonblock(int fd, int *sock)
{
	struct stat	st;
	char		path[64];
	int		nfd;

	*sock = 0;
	if (fstat(fd, &st) == -1)
		return fd;
	if (S_ISSOCK(st.st_mode)) {
		*sock = 1;
		return fd;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return fd;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if ((nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return fd;
	return nfd;
}
