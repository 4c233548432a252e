/* SPDX-License-Identifier: ISC */
/*
 * jscan.c: validate-only JSON scanner, one line at a time, resumable (its
 * kernels, one per instruction set: jscan_scalar.c, jscan_sse.c,
 * jscan_avx.c).
 */
#ifndef JSCAN_H
#define JSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JSCAN_MAXKEYS	8	/* top-level members a caller may ask for */
#define JSCAN_INLINE	64	/* 64-bit words of inline depth stack */

enum {
	JSCAN_BAD = -1,		/* invalid; see err and err_off */
	JSCAN_BLANK = 0,	/* only space, tab, CR (or nothing) */
	JSCAN_GOOD = 1,		/* exactly one JSON value */
	JSCAN_MORE = 2,		/* jscan_feed: no verdict yet, feed more */
	JSCAN_END = 3		/* jscan_lines_run: no line left to look at */
};

struct jscan_span {
	size_t		 off;	/* byte offset of the value in the line */
	size_t		 len;	/* 0: member absent */
};

struct jscan {
	/* Set up by jscan_init/jscan_want/jscan_set_stack; kept across lines. */
	const char	*key[JSCAN_MAXKEYS];
	size_t		 keylen[JSCAN_MAXKEYS];
	unsigned	 nkeys;
	uint64_t	*stack;		/* one bit per nesting level: 1 = object */
	size_t		 maxdepth;	/* levels the stack can hold */
	uint64_t	 inl[JSCAN_INLINE];

	/* Per line: results. */
	const char	*err;		/* reason, when JSCAN_BAD */
	/*
	 * The 0-based byte where the line became invalid, and that byte (-1
	 * at the end). For invalid UTF-8, the first byte of the sequence
	 * that is not whole: "\xc3(" is bad at 0xc3, the byte to fix,
	 * not at the good '(' after it.
	 */
	size_t		 err_off;
	int		 err_byte;
	int		 top;		/* first byte of the top-level value, or 0 */
	struct jscan_span span[JSCAN_MAXKEYS];	/* last duplicate wins */

	/* Per line: resumable state (private). */
	size_t		 base;		/* bytes fed before the current piece */
	size_t		 depth;
	int		 state;
	int		 aux;		/* literal index, hex digit count... */
	int		 strkind;	/* 0 value, 1 key, 2 key being matched */
	uint32_t	 u8lo, u8hi;	/* allowed range of the next UTF-8 byte */
	int		 u8need;	/* continuation bytes still expected */
	size_t		 u8off;		/* where that sequence started */
	int		 u8lead;	/* and its first byte */
	int		 curkey;	/* matched key of the member being read */
	uint32_t	 kmask;		/* keys still matching the current key */
	size_t		 kpos;		/* decoded bytes of the current key */
	uint32_t	 ucp;		/* \u escape being decoded */
	uint32_t	 uhi;		/* pending high surrogate in a key */
	size_t		 valoff;	/* start of the current member's value */
};

/*
 * The block scanner's stage 1 between calls of jscan_lines: where it is in
 * a buffer of whole lines, and what it carries from block to block.
 * Private to the scanner (jscan*.c); a caller only keeps it, zeroed to begin with.
 */
struct jscan_run {
	const unsigned char *buf;	/* the buffer, or NULL: start afresh */
	size_t		 n;		/* its bytes, the last a newline */
	size_t		 at;		/* where the next line starts */
	size_t		 next;		/* offset of the next block */
	size_t		 base;		/* offset of the current one */
	size_t		 u8done;	/* UTF-8 checked up to here */
	uint64_t	 ev;		/* events of the block not yet walked */
	uint64_t	 nlev;		/* all ones: a newline ends the line */
	uint64_t	 esc;		/* the next byte is escaped */
	uint64_t	 instr;		/* all ones: inside a string */
	uint64_t	 oth;		/* the last byte was a token's */
	int		 u8pend;	/* a sequence runs on (SIMD) */
};

void		 jscan_init(struct jscan *);
int		 jscan_want(struct jscan *, const char *, size_t);
void		 jscan_set_stack(struct jscan *, uint64_t *, size_t);
void		 jscan_reset(struct jscan *);
int		 jscan_feed(struct jscan *, const char *, size_t);
int		 jscan_finish(struct jscan *);
int		 jscan_line(struct jscan *, const char *, size_t);
int		 jscan_lines(struct jscan *, struct jscan_run *, const char *,
		    size_t, size_t, size_t *);
int		 jscan_lines_run(struct jscan *, struct jscan_run *,
		    const char *, size_t, size_t, size_t, size_t, uint64_t *,
		    size_t *, size_t *);
void		 jscan_set_fast_min(size_t);
size_t		 jscan_strerror(const struct jscan *, char *, size_t);
int		 jscan_set_impl(const char *);
const char	*jscan_impl(void);

/* jscan_str.c: the JSON strings of a valid line, decoded. */

size_t		 jscan_printable(const char *, size_t, char *, size_t);
ssize_t		 jscan_unescape(const char *, size_t, char *, size_t);
int		 jscan_node_internal(const char *, size_t);
int		 jscan_utf8_len(const char *);
int		 jscan_hostile(uint32_t);

#endif
