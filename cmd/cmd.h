/* SPDX-License-Identifier: ISC */
/*
 * The command table: one struct cmd_entry per subcommand, one file each
 * under cmd/, and the helpers they share for options and reporting.
 */
#ifndef CMD_H
#define CMD_H

#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses shared by every subcommand (the convention of env(1)). */
#define EXIT_BADLINE	1	/* a line was refused (check, run) */
#define EXIT_FAIL	125	/* ipcrun itself failed: usage, set-up, I/O */
#define EXIT_NOEXEC	126	/* CMD found but could not be run */
#define EXIT_NOTFOUND	127	/* CMD not found */
#define EXIT_PIPE	141	/* stdout's reader went away (128 + SIGPIPE) */

/* Defaults and units the commands share, so that they agree. */
#define SEC		INT64_C(1000000000)
#define MSEC		INT64_C(1000000)
#define MAXLINE_DEFAULT	((size_t)64 * 1024 * 1024)	/* --max-line */
#define KILL_DEFAULT	(5 * SEC)	/* --kill-timeout */
#define PROGRESS_MIN	((uint64_t)64 * 1024 * 1024)	/* auto meter */

/*
 * One option of a command: the single description from which come its
 * getopt entry, its part of the usage synopsis, its line in --help and its
 * token in `ipcrun commands`, so that these cannot drift apart. An option
 * has a long name, a letter, or both (nc's -k and -l have no long name).
 * A table ends with an entry that has neither; -h and --help are added to
 * every table.
 */
struct cmd_opt {
	const char	*name;		/* long name, without the dashes, or
					   NULL for a letter only */
	int		 letter;	/* short option letter, or 0 */
	int		 val;		/* what cmd_getopts returns for it */
	const char	*arg;		/* its value as the synopsis shows it, or
					   NULL for a flag */
	const char	*values;	/* "a|b": the values it takes, for the
					   completions; NULL for any value */
	const char	*help;		/* what it does and its default, short
					   enough for one line of --help */
};

#define CMD_OPT_END(o)	((o)->name == NULL && (o)->letter == 0)

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* the operands; the options' part of
					   the synopsis comes from opts */
	const char	*summary;	/* one line for --help */
	const char	*notes;		/* lines after the options in --help
					   (such as the forms of ADDR), or
					   NULL */
	int		 hidden;
	/*
	 * Options may follow operands, as getopt_long permutes them: only
	 * for a command without a CMD operand, whose own options would be
	 * taken for ours, or one that splits its arguments at "--" first.
	 */
	int		 permute;
	int		(*exec)(const struct cmd_entry *, int, char **);
	const struct cmd_opt *opts;	/* the option table */
};

extern const struct cmd_entry cmd_attach_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_child_entry;
extern const struct cmd_entry cmd_commands_entry;
extern const struct cmd_entry cmd_ctl_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_pub_entry;
extern const struct cmd_entry cmd_recv_fd_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_spy_entry;
extern const struct cmd_entry cmd_sub_entry;
extern const struct cmd_entry cmd_send_fd_entry;

extern const struct cmd_entry *cmd_table[];

/* ipcrun.c */
extern const struct cmd_opt cmd_help_opt;
const struct cmd_entry *cmd_find(const char *, const char **);
int		 cmd_command_error(const struct cmd_entry *, const char *);
void		 cmd_long_option_error(const struct cmd_entry *, const char *,
		    const struct option *, int);
void		 cmd_print_usage(const struct cmd_entry *, int);
int		 cmd_usage_error(const struct cmd_entry *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 cmd_warnx(const struct cmd_entry *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 cmd_warn(const struct cmd_entry *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 cmd_getopts(const struct cmd_entry *, int, char **);
int		 cmd_help(const struct cmd_entry *);
int		 cmd_parse_size(const char *, size_t *, const char **);
int		 cmd_parse_duration(const char *, int64_t *, const char **);
int		 cmd_flush_stdout(const struct cmd_entry *);
extern int	(*cmd_report_hook)(int, const char *, size_t);

/* help.c */
void		 cmd_print_help(void);

/* meter.c */
struct meter_kid {
	const char	*name;
	uint64_t	 done;		/* tasks it answered */
	uint64_t	 held;		/* tasks it holds now: in flight */
};
struct meter {
	int		 on;
	const char	*name;
	uint64_t	 size;		/* 0: unknown */
	uint64_t	 bytes;
	uint64_t	 lines;
	uint64_t	 bad;
	size_t		 cols;		/* the terminal's width */
	size_t		 drawn;		/* columns on screen, 0: erased */
	int64_t		 start;		/* CLOCK_MONOTONIC, ns */
	int64_t		 last;		/* last drawn */
	/* run --tasks: work done, not bytes read. */
	int		 tasks;
	uint64_t	 t_done, t_failed, t_retried, t_read;
	uint64_t	 t_skipped;	/* settled before (--resume-failed) */
	int		 t_all;		/* t_read is every task */
	int		 t_shown_all;	/* the complete state was drawn */
	/* run --tasks: each child's part, asked for only when drawn. */
	size_t		 nkids;
	void		(*kid)(void *, size_t, struct meter_kid *);
	void		*kid_arg;
};
void		 meter_start(struct meter *, int, const char *, uint64_t);
void		 meter_update(struct meter *, uint64_t, uint64_t, uint64_t);
void		 meter_erase(struct meter *);
void		 meter_tasks(struct meter *, uint64_t, uint64_t, uint64_t,
    uint64_t, uint64_t, int);
void		 meter_skipped(struct meter *, uint64_t);
void		 meter_kids(struct meter *, size_t,
    void (*)(void *, size_t, struct meter_kid *), void *);

/* jobctl.c */
int		 jobctl_install(void (*)(int));

/* sock.c */
struct addr;
#define SOCK_ALLOW_MAX	32
struct sock_allow {
	uid_t		 uids[SOCK_ALLOW_MAX];	/* --allow-uid, beside ours
						   and root */
	size_t		 n;
};
/* How a one-peer command connects or says that it listens. */
struct sock_conf {
	int		 verbose;	/* -v: "listening on ADDR" */
	int		 ready_fd;	/* --ready-fd, or -1 */
	int64_t		 retry_ns;	/* -w: try to connect this long */
};
void		 sock_unlink_on_signal(struct addr *);
int		 sock_parse_ready_fd(const struct cmd_entry *, const char *,
		    int *);
int		 sock_ready_write(int *, const char *);
void		 sock_ready(const struct cmd_entry *, const struct addr *, int,
		    const char *, int, int *);
int		 sock_connect(const struct cmd_entry *, const struct addr *,
		    const char *, int64_t, int *);
int		 sock_parse_mode(const char *, mode_t *);
int		 sock_allow_add(const struct cmd_entry *, struct sock_allow *,
		    const char *);
int		 sock_peer_allowed(const struct cmd_entry *, int, const char *,
		    const struct sock_allow *);
int		 sock_parse_addr(const struct cmd_entry *, struct addr *,
		    const char *);
extern const char sock_addr_notes[];
int		 sock_wait(int, short, int);
int		 sock_listen(const struct cmd_entry *, struct addr *,
		    const char *, mode_t);
int		 sock_accept(const struct cmd_entry *, int, const char *);
int		 sock_accept_allowed(const struct cmd_entry *, int,
		    const char *, const struct sock_allow *);
int		 sock_one_peer(const struct cmd_entry *, struct addr *,
		    const char *, int, mode_t, const struct sock_allow *,
		    struct sock_conf *, int *);

#endif
