/* SPDX-License-Identifier: ISC */
/*
 * ipcrun child's private header: the bridge's state and what its files
 * give each other. child.c has the options, the set-up and the loop;
 * child_parent.c the parent's channel and Node's internal messages;
 * child_cmd.c CMD's process, signals and stdio; show.c (shared with
 * attach) -v, --trace and --stats. Include after cmd.h.
 */
#ifndef CHILD_H
#define CHILD_H

#include "buf.h"
#include "chan.h"
#include "ev.h"
#include "frame.h"
#include "jscan.h"
#include "show.h"
#include "super.h"
#include "v8frame.h"
#include "v8tag.h"

struct v8ser_err;

#define CH_QSIZE	(256 * 1024)	/* queue size and high-water mark */
#define CH_READ		(256 * 1024)	/* largest read */
#define CH_MAXMSG	((size_t)64 * 1024 * 1024)	/* longest message */

#define CH_HCONNS	8	/* IPCRUN_HANDLE_SOCK: CMD's connections */

/* A connection of CMD's to IPCRUN_HANDLE_SOCK: a header, a descriptor. */
struct child_hconn {
	int		 sock;		/* -1: a free slot */
	int		 fd;		/* the descriptor that came, or -1 */
	char		*buf;		/* the header so far */
	size_t		 len;
};

struct child {
	const struct cmd_entry	*ce;

	/* Options. */
	struct show	 sh;		/* -v, -s, --trace, --stats: towards
					   CMD (">"), and to the parent */
	int64_t		 disc_timeout;	/* -1: wait for CMD for ever */
	int64_t		 kill_timeout;
	char		**argv;		/* NULL: no CMD */
	const char	*name;		/* CMD, or "-" (stdin) in reports */
	int		 advanced;
	int		 tagged;	/* --types tagged: every V8 type */
	struct v8tag_seen re_seen;	/* tagged: the parent's RegExps */
	int		 fd_as;		/* --fd-as N: the parent's first
					   handle at N in CMD, or -1 */

	struct ev	 ev;
	int		 watch_fd;	/* the watchdog's pipe, or -1 */
	pid_t		 watch_pid;

	/*
	 * The parent's channel: child_parent.c reads it and answers. Its
	 * frame (par.rd) holds json frames from the parent, its write
	 * queue (par.tq) whole frames to it, its FIFO the fds that came.
	 */
	struct chan	 par;		/* par.fd -1 once closed */
	int		 par_ok;
	int		 disconnected;	/* EOF handled: nothing more goes out */
	int		 input_ended;	/* ipcrun run's notice, or a half-close:
					   no more input, CMD's stdin closes
					   once written; replies still go */
	int		 announce;	/* the parent is ipcrun run: say READY */
	int		 cmd_ended;	/* CMD closed its stdout while running:
					   the channel half-closed, as
					   process.disconnect() ends it */
	int		 par_k[4];	/* jscan keys: cmd, key, msg, type */
	/*
	 * --fd-as: CMD starts once the parent's first handle has come
	 * (CH_AWAIT, then CH_HANDED: the pumps stop there), with its
	 * descriptor (hfd) at fd_as; what came before it waits in cq.
	 */
	enum { CH_STARTED, CH_AWAIT, CH_HANDED } await;
	int		 hfd;		/* the handle for CMD, or -1 */
	int		 await_sig;	/* a signal that came while awaiting */
	struct v8frame	 vin;		/* advanced: frames from the parent */
	struct jscan	 js;		/* advanced: decoded frames, for cmd */
	int		 js_k[4];
	uint64_t	 par_frames;

	/*
	 * CMD, or without CMD ipcrun's own stdout and stdin: child_cmd.c
	 * starts it, signals it and reads its stdout. Its life is lib/super's
	 * table (no restarts): it is finished once it has exited and its
	 * stdout has been read to the end. Without CMD, the end of stdin
	 * is its exit.
	 */
	pid_t		 pid;
	struct super	 sv;
	int		 cin;		/* CMD's stdin (our write end), -1 closed */
	int		 cin_peek;	/* once cin is closed, a read end kept to
					   count what CMD leaves unread, or -1 */
	int		 cin_sock;
	int		 cin_dead;	/* writes failed: CMD closed its stdin */
	int		 cout;		/* CMD's stdout (our read end), -1 closed */
	int		 cout_eof;
	struct frame	 fcmd;
	int		 fcmd_ok;
	int		 cmd_cmd;
	struct buf	 cq;		/* to CMD, NDJSON lines */
	uint64_t	 lost_lines;	/* printed after the disconnect */
	uint64_t	 undelivered;	/* messages CMD will never read */
	int64_t		 exit_deadline;	/* reading CMD's stdout after its exit */

	/* IPCRUN_HANDLE_SOCK (child_handle.c): CMD's handles. */
	char		*hs_dir;	/* ipcrun's 0700 directory, or NULL */
	int		 hs_lfd;
	struct child_hconn hc[CH_HCONNS];

	int		 again;		/* more to pump: poll without waiting */
	int		 fail;
	int		 epipe;
	int		 exec_err;	/* EXIT_NOTFOUND, EXIT_NOEXEC */
};

/* child_parent.c */
int		 child_to_parent(struct child *, const char *, size_t, int,
		    struct v8ser_err *);
void		 child_pump_json(struct child *);
void		 child_pump_advanced(struct child *);
void		 child_on_chan(struct ev *, int, short, void *);
void		 child_disconnect(struct child *);

/* child_handle.c */
int		 child_await_handle(struct child *);
int		 child_handle_start(struct child *);
void		 child_handle_end(struct child *);

/* child_cmd.c */
int		 child_super_init(struct child *);
void		 child_kill(struct child *, int);
int		 child_alive(const struct child *);
void		 child_stop_step(struct child *, enum super_event);
uint64_t	 child_cq_lines(const struct child *);
uint64_t	 child_cin_unread(struct child *);
void		 child_close_cin(struct child *);
void		 child_close_cout(struct child *);
void		 child_exited(struct child *, int);
void		 child_on_signal(struct ev *, int, short, void *);
void		 child_pump_cmd(struct child *);
void		 child_on_cout(struct ev *, int, short, void *);
void		 child_on_write(struct ev *, int, short, void *);
int		 child_job_control(void);
int		 child_spawn(struct child *);
void		 child_own_stdio(struct child *);
void		 child_end_group(struct child *);

#endif
