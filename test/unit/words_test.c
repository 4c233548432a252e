/* SPDX-License-Identifier: ISC */
/*
 * words_split and words_name_cmd: sh(1)'s quoting without expansions,
 * and every refusal with its message and column; words_cmd_name: the
 * name of a command's copies. TAP on stdout.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"
#include "tap.h"

/* Split S and compare with the words in WANT, separated by '|'. */
static void
split_ok(const char *s, int nwant, const char *want)
{
	char	**argv, err[256], got[1024];
	size_t	  k = 0;
	int	  n, i;

	err[0] = '\0';
	if ((n = words_split(s, &argv, err, sizeof err)) == -1) {
		ok(0, "split [%s]: %s", s, err);
		return;
	}
	got[0] = '\0';
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(got + k, sizeof got - k, "%s%s",
		    i ? "|" : "", argv[i]);
	if (ok(n == nwant && strcmp(got, want) == 0 && argv[n] == NULL,
	    "split [%s]", s) == 0)
		printf("#   got:  %d [%s]\n#   want: %d [%s]\n", n, got, nwant,
		    want);
	free(argv);
}

static void
split_bad(const char *s, const char *want)
{
	char	**argv = NULL, err[256] = "";
	char	  what[300];
	int	  n;

	n = words_split(s, &argv, err, sizeof err);
	snprintf(what, sizeof what, "refused [%s]", s);
	if (n != -1) {
		ok(0, "%s: got %d words", what, n);
		free(argv);
		return;
	}
	is_str(err, want, what);
	ok(errno == EINVAL, "errno EINVAL for [%s]", s);
}

/* The name words_cmd_name gives the words of S (split at blanks). */
static void
cmd_name_is(const char *s, const char *want)
{
	char		*argv[16], buf[256], *p;
	const char	*name;
	size_t		 len;
	int		 n = 0;

	snprintf(buf, sizeof buf, "%s", s);
	for (p = strtok(buf, " "); p != NULL && n < 15; p = strtok(NULL, " "))
		argv[n++] = p;
	argv[n] = NULL;
	name = words_cmd_name(argv, &len);
	if (ok(len == strlen(want) && strncmp(name, want, len) == 0,
	    "name of [%s]", s) == 0)
		printf("#   got:  [%.*s]\n#   want: [%s]\n", (int)len, name,
		    want);
}

static void
name_ok(const char *arg, const char *wname, const char *wargv0, int argc)
{
	char	*name = NULL, **argv = NULL, err[256] = "";
	int	 i;

	if (words_name_cmd(arg, &name, &argv, err, sizeof err) == -1) {
		ok(0, "name_cmd [%s]: %s", arg, err);
		return;
	}
	for (i = 0; argv[i] != NULL; i++)
		;
	ok(strcmp(name, wname) == 0 && strcmp(argv[0], wargv0) == 0 &&
	    i == argc, "name_cmd [%s]: %s, %s, %d words", arg, name, argv[0],
	    i);
	free(name);
	free(argv);
}

static void
name_bad(const char *arg, const char *want)
{
	char	*name = NULL, **argv = NULL, err[256] = "";
	char	 what[300];

	snprintf(what, sizeof what, "name_cmd refused [%s]", arg);
	if (words_name_cmd(arg, &name, &argv, err, sizeof err) != -1) {
		ok(0, "%s: accepted", what);
		free(name);
		free(argv);
		return;
	}
	is_str(err, want, what);
}

#define HINT	" needs a shell: quote it, or run sh -c explicitly"

int
main(void)
{
	static const char *const refused[] = {
		"echo a | wc", "'|' at column 8" HINT,
		"a & b", "'&' at column 3" HINT,
		"a;b", "';' at column 2" HINT,
		"a <in", "'<' at column 3" HINT,
		"a>out", "'>' at column 2" HINT,
		"(a)", "'(' at column 1" HINT,
		"a b)", "')' at column 4" HINT,
		"echo $HOME", "'$' at column 6" HINT,
		"echo `id`", "'`' at column 6" HINT,
		"ls *.c", "'*' at column 4" HINT,
		"ls a?", "'?' at column 5" HINT,
		"ls [ab]", "'[' at column 4" HINT,
		"a\nb", "a newline at column 2" HINT,
		"cat ~/x", "'~' at column 5" HINT,
		"a #comment", "'#' at column 3" HINT,
		"echo \"$HOME\"", "'$' at column 7 needs a shell even in "
		    "double quotes: use single quotes, or run sh -c "
		    "explicitly",
		"\"a`b\"", "'`' at column 3 needs a shell even in double "
		    "quotes: use single quotes, or run sh -c explicitly",
		"echo 'abc", "unterminated single quote from column 6",
		"a \"bc", "unterminated double quote from column 3",
		"\"a\\\"", "unterminated double quote from column 1",
		"FOO=1 node", "an assignment at column 1 needs a shell: run "
		    "env NAME=VALUE CMD instead",
		"  _X=", "an assignment at column 3 needs a shell: run env "
		    "NAME=VALUE CMD instead",
		NULL
	};
	char	**argv;
	char	  err[8];
	size_t	  i;

	split_ok("node app.js", 2, "node|app.js");
	split_ok("  a   b\t c  ", 3, "a|b|c");
	split_ok("", 0, "");
	split_ok(" \t ", 0, "");
	split_ok("''", 1, "");
	split_ok("a '' b", 3, "a||b");
	split_ok("a''b", 1, "ab");
	split_ok("'a b' c", 2, "a b|c");
	split_ok("'$HOME|*;`'", 1, "$HOME|*;`");
	split_ok("'a\\'", 1, "a\\");
	split_ok("\"a b\"", 1, "a b");
	split_ok("\"it's\"", 1, "it's");
	split_ok("\"a\\\"b\"", 1, "a\"b");
	split_ok("\"a\\\\b\"", 1, "a\\b");
	split_ok("\"a\\$b\\`c\"", 1, "a$b`c");
	split_ok("\"a\\nb\"", 1, "a\\nb");
	split_ok("\"a\\\nb\"", 1, "ab");
	split_ok("\"a|*;~#\"", 1, "a|*;~#");
	split_ok("a\\ b", 1, "a b");
	split_ok("a\\|b\\$\\*", 1, "a|b$*");
	split_ok("\\~ \\#", 2, "~|#");
	split_ok("a\\", 1, "a\\");
	split_ok("a\\\nb", 1, "ab");
	split_ok("a \\\n b", 2, "a|b");
	split_ok("a~b a#b", 2, "a~b|a#b");
	split_ok("{a,b} x]", 2, "{a,b}|x]");
	split_ok("env X=1 cmd", 3, "env|X=1|cmd");
	split_ok("\"FOO=1\" cmd", 2, "FOO=1|cmd");
	split_ok("=x 1a=b", 2, "=x|1a=b");
	split_ok("caf\xc3\xa9 'x'\"y\"z", 2, "caf\xc3\xa9|xyz");
	for (i = 0; refused[i] != NULL; i += 2)
		split_bad(refused[i], refused[i + 1]);
	/* A short error buffer is cut, not overrun. */
	ok(words_split("a|b", &argv, err, sizeof err) == -1 &&
	    strcmp(err, "'|' at ") == 0, "a short error buffer is cut");

	name_ok("db=node db.js", "db", "node", 2);
	name_ok("img=python3 -u 'my img.py'", "img", "python3", 3);
	name_ok("a.b-c_1=x", "a.b-c_1", "x", 1);
	name_ok("x=  cat  ", "x", "cat", 1);
	name_ok("n=env a=b", "n", "env", 2);
	name_ok("0123456789012345678901234567890123456789012345678901234567"
	    "890123=x", "01234567890123456789012345678901234567890123456789"
	    "01234567890123", "x", 1);
	name_bad("0123456789012345678901234567890123456789012345678901234567"
	    "8901234=x", "a NAME longer than 64 bytes");
	name_bad("=node", "an empty NAME before '='");
	name_bad("node db.js", "expected NAME=CMD ARGS, with a NAME of "
	    "letters, digits, '_', '.' and '-' (column 5)");
	name_bad("db", "expected NAME=CMD ARGS, with a NAME of letters, "
	    "digits, '_', '.' and '-' (column 3)");
	name_bad("d b=x", "expected NAME=CMD ARGS, with a NAME of letters, "
	    "digits, '_', '.' and '-' (column 2)");
	name_bad("db=", "no command after 'db='");
	name_bad("db=  ''", "no command after 'db='" );
	name_bad("db=a | b", "'|' at column 6" HINT);
	name_bad("db='x", "unterminated single quote from column 4");
	name_bad("n=a=b", "an assignment at column 3 needs a shell: run env "
	    "NAME=VALUE CMD instead");
	name_bad("db=FOO=1 x", "an assignment at column 4 needs a shell: "
	    "run env NAME=VALUE CMD instead");
	cmd_name_is("cat", "cat");
	cmd_name_is("/usr/bin/cat -u", "cat");
	cmd_name_is("node worker.js", "worker");
	cmd_name_is("/usr/local/bin/node srv/worker.js 8080", "worker");
	cmd_name_is("node --no-warnings -r dotenv/config app.mjs", "app");
	cmd_name_is("node --require=x w.cjs", "w");
	cmd_name_is("node -e x", "node");
	cmd_name_is("node --eval=x", "node");
	cmd_name_is("node -p 1", "node");
	cmd_name_is("node", "node");
	cmd_name_is("node -- server", "server");
	cmd_name_is("nodejs a.b.js", "a.b");
	cmd_name_is("python3 -u img.py", "img");
	cmd_name_is("python3.11 -W ignore -X dev img.py", "img");
	cmd_name_is("python -m http.server", "python");
	cmd_name_is("python3 -c x", "python3");
	cmd_name_is("ruby job.rb", "job");
	cmd_name_is("perl -w x.pl", "x");
	cmd_name_is("deno run w.ts", "deno");
	cmd_name_is("python3 -uW ignore img.py", "img");
	cmd_name_is("python3 -Wignore -u img.py", "img");
	cmd_name_is("node -r", "node");
	cmd_name_is("python3 - x.py", "python3");
	cmd_name_is("node .js", "node");
	cmd_name_is("node dir/", "node");
	cmd_name_is("sh -c x", "sh");
	cmd_name_is("nodemon w.js", "nodemon");
	cmd_name_is("./node w.js", "w");
	return done();
}
