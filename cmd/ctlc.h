/* SPDX-License-Identifier: ISC */
/*
 * The client side of the control socket, shared by ipcrun ctl (ctl.c)
 * and its REPL (ctl_repl.c): connecting, one request and its answer,
 * the lines that follow, a result printed as NDJSON.
 */
#ifndef CTLC_H
#define CTLC_H

#include <jansson.h>

#include "buf.h"

#define CTL_WAIT	(10 * 1000)	/* ms for an answer */

struct ctlc {
	const struct cmd_entry	*ce;
	const char		*target;
	int			 fd;
	struct buf		 in;
	size_t			 used;	/* the last line given */
	int			 wait_ms;
	void			(*on_event)(struct ctlc *, json_t *);
	void			*arg;
};

int		 ctlc_connect(const char *, char *, size_t);
int		 ctlc_send_all(int, const char *, size_t);
int		 ctlc_recv_line(struct ctlc *, char **, int);
void		 ctlc_print(json_t *);
int		 ctlc_request(struct ctlc *, const char *, char **, int, int,
		    int, json_t **);
json_t		*ctlc_call(struct ctlc *, json_t *);

/* ctl_repl.c */
int		 ctl_repl(struct ctlc *, int, const char *);
int		 repl_run(struct ctlc *, int, const char *, int, int, int);

#endif
