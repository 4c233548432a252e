/* SPDX-License-Identifier: ISC */
/*
 * ipcrun check: the relay's input validation as a filter of its own. Good
 * lines pass through byte for byte; each bad line is reported (for people,
 * editors or programs, see --format) and skipped. The counts, the bad
 * lines themselves, an excerpt under each report and a progress meter are
 * there on request or on a terminal.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "check.h"
#include "jscan.h"

#define RUN_MAX		(SIZE_MAX / 2)	/* no bound on a run's bytes */

/*
 * Sort the lines of one buffer: good ones out (or only counted), bad
 * ones reported. Returns -1 to stop reading.
 *
 * Without --node no good line needs a look of its own, so the good lines
 * come as runs (frame_run: the block scanner walks from line to line with
 * no call per line) and each run is queued whole; frame_next takes only
 * what stops a run: a bad line, a line over --max-line, a line in pieces,
 * or the last line without its newline.
 */
static int
check_lines(struct check *c, struct frame *f, int cmdkey, const char *name,
    struct counts *n, int *ending)
{
	struct frame_line	l;
	const char		*p;
	char			why[256];
	uint64_t		lines, lineno;
	size_t			len;
	ssize_t			off;
	int			k;

	for (;;) {
		if (cmdkey < 0) {
			lineno = f->lineno;
			len = frame_run(f, RUN_MAX, &p, &lines);
			/* The blank lines it passed over count too. */
			n->blank += f->lineno - lineno - lines;
			n->good += lines;
			if (len > 0) {
				if (c->lines_out &&
				    check_out(c, p, len, 1) == -1)
					return -1;
				continue;
			}
		}
		if ((k = frame_next(f, &l)) == FRAME_NONE)
			break;
		switch (k) {
		case FRAME_BLANK:
			n->blank++;
			continue;
		case FRAME_REST:
			if (check_reject(c, l.p, l.len,
			    !l.nl && !l.more) == -1)
				return -1;
			if (*ending && !l.more)
				return -1;
			continue;
		case FRAME_BAD:
			why[0] = '\0';
			if (!check_muted(c))
				frame_reason(f, &l, why, sizeof why);
			off = (ssize_t)l.err_off;
			break;
		default:
			if ((off = frame_node_internal(f, cmdkey, &l, why,
			    sizeof why)) == -1) {
				n->good++;
				if (c->lines_out &&
				    check_out(c, l.p, l.len, l.nl) == -1)
					return -1;
				continue;
			}
			break;
		}
		if (check_bad(c, n, name, &l, (size_t)off, why) == -1)
			return -1;
		if (c->strict) {
			/* --rejects keeps the whole line before stopping. */
			if (!l.more || c->rejects == NULL)
				return -1;
			*ending = 1;
		}
	}
	return 0;
}

/*
 * Check one input. Returns 0 to go on with the next one, -1 to stop
 * (--strict, or stdout is gone).
 */
static int
check_fd(struct check *c, int fd, const char *name, struct counts *n)
{
	struct frame	 f;
	struct stat	 st;
	uint64_t	 size = 0;
	char		*p;
	size_t		 room;
	ssize_t		 r;
	int		 cmdkey = -1, stop = 0, ending = 0;

	memset(n, 0, sizeof *n);
	if (frame_init(&f, c->maxline, 1) == -1) {
		/* Its nesting stack is sized from the limit: name it. */
		cmd_warn(c->ce, "--max-line %zu", c->maxline);
		c->status = EXIT_FAIL;
		return -1;
	}
	f.rest = c->rejects != NULL;
	if (c->node)
		cmdkey = jscan_want(&f.js, "cmd", 3);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	meter_start(&c->meter, c->progress == 1 ||
	    (c->progress == -1 && size >= PROGRESS_MIN),
	    strcmp(name, "-") == 0 ? "stdin" : name, size);
	while (!stop) {
		if ((p = frame_space(&f, &room)) == NULL) {
			cmd_warn(c->ce, "%s", name);
			c->status = EXIT_FAIL;
			break;
		}
		if ((r = read(fd, p, room)) == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    check_wait(fd, POLLIN) == 0)
				continue;
			meter_erase(&c->meter);
			cmd_warn(c->ce, "%s: read error", name);
			c->status = EXIT_FAIL;
			break;
		}
		if (r == 0)
			frame_set_eof(&f);
		else
			frame_filled(&f, (size_t)r);
		n->bytes += (uint64_t)r;
		if (check_lines(c, &f, cmdkey, name, n, &ending) == -1)
			stop = 1;
		/*
		 * Lines go out as soon as they are complete (tail -f), and
		 * before the next read may move them in the buffer.
		 */
		if (c->niov > 0 && check_flush(c) == -1)
			stop = 1;
		meter_update(&c->meter, n->bytes, f.lineno, n->bad);
		if (r == 0)
			break;
	}
	meter_erase(&c->meter);
	frame_release(&f);
	return stop || c->status == EXIT_PIPE ? -1 : 0;
}

/* -c: one input's counts, or the total, on stdout. */
static void
print_counts(const struct counts *n, const char *name)
{
	printf("good %" PRIu64 " bad %" PRIu64 " blank %" PRIu64 "%s%s\n",
	    n->good, n->bad, n->blank, name != NULL ? " " : "",
	    name != NULL ? name : "");
	fflush(stdout);
}

static void
add_counts(struct counts *to, const struct counts *n)
{
	to->good += n->good;
	to->bad += n->bad;
	to->blank += n->blank;
	to->bytes += n->bytes;
}

/* -v: what was done, on stderr, once at the end. */
static void
print_summary(const struct check *c, const struct timespec *t0)
{
	struct timespec	t1;
	double		secs;
	uint64_t	lines;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
	lines = c->total.good + c->total.bad + c->total.blank;
	cmd_warnx(c->ce, "%u file%s, %" PRIu64 " line%s (%" PRIu64 " good, %"
	    PRIu64 " bad, %" PRIu64 " blank), %" PRIu64 " bytes in %.3fs",
	    c->files, c->files == 1 ? "" : "s", lines, lines == 1 ? "" : "s",
	    c->total.good, c->total.bad, c->total.blank, c->total.bytes, secs);
}

/*
 * Check each operand (stdin without one), with counts for -c and into the
 * totals.
 */
static void
check_all(struct check *c, int argc, char **argv)
{
	struct counts	 n;
	const char	*name;
	int		 i, fd, stop;

	for (i = 0; i < argc || (argc == 0 && i == 0); i++) {
		name = argc == 0 ? "-" : argv[i];
		if (strcmp(name, "-") == 0)
			fd = STDIN_FILENO;
		else if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
			cmd_warn(c->ce, "%s", name);
			c->status = EXIT_FAIL;
			continue;
		}
		c->files++;
		stop = check_fd(c, fd, name, &n);
		if (fd != STDIN_FILENO)
			close(fd);
		add_counts(&c->total, &n);
		if (c->count && c->status != EXIT_PIPE)
			print_counts(&n, argc > 1 ? name : NULL);
		if (stop == -1)
			break;
	}
	if (c->count && argc > 1 && c->status != EXIT_PIPE)
		print_counts(&c->total, "total");
}

/*
 * The input among the operands (standard input without one) that is the
 * same file as st, or NULL. A name that cannot be looked up is not it:
 * check_all reports it when it comes to it.
 */
static const char *
same_input(const struct stat *st, int argc, char **argv)
{
	struct stat	 in;
	const char	*name;
	int		 i, r;

	for (i = 0; i < argc || (argc == 0 && i == 0); i++) {
		name = argc == 0 ? "-" : argv[i];
		if (strcmp(name, "-") == 0)
			r = fstat(STDIN_FILENO, &in);
		else
			r = stat(name, &in);
		if (r == 0 && in.st_dev == st->st_dev &&
		    in.st_ino == st->st_ino)
			return name;
	}
	return NULL;
}

/*
 * Standard output that is a file among the inputs: what check writes
 * there would be read back, and reported again, without end (check F >>
 * F), as cat refuses. -q writes nothing there. Returns 0, or the exit
 * status after reporting.
 */
static int
stdout_check(struct check *c, int argc, char **argv)
{
	struct stat	 st;
	const char	*in;

	if (c->quiet || fstat(STDOUT_FILENO, &st) == -1 ||
	    !S_ISREG(st.st_mode) ||
	    (in = same_input(&st, argc, argv)) == NULL)
		return 0;
	if (strcmp(in, "-") == 0)
		cmd_warnx(c->ce, "standard output is also standard input: "
		    "what check writes would be read back");
	else
		cmd_warnx(c->ce, "standard output is also the input '%s': "
		    "what check writes would be read back", in);
	return EXIT_FAIL;
}

/*
 * Open --rejects. It is emptied only once it is known not to be one of
 * the inputs, as sort -o does: truncating an input before reading it
 * would lose it (and check would then pass an empty file). A file made
 * here for nothing is removed again. Returns 0, or the exit status after
 * reporting.
 */
static int
rejects_open(struct check *c, int argc, char **argv)
{
	struct stat	 st, out;
	const char	*in;
	int		 fd, made = 0;

	if ((fd = open(c->rejects_name, O_WRONLY | O_CLOEXEC)) == -1 &&
	    errno == ENOENT) {
		made = 1;
		fd = open(c->rejects_name, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0666);
	}
	if (fd == -1 || fstat(fd, &st) == -1) {
		cmd_warn(c->ce, "--rejects '%s'", c->rejects_name);
		goto fail;
	}
	/* A device or a pipe is not emptied: only a file can be lost. */
	if (S_ISREG(st.st_mode)) {
		if ((in = same_input(&st, argc, argv)) != NULL) {
			if (strcmp(in, "-") == 0)
				cmd_warnx(c->ce, "--rejects '%s': is also "
				    "standard input; write the bad lines "
				    "elsewhere", c->rejects_name);
			else
				cmd_warnx(c->ce, "--rejects '%s': is also "
				    "the input '%s'; write the bad lines "
				    "elsewhere", c->rejects_name, in);
			goto fail;
		}
		if (fstat(STDOUT_FILENO, &out) == 0 &&
		    out.st_dev == st.st_dev && out.st_ino == st.st_ino) {
			cmd_warnx(c->ce, "--rejects '%s': is also standard "
			    "output; write the bad lines elsewhere",
			    c->rejects_name);
			goto fail;
		}
		if (ftruncate(fd, 0) == -1) {
			cmd_warn(c->ce, "--rejects '%s'", c->rejects_name);
			goto fail;
		}
	}
	if ((c->rejects = fdopen(fd, "w")) == NULL) {
		cmd_warn(c->ce, "--rejects '%s'", c->rejects_name);
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (made && fd != -1)
		(void)unlink(c->rejects_name);
	return EXIT_FAIL;
}

enum {
	O_EXCERPT = 256, O_FORMAT, O_MAX_ERRORS, O_MAX_LINE, O_NODE, O_NO_EXCERPT,
	O_NO_PROGRESS, O_PROGRESS, O_REJECTS, O_STRICT, O_COLOR
};

static const struct cmd_opt check_opts[] = {
	{ "node", 0, O_NODE, NULL, NULL,
	    "also refuse Node's internal messages" },
	{ "strict", 0, O_STRICT, NULL, NULL,
	    "stop at the first bad line" },
	{ "max-line", 0, O_MAX_LINE, "BYTES", NULL,
	    "longest line, with K, M or G (default: 64M)" },
	{ "max-errors", 0, O_MAX_ERRORS, "N", NULL,
	    "report only the first N bad lines (default: 0, all)" },
	{ "count", 'c', 'c', NULL, NULL,
	    "print counts of good, bad, blank lines instead" },
	{ "quiet", 'q', 'q', NULL, NULL,
	    "print nothing, only set the exit status" },
	{ "verbose", 'v', 'v', NULL, NULL,
	    "print a summary on stderr at the end" },
	{ "format", 0, O_FORMAT, "FORMAT", "human|gnu|json",
	    "reports as human, gnu or json (default: human)" },
	{ "color", 0, O_COLOR, "auto|always|never", "auto|always|never",
	    "colour the excerpts (default: auto)" },
	{ "excerpt", 0, O_EXCERPT, NULL, NULL,
	    "show each bad line under its report (default: tty)" },
	{ "no-excerpt", 0, O_NO_EXCERPT, NULL, NULL,
	    "never show the bad line" },
	{ "rejects", 0, O_REJECTS, "FILE", NULL,
	    "write the bad lines to FILE, byte for byte" },
	{ "progress", 0, O_PROGRESS, NULL, NULL,
	    "show a meter on stderr (default: tty, file >= 64M)" },
	{ "no-progress", 0, O_NO_PROGRESS, NULL, NULL,
	    "never show the progress meter" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/*
 * Read the options into C. Returns -1 to go on, or the exit status after
 * --help or a usage error.
 */
static int
check_options(struct check *c, int argc, char **argv)
{
	const char	*cause, *errstr;
	long long	 n;
	int		 ch, excerpt = -1;

	optind = 1;
	while ((ch = cmd_getopts(c->ce, argc, argv)) != -1) {
		switch (ch) {
		case 'h':
			return cmd_help(c->ce);
		case 'c':
			c->count = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'v':
			c->verbose = 1;
			break;
		case O_COLOR:
			if (color_parse(optarg, &c->colormode) == -1)
				return cmd_usage_error(c->ce, "--color '%s': "
				    "must be auto, always or never", optarg);
			break;
		case O_EXCERPT:
		case O_NO_EXCERPT:
			excerpt = ch == O_EXCERPT;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "human") == 0)
				c->format = FMT_HUMAN;
			else if (strcmp(optarg, "gnu") == 0)
				c->format = FMT_GNU;
			else if (strcmp(optarg, "json") == 0)
				c->format = FMT_JSON;
			else
				return cmd_usage_error(c->ce, "--format '%s': "
				    "not one of human, gnu or json", optarg);
			break;
		case O_MAX_ERRORS:
			n = strtonum(optarg, 0, LLONG_MAX, &errstr);
			if (errstr != NULL)
				return cmd_usage_error(c->ce, "--max-errors "
				    "'%s': %s (0 or more; 0: no limit)",
				    optarg, errstr);
			c->max_errors = (uint64_t)n;
			break;
		case O_MAX_LINE:
			if (cmd_parse_size(optarg, &c->maxline, &cause) == -1)
				return cmd_usage_error(c->ce,
				    "--max-line '%s': %s", optarg, cause);
			break;
		case O_NODE:
			c->node = 1;
			break;
		case O_PROGRESS:
		case O_NO_PROGRESS:
			c->progress = ch == O_PROGRESS;
			break;
		case O_REJECTS:
			c->rejects_name = optarg;
			break;
		case O_STRICT:
			c->strict = 1;
			break;
		default:
			return EXIT_FAIL;
		}
	}
	if (c->quiet && c->count)
		return cmd_usage_error(c->ce, "-q and -c cannot be used "
		    "together");
	if (c->quiet && c->verbose)
		return cmd_usage_error(c->ce, "-q and -v cannot be used "
		    "together");
	if (excerpt == 1 && c->format == FMT_JSON)
		return cmd_usage_error(c->ce, "--excerpt cannot be used with "
		    "--format json (its objects carry the excerpt)");
	c->excerpt = excerpt;
	return -1;
}

/*
 * What goes where, now that the options are known: excerpts and the
 * meter only for a person at a terminal unless asked for, and never the
 * meter where TERM=dumb cannot redraw a line. NO_COLOR is about colour
 * only: the meter has none (issue 30).
 */
static void
check_policy(struct check *c)
{
	const char	*term = getenv("TERM");
	struct winsize	 ws;
	int		 tty = isatty(STDERR_FILENO);

	c->lines_out = !c->count && !c->quiet;
	c->ordered = c->lines_out && isatty(STDOUT_FILENO);
	if (c->excerpt == -1)
		c->excerpt = tty && !c->quiet && c->format != FMT_JSON;
	if (c->progress == -1 && (!tty || c->quiet ||
	    (term != NULL && strcmp(term, "dumb") == 0)))
		c->progress = 0;
	c->color = c->excerpt && color_on(c->colormode, STDERR_FILENO);
	c->cols = 80;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		c->cols = ws.ws_col;
	/* Display widths of UTF-8 in excerpts come from the locale. */
	if (c->excerpt)
		setlocale(LC_CTYPE, "");
}

static int
cmd_check_exec(const struct cmd_entry *ce, int argc, char **argv)
{
	struct check	 c;
	struct timespec	 t0;
	const char	*env;
	int		 st;

	memset(&c, 0, sizeof c);
	c.ce = ce;
	c.maxline = MAXLINE_DEFAULT;
	c.progress = -1;
	if ((st = check_options(&c, argc, argv)) != -1)
		return st;
	argc -= optind;
	argv += optind;

	if ((env = getenv("IPCRUN_JSCAN")) != NULL && *env != '\0' &&
	    jscan_set_impl(env) == -1) {
		cmd_warnx(ce, "IPCRUN_JSCAN '%s': not available on this CPU "
		    "(use avx512, avx2, sse42, sse2 or scalar)", env);
		return EXIT_FAIL;
	}
	check_policy(&c);
	if ((st = stdout_check(&c, argc, argv)) != 0)
		return st;
	if (c.rejects_name != NULL && (st = rejects_open(&c, argc, argv)) != 0)
		return st;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_all(&c, argc, argv);
	if (c.rejects != NULL && fclose(c.rejects) == EOF &&
	    !c.rejects_failed) {
		cmd_warn(ce, "--rejects '%s': write error", c.rejects_name);
		c.status = EXIT_FAIL;
	}
	if (c.hidden > 0 && c.status != EXIT_PIPE)
		cmd_warnx(ce, "%" PRIu64 " more bad line%s not shown "
		    "(--max-errors %" PRIu64 ")", c.hidden,
		    c.hidden == 1 ? "" : "s", c.max_errors);
	if (c.verbose)
		print_summary(&c, &t0);
	if (c.count && (st = cmd_flush_stdout(ce)) != 0 && c.status == 0)
		c.status = st;
	if (c.status != 0)
		return c.status;
	return c.bad ? 1 : 0;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "[FILE ...]",
	.summary = "validate NDJSON as a Node IPC peer would",
	.exec = cmd_check_exec,
	.opts = check_opts
};
