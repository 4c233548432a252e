/* SPDX-License-Identifier: ISC */
/*
 * Addressed messages: {"to":NAME|[NAMES]|"*","msg":M} in, and the
 * {"from":NAME,"pid":P,"msg": prefix out. M stays the bytes it came as,
 * found by the scanner as a span, never parsed into a tree: jansson
 * refuses "\ud800", integers above 2^63 and 1e400, which Node sends.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "jscan.h"

enum { KEY_TO, KEY_MSG };

static const char E_TO[] = "\"to\" is not a name, a list of names or \"*\"";

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof *e);
	jscan_init(&e->js);
	jscan_want(&e->js, "to", 2);	/* KEY_TO */
	jscan_want(&e->js, "msg", 3);	/* KEY_MSG */
}

void
envelope_release(struct envelope *e)
{
	free(e->to);
	free(e->names);
	e->to = NULL;
	e->names = NULL;
	e->capto = e->capnames = 0;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The end of the JSON string at p, which the scanner found valid. */
static const char *
string_end(const char *p)
{
	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
	}
	return p + 1;
}

/* Add the name at p (a valid JSON string of n bytes) to the list. */
static int
add_name(struct envelope *e, const char *line, const char *p, size_t n,
    size_t *used, const char **cause)
{
	struct envelope_to	*t;
	size_t			 cap;
	ssize_t			 len;

	if (e->nto == ENVELOPE_MAXTO) {
		*cause = "\"to\" lists more than 1024 names";
		errno = EINVAL;
		return -1;
	}
	if (e->nto == e->capto) {
		cap = e->capto == 0 ? 8 : e->capto * 2;
		if ((t = reallocarray(e->to, cap, sizeof *t)) == NULL) {
			*cause = "out of memory";
			return -1;
		}
		e->to = t;
		e->capto = cap;
	}
	/* Decoding never grows a string: n - 2 bytes and a NUL fit. */
	len = jscan_unescape(p, n, e->names + *used, n - 1);
	e->names[*used + (size_t)len] = '\0';
	t = &e->to[e->nto++];
	t->name = e->names + *used;	/* names is not moved until next line */
	t->len = (size_t)len;
	t->span.off = (size_t)(p - line);
	t->span.len = n;
	*used += (size_t)len + 1;
	return 0;
}

/* The names of a "to" list at p, a valid JSON array. */
static int
add_list(struct envelope *e, const char *line, const char *p, size_t *used,
    const char **cause)
{
	const char	*q;

	for (p = skip_ws(p + 1); *p != ']'; p = skip_ws(p)) {
		if (*p == ',')
			p = skip_ws(p + 1);
		if (*p != '"') {
			*cause = E_TO;
			errno = EINVAL;
			return -1;
		}
		q = string_end(p);
		if (add_name(e, line, p, (size_t)(q - p), used, cause) == -1)
			return -1;
		if (e->to[e->nto - 1].len == 1 &&
		    e->to[e->nto - 1].name[0] == '*') {
			*cause = "\"*\" in a \"to\" list: \"to\":\"*\" alone "
			    "means every child";
			errno = EINVAL;
			return -1;
		}
		p = q;
	}
	if (e->nto == 0) {
		*cause = "\"to\" is an empty list";
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * Parse one input line LINE (len bytes, a trailing '\n' allowed) as an
 * envelope: a JSON object with "to" and "msg". "to" is a name, "*" for
 * every child, or a non-empty list of at most ENVELOPE_MAXTO names;
 * names are compared decoded ("\u0064b" is "db"), a list keeps its
 * duplicates and its order, and "*" may not be in a list. "msg" is any
 * JSON value. Other members are ignored (room for later ones), and a
 * member given twice takes its last value, as JSON.parse does. On
 * success, e->msg is M's span in LINE, e->all is set for "*", or e->to
 * holds e->nto names, valid until the next call. Returns 0, or -1 with
 * *cause and errno (EINVAL; ENOMEM). For a line that is not JSON *cause
 * is the scanner's reason and e->js says where (jscan_strerror).
 */
int
envelope_parse(struct envelope *e, const char *line, size_t len,
    const char **cause)
{
	struct jscan_span	 to;
	const char		*p;
	size_t			 used = 0;
	char			*names;
	int			 r;

	e->all = 0;
	e->nto = 0;
	e->msg.len = 0;
	errno = EINVAL;
	if ((r = jscan_line(&e->js, line, len)) == JSCAN_BAD) {
		*cause = e->js.err;
		return -1;
	}
	if (r != JSCAN_GOOD || e->js.top != '{') {
		*cause = "not a JSON object";
		return -1;
	}
	to = e->js.span[KEY_TO];
	if (to.len == 0) {
		*cause = "no \"to\" member";
		return -1;
	}
	if (e->js.span[KEY_MSG].len == 0) {
		*cause = "no \"msg\" member";
		return -1;
	}
	/* Every name decodes to less than its span: to.len bytes hold all. */
	if (to.len > e->capnames) {
		if ((names = realloc(e->names, to.len)) == NULL) {
			*cause = "out of memory";
			return -1;
		}
		e->names = names;
		e->capnames = to.len;
	}
	p = line + to.off;
	if (*p == '[')
		r = add_list(e, line, p, &used, cause);
	else if (*p == '"')
		r = add_name(e, line, p, to.len, &used, cause);
	else {
		*cause = E_TO;
		errno = EINVAL;
		return -1;
	}
	if (r == -1)
		return -1;
	if (*p == '"' && e->to[0].len == 1 && e->to[0].name[0] == '*') {
		e->all = 1;
		e->nto = 0;
	}
	e->msg = e->js.span[KEY_MSG];
	return 0;
}

/* Append n bytes at buf[k] as far as cap allows; the new length. */
static size_t
put(char *buf, size_t cap, size_t k, const char *s, size_t n)
{
	if (k < cap)
		memcpy(buf + k, s, n < cap - k ? n : cap - k);
	return k + n;
}

/*
 * envelope_quote writes NAME as a JSON string, quotes included, with the
 * same rules and return value as envelope_prefix below.
 *
 * Write {"from":NAME,"pid":PID,"msg": into buf (cap bytes, no NUL), with
 * NAME as a JSON string: '"', '\' and controls escaped, bytes that are
 * not UTF-8 as U+FFFD. The caller appends M's bytes, '}' and '\n'.
 * Returns the prefix's full length, which may exceed cap (then only cap
 * bytes were written; buf may be NULL with cap 0, to size it first);
 * 6 * strlen(NAME) + 48 bytes always suffice. Build it once per child
 * incarnation: the pid changes with each restart.
 */
size_t
envelope_quote(char *buf, size_t cap, const char *name)
{
	char		 esc[8];
	size_t		 k;
	int		 n;

	k = put(buf, cap, 0, "\"", 1);
	for (; *name != '\0'; name += n) {
		unsigned char c = (unsigned char)*name;

		n = jscan_utf8_len(name);
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			k = put(buf, cap, k, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			k = put(buf, cap, k, esc, 6);
		} else if (n == 0) {
			k = put(buf, cap, k, "\\ufffd", 6);
			n = 1;
		} else
			k = put(buf, cap, k, name, (size_t)n);
	}
	return put(buf, cap, k, "\"", 1);
}

size_t
envelope_prefix(char *buf, size_t cap, const char *name, pid_t pid)
{
	char	num[24];
	size_t	k;
	int	n;

	k = put(buf, cap, 0, "{\"from\":", 8);
	k += envelope_quote(k < cap ? buf + k : NULL, k < cap ? cap - k : 0,
	    name);
	k = put(buf, cap, k, ",\"pid\":", 7);
	n = snprintf(num, sizeof num, "%ld", (long)pid);
	k = put(buf, cap, k, num, (size_t)n);
	return put(buf, cap, k, ",\"msg\":", 7);
}
