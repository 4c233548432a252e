/* SPDX-License-Identifier: ISC */
/*
 * ipcrun run: what the control socket's clients are streamed. A tap sees
 * every frame of the children it taps, both directions, whole, with the
 * child, the direction, the time, the size and whether it is Node's own
 * (internal); events go to the clients subscribed to them. Each line is
 * built once and queued for each client, or dropped and counted for a
 * client that lags (lib/ctl.c): a tap never holds the relay up.
 */
#include "compat.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "ctl.h"
#include "relay.h"

void
run_tap_(struct run *r, const struct worker *w, int out, int internal,
    const char *p, size_t n)
{
	struct ctl_client	*cl;
	struct timespec		 ts;
	json_t			*s = NULL;
	char			 head[512], *str = NULL, *line;
	size_t			 i, len;
	int			 h, any = 0;

	for (i = 0; i < CTL_MAXCLIENTS && !any; i++)
		any = ctl_taps(&r->ctl.c[i], w->idx);
	if (!any)
		return;
	if (n > 0 && p[n - 1] == '\n')
		n--;
	/*
	 * A checked frame is JSON and goes in as it is; anything else as a
	 * string, or null if it is not even UTF-8.
	 */
	if (!r->cf->validate && !out) {
		if ((s = json_stringn(p, n)) != NULL)
			str = json_dumps(s, JSON_ENCODE_ANY);
		json_decref(s);
		p = str != NULL ? str : "null";
		n = strlen(p);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	h = snprintf(head, sizeof head, ",\"event\":\"frame\",\"child\":%s,"
	    "\"pid\":%ld,\"dir\":\"%s\",\"time\":%lld.%06ld,\"size\":%zu,"
	    "\"internal\":%s,\"frame\":", w->qname, (long)w->pid,
	    out ? "out" : "in", (long long)ts.tv_sec, ts.tv_nsec / 1000,
	    n + 1, internal ? "true" : "false");
	len = (size_t)h + n + 2;
	if ((line = malloc(len)) == NULL) {
		free(str);
		r->ctl.dropped++;
		return;
	}
	memcpy(line, head, (size_t)h);
	memcpy(line + h, p, n);
	line[h + n] = '}';
	line[h + n + 1] = '\n';
	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		cl = &r->ctl.c[i];
		if (ctl_taps(cl, w->idx))
			(void)ctl_put_event(&r->ctl, cl, cl->tap, line, len);
	}
	free(line);
	free(str);
}

/* An event line ({"event":...}\n) for the clients subscribed to events. */
void
run_tap_event(struct run *r, const char *line, size_t n)
{
	struct ctl_client	*cl;
	char			*body;
	size_t			 i;

	if (r->ctl.nevents == 0 || n < 2 || line[0] != '{')
		return;
	if ((body = malloc(n)) == NULL)
		return;
	body[0] = ',';
	memcpy(body + 1, line + 1, n - 1);
	for (i = 0; i < CTL_MAXCLIENTS; i++) {
		cl = &r->ctl.c[i];
		if (cl->fd != -1 && cl->events)
			(void)ctl_put_event(&r->ctl, cl, cl->evid, body, n);
	}
	free(body);
}
