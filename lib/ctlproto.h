/* SPDX-License-Identifier: ISC */
/*
 * ctlproto.c: the control socket's protocol, ipcrun's own, parsed with
 * jansson. A request is one line, {"id":N,"cmd":NAME,"args":[...]}; the
 * answer is {"id":N,"ok":true,"result":R} or {"id":N,"ok":false,
 * "error":"..."}; taps and events stream {"id":N,"event":...} lines.
 */
#ifndef CTLPROTO_H
#define CTLPROTO_H

#include <stddef.h>

#include <jansson.h>

enum ctlproto_cmd {
	CTL_INFO, CTL_PS, CTL_SEND, CTL_SIGNAL, CTL_RESTART, CTL_STOP,
	CTL_START, CTL_SCALE, CTL_TAP, CTL_EVENTS, CTL_STATS, CTL_UNTAP
};

#define CTLPROTO_MAXARGS	64

struct ctlproto_req {
	json_t		*root;
	long long	 id;		/* 0 when not given */
	int		 hasid;
	enum ctlproto_cmd cmd;
	const char	*name;		/* the command as given */
	json_t		*args;		/* an array, maybe empty */
	size_t		 nargs;
};

int		 ctlproto_parse(const char *, size_t, struct ctlproto_req *,
		    char *, size_t);
void		 ctlproto_free(struct ctlproto_req *);
const char	*ctlproto_str(const struct ctlproto_req *, size_t);
char		*ctlproto_ok(const struct ctlproto_req *, json_t *, size_t *);
char		*ctlproto_err(const struct ctlproto_req *, size_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
const char	*ctlproto_cmd_name(enum ctlproto_cmd);

#endif
