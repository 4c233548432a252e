/* SPDX-License-Identifier: ISC */
/*
 * Split a command line into words as sh(1) quotes them, with no expansion
 * of any kind, so that -c 'NAME=CMD ARGS' is exec'd without a shell. What
 * only a shell could do is refused, with its column, rather than passed on
 * as a literal that would surprise.
 */
#include "compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "words.h"

#define SHELL_ONLY	"|&;<>()$`*?[\n"
#define SHELL_HINT	"needs a shell: quote it, or run sh -c explicitly"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Is s..e (unquoted source) a shell variable name, so that '=' assigns? */
static int
assigns(const char *s, const char *e)
{
	if (s == e || (*s >= '0' && *s <= '9'))
		return 0;
	for (; s < e; s++) {
		if (!name_char((unsigned char)*s))
			return 0;
	}
	return 1;
}

/* A refused character, named as the user typed it. */
static int
refuse(char *err, size_t errlen, int c, size_t col)
{
	if (c == '\n')
		return fail(err, errlen, "a newline at column %zu " SHELL_HINT,
		    col);
	return fail(err, errlen, "'%c' at column %zu " SHELL_HINT, c, col);
}

/*
 * The body of a double-quoted string, p just after the opening quote.
 * Appends to *outp; returns the byte after the closing quote, or NULL.
 */
static const char *
dquote(const char *s, const char *p, size_t base, char **outp, char *err,
    size_t errlen)
{
	const char	*open = p - 1;
	char		*out = *outp;

	for (;;) {
		switch (*p) {
		case '\0':
			fail(err, errlen, "unterminated double quote from "
			    "column %zu", base + (size_t)(open - s) + 1);
			return NULL;
		case '"':
			*outp = out;
			return p + 1;
		case '$':
		case '`':
			fail(err, errlen, "'%c' at column %zu needs a shell "
			    "even in double quotes: use single quotes, or run "
			    "sh -c explicitly", *p, base + (size_t)(p - s) + 1);
			return NULL;
		case '\\':
			if (p[1] == '\n') {
				p += 2;
				continue;
			}
			if (p[1] != '\0' && strchr("$`\"\\", p[1]) != NULL)
				p++;
			break;
		}
		*out++ = *p++;
	}
}

/*
 * Split s into a NULL-terminated argv; base is s's offset in the string
 * the user wrote, for columns. Returns the word count or -1.
 */
static int
split(const char *s, size_t base, char ***argvp, char *err, size_t errlen)
{
	size_t		 len = strlen(s), maxw = len / 2 + 2, n = 0;
	const char	*p = s, *word = NULL, *q;
	char		**argv, *out;

	/*
	 * One block: words never grow in decoding and each but the last
	 * ends where a blank was, so len + 1 bytes hold them all.
	 */
	if ((argv = malloc(maxw * sizeof *argv + len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out = (char *)(argv + maxw);
	while (*p != '\0') {
		size_t col = base + (size_t)(p - s) + 1;

		if (*p == '\\' && p[1] == '\n') {
			p += 2;		/* a line continuation: nothing */
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			if (word != NULL) {
				*out++ = '\0';
				word = NULL;
			}
			p++;
			continue;
		}
		if (word == NULL) {
			if (*p == '~' || *p == '#') {
				refuse(err, errlen, *p, col);
				goto bad;
			}
			word = p;
			argv[n++] = out;
		}
		switch (*p) {
		case '\'':
			if ((q = strchr(p + 1, '\'')) == NULL) {
				fail(err, errlen, "unterminated single quote "
				    "from column %zu", col);
				goto bad;
			}
			memcpy(out, p + 1, (size_t)(q - p - 1));
			out += q - p - 1;
			p = q + 1;
			continue;
		case '"':
			if ((p = dquote(s, p + 1, base, &out, err, errlen)) ==
			    NULL)
				goto bad;
			continue;
		case '\\':
			/* A final backslash stays, as sh keeps it. */
			if (p[1] != '\0')
				p++;
			break;
		case '=':
			if (n == 1 && assigns(word, p)) {
				fail(err, errlen, "an assignment at column "
				    "%zu needs a shell: run env NAME=VALUE "
				    "CMD instead", base + (size_t)(word - s) +
				    1);
				goto bad;
			}
			break;
		default:
			if (strchr(SHELL_ONLY, *p) != NULL) {
				refuse(err, errlen, *p, col);
				goto bad;
			}
		}
		*out++ = *p++;
	}
	if (word != NULL)
		*out = '\0';
	argv[n] = NULL;
	*argvp = argv;
	return (int)n;
bad:
	free(argv);
	return -1;
}

/*
 * Split a command line S into words as sh(1) does, and nothing more:
 * blanks (space, tab) separate words; '...' is literal; in "..." a
 * backslash escapes only $ ` " \ and a newline; outside quotes a
 * backslash escapes the next character (a final one is kept) and
 * backslash-newline is removed. There is no expansion, so these are
 * refused, unquoted, with their column: | & ; < > ( ) $ ` * ? [ and a
 * newline anywhere, ~ or # starting a word, $ or ` inside "...", and a
 * first word that assigns (FOO=1 CMD: use env). On success *argvp is a
 * NULL-terminated array and the word count is returned (0 for a blank
 * line); the array and its strings are one allocation: free(*argvp).
 * Returns -1 with a message in err (errlen bytes, columns 1-based) and
 * errno EINVAL, or ENOMEM ("out of memory").
 */
int
words_split(const char *s, char ***argvp, char *err, size_t errlen)
{
	return split(s, 0, argvp, err, errlen);
}

/*
 * Split ARG, written NAME=CMD ARGS (-c), into *name (NAME: 1 to
 * WORDS_NAME_MAX bytes of letters, digits, '_', '.' and '-') and *argv
 * (CMD ARGS, as words_split; a first word that is not empty). The
 * caller frees both with free(). Returns 0, or -1 with err and errno as
 * words_split, columns counted in ARG.
 */
int
words_name_cmd(const char *arg, char **name, char ***argv, char *err,
    size_t errlen)
{
	const char	*p;
	size_t		 len;
	int		 n;

	for (p = arg; name_char((unsigned char)*p) || *p == '.' ||
	    *p == '-'; p++)
		;
	len = (size_t)(p - arg);
	if (*p != '=')
		return fail(err, errlen, "expected NAME=CMD ARGS, with a "
		    "NAME of letters, digits, '_', '.' and '-' (column %zu)",
		    len + 1);
	if (len == 0)
		return fail(err, errlen, "an empty NAME before '='");
	if (len > WORDS_NAME_MAX)
		return fail(err, errlen, "a NAME longer than %d bytes",
		    WORDS_NAME_MAX);
	if ((n = split(p + 1, len + 1, argv, err, errlen)) == -1)
		return -1;
	if (n == 0 || (*argv)[0][0] == '\0') {
		free(*argv);
		return fail(err, errlen, "no command after '%.*s='", (int)len,
		    arg);
	}
	if ((*name = strndup(arg, len)) == NULL) {
		free(*argv);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * Interpreters whose first operand is a script, and the options that
 * matter for finding it: CODE takes the program itself (no script
 * then), ARG takes the next word (or the rest of its own).
 */
static const struct interp {
	const char	*cmd;	/* "python" also names python3, python3.11 */
	const char	*code;
	const char	*arg;
} interps[] = {
	{ "node", " -e -p --eval --print ", " -r -C --require --import "
	    "--loader --experimental-loader --conditions --env-file --title "
	    "--input-type " },
	{ "nodejs", " -e -p --eval --print ", " -r -C --require --import "
	    "--loader --experimental-loader --conditions --env-file --title "
	    "--input-type " },
	{ "python", " -c -m ", " -W -X " },
	{ "ruby", " -e ", " -I -r -C " },
	{ "perl", " -e -E ", " " },
};

/* Is OPT (LEN bytes) one of the space-separated words of LIST? */
static int
in_list(const char *list, const char *opt, size_t len)
{
	const char	*p;

	for (p = list; (p = strstr(p, opt)) != NULL; p++)
		if (p[-1] == ' ' && strncmp(p, opt, len) == 0 &&
		    p[len] == ' ')
			return 1;
	return 0;
}

static const struct interp *
interp_of(const char *cmd, size_t len)
{
	size_t	i, k;

	for (i = 0; i < sizeof interps / sizeof interps[0]; i++) {
		k = strlen(interps[i].cmd);
		if (len < k || strncmp(cmd, interps[i].cmd, k) != 0)
			continue;
		if (k == len)
			return &interps[i];
		/* python3, python3.11: a version after the name. */
		if (strcmp(interps[i].cmd, "python") == 0 &&
		    strspn(cmd + k, "0123456789.") == len - k)
			return &interps[i];
	}
	return NULL;
}

/*
 * The script an interpreter's words ARGV run, or NULL: the first operand
 * after the options, none with code given inline (node -e) or a module
 * (python -m) or standard input ("-").
 */
static const char *
script_of(const struct interp *in, char *const *argv)
{
	char	opt[3];
	size_t	len, i;

	for (argv++; *argv != NULL; argv++) {
		if (strcmp(*argv, "--") == 0)
			return argv[1];
		if ((*argv)[0] != '-')
			return *argv;
		if ((*argv)[1] == '\0')
			return NULL;
		if ((*argv)[1] == '-') {
			len = strcspn(*argv, "=");
			if (in_list(in->code, *argv, len))
				return NULL;
			if ((*argv)[len] == '\0' && in_list(in->arg, *argv, len) &&
			    *++argv == NULL)
				return NULL;
			continue;
		}
		/* A cluster of letters, -uW ARG or -Wignore. */
		for (i = 1; (*argv)[i] != '\0'; i++) {
			opt[0] = '-';
			opt[1] = (*argv)[i];
			opt[2] = '\0';
			if (in_list(in->code, opt, 2))
				return NULL;
			if (in_list(in->arg, opt, 2)) {
				if ((*argv)[i + 1] == '\0' && *++argv == NULL)
					return NULL;
				break;
			}
		}
	}
	return NULL;
}

/*
 * The name a command's copies go by (NAME.1, NAME.2 ...): the last part
 * of ARGV[0]'s path, or, for an interpreter (node, python, ruby, perl)
 * running a script, the script's, without directory or extension, as
 * pm2 names them: "node srv/worker.js" is worker, "node -e CODE" node.
 * Returns the start of the name within ARGV's strings, its length in
 * *len.
 */
const char *
words_cmd_name(char *const *argv, size_t *len)
{
	const struct interp	*in;
	const char		*cmd, *s, *dot;

	cmd = strrchr(argv[0], '/') != NULL && strrchr(argv[0], '/')[1] != '\0' ?
	    strrchr(argv[0], '/') + 1 : argv[0];
	*len = strlen(cmd);
	if ((in = interp_of(cmd, *len)) == NULL ||
	    (s = script_of(in, argv)) == NULL)
		return cmd;
	if (strrchr(s, '/') != NULL)
		s = strrchr(s, '/') + 1;
	if ((dot = strrchr(s, '.')) == NULL)
		dot = s + strlen(s);
	if (dot == s)
		return cmd;
	*len = (size_t)(dot - s);
	return s;
}
