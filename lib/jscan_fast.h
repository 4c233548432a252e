/* SPDX-License-Identifier: ISC */
/*
 * The whole-line scanner, included once per instruction set by the kernel
 * files (jscan_scalar.c, jscan_sse.c, jscan_avx.c, after jscan_kern.h)
 * with JSCAN_FAST, JSCAN_LINES, JSCAN_WALK and JSCAN_STAGE1 (function
 * names), JSCAN_ATTR (target attribute), JSCAN_CLASSIFY (fills a struct
 * blk from 64 bytes), JSCAN_PARTIAL (the same for the n < 64 bytes at the
 * end of a line), JSCAN_BORING (64 bytes with no quote, backslash,
 * control character or byte >= 0x80), JSCAN_PXOR (prefix XOR of a 64-bit
 * mask) and JSCAN_UTF8 (validates the bytes >= 0x80 of a block) defined.
 *
 * Stage 1 classifies 64 bytes at once: quotes, backslashes, whitespace,
 * structural characters, control characters and bytes >= 0x80. Escaped
 * quotes are removed (odd runs of backslashes), the in-string mask is the
 * prefix XOR of the remaining quotes, and from it come control characters
 * inside strings (bad), the escape letters to check, and the events that
 * stage 2 walks: structural characters and opening quotes outside strings,
 * and the first byte of each number or literal.
 *
 * Stage 2 walks only those events, checking the grammar, numbers and
 * literals, with one bit per nesting level as the streamed scanner does,
 * and records the wanted top-level member spans.
 *
 * JSCAN_FAST takes one line. JSCAN_LINES takes the next line of a buffer
 * (JSCAN_RUN the next good lines)
 * of whole lines, with stage 1 carried on from line to line (struct
 * jscan_run): a newline is then an event too, the line's end. A newline
 * inside a string is a control character there (bad), so every newline
 * that stage 2 sees ends a line, and framing needs no search of its own.
 * The state carried over is right only after a good line (outside any
 * string, no escape or UTF-8 sequence open); after a bad one the caller
 * starts afresh. A block that fails stage 1 may fail for a later line in
 * it: the verdict is then the streamed scanner's, as for any doubt.
 *
 * This path only says GOOD or BLANK when the line is exactly that; any
 * doubt is JSCAN_BAD, and jscan_line() then lets the streamed scanner find
 * the verdict and the error column, so both always agree.
 */

/*
 * Stage 1 for the next block: its events into *ev. Returns 0, 1 when the
 * line has no more blocks, or -1 when the block proves the line bad.
 */
static JSCAN_ATTR __attribute__((noinline)) int
JSCAN_STAGE1(struct jscan_run *t, uint64_t *evp)
{
	const unsigned char	*buf = t->buf;
	size_t			 n = t->n;
	struct blk		 b;
	uint64_t		 bs, st, es, eo, oe, tg, rq, in, other, sep;

	if (t->next >= n)
		return 1;
	/* Inside a string with nothing to look at: skip whole blocks. */
	if (t->instr != 0 && t->esc == 0 && !t->u8pend) {
		while (n - t->next >= 64 && JSCAN_BORING(buf + t->next))
			t->next += 64;
		if (t->next >= n)
			return 1;
	}
	t->base = t->next;
	if (n - t->next >= 64)
		JSCAN_CLASSIFY(buf + t->next, &b);
	else
		JSCAN_PARTIAL(buf, n, t->next, &b);
	t->next += 64;
	/* Escapes: the byte after an odd run of backslashes. */
	if ((b.bs | t->esc) == 0)
		oe = 0;
	else {
		bs = b.bs & ~t->esc;
		st = bs & ~(bs << 1);
		es = bs + (st & EVEN_BITS);
		tg = (uint64_t)__builtin_add_overflow(bs, st & ODD_BITS, &eo);
		oe = (es & ~bs & ODD_BITS) | (eo & ~bs & EVEN_BITS) |
		    (t->esc & ~b.bs);
		t->esc = tg;
	}
	rq = b.quote & ~oe;
	in = JSCAN_PXOR(rq) ^ t->instr;
	t->instr = (uint64_t)((int64_t)in >> 63);
	sep = b.ws | b.op | b.quote;
	other = ~sep & ~in;
	/* Opening quotes only: the prefix XOR includes them. */
	*evp = (b.op & ~in) | (rq & in) | (b.nl & t->nlev) |
	    (other & ~((other << 1) | t->oth));
	t->oth = other >> 63;
	if ((b.ctrl & in) != 0)
		return -1;
	if (oe != 0 && check_escapes(buf, n, t->base, oe) == -1)
		return -1;
	if ((b.high != 0 || t->u8pend) &&
	    JSCAN_UTF8(buf, n, t->base, b.high, t) == -1)
		return -1;
	return 0;
}

/*
 * Stage 2 from t's position: the verdict of the line that starts at t->at.
 * With multi, the line ends at a newline event, whose offset goes to
 * *endp; without, at t->n.
 */
static JSCAN_ATTR inline __attribute__((always_inline)) int
JSCAN_WALK(struct jscan *s, struct jscan_run *t, const int multi,
    size_t *endp)
{
	const unsigned char	*buf = t->buf;
	size_t			 n = t->n, ls = t->at;
	size_t			 depth = 0, i = 0, vend = 0, valoff = 0;
	size_t			 base = t->base;
	uint64_t		 ev = t->ev;
	uint64_t		*stack = s->stack;
	int			 curkey = -1, r;

/* The position of the next event into i, or on to label l at the end. */
#define NEXT_OR(l) do {							\
	while (ev == 0) {						\
		if ((r = JSCAN_STAGE1(t, &ev)) != 0) {			\
			if (r > 0)					\
				goto l;					\
			return JSCAN_BAD;				\
		}							\
		base = t->base;						\
	}								\
	i = base + (size_t)__builtin_ctzll(ev);				\
	ev &= ev - 1;							\
} while (0)
#define NEXT()		NEXT_OR(bad)
#define TOP_OBJ()	((stack[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1)
#define WS(c)		((jscan_cls[(unsigned char)(c)] & C_WS) != 0)
/*
 * A value, then on to label after. There are two copies, one for values
 * in objects and one for the rest, and two of what follows a value: the
 * code is where the container's kind is kept, so that no branch asks it
 * at every comma, and each copy's branches are predicted apart. The
 * tests put curkey first: it is -1 on every line without wanted keys,
 * where the depth would be a branch on the data.
 */
#define VALUE(after) do {						\
	if (curkey >= 0 && depth == 1)					\
		valoff = i;						\
	switch (buf[i]) {						\
	case '"':							\
		/* Closing quotes are no events: the next one follows. */ \
		goto after;						\
	case '{':							\
		goto open_obj;						\
	case '[':							\
		goto open_arr;						\
	default:							\
		/* A newline is no scalar: the line ends too early. */	\
		if (scan_scalar(buf, n, i) == 0)			\
			return JSCAN_BAD;				\
		goto after;						\
	}								\
} while (0)

	NEXT_OR(blank);
	if (multi && buf[i] == '\n')
		goto blank_nl;
	s->top = buf[i];
	/* The top-level value goes on as one in an array: to the depth test. */
value_arr:
	VALUE(after_arr);
value_obj:
	VALUE(after_obj);

open_obj:
	if (depth >= s->maxdepth)
		return JSCAN_BAD;
	stack[depth >> 6] |= (uint64_t)1 << (depth & 63);
	depth++;
	NEXT();
	if (buf[i] == '"')
		goto key;
	if (buf[i] == '}')
		goto close;
	return JSCAN_BAD;
open_arr:
	if (depth >= s->maxdepth)
		return JSCAN_BAD;
	stack[depth >> 6] &= ~((uint64_t)1 << (depth & 63));
	depth++;
	NEXT();
	if (buf[i] == ']')
		goto close;
	goto value_arr;

close:
	if (--depth == 0)
		goto trail;
	if (TOP_OBJ())
		goto after_obj;
after_arr:
	if (depth == 0)
		goto trail;
	NEXT();
	if (buf[i] == ',') {
		NEXT();
		goto value_arr;
	}
	if (buf[i] == ']')
		goto close;
	return JSCAN_BAD;
after_obj:
	NEXT();
	if (curkey >= 0 && depth == 1) {
		/* A wanted member's value ends before the space here. */
		for (vend = i; vend > valoff && WS(buf[vend - 1]); vend--)
			;
		s->span[curkey].off = valoff - ls;
		s->span[curkey].len = vend - valoff;
		curkey = -1;
	}
	if (buf[i] == ',') {
		NEXT();
		if (buf[i] == '"')
			goto key;
		return JSCAN_BAD;
	}
	if (buf[i] == '}')
		goto close;
	return JSCAN_BAD;

key:
	{
		size_t ks = i + 1, ke;

		NEXT();
		if (buf[i] != ':')
			return JSCAN_BAD;
		if (s->nkeys != 0 && depth == 1) {
			/* The key ends at the quote before the space here. */
			for (ke = i; WS(buf[ke - 1]); ke--)
				;
			if ((curkey = key_match(s, buf + ks, ke - 1 - ks)) ==
			    -2)
				return JSCAN_BAD;	/* too long to decode */
		}
	}
	NEXT();
	goto value_obj;

trail:
	/* Nothing may follow, and the rest must pass stage 1. */
	NEXT_OR(good);
	if (multi && buf[i] == '\n') {
		/*
		 * Every string is closed here (a newline in one fails
		 * stage 1), and the UTF-8 before the newline was checked
		 * with its block.
		 */
		*endp = i;
		t->ev = ev;
		t->base = base;
		return JSCAN_GOOD;
	}
	return JSCAN_BAD;

good:
	if (multi)
		return JSCAN_BAD;	/* no newline: not this path's line */
	/* A string still open at the end gave no event to fail on. */
	return t->instr == 0 && !t->u8pend ? JSCAN_GOOD : JSCAN_BAD;
blank_nl:
	*endp = i;
	t->ev = ev;
	t->base = base;
	return JSCAN_BLANK;
blank:
	if (multi)
		return JSCAN_BAD;
	return JSCAN_BLANK;
bad:
	return JSCAN_BAD;

#undef NEXT_OR
#undef NEXT
#undef TOP_OBJ
#undef VALUE
#undef WS
}

static JSCAN_ATTR int
JSCAN_FAST(struct jscan *s, const unsigned char *buf, size_t n)
{
	struct jscan_run	 t;
	size_t			 end;

	memset(&t, 0, sizeof t);
	t.buf = buf;
	t.n = n;
	return JSCAN_WALK(s, &t, 0, &end);
}

static JSCAN_ATTR int
JSCAN_LINES(struct jscan *s, struct jscan_run *t, size_t *endp)
{
	return JSCAN_WALK(s, t, 1, endp);
}

/*
 * JSCAN_LINES from line to line, with no call per line, while each is
 * good, ends before lim and is at most maxline long: they are counted in
 * *countp and t->at goes past them. The line that stopped the walk has
 * its verdict returned and its end in *endp, as JSCAN_LINES gives them;
 * JSCAN_END when the buffer's lines ran out first.
 */
static JSCAN_ATTR int
JSCAN_RUN(struct jscan *s, struct jscan_run *t, size_t lim, size_t maxline,
    uint64_t *countp, size_t *endp)
{
	uint64_t	count = 0;
	size_t		end = 0;
	int		r = JSCAN_END;

	while (t->at < t->n) {
		r = JSCAN_WALK(s, t, 1, &end);
		if (r != JSCAN_GOOD || end >= lim || end - t->at > maxline)
			break;
		count++;
		t->at = end + 1;
		r = JSCAN_END;
	}
	*countp = count;
	*endp = end;
	return r;
}
