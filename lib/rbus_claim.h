/* SPDX-License-Identifier: ISC */
/*
 * rbus_claim.c: a stream group's entries that no consumer settled in
 * time. Every claim-idle/2, on the source's ack connection (no blocked
 * read holds it up): those delivered max-deliveries times go to the
 * dead-letter stream NAME:dead (XADD and XACK in one MULTI), and the
 * rest idle for claim-idle are taken over (XAUTOCLAIM) and handed out
 * through the source's on_line, as a read would. A dead consumer's
 * entries so go to a live one; one still held here is not handed out
 * twice.
 */
#ifndef RBUS_CLAIM_H
#define RBUS_CLAIM_H

#include <stdint.h>

#include "rbus.h"

struct rbus_claim {
	struct rbus_source *src;
	int		 on;		/* claim-idle= was given */
	int		 busy;		/* a round is under way */
	unsigned	 moving;	/* dead letters not yet queued */
	int64_t		 next_at;	/* the next round, ns */
	char		 cursor[64];	/* XAUTOCLAIM's, "0-0" to start */
	char		 dead[600];	/* NAME:dead */
	uint64_t	 claimed;
	uint64_t	 buried;	/* moved to NAME:dead */
	/* An entry moved to NAME:dead: its id and deliveries; or a
	   failure (deliveries 0, why in err). */
	void		(*on_dead)(void *, const char *, uint64_t,
			    const char *);
	/* Is entry id still ours, read and not yet done with? A claim of
	   it (its task is slow, or waits for a child) is dropped. */
	int		(*held)(void *, const char *);
	uint64_t	 dropped;
	void		*arg;
	char		 err[256];
};

void		 rbus_claim_init(struct rbus_claim *, struct rbus_source *);
int64_t		 rbus_claim_deadline(const struct rbus_claim *);
void		 rbus_claim_tick(struct rbus_claim *);

#endif
