/* SPDX-License-Identifier: ISC */
/*
 * fork/exec of a child with exact fd hygiene: only 0-2 and one channel fd
 * survive, the exec error comes back through a CLOEXEC pipe, and the child
 * dies with ipcrun (PR_SET_PDEATHSIG, then a getppid check against the pid
 * saved before the fork). The sequence follows tmux's job.c.
 */
#include "compat.h"

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdmap.h"
#include "spawn.h"

/* Close lo..hi (inclusive); close_range where the kernel has it. */
static void
spawn_close_range(unsigned lo, unsigned hi)
{
	struct rlimit	rl;
	unsigned	fd;

	if (lo > hi || close_range(lo, hi, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur - 1 < hi)
		hi = (unsigned)rl.rlim_cur - 1;
	for (fd = lo; fd <= hi && fd < 1048576; fd++)
		(void)close((int)fd);
}

/* After fork: only async-signal-safe calls from here on, and _exit. */
static void __attribute__((noreturn))
spawn_child(const struct spawn_opts *so, int errfd, pid_t parent)
{
	struct sigaction	sa;
	sigset_t		all;
	int			i, n, err, top, src[4 + SPAWN_MAXEXTRA];
	int			dst[4 + SPAWN_MAXEXTRA];
	char			digits[SPAWN_PID_ROOM], *p;
	pid_t			self;

	/*
	 * Dispositions first, mask last: nothing can be caught by one of
	 * ipcrun's handlers in between, and ignored signals (SIGPIPE above
	 * all) would otherwise stay ignored across exec.
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++) {
		if (i != SIGKILL && i != SIGSTOP)
			(void)sigaction(i, &sa, NULL);
	}
	if (so->pgroup) {
		if (setpgid(0, 0) == -1)
			goto fail;
		/*
		 * A ^Z (or TTIN, TTOU) sent to ipcrun's job between the fork
		 * and here is pending, blocked: unblocked at the exec, its
		 * default action would stop this process, now in a group of
		 * its own that neither the shell's fg nor ipcrun's SIGCONT
		 * reaches, before it ever ran. It was not meant for it:
		 * ignoring a signal discards it, then the default is back.
		 */
		sa.sa_handler = SIG_IGN;
		(void)sigaction(SIGTSTP, &sa, NULL);
		(void)sigaction(SIGTTIN, &sa, NULL);
		(void)sigaction(SIGTTOU, &sa, NULL);
		sa.sa_handler = SIG_DFL;
		(void)sigaction(SIGTSTP, &sa, NULL);
		(void)sigaction(SIGTTIN, &sa, NULL);
		(void)sigaction(SIGTTOU, &sa, NULL);
	}
	if (so->pdeathsig != 0) {
		if (prctl(PR_SET_PDEATHSIG, so->pdeathsig) == -1)
			goto fail;
		/* The parent may have died before prctl took effect. */
		if (getppid() != parent)
			_exit(EXIT_FAILURE);
	}

	/*
	 * 0-2 and the channel, placed so that none clobbers a source still
	 * to be placed (a swapped map, one source for two targets).
	 */
	for (i = 0; i < 3; i++) {
		src[i] = so->fd[i];
		dst[i] = i;
	}
	n = 3;
	for (i = 0; i < so->nextra; i++) {
		src[n] = so->extra[i];
		dst[n++] = 3 + i;
	}
	top = 2 + so->nextra;
	if (so->chan_fd != -1) {
		src[n] = so->chan_fd;
		dst[n++] = so->chan_to;
		top = so->chan_to;
	}
	if (so->pid_slot != NULL) {
		/* LISTEN_PID: this process's own pid, in decimal. */
		p = digits + sizeof digits;
		*--p = '\0';
		for (self = getpid(); self > 0 || *p == '\0'; self /= 10)
			*--p = (char)('0' + self % 10);
		memcpy(strchr(so->pid_slot, '=') + 1, p,
		    (size_t)(digits + sizeof digits - p));
	}
	/* errfd goes at exec (CLOEXEC): above the targets, out of the way. */
	if (errfd <= top) {
		if ((i = fcntl(errfd, F_DUPFD_CLOEXEC, top + 1)) == -1)
			goto fail;
		errfd = i;
	}
	if (fdmap_place(src, dst, (size_t)n) == -1)
		goto fail;
	/* Only 0-2, the extra fds and the channel go on. */
	if (top > 3 + so->nextra)
		spawn_close_range(3 + (unsigned)so->nextra, (unsigned)top - 1);
	if (errfd > top) {
		spawn_close_range((unsigned)top + 1, (unsigned)errfd - 1);
		spawn_close_range((unsigned)errfd + 1, ~0U);
	} else
		spawn_close_range((unsigned)top + 1, ~0U);

	/* The limit ipcrun was given, not the one it raised for itself. */
	if (so->nofile != NULL)
		(void)setrlimit(RLIMIT_NOFILE, so->nofile);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	execvpe(so->argv[0], so->argv, so->envp);
fail:
	err = errno;
	/* Nothing is left to report a failed report to. */
	if (write(errfd, &err, sizeof err) == -1)
		_exit(EXIT_FAILURE);
	_exit(EXIT_FAILURE);
}

/*
 * Start so->argv without waiting for its exec, so that many children can
 * be started at once: *pending is the read end of the exec-error pipe,
 * for spawn_finish. The caller makes sure fds 0-2 are open, so that its
 * own fds are all above 2. Returns the pid, or -1 with errno when ipcrun
 * itself could not fork.
 */
pid_t
spawn_begin(const struct spawn_opts *so, int *pending)
{
	struct spawn_opts	 o = *so;
	sigset_t		 all, old;
	pid_t			 pid, parent = getpid();
	int			 ep[2], i, saved, moved = -1, nfd;

	*pending = -1;
	if (pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	/*
	 * Nothing the child still needs may sit on the channel's number,
	 * or its dup2 would clobber it. Its own dup2 clears CLOEXEC.
	 */
	if (o.chan_fd != -1 && ep[1] == o.chan_to) {
		if ((nfd = fcntl(ep[1], F_DUPFD_CLOEXEC, 3)) == -1)
			goto fail;
		close(ep[1]);
		ep[1] = nfd;
	}
	for (i = 0; i < 3 && o.chan_fd != -1; i++) {
		if (o.fd[i] != o.chan_to || o.chan_fd == o.chan_to)
			continue;
		if (moved == -1 &&
		    (moved = fcntl(o.fd[i], F_DUPFD_CLOEXEC, 3)) == -1)
			goto fail;
		o.fd[i] = moved;
	}

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		spawn_child(&o, ep[1], parent);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ep[1]);
	ep[1] = -1;
	if (pid == -1) {
		errno = saved;
		goto fail;
	}
	/* Also here, so that the group exists before any kill(-pid). */
	if (so->pgroup)
		(void)setpgid(pid, pid);
	if (moved != -1)
		close(moved);
	*pending = ep[0];
	return pid;

fail:
	saved = errno;
	close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	if (moved != -1)
		close(moved);
	errno = saved;
	return -1;
}

/*
 * Wait for the exec of pid, begun by spawn_begin with pending: 0 when it
 * succeeded, else its errno (ENOENT: not found), the child reaped.
 * Closes pending.
 */
int
spawn_finish(pid_t pid, int pending)
{
	ssize_t	r;
	int	e = 0;

	/* EOF: exec succeeded. An int: the errno of the failed exec. */
	do
		r = read(pending, &e, sizeof e);
	while (r == -1 && errno == EINTR);
	close(pending);
	if (r != (ssize_t)sizeof e)
		return 0;
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return e != 0 ? e : EINVAL;
}

/*
 * spawn_begin and spawn_finish in one. On success returns the pid with
 * *err 0; when exec failed the child has been reaped and *err is its
 * errno. Returns -1 with errno when ipcrun itself could not fork.
 */
pid_t
spawn_start(const struct spawn_opts *so, int *err)
{
	pid_t	pid;
	int	pending;

	*err = 0;
	if ((pid = spawn_begin(so, &pending)) == -1)
		return -1;
	*err = spawn_finish(pid, pending);
	return pid;
}

/* Reap pid if it has ended: 1 with *status, 0 if it runs, -1 on error. */
int
spawn_reap(pid_t pid, int *status)
{
	pid_t	r;

	do
		r = waitpid(pid, status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	return r == pid;
}

/* A wait status as a shell reports it: the code, or 128 + signal. */
int
spawn_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAILURE;
}

/*
 * The exit status for a command whose exec failed with errno err, as a
 * shell gives it: 127 when it was not found, 126 when it was found but
 * could not be run. One rule for run, child and recv-fd.
 */
int
spawn_exec_status(int err)
{
	return err == ENOENT ? SPAWN_EXIT_NOTFOUND : SPAWN_EXIT_NOEXEC;
}

/*
 * Has pid ended? Like spawn_reap, but the zombie is left unreaped: while it
 * stays, its pid and so its process group id cannot be reused, and the
 * group can still be signalled safely. spawn_reap collects it later.
 */
int
spawn_peek(pid_t pid, int *status)
{
	siginfo_t	si;
	int		r;

	memset(&si, 0, sizeof si);
	do
		r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (si.si_pid != pid)
		return 0;
	switch (si.si_code) {
	case CLD_EXITED:
		*status = (si.si_status & 0xff) << 8;
		break;
	case CLD_DUMPED:
		*status = (si.si_status & 0x7f) | 0x80;
		break;
	default:
		*status = si.si_status & 0x7f;
		break;
	}
	return 1;
}

/*
 * The watchdog: a tiny process that outlives ipcrun only to end the
 * process groups of its children when ipcrun dies, even by SIGKILL, since
 * PR_SET_PDEATHSIG reaches no further than the direct child. It reads
 * 4-byte words from a pipe only ipcrun holds: a pgid > 0 to guard, -pgid
 * to forget, 0 to leave quietly. End of file without the 0 means ipcrun
 * is gone: every guarded group gets SIGKILL (and SIGCONT, for the stopped).
 */
#define WATCH_MAX	1024

static void __attribute__((noreturn))
spawn_watchdog(int fd)
{
	struct sigaction	sa;
	sigset_t		none;
	pid_t			grp[WATCH_MAX];
	int32_t			w;
	size_t			n = 0, i, got;
	ssize_t			r;
	int			sig;

	/* Deaf to the terminal and to signals meant for ipcrun's group. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			(void)sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_NAME, "ipcrun-watch", 0, 0, 0);
	/* Hold nothing but the pipe: no terminal, no one else's fds. */
	if (fd != 0 && dup2(fd, 0) == -1)
		_exit(EXIT_FAILURE);
	spawn_close_range(1, ~0U);
	(void)setsid();
	/* Only so as not to hold a mount busy: failing is harmless. */
	if (chdir("/") == -1)
		errno = 0;
	for (;;) {
		got = 0;
		while (got < sizeof w) {
			r = read(0, (char *)&w + got, sizeof w - got);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				goto gone;
			got += (size_t)r;
		}
		if (w == 0)
			_exit(0);
		if (w > 0 && n < WATCH_MAX)
			grp[n++] = (pid_t)w;
		for (i = 0; w < 0 && i < n; i++) {
			if (grp[i] == (pid_t)-w) {
				grp[i] = grp[--n];
				break;
			}
		}
	}
gone:
	for (i = 0; i < n; i++) {
		(void)kill(-grp[i], SIGKILL);
		(void)kill(-grp[i], SIGCONT);
	}
	_exit(0);
}

/*
 * Start the watchdog. Returns the write end of its pipe (CLOEXEC: no child
 * inherits it), with its pid in *wpid, or -1 with errno.
 */
int
spawn_watch_start(pid_t *wpid)
{
	sigset_t	all, old;
	pid_t		pid;
	int		p[2], saved;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		spawn_watchdog(p[0]);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (pid == -1) {
		close(p[1]);
		errno = saved;
		return -1;
	}
	*wpid = pid;
	return p[1];
}

/* Guard pgid (> 0) or forget it (< 0). */
int
spawn_watch(int fd, pid_t pgid)
{
	int32_t	w = (int32_t)pgid;
	ssize_t	r;

	if (fd == -1)
		return 0;
	do
		r = write(fd, &w, sizeof w);
	while (r == -1 && errno == EINTR);
	return r == (ssize_t)sizeof w ? 0 : -1;
}

/* Dismiss the watchdog: every group is done with. */
void
spawn_watch_end(int fd, pid_t wpid)
{
	if (fd == -1)
		return;
	(void)spawn_watch(fd, 0);
	close(fd);
	while (waitpid(wpid, NULL, 0) == -1 && errno == EINTR)
		;
}

/*
 * fds 0-2 must be open, so that nothing a process opens lands on them
 * (its first socket as "stdout", say): each closed one becomes /dev/null.
 * Returns -1 if one could not be opened; *closed, if not NULL, gets a
 * bit for each that was closed (1 << fd).
 */
int
spawn_std_fds(int *closed)
{
	int	fd;

	if (closed != NULL)
		*closed = 0;
	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (closed != NULL)
			*closed |= 1 << fd;
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

/*
 * A new read end, non-blocking and CLOEXEC, of the pipe fd is an end of
 * (opened through /proc, as a FIFO is), or -1. Holding one keeps what is
 * in the pipe there to be counted, without changing what the child reads.
 */
int
spawn_pipe_reader(int fd)
{
	char	path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/*
 * What is still unread in the pipe fd is an end of (a child's stdin): a
 * copy in a new buffer, *n bytes, or NULL when there is none or it could
 * not be had. Looked at, never read: the pipe is opened again for reading
 * through /proc and tee(2)'d into a pipe of its own, so that nothing is
 * taken from a process that still shares it. If that pipe cannot be made
 * as large as the child's, the copy is its first *n bytes only; *all
 * says how many there were.
 */
char *
spawn_pipe_unread(int fd, size_t *n, size_t *all)
{
	char	*p = NULL;
	int	 inq = 0, rd, s[2], saved;
	ssize_t	 got;

	*n = *all = 0;
	if (ioctl(fd, FIONREAD, &inq) == -1 || inq <= 0)
		return NULL;
	*all = (size_t)inq;
	if ((rd = spawn_pipe_reader(fd)) == -1)
		return NULL;
	if (pipe2(s, O_NONBLOCK | O_CLOEXEC) == -1) {
		close(rd);
		return NULL;
	}
	(void)fcntl(s[1], F_SETPIPE_SZ, inq);
	if ((got = tee(rd, s[1], (size_t)inq, SPLICE_F_NONBLOCK)) > 0 &&
	    (p = malloc((size_t)got)) != NULL) {
		if ((got = read(s[0], p, (size_t)got)) > 0)
			*n = (size_t)got;
		else {
			free(p);
			p = NULL;
		}
	}
	saved = errno;
	close(rd);
	close(s[0]);
	close(s[1]);
	errno = saved;
	return p;
}
