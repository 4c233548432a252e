/*
 * The command table: one struct cmd_entry per subcommand, one file each
 * under cmd/, and the helpers they share for options and reporting.
 */
#ifndef CMD_H
#define CMD_H

#include <getopt.h>
#include <stdarg.h>
#include <sys/types.h>

/* Exit statuses shared by every subcommand (the convention of env(1)). */
#define EXIT_FAIL	125	/* ipcrun itself failed: usage, set-up, I/O */
#define EXIT_NOEXEC	126	/* CMD found but could not be run */
#define EXIT_NOTFOUND	127	/* CMD not found */
#define EXIT_PIPE	141	/* stdout's reader went away (128 + SIGPIPE) */

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* operands and options after the name */
	const char	*summary;	/* one line for --help */
	/*
	 * Options for `ipcrun commands` and so for the completions:
	 * "--flag", "--opt=" (takes a value), "--opt=a|b" (one of), "-x".
	 */
	const char	*options;
	int		 hidden;
	int		(*exec)(const struct cmd_entry *, int, char **);
};

extern const struct cmd_entry cmd_attach_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_commands_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_recv_fd_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_send_fd_entry;

extern const struct cmd_entry *cmd_table[];

/* ipcrun.c */
const struct cmd_entry *cmd_find(const char *, const char **);
void		 cmd_print_usage(const struct cmd_entry *, int);
int		 cmd_usage_error(const struct cmd_entry *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 cmd_getopt(const struct cmd_entry *, int, char **, const char *,
		    const struct option *, int *);
void		 cmd_warnx(const struct cmd_entry *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 cmd_warn(const struct cmd_entry *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 cmd_parse_size(const char *, size_t *, const char **);
int		 cmd_flush_stdout(const struct cmd_entry *);

/* sock.c */
struct addr;
void		 sock_unlink_on_signal(struct addr *);
int		 sock_parse_mode(const char *, mode_t *);
int		 sock_parse_addr(const struct cmd_entry *, struct addr *,
		    const char *);
int		 sock_wait(int, short, int);
int		 sock_listen(const struct cmd_entry *, struct addr *,
		    const char *, mode_t);
int		 sock_accept(const struct cmd_entry *, int, const char *);
int		 sock_one_peer(const struct cmd_entry *, struct addr *,
		    const char *, int, mode_t, int *);

#endif
