/* SPDX-License-Identifier: ISC */
/*
 * What the REPL (ctl_repl.c) shows and keeps: values indented and
 * coloured as jq colours them, run's output lines, errors with a caret
 * under the column, and the history file, written so that a failed
 * write is known.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <histedit.h>
#include <jansson.h>

#include "cmd.h"
#include "color.h"
#include "ctlc.h"
#include "repl.h"

/* A value, indented and coloured as jq colours it. */
void
repl_print(struct repl *rp, json_t *v)
{
	char		*s, *p, *q;
	const char	*col;

	if ((s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY | JSON_REAL_PRECISION(12))) == NULL)
		return;
	if (!rp->color) {
		puts(s);
		free(s);
		return;
	}
	for (p = s; *p != '\0'; p = q) {
		if (*p == '"') {
			for (q = p + 1; *q != '\0' && *q != '"'; q++)
				if (*q == '\\' && q[1] != '\0')
					q++;
			if (*q == '"')
				q++;
			col = *q == ':' ? COLOR_KEY : COLOR_STR;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			q = p + strspn(p, "-+.eE0123456789");
			col = COLOR_NUM;
		} else if (strncmp(p, "true", 4) == 0 ||
		    strncmp(p, "null", 4) == 0) {
			q = p + 4;
			col = COLOR_LIT;
		} else if (strncmp(p, "false", 5) == 0) {
			q = p + 5;
			col = COLOR_LIT;
		} else {
			putchar(*p);
			q = p + 1;
			continue;
		}
		printf("%s%.*s%s", col, (int)(q - p), p, COLOR_OFF);
	}
	putchar('\n');
	free(s);
}

void
repl_error(struct repl *rp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void
repl_error(struct repl *rp, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs(rp->color ? COLOR_ERR "error:" COLOR_OFF " " : "error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * A line of run's output: pretty, with the child's name when wrapped;
 * as it is when jansson cannot hold it ("\ud800", 1e400).
 */
void
repl_show_line(struct repl *rp, const char *p, size_t n)
{
	json_t		*v, *m;
	const char	*from;

	if ((v = json_loadb(p, n, JSON_DECODE_ANY, NULL)) == NULL) {
		printf("%.*s\n", (int)n, p);
		return;
	}
	if (rp->wrapped && json_is_object(v) && (m = json_object_get(v,
	    "msg")) != NULL && (from = json_string_value(json_object_get(v,
	    "from"))) != NULL) {
		printf("%s%s:%s\n", rp->color ? COLOR_DIM : "", from,
		    rp->color ? COLOR_OFF : "");
		repl_print(rp, m);
	} else
		repl_print(rp, v);
	json_decref(v);
}

/* Why the value typed is bad, and a caret under its column. */
void
repl_caret(struct repl *rp, const char *text, size_t len, int line, int col,
    const char *why)
{
	const char	*l;
	int		 i;

	for (l = text, i = 1; i < line && (l = memchr(l, '\n',
	    (size_t)(text + len - l))) != NULL; i++)
		l++;
	if (l == NULL)
		l = text;
	repl_error(rp, "invalid JSON at line %d, column %d: %s", line, col,
	    why);
	fprintf(stderr, "  %.*s\n  %*s%s^%s\n", (int)strcspn(l, "\n"), l,
	    col > 0 ? col - 1 : 0, "", rp->color ? COLOR_ERR : "",
	    rp->color ? COLOR_OFF : "");
}

/* $XDG_STATE_HOME/ipcrun/history, its directories made 0700. */
int
repl_history_path(struct repl *rp)
{
	const char	*st = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char		 dir[PATH_MAX];
	char		*s;

	if (st != NULL && *st == '/')
		snprintf(dir, sizeof dir, "%s/ipcrun", st);
	else if (home != NULL && *home == '/')
		snprintf(dir, sizeof dir, "%s/.local/state/ipcrun", home);
	else
		return -1;
	for (s = dir + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		(void)mkdir(dir, 0700);
		*s = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((size_t)snprintf(rp->hist, sizeof rp->hist, "%.*s/history",
	    (int)(sizeof rp->hist - 16), dir) >= sizeof rp->hist)
		return -1;
	return 0;
}

/*
 * libedit's H_SAVE says nothing of a failed write: a temporary file,
 * checked, then renamed into place.
 */
void
repl_history_save(struct repl *rp, History *h)
{
	HistEvent	 he;
	char		 tmp[PATH_MAX + 16];
	FILE		*f;
	int		 fd, bad;

	if (!rp->hist_ok)
		return;
	snprintf(tmp, sizeof tmp, "%s.%ld", rp->hist, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		cmd_warn(rp->c->ce, "history '%s'", tmp);
		return;
	}
	bad = history(h, &he, H_SAVE_FP, f) == -1;
	bad |= fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1;
	bad |= fclose(f) == EOF;
	if (bad || rename(tmp, rp->hist) == -1) {
		cmd_warn(rp->c->ce, "history '%s'", rp->hist);
		(void)unlink(tmp);
	}
}
