/* SPDX-License-Identifier: ISC */
/*
 * ipcrun ctl TARGET at a terminal: a REPL on a running run (libedit).
 * Typed JSON values, pretty-printed ones pasted over several lines
 * included, go to the child chosen with .to; the child's replies, seen
 * through a tap, are printed pretty and coloured before the next prompt.
 * Dot-commands as in Node's REPL; history in
 * $XDG_STATE_HOME/ipcrun/history. Blocking: one prompt, then whatever
 * came, as redis-cli does; nothing is printed over a line being typed.
 *
 * The same REPL is run's at a terminal (run_repl.c, repl_run): typed
 * values go to the run's standard input, one line each, and what comes
 * out of its standard output is shown; the dot-commands go through a
 * control connection of its own. Ctrl-D ends the input, and what still
 * comes out is shown until the run's output ends.
 */
#include "compat.h"

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
#include <wchar.h>

#include <histedit.h>
#include <jansson.h>

#include "cmd.h"
#include "buf.h"
#include "color.h"
#include "ctlc.h"
#include "jscan.h"
#include "repl.h"

#define REPL_HISTORY	1000	/* entries kept */
#define REPL_WAIT	500	/* ms for a reply after a send */

static struct repl	*repl_cur;	/* for the prompt function */
static struct termios	 repl_tty;	/* the terminal as it was */
static volatile sig_atomic_t repl_fg;	/* continued after ^Z: redraw */

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

/*
 * ^Z: the terminal goes back as it was before ipcrun stops, and comes
 * back as libedit had it (raw) once the shell continues ipcrun, so that
 * neither the shell nor the REPL is left with the other's mode. libedit's
 * own handling is off (EL_SIGNAL 0: one-shot handlers that re-send to the
 * whole group). Only async-signal-safe calls; the poll libedit's read
 * waits in (repl_getc) returns, and redraws the line.
 */
static void
repl_on_tstp(int sig)
{
	struct termios		 raw;
	struct sigaction	 dfl, old;
	sigset_t		 set, prev;
	ssize_t			 n;
	int			 saved = errno, have;

	have = tcgetattr(STDIN_FILENO, &raw) == 0;
	(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &repl_tty);
	n = write(STDOUT_FILENO, "\n", 1);
	(void)n;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(sig, &dfl, &old);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, &prev);
	(void)raise(sig);
	/* Continued (fg): the terminal as libedit left it. */
	(void)sigprocmask(SIG_SETMASK, &prev, NULL);
	(void)sigaction(sig, &old, NULL);
	if (have)
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
	repl_fg = 1;
	errno = saved;
}

/* ^Z, unless the shell ignores it (no job control: nobody could fg). */
static void
repl_catch_tstp(void)
{
	struct sigaction	 sa, old;

	if (sigaction(SIGTSTP, NULL, &old) == -1 || old.sa_handler == SIG_IGN)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = repl_on_tstp;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	(void)sigaction(SIGTSTP, &sa, NULL);
}

/*
 * libedit's read of one character, decoded in the locale as libedit's
 * own read does (an invalid byte is dropped). After ^Z and fg the shell
 * has written over the screen, so the prompt and what was typed are
 * drawn again where the shell left the cursor. ^Z is blocked but while
 * waiting (ppoll), so that a stop is never missed between the look at
 * repl_fg and the wait.
 */
static int
repl_getc(EditLine *el, wchar_t *wc)
{
	struct pollfd	 pfd;
	mbstate_t	 mbs;
	sigset_t	 tstp, prev;
	char		 b[MB_LEN_MAX];
	size_t		 n = 0, k;
	ssize_t		 r;
	int		 rc = -1;

	memset(&mbs, 0, sizeof mbs);
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	(void)sigprocmask(SIG_BLOCK, &tstp, &prev);
	for (;;) {
		if (repl_fg) {
			repl_fg = 0;
			el_set(el, EL_REFRESH);
		}
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (ppoll(&pfd, 1, NULL, &prev) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((r = read(STDIN_FILENO, b + n, 1)) == -1 &&
		    (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			rc = r == 0 ? 0 : -1;
			break;
		}
		k = mbrtowc(wc, b + n, 1, &mbs);
		n++;
		if (k == (size_t)-2 && n < sizeof b)
			continue;
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&mbs, 0, sizeof mbs);
			n = 0;
			continue;
		}
		rc = 1;
		break;
	}
	(void)sigprocmask(SIG_SETMASK, &prev, NULL);
	return rc;
}

static char *
repl_prompt(EditLine *el)
{
	static char	 p[160];
	struct repl	*rp = repl_cur;
	const char	*word = rp->pending ? "..." : rp->to != NULL ? rp->to :
	    rp->word;

	(void)el;
	if (rp->color)
		snprintf(p, sizeof p, "\1" COLOR_DIM "\1%s>\1" COLOR_OFF
		    "\1 ", word);
	else
		snprintf(p, sizeof p, "%s> ", word);
	return p;
}

/* An event that came: a reply of the tapped child is shown. */
static void
repl_on_event(struct ctlc *c, json_t *ev)
{
	struct repl	*rp = c->arg;
	const char	*dir = json_string_value(json_object_get(ev, "dir"));
	const char	*child = json_string_value(json_object_get(ev, "child"));

	/* run's own output shows the replies: a tap there shows both ways. */
	if (dir == NULL || child == NULL || (rp->out_fd == -1 &&
	    (strcmp(dir, "out") != 0 ||
	    json_is_true(json_object_get(ev, "internal")))))
		return;
	printf("%s%s%s%s:%s\n", rp->color ? COLOR_DIM : "", child,
	    rp->out_fd == -1 ? "" : strcmp(dir, "out") == 0 ? " <" : " >",
	    json_is_true(json_object_get(ev, "internal")) ? " (Node's)" : "",
	    rp->color ? COLOR_OFF : "");
	repl_print(rp, json_object_get(ev, "frame"));
}

/* What run's stdout holds now, shown line by line. 0 at its end. */
static int
repl_read_out(struct repl *rp)
{
	char	*nl;
	ssize_t	 k;
	size_t	 n;

	if (buf_reserve(&rp->out, 65536) == -1)
		return -1;
	k = read(rp->out_fd, rp->out.p + rp->out.off + rp->out.len,
	    rp->out.cap - rp->out.off - rp->out.len);
	if (k == -1)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	rp->out.len += (size_t)k;
	while ((nl = memchr(rp->out.p + rp->out.off, '\n', rp->out.len)) !=
	    NULL) {
		n = (size_t)(nl - (rp->out.p + rp->out.off));
		repl_show_line(rp, rp->out.p + rp->out.off, n);
		buf_consume(&rp->out, n + 1);
	}
	return k > 0;
}

/*
 * What came on the socket (and run's stdout), waiting at most ms for
 * the first of it.
 */
static void
repl_drain(struct repl *rp, int ms)
{
	struct pollfd	 pfd[2];
	char		*line;
	json_t		*ev;
	int		 k = -1;

	for (;;) {
		while (rp->c->fd != -1 &&
		    (k = ctlc_recv_line(rp->c, &line, 0)) == 1) {
			if ((ev = json_loads(line, 0, NULL)) != NULL) {
				repl_on_event(rp->c, ev);
				json_decref(ev);
			}
		}
		if (rp->c->fd != -1 && k == 0) {
			/* The run has gone. */
			close(rp->c->fd);
			rp->c->fd = -1;
		}
		pfd[0].fd = rp->c->fd;
		pfd[1].fd = rp->out_fd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, ms) <= 0)
			break;
		if (pfd[1].revents != 0 && repl_read_out(rp) <= 0) {
			close(rp->out_fd);
			rp->out_fd = -1;
		}
		if (rp->c->fd == -1 && rp->out_fd == -1)
			break;
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

/*
 * Tap the child that typed values go to, for its replies (run's REPL
 * sees them on its stdout: a look that the child is there is enough).
 */
static void
repl_to(struct repl *rp, const char *name)
{
	json_t	*ps = NULL, *e;
	size_t	 i;
	int	 found = 0;

	if (rp->out_fd != -1 || rp->in_fd != -1) {
		if (ctlc_request(rp->c, "ps", NULL, 0, 0, 1, &ps) == 0)
			json_array_foreach(ps, i, e)
				found |= strcmp(json_string_value(
				    json_object_get(e, "name")), name) == 0;
		json_decref(ps);
		if (!found) {
			repl_error(rp, "no child named \"%s\"", name);
			return;
		}
	} else if (repl_call(rp, "tap", json_pack("[s]", name), 0) != 0)
		return;
	free(rp->to);
	rp->to = strdup(name);
}

/* All of p to fd (a pipe: SIGPIPE is ignored), or -1. */
static int
repl_write(int fd, const char *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * run's REPL, with no .to: the value as one line on the run's stdin,
 * checked first by the scanner run itself uses (what JSON.parse takes).
 * Its newlines become spaces: none can be inside a string.
 */
static void
repl_input(struct repl *rp, const char *text, size_t len)
{
	struct jscan	 js;
	char		*flat;
	size_t		 i, at;
	int		 line = 1, col = 1;

	if ((flat = malloc(len + 1)) == NULL)
		return;
	for (i = 0; i < len; i++)
		flat[i] = text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
	while (len > 0 && flat[len - 1] == ' ')
		len--;
	jscan_init(&js);
	if (jscan_line(&js, flat, len) != JSCAN_GOOD) {
		at = js.err_off < len ? js.err_off : len;
		for (i = 0; i < at; i++, col++)
			if (text[i] == '\n')
				line++, col = 0;
		repl_caret(rp, text, len, line, col, js.err != NULL ? js.err :
		    "not one JSON value");
		free(flat);
		return;
	}
	flat[len] = '\n';
	if (repl_write(rp->in_fd, flat, len + 1) == -1)
		repl_error(rp, "the run takes no more input: %s",
		    strerror(errno));
	free(flat);
	repl_drain(rp, REPL_WAIT);
}

/* The whole value typed, or a reason it is bad with a caret under it. */
static void
repl_value(struct repl *rp, const char *text, size_t len)
{
	json_error_t	 je;
	json_t		*v;

	if (rp->to == NULL && rp->in_fd != -1) {
		repl_input(rp, text, len);
		return;
	}
	if ((v = json_loadb(text, len, JSON_DECODE_ANY, &je)) == NULL) {
		repl_caret(rp, text, len, je.line, je.column, je.text);
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
    ".start NAME|all    start a stopped child again\n"
    ".scale N           run the first N children\n"
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
	    strcmp(cmd, ".signal") == 0 || strcmp(cmd, ".tap") == 0 ||
	    strcmp(cmd, ".start") == 0 || strcmp(cmd, ".scale") == 0) {
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

/* The prompts until Ctrl-D or .quit. */
static void
repl_loop(struct repl *rp, EditLine *el, History *h, struct buf *val)
{
	HistEvent	 he;
	const char	*line;
	char		*entry, *p;
	int		 n;

	for (;;) {
		repl_drain(rp, 0);
		repl_fg = 0;	/* a stop before the prompt: drawn anyway */
		if ((line = el_gets(el, &n)) == NULL || n <= 0)
			break;
		if (!rp->pending && line[strspn(line, " \t")] == '.') {
			p = strdup(line + strspn(line, " \t"));
			if (p == NULL)
				break;
			p[strcspn(p, "\n")] = '\0';
			if (*p != '\0')
				history(h, &he, H_ENTER, p);
			n = repl_dot(rp, p);
			free(p);
			if (n)
				break;
			continue;
		}
		if (buf_append(val, line, (size_t)n) == -1)
			break;
		if (!repl_complete(val->p + val->off, val->len)) {
			/* Blank lines alone are nothing; else go on. */
			rp->pending = strspn(val->p + val->off, " \t\r\n") !=
			    val->len;
			if (!rp->pending)
				buf_consume(val, val->len);
			continue;
		}
		rp->pending = 0;
		/* One history entry per value, on one line. */
		if ((entry = strndup(val->p + val->off, val->len)) != NULL) {
			for (p = entry; *p != '\0'; p++)
				if (*p == '\n')
					*p = ' ';
			while ((p = strrchr(entry, ' ')) != NULL && p[1] == '\0')
				*p = '\0';
			history(h, &he, H_ENTER, entry);
			free(entry);
		}
		repl_value(rp, val->p + val->off, val->len);
		buf_consume(val, val->len);
	}
}

/* libedit, the history and the terminal's signals around repl_loop. */
static int
repl_main(struct repl *rp, const char *banner)
{
	struct buf	 val;
	EditLine	*el;
	History		*h;
	HistEvent	 he;

	repl_cur = rp;
	(void)setlocale(LC_CTYPE, "");
	if (tcgetattr(STDIN_FILENO, &repl_tty) == 0) {
		signal(SIGINT, repl_on_signal);
		signal(SIGTERM, repl_on_signal);
		signal(SIGHUP, repl_on_signal);
		repl_catch_tstp();
	}
	if (buf_init(&val, 4096) == -1)
		return EXIT_FAIL;
	h = history_init();
	history(h, &he, H_SETSIZE, REPL_HISTORY);
	history(h, &he, H_SETUNIQUE, 1);
	if (repl_history_path(rp) == 0) {
		rp->hist_ok = 1;
		(void)history(h, &he, H_LOAD, rp->hist);
	}
	el = el_init("ipcrun", stdin, stdout, stderr);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_SIGNAL, 0);
	el_set(el, EL_GETCFN, repl_getc);
	el_set(el, EL_PROMPT_ESC, repl_prompt, '\1');
	el_set(el, EL_HIST, history, h);
	el_source(el, NULL);
	printf("%s: .help for the commands, Ctrl-D to %s\n", banner,
	    rp->in_fd != -1 ? "end the input" : "leave");
	fflush(stdout);
	repl_loop(rp, el, h, &val);
	/* Ctrl-D: a new line after the prompt, as a shell does. */
	putchar('\n');
	repl_history_save(rp, h);
	el_end(el);
	history_end(h);
	buf_release(&val);
	free(rp->to);
	return cmd_flush_stdout(rp->c->ce);
}

int
ctl_repl(struct ctlc *c, int color, const char *to)
{
	struct repl	 rp;
	json_t		*ps;
	char		 banner[512];

	memset(&rp, 0, sizeof rp);
	rp.c = c;
	rp.color = color;
	rp.word = "ctl";
	rp.in_fd = rp.out_fd = -1;
	c->on_event = repl_on_event;
	c->arg = &rp;
	/* One child: typed values go to it. */
	ps = NULL;
	if (to != NULL)
		repl_to(&rp, to);
	else if (ctlc_request(c, "ps", NULL, 0, 0, 1, &ps) == 0 &&
	    json_array_size(ps) == 1)
		repl_to(&rp, json_string_value(json_object_get(
		    json_array_get(ps, 0), "name")));
	json_decref(ps);
	snprintf(banner, sizeof banner, "ipcrun ctl %s", c->target);
	return repl_main(&rp, banner);
}

/*
 * run's REPL (run_repl.c): typed values to in_fd, the run's stdin; its
 * stdout on out_fd shown as it comes, wrapped or not; the dot-commands
 * on c, a control connection. Ctrl-D (or .quit) ends the run's input,
 * and what it still writes is shown until its stdout closes.
 */
int
repl_run(struct ctlc *c, int color, const char *word, int wrapped,
    int in_fd, int out_fd)
{
	struct repl	 rp;
	char		 banner[512];
	int		 rc;

	memset(&rp, 0, sizeof rp);
	rp.c = c;
	rp.color = color;
	rp.word = word;
	rp.wrapped = wrapped;
	rp.in_fd = in_fd;
	rp.out_fd = out_fd;
	c->on_event = repl_on_event;
	c->arg = &rp;
	if (buf_init(&rp.out, 65536) == -1)
		return EXIT_FAIL;
	snprintf(banner, sizeof banner, "ipcrun run %s", word);
	rc = repl_main(&rp, banner);
	close(rp.in_fd);
	while (rp.out_fd != -1)
		repl_drain(&rp, -1);
	fflush(stdout);
	buf_release(&rp.out);
	return rc;
}
