/* SPDX-License-Identifier: ISC */
/*
 * ctlproto.c: requests to the control socket, parsed with jansson, and
 * the replies, built with it. See ctlproto.h and ipcrun(7).
 */
#include "compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

static const char *const ctlproto_names[] = {
	"info", "ps", "send", "signal", "restart", "stop", "start", "scale",
	"tap", "events", "stats", "untap"
};
#define NCMDS	(sizeof ctlproto_names / sizeof ctlproto_names[0])

const char *
ctlproto_cmd_name(enum ctlproto_cmd c)
{
	return (size_t)c < NCMDS ? ctlproto_names[c] : "?";
}

/*
 * Parse one request line of n bytes. Returns 0, or -1 with err saying
 * what is wrong (the id, if one could be read, is in req for the error
 * reply).
 */
int
ctlproto_parse(const char *p, size_t n, struct ctlproto_req *req, char *err,
    size_t errlen)
{
	json_error_t	 je;
	json_t		*v;
	const char	*key;
	size_t		 i;

	memset(req, 0, sizeof *req);
	req->root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (req->root == NULL) {
		snprintf(err, errlen, "invalid JSON at column %d: %s",
		    je.column, je.text);
		return -1;
	}
	if (!json_is_object(req->root)) {
		snprintf(err, errlen, "a request is a JSON object");
		return -1;
	}
	if ((v = json_object_get(req->root, "id")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "\"id\" must be an integer, 0 "
			    "or more");
			return -1;
		}
		req->id = json_integer_value(v);
		req->hasid = 1;
	}
	json_object_foreach(req->root, key, v) {
		if (strcmp(key, "id") != 0 && strcmp(key, "cmd") != 0 &&
		    strcmp(key, "args") != 0) {
			snprintf(err, errlen, "unknown key \"%.64s\" (a "
			    "request has id, cmd and args)", key);
			return -1;
		}
	}
	v = json_object_get(req->root, "cmd");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"cmd\" must be given, as a string");
		return -1;
	}
	req->name = json_string_value(v);
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(req->name, ctlproto_names[i]) == 0)
			break;
	}
	if (i == NCMDS) {
		snprintf(err, errlen, "unknown command \"%.64s\"", req->name);
		return -1;
	}
	req->cmd = (enum ctlproto_cmd)i;
	v = json_object_get(req->root, "args");
	if (v == NULL) {
		req->args = json_array();
		if (req->args == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		json_object_set_new(req->root, "args", req->args);
	} else if (!json_is_array(v)) {
		snprintf(err, errlen, "\"args\" must be an array");
		return -1;
	} else
		req->args = v;
	req->nargs = json_array_size(req->args);
	if (req->nargs > CTLPROTO_MAXARGS) {
		snprintf(err, errlen, "more than %d args", CTLPROTO_MAXARGS);
		return -1;
	}
	return 0;
}

void
ctlproto_free(struct ctlproto_req *req)
{
	json_decref(req->root);
	req->root = NULL;
	req->args = NULL;
}

/* Argument i as a string, or NULL if it is missing or not a string. */
const char *
ctlproto_str(const struct ctlproto_req *req, size_t i)
{
	return json_string_value(json_array_get(req->args, i));
}

static char *
ctlproto_dump(json_t *o, size_t *len)
{
	char	*s, *t;
	size_t	 n;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));
	json_decref(o);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	if ((t = realloc(s, n + 2)) == NULL) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*len = n + 1;
	return t;
}

static json_t *
ctlproto_head(const struct ctlproto_req *req, int ok)
{
	json_t	*o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "id", req != NULL && req->hasid ?
	    json_integer(req->id) : json_null()) == -1 ||
	    json_object_set_new(o, "ok", json_boolean(ok)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"id":N,"ok":true,"result":result} and a newline; result is taken. */
char *
ctlproto_ok(const struct ctlproto_req *req, json_t *result, size_t *len)
{
	json_t	*o = ctlproto_head(req, 1);

	if (o == NULL || json_object_set_new(o, "result", result != NULL ?
	    result : json_null()) == -1) {
		json_decref(o);
		return NULL;
	}
	return ctlproto_dump(o, len);
}

/* {"id":N,"ok":false,"error":"..."} and a newline. req may be NULL. */
char *
ctlproto_err(const struct ctlproto_req *req, size_t *len, const char *fmt,
    ...)
{
	char	 msg[512];
	va_list	 ap;
	json_t	*o = ctlproto_head(req, 0), *m;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A name cut in the middle of a character: say less. */
	if ((m = json_string(msg)) == NULL)
		m = json_string("bad request");
	if (o == NULL || json_object_set_new(o, "error", m) == -1) {
		json_decref(o);
		return NULL;
	}
	return ctlproto_dump(o, len);
}
