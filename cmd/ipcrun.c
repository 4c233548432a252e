/*
 * ipcrun: main, global options, the command table and the helpers every
 * subcommand uses to parse options and report errors in one voice.
 */
#include "compat.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ipcrun.h"

const struct cmd_entry *cmd_table[] = {
	&cmd_attach_entry,
	&cmd_check_entry,
	&cmd_commands_entry,
	&cmd_help_entry,
	&cmd_recv_fd_entry,
	&cmd_run_entry,
	&cmd_send_fd_entry,
	NULL
};

static const char *global_usage =
    "usage: ipcrun [--help] [--version] COMMAND [ARGS]";

/*
 * Find a command by name or by unique prefix (as tmux does). On failure
 * *cause says why.
 */
const struct cmd_entry *
cmd_find(const char *name, const char **cause)
{
	const struct cmd_entry	**cp, *found = NULL;
	size_t			  len = strlen(name);

	for (cp = cmd_table; *cp != NULL; cp++) {
		if (strcmp((*cp)->name, name) == 0)
			return *cp;
		if ((*cp)->hidden || strncmp((*cp)->name, name, len) != 0)
			continue;
		if (found != NULL) {
			*cause = "ambiguous command";
			return NULL;
		}
		found = *cp;
	}
	if (found == NULL || len == 0)
		*cause = "unknown command";
	return len == 0 ? NULL : found;
}

void
cmd_print_usage(const struct cmd_entry *ce, int to_stdout)
{
	fprintf(to_stdout ? stdout : stderr, "usage: ipcrun %s %s\n",
	    ce->name, ce->usage);
}

static void
vreport(const struct cmd_entry *ce, int errnum, const char *fmt, va_list ap)
{
	char	msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (errnum != 0)
		fprintf(stderr, "ipcrun: %s%s%s: %s\n", ce ? ce->name : "",
		    ce ? ": " : "", msg, strerror(errnum));
	else
		fprintf(stderr, "ipcrun: %s%s%s\n", ce ? ce->name : "",
		    ce ? ": " : "", msg);
}

void
cmd_warnx(const struct cmd_entry *ce, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport(ce, 0, fmt, ap);
	va_end(ap);
}

void
cmd_warn(const struct cmd_entry *ce, const char *fmt, ...)
{
	va_list	ap;
	int	errnum = errno;

	va_start(ap, fmt);
	vreport(ce, errnum, fmt, ap);
	va_end(ap);
}

/* A usage error: one line saying what was wrong, then the usage. */
int
cmd_usage_error(const struct cmd_entry *ce, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport(ce, 0, fmt, ap);
	va_end(ap);
	if (ce != NULL)
		cmd_print_usage(ce, 0);
	else
		fprintf(stderr, "%s\n", global_usage);
	return EXIT_FAIL;
}

/*
 * getopt_long with ipcrun's own wording for unknown options and missing
 * arguments. Returns '?' after reporting; the caller exits EXIT_FAIL.
 */
int
cmd_getopt(const struct cmd_entry *ce, int argc, char **argv,
    const char *shortopts, const struct option *longopts, int *idx)
{
	char	opts[64];
	int	c, prev = optind;

	/* A leading ':' makes a missing value show up as ':'. */
	snprintf(opts, sizeof opts, "%s:%s", *shortopts == '+' ? "+" : "",
	    shortopts + (*shortopts == '+'));
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, idx);
	if (c == '?' || c == ':') {
		const char *arg = argv[prev < argc ? prev : argc - 1];

		if (c == ':')
			cmd_usage_error(ce, "option '%s' needs a value", arg);
		else if (optopt != 0)
			cmd_usage_error(ce, "unknown option '-%c'", optopt);
		else
			cmd_usage_error(ce, "unknown option '%s'", arg);
		return '?';
	}
	return c;
}

/*
 * Parse a byte count: digits with an optional K, M or G suffix (powers of
 * 1024). Returns -1 with *cause set when the value is not one.
 */
int
cmd_parse_size(const char *s, size_t *out, const char **cause)
{
	char		*end;
	uintmax_t	 v, mult = 1;

	if (*s < '0' || *s > '9') {
		*cause = "not a byte count";
		return -1;
	}
	errno = 0;
	v = strtoumax(s, &end, 10);
	if (errno != 0) {
		*cause = "too large";
		return -1;
	}
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024;
		break;
	case 'm': case 'M':
		mult = 1024 * 1024;
		break;
	case 'g': case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		*cause = "not a byte count";
		return -1;
	}
	if (*end != '\0' && end[1] != '\0') {
		*cause = "not a byte count";
		return -1;
	}
	if (v > SIZE_MAX / 4 / mult) {
		*cause = "too large";
		return -1;
	}
	if (v == 0) {
		*cause = "must be at least 1";
		return -1;
	}
	*out = (size_t)(v * mult);
	return 0;
}

/*
 * Flush stdout and check it, so that a full disk is an error and not a
 * silent truncation (as git does). EPIPE is the reader leaving.
 */
int
cmd_flush_stdout(const struct cmd_entry *ce)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return EXIT_PIPE;
	cmd_warn(ce, "write error on stdout");
	return EXIT_FAIL;
}

static void
print_help(void)
{
	const struct cmd_entry	**cp;

	printf("%s\n\ncommands:\n", global_usage);
	for (cp = cmd_table; *cp != NULL; cp++) {
		if (!(*cp)->hidden)
			printf("  %-10s %s\n", (*cp)->name, (*cp)->summary);
	}
	printf("\nSee 'ipcrun help COMMAND' or man ipcrun-COMMAND.\n");
}

/* ipcrun help [COMMAND] */
static int
cmd_help_exec(const struct cmd_entry *self, int argc, char **argv)
{
	const struct cmd_entry	*ce;
	const char		*cause = NULL;

	if (argc > 2)
		return cmd_usage_error(self, "too many operands");
	if (argc < 2) {
		print_help();
		return cmd_flush_stdout(self);
	}
	if ((ce = cmd_find(argv[1], &cause)) == NULL)
		return cmd_usage_error(self, "%s '%s'", cause, argv[1]);
	printf("usage: ipcrun %s %s\n%s\n", ce->name, ce->usage, ce->summary);
	return cmd_flush_stdout(self);
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show the usage of ipcrun or of one command",
	.options = "",
	.exec = cmd_help_exec
};

/*
 * ipcrun commands: every visible command with its summary and options,
 * tab-separated, for the completion scripts.
 */
static int
cmd_commands_exec(const struct cmd_entry *self, int argc, char **argv)
{
	const struct cmd_entry	**cp;

	(void)argv;
	if (argc > 1)
		return cmd_usage_error(self, "too many operands");
	printf("ipcrun\t%s\t--help --version -h -V\n", "global options");
	for (cp = cmd_table; *cp != NULL; cp++) {
		if (!(*cp)->hidden)
			printf("%s\t%s\t%s\n", (*cp)->name, (*cp)->summary,
			    (*cp)->options);
	}
	return cmd_flush_stdout(self);
}

const struct cmd_entry cmd_commands_entry = {
	.name = "commands",
	.usage = "",
	.summary = "list commands and options for completion scripts",
	.options = "",
	.hidden = 1,
	.exec = cmd_commands_exec
};

int
main(int argc, char **argv)
{
	const struct cmd_entry	*ce;
	const char		*cause = NULL;

	/*
	 * A dead reader must show up as EPIPE, so that each command can
	 * stop quietly with 141 instead of being killed mid-report.
	 */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2)
		return cmd_usage_error(NULL, "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_help();
		return cmd_flush_stdout(NULL);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("ipcrun %s\n", IPCRUN_VERSION);
		return cmd_flush_stdout(NULL);
	}
	if (argv[1][0] == '-')
		return cmd_usage_error(NULL, "unknown option '%s'", argv[1]);
	if ((ce = cmd_find(argv[1], &cause)) == NULL)
		return cmd_usage_error(NULL, "%s '%s'", cause, argv[1]);
	return ce->exec(ce, argc - 1, argv + 1);
}
