/* SPDX-License-Identifier: ISC */
/*
 * ipcrun: the command table and the helpers every subcommand uses to find
 * a command, parse its options and report errors in one voice.
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
#include "units.h"
#include "version.h"

const struct cmd_entry *cmd_table[] = {
	&cmd_attach_entry,
	&cmd_check_entry,
	&cmd_child_entry,
	&cmd_commands_entry,
	&cmd_ctl_entry,
	&cmd_help_entry,
	&cmd_pub_entry,
	&cmd_recv_fd_entry,
	&cmd_run_entry,
	&cmd_send_fd_entry,
	&cmd_serve_entry,
	&cmd_spy_entry,
	&cmd_sub_entry,
	NULL
};

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

/*
 * Near misses, for "did you mean": the candidates at the smallest edit
 * distance from a word, if that distance is small for the word's length.
 */
#define NEAR_MAX	8
#define NEAR_LEN	64

struct near {
	const char	*word;
	size_t		 wlen;
	size_t		 best;
	size_t		 n;
	const char	*cand[NEAR_MAX];
};

/*
 * The optimal string alignment distance: insertions, deletions,
 * substitutions and swaps of two neighbours (git's "chekc") each cost 1.
 */
static size_t
near_distance(const char *a, size_t la, const char *b)
{
	size_t	d[NEAR_LEN + 1][NEAR_LEN + 1], i, j, lb = strlen(b), v;

	if (la > NEAR_LEN || lb > NEAR_LEN)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

static void
near_init(struct near *nr, const char *word, size_t wlen)
{
	memset(nr, 0, sizeof *nr);
	nr->word = word;
	nr->wlen = wlen;
	nr->best = SIZE_MAX;
}

static void
near_add(struct near *nr, const char *cand)
{
	size_t	d = near_distance(nr->word, nr->wlen, cand);

	/* Two edits at most, and fewer than the word has letters. */
	if (d > 2 || d >= nr->wlen || d > nr->best)
		return;
	if (d < nr->best) {
		nr->best = d;
		nr->n = 0;
	}
	if (nr->n < NEAR_MAX)
		nr->cand[nr->n++] = cand;
}

/* Append "'a', 'b' or 'c'" (each after dash) to buf. */
static void
list_names(char *buf, size_t len, const char *const *names, size_t n,
    const char *dash)
{
	size_t	i, off;

	for (i = 0; i < n; i++) {
		off = strlen(buf);
		snprintf(buf + off, len - off, "%s'%s%s'",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", dash, names[i]);
	}
}

/*
 * Report NAME, which cmd_find did not take: list the commands it is a
 * prefix of when it is ambiguous, or those it may be a typing error for.
 */
int
cmd_command_error(const struct cmd_entry *self, const char *name)
{
	const struct cmd_entry	**cp;
	const char		*match[NEAR_MAX];
	char			 msg[512];
	struct near		 nr;
	size_t			 n = 0, len = strlen(name);

	for (cp = cmd_table; *cp != NULL && len > 0; cp++) {
		if (!(*cp)->hidden && n < NEAR_MAX &&
		    strncmp((*cp)->name, name, len) == 0)
			match[n++] = (*cp)->name;
	}
	if (n > 1) {
		snprintf(msg, sizeof msg, "ambiguous command '%s', could be ",
		    name);
		list_names(msg, sizeof msg, match, n, "");
		return cmd_usage_error(self, "%s", msg);
	}
	near_init(&nr, name, len);
	for (cp = cmd_table; *cp != NULL; cp++) {
		if (!(*cp)->hidden)
			near_add(&nr, (*cp)->name);
	}
	snprintf(msg, sizeof msg, "unknown command '%s'", name);
	if (nr.n > 0) {
		strlcat(msg, "; did you mean ", sizeof msg);
		list_names(msg, sizeof msg, nr.cand, nr.n, "");
		strlcat(msg, "?", sizeof msg);
	}
	return cmd_usage_error(self, "%s", msg);
}

#define HELP_WIDTH	80	/* the synopsis is wrapped to this */
#define HELP_COLUMN	28	/* where option descriptions start in --help */
#define MAX_OPTS	48

/* -h and --help, which every option table has. */
const struct cmd_opt cmd_help_opt = {
	"help", 'h', 'h', NULL, NULL, "print this help and exit"
};

/* Append to a string, truncating. */
static void
append(char *buf, size_t len, const char *s, size_t n)
{
	size_t	off = strlen(buf);

	snprintf(buf + off, len - off, "%.*s", (int)n, s);
}

/*
 * What follows the name in the synopsis: the letter-only flags in one
 * group ("[-kl]"), the other options one by one, then the operands.
 */
static void
usage_text(const struct cmd_entry *ce, char *buf, size_t len)
{
	const struct cmd_opt	*o;
	char			 flags[MAX_OPTS + 1];
	size_t			 off, n = 0;

	*buf = '\0';
	for (o = ce->opts; !CMD_OPT_END(o); o++) {
		if (o->name == NULL && o->arg == NULL && n < MAX_OPTS)
			flags[n++] = (char)o->letter;
	}
	if (n > 0)
		snprintf(buf, len, "[-%.*s]", (int)n, flags);
	for (o = ce->opts; !CMD_OPT_END(o); o++) {
		if (o->name == NULL && o->arg == NULL)
			continue;
		off = strlen(buf);
		if (o->name == NULL)
			snprintf(buf + off, len - off, "%s[-%c %s]",
			    off == 0 ? "" : " ", o->letter, o->arg);
		else
			snprintf(buf + off, len - off, "%s[--%s%s%s]",
			    off == 0 ? "" : " ", o->name,
			    o->arg != NULL ? " " : "",
			    o->arg != NULL ? o->arg : "");
	}
	if (*buf != '\0' && *ce->usage != '\0')
		append(buf, len, " ", 1);
	append(buf, len, ce->usage, strlen(ce->usage));
}

/*
 * The synopsis, wrapped at HELP_WIDTH columns, breaking only between
 * bracketed groups, continuation lines lined up after the command name.
 */
static void
print_synopsis(FILE *fp, const struct cmd_entry *ce)
{
	char		 text[4096];
	const char	*p, *q;
	size_t		 col, indent, n;
	int		 depth;

	usage_text(ce, text, sizeof text);
	col = indent = strlen("usage: ipcrun ") + strlen(ce->name);
	fprintf(fp, "usage: ipcrun %s", ce->name);
	for (p = text; *p == ' '; p++)
		;
	while (*p != '\0') {
		depth = 0;
		for (q = p; *q != '\0' && (depth > 0 || *q != ' '); q++) {
			if (*q == '[')
				depth++;
			else if (*q == ']' && depth > 0)
				depth--;
		}
		n = (size_t)(q - p);
		if (col > indent && col + 1 + n > HELP_WIDTH) {
			fprintf(fp, "\n%*s", (int)indent, "");
			col = indent;
		}
		fprintf(fp, " %.*s", (int)n, p);
		col += 1 + n;
		for (p = q; *p == ' '; p++)
			;
	}
	fputc('\n', fp);
}

/*
 * One option's line of --help. One that does not leave room for its
 * description gets it on the next line, in the same column.
 */
static void
print_option(FILE *fp, const struct cmd_opt *o)
{
	char	left[256];

	if (o->name == NULL)
		snprintf(left, sizeof left, "  -%c%s%s", o->letter,
		    o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
	else
		snprintf(left, sizeof left, "  %s%c%s--%s%s%s",
		    o->letter != 0 ? "-" : " ",
		    o->letter != 0 ? o->letter : ' ',
		    o->letter != 0 ? ", " : "  ", o->name,
		    o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
	if (strlen(left) + 2 <= HELP_COLUMN)
		fprintf(fp, "%-*s%s\n", HELP_COLUMN, left, o->help);
	else
		fprintf(fp, "%s\n%*s%s\n", left, HELP_COLUMN, "", o->help);
}

/*
 * The usage; on stdout it is the help: the synopsis, a blank line, and a
 * line for each option from the table.
 */
void
cmd_print_usage(const struct cmd_entry *ce, int to_stdout)
{
	const struct cmd_opt	*o;
	FILE			*fp = to_stdout ? stdout : stderr;

	print_synopsis(fp, ce);
	if (!to_stdout)
		return;
	fputc('\n', fp);
	print_option(fp, &cmd_help_opt);
	for (o = ce->opts; !CMD_OPT_END(o); o++)
		print_option(fp, o);
	if (ce->notes != NULL)
		fprintf(fp, "\n%s", ce->notes);
}

/* CMD --help, CMD -h, help CMD: the help on stdout, then exit. */
int
cmd_help(const struct cmd_entry *ce)
{
	cmd_print_usage(ce, 1);
	return cmd_flush_stdout(ce);
}

/*
 * Set by a command while it runs, and given each report, whole, with its
 * errno (0 from cmd_warnx): it returns 1 when it has taken the line (run
 * queues it for a stderr that must never hold up the relay, and with -q
 * drops warnings, never errors), 0 for it to go to stderr here.
 */
int	(*cmd_report_hook)(int, const char *, size_t);

static void __attribute__((format(printf, 3, 0)))
vreport(const struct cmd_entry *ce, int errnum, const char *fmt, va_list ap)
{
	char	msg[1024], line[1200];
	int	n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (errnum != 0)
		n = snprintf(line, sizeof line, "ipcrun: %s%s%s: %s\n",
		    ce ? ce->name : "", ce ? ": " : "", msg, strerror(errnum));
	else
		n = snprintf(line, sizeof line, "ipcrun: %s%s%s\n",
		    ce ? ce->name : "", ce ? ": " : "", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	if (cmd_report_hook != NULL &&
	    cmd_report_hook(errnum, line, (size_t)n) == 1)
		return;
	fputs(line, stderr);
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

/*
 * A usage error: one line saying what was wrong, then where to look, as
 * coreutils do; the whole synopsis would bury the line that matters.
 */
int
cmd_usage_error(const struct cmd_entry *ce, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreport(ce, 0, fmt, ap);
	va_end(ap);
	if (ce != NULL)
		fprintf(stderr, "Try 'ipcrun %s --help'.\n", ce->name);
	else
		fprintf(stderr, "Try 'ipcrun --help'.\n");
	return EXIT_FAIL;
}

/*
 * A long option getopt_long refused, ARG being what follows the "--":
 * say which of its reasons it was, in words, as getopt's own messages are
 * neither ours nor always right (a flag given a value shows up as an
 * unknown option named by its return value).
 */
void
cmd_long_option_error(const struct cmd_entry *ce, const char *arg,
    const struct option *longopts, int missing)
{
	const struct option	*o, *exact = NULL, *first = NULL;
	const char		*match[NEAR_MAX];
	char			 msg[512];
	struct near		 nr;
	size_t			 n = 0, len = strcspn(arg, "=");

	for (o = longopts; o->name != NULL; o++) {
		if (strncmp(o->name, arg, len) != 0)
			continue;
		if (strlen(o->name) == len) {
			exact = o;
			break;
		}
		if (n == 0)
			first = o;
		if (n < NEAR_MAX)
			match[n++] = o->name;
	}
	if (exact == NULL && n == 1)
		exact = first;
	if (missing) {
		cmd_usage_error(ce, "option '--%s' needs a value",
		    exact != NULL ? exact->name : arg);
		return;
	}
	if (exact != NULL && arg[len] == '=' && exact->has_arg == no_argument) {
		cmd_usage_error(ce, "option '--%s' doesn't allow an argument",
		    exact->name);
		return;
	}
	if (exact == NULL && n > 1) {
		snprintf(msg, sizeof msg, "option '--%.*s' is ambiguous, "
		    "could be ", (int)len, arg);
		list_names(msg, sizeof msg, match, n, "--");
		cmd_usage_error(ce, "%s", msg);
		return;
	}
	snprintf(msg, sizeof msg, "unknown option '--%.*s'", (int)len, arg);
	near_init(&nr, arg, len);
	for (o = longopts; o->name != NULL; o++)
		near_add(&nr, o->name);
	if (nr.n > 0) {
		strlcat(msg, "; did you mean ", sizeof msg);
		list_names(msg, sizeof msg, nr.cand, nr.n, "--");
		strlcat(msg, "?", sizeof msg);
	}
	cmd_usage_error(ce, "%s", msg);
}

/*
 * getopt_long with ipcrun's own wording for unknown, ambiguous and
 * mistyped options and missing or unwanted values. Returns '?' after
 * reporting; the caller exits EXIT_FAIL.
 */
static int
getopt_words(const struct cmd_entry *ce, int argc, char **argv,
    const char *shortopts, const struct option *longopts, int *idx)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	char	opts[128];
	int	c, plus, prev = optind;

	/* A leading ':' makes a missing value show up as ':'. */
	plus = *shortopts == '+';
	shortopts += plus;
	shortopts += *shortopts == ':';
	snprintf(opts, sizeof opts, "%s:%s", plus ? "+" : "", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, idx);
	if (c == '?' || c == ':') {
		const char *arg = argv[prev < argc ? prev : argc - 1];

		if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0')
			cmd_long_option_error(ce, arg + 2,
			    longopts != NULL ? longopts : none, c == ':');
		else if (c == ':')
			cmd_usage_error(ce, "option '-%c' needs a value",
			    optopt);
		else if (optopt == 'j' && strchr(shortopts, 'n') != NULL)
			/* GNU parallel's -j N is a number of workers here. */
			cmd_usage_error(ce, "unknown option '-j'; did you mean "
			    "-n (the number of copies)?");
		else if (optopt != 0)
			cmd_usage_error(ce, "unknown option '-%c'", optopt);
		else
			cmd_usage_error(ce, "unknown option '%s'", arg);
		return '?';
	}
	return c;
}

/*
 * getopt_long for a command's option table: the getopt tables are made
 * from it, with -h and --help, which come back as 'h'. Options end at the
 * first operand unless the command permutes.
 */
int
cmd_getopts(const struct cmd_entry *ce, int argc, char **argv)
{
	struct option		 longopts[MAX_OPTS + 2];
	char			 shortopts[2 * MAX_OPTS + 4];
	const struct cmd_opt	*o;
	size_t			 i = 0, k = 0, n = 0;

	if (!ce->permute)
		shortopts[k++] = '+';
	for (o = ce->opts; !CMD_OPT_END(o); o++) {
		if (n++ == MAX_OPTS)
			abort();	/* raise MAX_OPTS */
		if (o->name != NULL) {
			longopts[i].name = o->name;
			longopts[i].has_arg = o->arg != NULL ?
			    required_argument : no_argument;
			longopts[i].flag = NULL;
			longopts[i++].val = o->val;
		}
		if (o->letter != 0) {
			shortopts[k++] = (char)o->letter;
			if (o->arg != NULL)
				shortopts[k++] = ':';
		}
	}
	longopts[i].name = cmd_help_opt.name;
	longopts[i].has_arg = no_argument;
	longopts[i].flag = NULL;
	longopts[i++].val = cmd_help_opt.val;
	memset(&longopts[i], 0, sizeof longopts[i]);
	shortopts[k++] = (char)cmd_help_opt.letter;
	shortopts[k] = '\0';
	return getopt_words(ce, argc, argv, shortopts, longopts, NULL);
}

/* The option parsers live in lib/units.c, beside restart.c, which uses them. */
int
cmd_parse_duration(const char *s, int64_t *ns, const char **cause)
{
	return units_duration(s, ns, cause);
}

int
cmd_parse_size(const char *s, size_t *out, const char **cause)
{
	return units_size(s, out, cause);
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

