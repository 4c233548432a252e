/* SPDX-License-Identifier: ISC */
/*
 * ipcrun ctl TARGET at a terminal: a REPL on a running run (libedit).
 * Typed JSON values, pretty-printed ones pasted over several lines
 * included, go to the child chosen with .to; the child's replies, seen
 * through a tap, are printed pretty and coloured before the next prompt.
 * Dot-commands as in Node's REPL; history in
 * $XDG_STATE_HOME/ipcrun/history. Blocking: one prompt, then whatever
 * came, as redis-cli does; nothing is printed over a line being typed.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <histedit.h>
#include <jansson.h>

#include "cmd.h"
#include "buf.h"
#include "color.h"
#include "ctlc.h"

#define REPL_HISTORY	1000	/* entries kept */
#define REPL_WAIT	500	/* ms for a reply after a send */

struct repl {
	struct ctlc	*c;
	int		 color;
	char		*to;		/* .to: where typed values go */
	char		*tapped;	/* the child tapped for its replies */
	int		 pending;	/* a value is being continued */
	char		 hist[PATH_MAX];
	int		 hist_ok;
};

static struct repl	*repl_cur;	/* for the prompt function */
static struct termios	 repl_tty;	/* the terminal as it was */

/*
 * Ctrl-C or a stop signal ends the REPL: the terminal goes back as it
 * was, whatever libedit had made of it, and then the default action.
 */
static void
repl_on_signal(int sig)
{
	ssize_t	n;

	(void)tcsetattr(STDIN_FILENO, TCSANOW, &repl_tty);
	n = write(STDOUT_FILENO, "\n", 1);
	(void)n;	/* nothing more can be done in a handler */
	signal(sig, SIG_DFL);
	raise(sig);
}

static char *
repl_prompt(EditLine *el)
{
	static char	 p[160];
	struct repl	*rp = repl_cur;
	const char	*word = rp->pending ? "..." : rp->to != NULL ? rp->to :
	    "ctl";

	(void)el;
	if (rp->color)
		snprintf(p, sizeof p, "\1" COLOR_DIM "\1%s>\1" COLOR_OFF
		    "\1 ", word);
	else
		snprintf(p, sizeof p, "%s> ", word);
	return p;
}

/* A value, indented and coloured as jq colours it. */
static void
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

static void
repl_error(struct repl *rp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
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

/* An event that came: a reply of the tapped child is shown. */
static void
repl_on_event(struct ctlc *c, json_t *ev)
{
	struct repl	*rp = c->arg;
	const char	*dir = json_string_value(json_object_get(ev, "dir"));

	if (dir == NULL || strcmp(dir, "out") != 0 ||
	    json_is_true(json_object_get(ev, "internal")))
		return;
	if (rp->color)
		printf(COLOR_DIM "%s:" COLOR_OFF "\n", json_string_value(
		    json_object_get(ev, "child")));
	else
		printf("%s:\n", json_string_value(json_object_get(ev,
		    "child")));
	repl_print(rp, json_object_get(ev, "frame"));
}

/* What came on the socket, waiting at most ms for the first line. */
static void
repl_drain(struct repl *rp, int ms)
{
	char	*line;
	json_t	*ev;

	while (ctlc_recv_line(rp->c, &line, ms) == 1) {
		if ((ev = json_loads(line, 0, NULL)) != NULL) {
			repl_on_event(rp->c, ev);
			json_decref(ev);
		}
		ms = 50;	/* the rest of a burst */
	}
	fflush(stdout);
}

/* One request; the result printed. Returns the answer's result or NULL. */
static int
repl_call(struct repl *rp, const char *cmd, json_t *args, int show)
{
	json_t	*req, *rep;
	int	 ok;

	req = json_pack("{s:s,s:o}", "cmd", cmd, "args", args != NULL ?
	    args : json_array());
	if (req == NULL)
		return -1;
	rep = ctlc_call(rp->c, req);
	json_decref(req);
	if (rep == NULL)
		return -1;
	ok = json_is_true(json_object_get(rep, "ok"));
	if (!ok)
		repl_error(rp, "%s", json_string_value(json_object_get(rep,
		    "error")));
	else if (show)
		repl_print(rp, json_object_get(rep, "result"));
	json_decref(rep);
	fflush(stdout);
	return ok ? 0 : 1;
}

/* Tap the child that typed values go to, for its replies. */
static void
repl_to(struct repl *rp, const char *name)
{
	if (repl_call(rp, "tap", json_pack("[s]", name), 0) != 0)
		return;
	free(rp->to);
	rp->to = strdup(name);
}

/* The whole value typed, or a reason it is bad with a caret under it. */
static void
repl_value(struct repl *rp, const char *text, size_t len)
{
	json_error_t	 je;
	json_t		*v;
	const char	*l;
	int		 i;

	if ((v = json_loadb(text, len, JSON_DECODE_ANY, &je)) == NULL) {
		/* The line of the error, and a caret under its column. */
		for (l = text, i = 1; i < je.line && (l = memchr(l, '\n',
		    (size_t)(text + len - l))) != NULL; i++)
			l++;
		if (l == NULL)
			l = text;
		repl_error(rp, "invalid JSON at line %d, column %d: %s",
		    je.line, je.column, je.text);
		fprintf(stderr, "  %.*s\n  %*s%s^%s\n",
		    (int)strcspn(l, "\n"), l, je.column > 0 ? je.column - 1 :
		    0, "", rp->color ? COLOR_ERR : "", rp->color ? COLOR_OFF :
		    "");
		return;
	}
	if (rp->to == NULL) {
		repl_error(rp, "no child chosen: .to NAME first (.ps lists "
		    "them)");
		json_decref(v);
		return;
	}
	if (repl_call(rp, "send", json_pack("[s,o]", rp->to, v), 0) == 0)
		repl_drain(rp, REPL_WAIT);
}

static const char repl_help[] =
    ".help              this list\n"
    ".ps                the children\n"
    ".to NAME           send typed values to NAME (its replies are shown)\n"
    ".send NAME JSON    send one value to NAME\n"
    ".restart NAME|all  restart a child\n"
    ".stop NAME|all     stop a child\n"
    ".signal NAME SIG   signal a child's group\n"
    ".tap [NAME ...]    show every frame of these children\n"
    ".stats             the run's counts\n"
    ".quit              leave (Ctrl-D too); the run goes on\n";

/* A dot-command. Returns 1 to leave. */
static int
repl_dot(struct repl *rp, char *line)
{
	char	*cmd, *arg, *rest;
	json_t	*a;

	line[strcspn(line, "\n")] = '\0';
	cmd = strtok_r(line, " \t", &rest);
	if (strcmp(cmd, ".quit") == 0 || strcmp(cmd, ".exit") == 0)
		return 1;
	if (strcmp(cmd, ".help") == 0)
		fputs(repl_help, stdout);
	else if (strcmp(cmd, ".ps") == 0)
		repl_call(rp, "ps", NULL, 1);
	else if (strcmp(cmd, ".stats") == 0)
		repl_call(rp, "stats", NULL, 1);
	else if (strcmp(cmd, ".to") == 0) {
		if ((arg = strtok_r(NULL, " \t", &rest)) == NULL)
			repl_error(rp, ".to NAME");
		else
			repl_to(rp, arg);
	} else if (strcmp(cmd, ".send") == 0) {
		arg = strtok_r(NULL, " \t", &rest);
		if (arg == NULL || rest == NULL || *rest == '\0')
			repl_error(rp, ".send NAME JSON");
		else {
			char	*keep = rp->to;

			rp->to = arg;
			repl_value(rp, rest, strlen(rest));
			rp->to = keep;
		}
	} else if (strcmp(cmd, ".restart") == 0 || strcmp(cmd, ".stop") == 0 ||
	    strcmp(cmd, ".signal") == 0 || strcmp(cmd, ".tap") == 0) {
		a = json_array();
		while ((arg = strtok_r(NULL, " \t", &rest)) != NULL)
			json_array_append_new(a, json_string(arg));
		repl_call(rp, cmd + 1, a, 1);
	} else
		repl_error(rp, "unknown command '%s' (.help lists them)", cmd);
	fflush(stdout);
	return 0;
}

/*
 * Is the value typed so far complete? Brackets outside strings closed,
 * no string open, something there.
 */
static int
repl_complete(const char *p, size_t n)
{
	size_t	i;
	int	depth = 0, str = 0, any = 0;

	for (i = 0; i < n; i++) {
		if (str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				str = 0;
			continue;
		}
		if (p[i] == '"')
			str = any = 1;
		else if (p[i] == '{' || p[i] == '[')
			depth++, any = 1;
		else if (p[i] == '}' || p[i] == ']')
			depth--;
		else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
		    p[i] != '\r')
			any = 1;
	}
	return any && !str && depth <= 0;
}

/* $XDG_STATE_HOME/ipcrun/history, its directories made 0700. */
static int
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
static void
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

int
ctl_repl(struct ctlc *c, int color, const char *to)
{
	struct repl	 rp;
	struct buf	 val;
	EditLine	*el;
	History		*h;
	HistEvent	 he;
	json_t		*ps;
	const char	*line;
	char		*entry, *p;
	int		 n;

	memset(&rp, 0, sizeof rp);
	rp.c = c;
	rp.color = color;
	repl_cur = &rp;
	c->on_event = repl_on_event;
	c->arg = &rp;
	(void)setlocale(LC_CTYPE, "");
	if (tcgetattr(STDIN_FILENO, &repl_tty) == 0) {
		signal(SIGINT, repl_on_signal);
		signal(SIGTERM, repl_on_signal);
		signal(SIGHUP, repl_on_signal);
	}
	if (buf_init(&val, 4096) == -1)
		return EXIT_FAIL;
	/* One child: typed values go to it. */
	ps = NULL;
	if (to != NULL)
		repl_to(&rp, to);
	else if (ctlc_request(c, "ps", NULL, 0, 0, 1, &ps) == 0 &&
	    json_array_size(ps) == 1)
		repl_to(&rp, json_string_value(json_object_get(
		    json_array_get(ps, 0), "name")));
	json_decref(ps);

	h = history_init();
	history(h, &he, H_SETSIZE, REPL_HISTORY);
	history(h, &he, H_SETUNIQUE, 1);
	if (repl_history_path(&rp) == 0) {
		rp.hist_ok = 1;
		(void)history(h, &he, H_LOAD, rp.hist);
	}
	el = el_init("ipcrun", stdin, stdout, stderr);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_SIGNAL, 0);
	el_set(el, EL_PROMPT_ESC, repl_prompt, '\1');
	el_set(el, EL_HIST, history, h);
	el_source(el, NULL);
	printf("ipcrun ctl %s: .help for the commands, Ctrl-D to leave\n",
	    c->target);
	fflush(stdout);
	for (;;) {
		repl_drain(&rp, 0);
		if ((line = el_gets(el, &n)) == NULL || n <= 0)
			break;
		if (!rp.pending && line[strspn(line, " \t")] == '.') {
			p = strdup(line + strspn(line, " \t"));
			if (p == NULL)
				break;
			p[strcspn(p, "\n")] = '\0';
			if (*p != '\0')
				history(h, &he, H_ENTER, p);
			n = repl_dot(&rp, p);
			free(p);
			if (n)
				break;
			continue;
		}
		if (buf_append(&val, line, (size_t)n) == -1)
			break;
		if (!repl_complete(val.p + val.off, val.len)) {
			/* Blank lines alone are nothing; else go on. */
			rp.pending = strspn(val.p + val.off, " \t\r\n") !=
			    val.len;
			if (!rp.pending)
				buf_consume(&val, val.len);
			continue;
		}
		rp.pending = 0;
		/* One history entry per value, on one line. */
		if ((entry = strndup(val.p + val.off, val.len)) != NULL) {
			for (p = entry; *p != '\0'; p++)
				if (*p == '\n')
					*p = ' ';
			while ((p = strrchr(entry, ' ')) != NULL && p[1] == '\0')
				*p = '\0';
			history(h, &he, H_ENTER, entry);
			free(entry);
		}
		repl_value(&rp, val.p + val.off, val.len);
		buf_consume(&val, val.len);
	}
	/* Ctrl-D: a new line after the prompt, as a shell does. */
	putchar('\n');
	repl_history_save(&rp, h);
	el_end(el);
	history_end(h);
	buf_release(&val);
	free(rp.to);
	return cmd_flush_stdout(c->ce);
}
