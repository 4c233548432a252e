/* SPDX-License-Identifier: ISC */
/*
 * ipcrun library interface. Nothing under lib/ prints or exits: functions
 * return -1 with errno, or a cause string where errno cannot say enough.
 */
#ifndef IPCRUN_H
#define IPCRUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPCRUN_VERSION "0.1.0"

/*
 * jscan.c: validate-only JSON scanner, one line at a time, resumable (its
 * kernels, one per instruction set: jscan_scalar.c, jscan_sse.c,
 * jscan_avx.c).
 */

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
	size_t		 err_off;	/* 0-based byte where the line became invalid */
	int		 err_byte;	/* the byte at err_off, or -1 at the end */
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

/* excerpt.c: a refused line made safe to show. */

size_t		 excerpt_json(const char *, size_t, size_t, char *, size_t);
size_t		 excerpt_line(const char *, size_t, int, size_t, size_t, char *,
		    size_t);

/* frame.c: split a byte stream into lines, validating each with jscan. */

enum {
	FRAME_NONE = 0,		/* no complete line yet: read more */
	FRAME_GOOD,		/* a valid line */
	FRAME_BLANK,		/* only space, tab, CR: skip it */
	FRAME_BAD,		/* an invalid or over-long line */
	FRAME_REST		/* more of a bad line (only with rest set) */
};

struct frame_line {
	/*
	 * GOOD: the line, with its '\n' if it had one. BAD: as much of it
	 * as is buffered; REST: the next piece of a bad line.
	 */
	const char	*p;
	size_t		 len;	/* bytes at p */
	int		 nl;	/* 0: no '\n' at p + len - 1 */
	int		 more;	/* BAD, REST: bytes of the line are to come */
	uint64_t	 lineno;	/* 1-based, blank lines counted */
	const char	*err;	/* BAD: the reason */
	size_t		 err_off;	/* BAD: 0-based byte in the line */
};

struct frame {
	struct jscan	 js;
	size_t		 maxline;	/* longest line allowed, '\n' excluded */
	int		 validate;	/* 0: frame only (--no-validate) */
	int		 sep;		/* ends a line: '\n' unless changed */
	int		 rest;		/* hand out bad lines' bytes as REST */
	uint64_t	 lineno;	/* lines started so far */
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first byte of the current line */
	size_t		 end;		/* end of data read */
	size_t		 fed;		/* bytes of the current line scanned */
	int		 skip;		/* current line already reported bad */
	int		 inline_;	/* a line has started and not ended */
	int		 eof;
	uint64_t	*stack;		/* depth room for long lines */
	size_t		 stack_map;	/* bytes reserved for it */
	size_t		 full;		/* buffered lines end here (at a '\n') */
	size_t		 doubt;		/* 1 + a line frame_run left, or 0 */
	size_t		 held;		/* a good line frame_run kept back */
	struct jscan_run run;		/* the block scanner across lines */
};

int		 frame_init(struct frame *, size_t, int);
void		 frame_release(struct frame *);
char		*frame_space(struct frame *, size_t *);
void		 frame_filled(struct frame *, size_t);
void		 frame_set_eof(struct frame *);
ssize_t		 frame_read(struct frame *, int, size_t);
int		 frame_next(struct frame *, struct frame_line *);
size_t		 frame_run(struct frame *, size_t, const char **, uint64_t *);
size_t		 frame_pending(const struct frame *);
void		 frame_reason(const struct frame *, const struct frame_line *,
		    char *, size_t);
ssize_t		 frame_node_internal(const struct frame *, int,
		    const struct frame_line *, char *, size_t);

/* buf.c: byte queues with a head, a tail and watermarks. */

struct buf {
	char		*p;
	size_t		 off;	/* first byte not yet written */
	size_t		 len;	/* bytes queued after off */
	size_t		 cap;
	size_t		 size;	/* initial capacity, returned to once drained */
};

int		 buf_init(struct buf *, size_t);
void		 buf_release(struct buf *);
int		 buf_reserve(struct buf *, size_t);
int		 buf_append(struct buf *, const void *, size_t);
void		 buf_consume(struct buf *, size_t);
int		 buf_write(struct buf *, int, int);
int		 buf_write_upto(struct buf *, int, int, size_t);

/* ev.c: poll loop, self-pipe signals, monotonic time. */

struct ev;
typedef void	(*ev_cb)(struct ev *, int, short, void *);

struct ev_io {
	int		 fd;
	short		 events;	/* 0: registered but not polled */
	ev_cb		 cb;
	void		*arg;
};

struct ev {
	struct ev_io	*io;
	struct pollfd	*pfd;
	size_t		 nio;
	size_t		 capio;
	size_t		*slot;		/* by fd: index in io + 1, 0: none */
	size_t		 nslot;
	int		 sigfd;		/* self-pipe read end, or -1 */
};

int		 ev_init(struct ev *);
void		 ev_release(struct ev *);
int		 ev_add(struct ev *, int, short, ev_cb, void *);
void		 ev_set(struct ev *, int, short);
void		 ev_del(struct ev *, int);
int		 ev_signals(struct ev *, const int *);
int		 ev_signal_next(struct ev *);
int		 ev_run_once(struct ev *, int);
int64_t		 ev_now(void);
int		 ev_timeout_ms(int64_t);
int64_t		 ev_deadline_min(int64_t, int64_t);

/* spawn.c: fork/exec with fd hygiene and an exec-error pipe. */

struct spawn_opts {
	char *const	*argv;
	char *const	*envp;
	int		 fd[3];		/* what becomes the child's 0, 1, 2 */
	int		 chan_fd;	/* -1, or the fd to pass on as chan_to */
	int		 chan_to;	/* > 2 */
	int		 pgroup;	/* own process group */
	int		 pdeathsig;	/* 0: none */
	const struct rlimit *nofile;	/* RLIMIT_NOFILE to give it, or NULL */
};

pid_t		 spawn_start(const struct spawn_opts *, int *);
pid_t		 spawn_begin(const struct spawn_opts *, int *);
int		 spawn_finish(pid_t, int);
int		 spawn_reap(pid_t, int *);
int		 spawn_peek(pid_t, int *);
int		 spawn_std_fds(int *);
int		 spawn_exit_code(int);
int		 spawn_watch_start(pid_t *);
int		 spawn_watch(int, pid_t);
void		 spawn_watch_end(int, pid_t);

/* proc.c: what /proc says of the processes ipcrun started. */

ssize_t		 proc_group(pid_t, pid_t *, size_t);
ssize_t		 proc_groups(const pid_t *, size_t, unsigned char *);
int		 proc_is_node(pid_t);
int		 proc_env_has(pid_t, const char *, int);
long long	 proc_cpu(pid_t);
int		 proc_forking(const pid_t *, size_t);
int		 proc_holds_socket(pid_t, unsigned long long, int);
int		 proc_reopen_nonblock(int, int *);

/* nodechan.c: the Node channel's environment and ipcrun's messages. */

#define NODECHAN_PRELOAD_MAX	16384	/* room for nodechan_preload */
#define NODECHAN_ENV_OPTIONS	"IPCRUN_NODE_OPTIONS"	/* user's, to restore */
#define NODECHAN_ENV_CHANNEL	"IPCRUN_CHANNEL"	/* inode of the channel */
#define NODECHAN_READY		"NODE_IPCRUN_READY"	/* preload -> ipcrun */
#define NODECHAN_EOF_LINE	"{\"cmd\":\"NODE_IPCRUN_EOF\"}\n"	/* ipcrun -> preload */
/* A child's answers to NODE_HANDLE: the handle taken, or refused. */
#define NODECHAN_ACK		"{\"cmd\":\"NODE_HANDLE_ACK\"}"
#define NODECHAN_NACK		"{\"cmd\":\"NODE_HANDLE_NACK\"}"

/* The channel a Node parent passed to ipcrun, as nodechan_channel read it. */
struct nodechan_chan {
	int		 fd;
	int		 advanced;	/* NODE_CHANNEL_SERIALIZATION_MODE */
	char		 text[32];	/* NODE_CHANNEL_FD as given */
};

char		**nodechan_env(int, const char *, unsigned long long);
void		 nodechan_env_free(char **);
int		 nodechan_preload(char *, size_t, const char **);
int		 nodechan_cmd_is(const char *, size_t, const char *);
int		 nodechan_channel(struct nodechan_chan *, char *, size_t);
size_t		 nodechan_answer(const char *, size_t, const char *, size_t,
		    char *, size_t);
int		 nodechan_own_frame(const char *, size_t);

/* What a frame from a Node child is, by its top-level "cmd" member. */
enum nodechan_msg {
	NODECHAN_MSG_DATA,	/* the user's: not an internal message */
	NODECHAN_MSG_HANDLE,	/* carries a handle: answer with a NACK */
	NODECHAN_MSG_READY,	/* the drain preload announces itself */
	NODECHAN_MSG_OTHER	/* another of Node's own: consumed */
};

enum nodechan_msg nodechan_classify(const struct frame *, int,
		    const struct frame_line *);

#define NODECHAN_NACK_LINE	NODECHAN_NACK "\n"	/* ipcrun -> Node, framed */

/*
 * chan.c: ipcrun's end of a child's channel, a stream socket: the frames
 * read from it, and two bounded write queues, the lines for the child
 * (tq) and ipcrun's own frames (cq), which go only between two lines of
 * tq. A copy of the child's end (peer) says what the child left unread.
 */

struct chan {
	int		 fd;		/* ipcrun's end, -1 once closed */
	int		 peer;		/* the child's end, or -1 */
	struct buf	 tq;		/* lines for the child */
	struct buf	 cq;		/* ipcrun's own frames: NACKs */
	int		 tq_mid;	/* a line of tq is half written */
	int		 cq_mid;	/* a frame of cq is half written */
	uint64_t	 sent;		/* bytes written */
	int		 wdead;		/* writes failed or were shut down */
	int		 full;		/* no room: wait for POLLOUT */
	int		 eof;		/* read returned 0 */
	int		 shut;		/* SHUT_WR done: the child reads EOF */
	int		 closing;	/* shut both ways: reading the rest */
	struct frame	 rd;		/* the child's frames */
	int		 rd_ok;
};

int		 chan_init(struct chan *, size_t, int, size_t);
void		 chan_release(struct chan *);
void		 chan_open(struct chan *, int, int);
void		 chan_close(struct chan *);
int		 chan_flush(struct chan *);
int		 chan_send(struct chan *, const char *, size_t);
ssize_t		 chan_read(struct chan *, size_t);
int		 chan_half_close(struct chan *);
void		 chan_shut(struct chan *);
int		 chan_outq(const struct chan *);
int		 chan_quiet(const struct chan *);
char		*chan_unread(const struct chan *, size_t *);
uint64_t	 chan_lines(const char *, size_t, int);

/*
 * v8ser_decode.c, v8ser_encode.c: the JSON subset of V8's serializer
 * (Node's 'advanced' mode).
 */

#define V8SER_MAXDEPTH	1000	/* objects and arrays nested, either way */

struct v8ser_err {
	const char	*what;	/* the reason, or the type outside the subset */
	size_t		 off;	/* byte of the payload (decode) or text */
	int		 tag;	/* decode: the byte at off, or -1 */
	int		 type;	/* what names a type outside the subset */
};

int		 v8ser_decode(const void *, size_t, struct buf *, size_t,
		    struct v8ser_err *);
int		 v8ser_encode(const char *, size_t, struct buf *,
		    struct v8ser_err *);
size_t		 v8ser_number(double, char *, size_t);

/* v8frame.c: advanced mode's frames, a 4-byte big-endian length first. */

enum {
	V8FRAME_NONE,		/* no whole frame yet: read more */
	V8FRAME_GOOD,		/* a frame's payload */
	V8FRAME_LONG		/* a frame over max: its bytes are dropped */
};

struct v8frame {
	struct buf	 in;	/* bytes read, frames not yet handed out */
	size_t		 max;	/* longest payload taken */
	size_t		 readsz;	/* the reader's read size */
	size_t		 skip;	/* bytes of a long frame still to drop */
	size_t		 cur;	/* bytes of the frame handed out */
};

int		 v8frame_init(struct v8frame *, size_t, size_t);
void		 v8frame_release(struct v8frame *);
char		*v8frame_space(struct v8frame *, size_t *);
void		 v8frame_filled(struct v8frame *, size_t);
int		 v8frame_ready(const struct v8frame *);
size_t		 v8frame_pending(const struct v8frame *);
int		 v8frame_next(struct v8frame *, const char **, uint32_t *);
void		 v8frame_drop(struct v8frame *);
int		 v8frame_encode(struct buf *, const char *, size_t,
		    struct v8ser_err *);

/* addr.c: unix:PATH, unix:@NAME, tcp:HOST:PORT, fd:N; listen and connect. */

enum {
	ADDR_UNIX = 1,
	ADDR_TCP,
	ADDR_FD
};

struct addr {
	int		 kind;
	int		 abstract;	/* unix:@NAME */
	char		 path[108];	/* unix: the path or the abstract name */
	char		 host[256];	/* tcp: without brackets */
	int		 port;		/* tcp: 0 = any */
	int		 fd;		/* fd: */
	int		 created;	/* addr_listen made path; addr_unlink */
	dev_t		 dev;
	ino_t		 ino;
};

int		 addr_parse(struct addr *, const char *, char *, size_t);
int		 addr_connect(const struct addr *, char *, size_t);
int		 addr_listen(struct addr *, mode_t, char *, size_t);
int		 addr_accept(int);
void		 addr_unlink(struct addr *);
int		 addr_name(const struct addr *, int, char *, size_t);

/* fdpass.c: SCM_RIGHTS, one fd per sendmsg; the send-fd header; fd kinds. */

#define FDPASS_MAX	253	/* the kernel's SCM_MAX_FD */

enum {
	FDPASS_SURPLUS = 1,	/* more fds than one came: the others closed */
	FDPASS_CTRUNC = 2,	/* the kernel dropped fds (MSG_CTRUNC) */
	FDPASS_BADCMSG = 4	/* an SCM_RIGHTS length not a whole fd count */
};

enum {
	FDPASS_FILE,
	FDPASS_DIR,
	FDPASS_FIFO,
	FDPASS_TTY,
	FDPASS_CHR,
	FDPASS_BLK,
	FDPASS_TCP,
	FDPASS_UDP,
	FDPASS_UNIX_STREAM,
	FDPASS_UNIX_DGRAM,
	FDPASS_UNIX_SEQPACKET,
	FDPASS_SOCKET,
	FDPASS_OTHER
};

struct fdpass_header {
	size_t		 nfds;
	char		**names;	/* NULL, or nfds strings */
};

ssize_t		 fdpass_send(int, const void *, size_t, int);
ssize_t		 fdpass_recv(int, void *, size_t, int *, unsigned *);
struct msghdr;
unsigned	 fdpass_take(struct msghdr *, int *, size_t *, size_t);
int		 fdpass_kind(int);
const char	*fdpass_kind_name(int);
int		 fdpass_node_accepts(int);
int		 fdpass_header_parse(struct fdpass_header *, const char *, size_t,
		    const char **);
void		 fdpass_header_release(struct fdpass_header *);
char		*fdpass_header_format(size_t, char *const *);

/* fdmap.c: place descriptors at chosen numbers before exec. */

int		 fdmap_place(int *, const int *, size_t);

/* units.c: durations and byte counts as options write them. */

int		 units_duration(const char *, int64_t *, const char **);
int		 units_size(const char *, size_t *, const char **);

/* words.c: a command line split as sh(1) would, without expansions. */

#define WORDS_NAME_MAX	64	/* bytes in a -c NAME */

int		 words_split(const char *, char ***, char *, size_t);
int		 words_name_cmd(const char *, char **, char ***, char *,
		    size_t);

/* route.c: which child takes a line: key paths, stable hashes, rr. */

#define ROUTE_KEY_DEPTH	16	/* members in a key path */
#define ROUTE_KEY_BYTES	256	/* their decoded names, NULs included */

struct route_key {
	unsigned	 n;				/* members */
	uint16_t	 off[ROUTE_KEY_DEPTH];		/* in name */
	uint16_t	 len[ROUTE_KEY_DEPTH];
	char		 name[ROUTE_KEY_BYTES];	/* decoded, NUL after each */
};

int		 route_key_parse(struct route_key *, const char *,
		    const char **);
int		 route_key(const struct route_key *, const char *, size_t,
		    uint64_t *);
unsigned	 route_pick(uint64_t, unsigned);
int		 route_rr(unsigned *, unsigned, int (*)(void *, unsigned),
		    void *);

/* envelope.c: {"to":...,"msg":M} in, {"from":...,"pid":...,"msg":M} out. */

#define ENVELOPE_MAXTO	1024	/* names in one "to" list */

struct envelope_to {
	const char	*name;	/* decoded, NUL-terminated (may hold NULs) */
	size_t		 len;	/* decoded bytes */
	struct jscan_span span;	/* the JSON string in the line */
};

struct envelope {
	struct jscan_span msg;	/* M: its original bytes in the line */
	int		 all;	/* "to":"*" */
	size_t		 nto;	/* names in to[], when not all */
	struct envelope_to *to;

	/* Private: kept across lines, so parsing allocates once. */
	struct jscan	 js;
	size_t		 capto;
	char		*names;
	size_t		 capnames;
};

void		 envelope_init(struct envelope *);
void		 envelope_release(struct envelope *);
int		 envelope_parse(struct envelope *, const char *, size_t,
		    const char **);
size_t		 envelope_prefix(char *, size_t, const char *, pid_t);
size_t		 envelope_quote(char *, size_t, const char *);

/* restart.c: the restart policy, backoff and give-up tally; no clocks. */

enum {
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS
};

#define RESTART_BACKOFF_MIN	100	/* ms, the default MIN */
#define RESTART_BACKOFF_MAX	10000	/* ms, the default MAX */
#define RESTART_STABLE		10000	/* ms up, at least, to reset attempts */
#define RESTART_TALLY_MAX	10000	/* N in --max-restarts N/WINDOW */

struct restart_backoff {
	int64_t		 min;		/* ms */
	int64_t		 max;		/* ms */
	unsigned	 attempt;	/* restarts since the last reset */
};

struct restart_tally {
	int64_t		*t;		/* ring of the last n + 1 deaths */
	unsigned	 n;		/* restarts allowed within window */
	int64_t		 window;	/* ms; 0: the whole run */
	unsigned	 head;		/* next slot to write */
	unsigned	 count;		/* deaths in the ring */
};

int		 restart_parse(const char *, int *, const char **);
int		 restart_wanted(int, int);
int		 restart_backoff_parse(struct restart_backoff *, const char *,
		    const char **);
int64_t		 restart_backoff_next(struct restart_backoff *, int64_t,
		    uint32_t);
int		 restart_tally_parse(const char *, unsigned *, int64_t *,
		    const char **);
int		 restart_tally_init(struct restart_tally *, unsigned, int64_t);
void		 restart_tally_release(struct restart_tally *);
int		 restart_tally_add(struct restart_tally *, int64_t);

/*
 * drain.c: the end of input of one child: its --eof policy, the idle
 * rule, the looks at an unannounced child, the hint, and the deadlines
 * that judge it, held while ipcrun's own stdout is full. No I/O and no
 * clock: the relay passes times (ns) and what it saw, and does what the
 * returned action says.
 */

enum drain_eof {
	DRAIN_EOF_AUTO,		/* the notice to Node, else a half-close */
	DRAIN_EOF_IDLE,		/* close after a quiet spell */
	DRAIN_EOF_WAIT,		/* until the child ends it */
	DRAIN_EOF_CLOSE		/* close at once */
};

/* What runs in the child's group, as seen in /proc. */
enum drain_seen {
	DRAIN_SEEN_OTHER,	/* no Node */
	DRAIN_SEEN_NODE_DRAIN,	/* Node with the preload: it will announce */
	DRAIN_SEEN_NODE_PLAIN	/* Node without it */
};

enum drain_action {
	DRAIN_NONE,
	DRAIN_NOTICE,		/* queue the end-of-input notice */
	DRAIN_HALF_CLOSE,	/* end of file for the child */
	DRAIN_CLOSE,		/* close the channel (the policy, or idle) */
	DRAIN_IDLE,		/* start the idle rule */
	DRAIN_IDLE_PLAIN,	/* the same, for Node without the preload */
	DRAIN_LOOK,		/* look at what runs in its group */
	DRAIN_HINT		/* say once how to end a child kept alive */
};

#define DRAIN_LOOK_EVERY	INT64_C(100000000)	/* 100 ms, doubling */
#define DRAIN_LOOK_MAX		INT64_C(1000000000)	/* to 1 s */
#define DRAIN_HINT_AFTER	INT64_C(3000000000)	/* 3 s of silence */
#define DRAIN_SETTLE		INT64_C(500000000)	/* no half-close younger */

struct drain_policy {
	enum drain_eof	 eof;
	int		 node;		/* the node channel; else stdio */
	int64_t		 idle_ns;	/* the idle rule's quiet spell */
	int64_t		 eof_timeout;	/* ns after the end of input; 0: none */
	int64_t		 kill_timeout;	/* ns: the read after the exit */
};

struct drain {
	int		 announced;	/* the preload said it is ready */
	int		 notice;	/* the notice is queued */
	int		 delivered;	/* input ended and its queue is empty */
	int		 idle;		/* the idle rule runs */
	int64_t		 idle_tick;
	int64_t		 quiet_since;	/* 0 while not quiet */
	int64_t		 last_rx;	/* when the child last sent bytes */
	int64_t		 look_at;	/* the next look, or 0 */
	int64_t		 look_every;
	int		 plain_seen;	/* the last look found Node bare */
	int64_t		 hint_at;	/* the hint's next look, or 0 */
	long long	 hint_cpu;	/* the group's CPU time then */
	int64_t		 eof_deadline;	/* --eof-timeout, or 0 */
	int64_t		 exit_deadline;	/* the read after its exit, or 0 */
};

int64_t		 drain_deadline(const struct drain *, int);
void		 drain_hold(struct drain *, int64_t);
int		 drain_due(int64_t *, int64_t);
enum drain_action drain_delivered(struct drain *, const struct drain_policy *);
enum drain_action drain_looked(struct drain *, int64_t, enum drain_seen,
		    int, int64_t);
void		 drain_look_after(struct drain *, int64_t);
void		 drain_announced(struct drain *);
void		 drain_idle_start(struct drain *, int64_t);
enum drain_action drain_idle_step(struct drain *, const struct drain_policy *,
		    int64_t, int);
void		 drain_noticed(struct drain *, const struct drain_policy *,
		    int64_t, long long);
enum drain_action drain_hint_step(struct drain *, int64_t, int, long long);
void		 drain_input_ended(struct drain *, const struct drain_policy *,
		    int64_t);
void		 drain_rx(struct drain *, const struct drain_policy *, int64_t);
void		 drain_closed(struct drain *);
void		 drain_exited(struct drain *, const struct drain_policy *,
		    int64_t, int);

/*
 * super.c: a supervised child's lifecycle as a state x event table, in
 * the manner of s6-supervise: one state, one deadline whose meaning
 * depends on it. No I/O and no clock: times (ns) and randomness are
 * passed in, and the caller does what the returned action says.
 */

enum super_state {
	SUPER_DOWN,		/* not started yet */
	SUPER_UP,		/* running */
	SUPER_GRACE,		/* to be stopped: SIGTERM at the deadline */
	SUPER_TERM,		/* SIGTERM sent: SIGKILL at the deadline */
	SUPER_KILL,		/* SIGKILL sent: its exit will come */
	SUPER_EXITED,		/* exited: its channel is read to the end */
	SUPER_BACKOFF,		/* ended by itself: start again at the deadline */
	SUPER_DONE		/* ended for good */
};

enum super_event {
	SUPER_EV_CLOSED,	/* its channel is gone: a grace, then stop it */
	SUPER_EV_STOP,		/* stop it now */
	SUPER_EV_TIMEOUT,	/* the deadline has come */
	SUPER_EV_CANCEL,	/* no more restarts: ipcrun is stopping */
	SUPER_EV_DRAINED,	/* its channel is at its end, all of it read */
	SUPER_EV_RESTART	/* the command: stop it, start it again */
};

enum super_action {
	SUPER_NONE,
	SUPER_SEND_TERM,	/* SIGTERM to its group, as ipcrun's own */
	SUPER_SEND_KILL,	/* SIGKILL to its group */
	SUPER_SPAWN,		/* the backoff is over: start it again */
	SUPER_RESTART,		/* it finished: started again after delay_ms */
	SUPER_GIVEUP,		/* it exited too often: it stays down */
	SUPER_ENDED,		/* it exited: it stays down */
	SUPER_CANCELLED		/* its pending restart will not happen */
};

struct super_policy {
	int		 restart;	/* RESTART_* */
	int64_t		 kill_timeout;	/* ns, grace and SIGTERM's wait */
	int64_t		 t0;		/* ns, the start of the run */
};

struct super {
	enum super_state state;
	int64_t		 deadline;	/* ns; 0 in states without one */
	int64_t		 spawned;	/* ns, when this incarnation started */
	int		 stopped;	/* the signal ipcrun ended it with */
	int		 status;	/* its last wait status */
	int		 open;		/* its channel has not drained yet */
	int		 again;		/* told to RESTART while running */
	enum super_action pending;	/* what the exit decided (EXITED) */
	unsigned	 restarts;	/* incarnations after the first */
	int64_t		 delay_ms;	/* the last backoff delay */
	struct restart_backoff backoff;
	struct restart_tally tally;
};

int		 super_init(struct super *, const struct super_policy *,
		    const struct restart_backoff *, unsigned, int64_t);
void		 super_release(struct super *);
void		 super_spawned(struct super *, int64_t);
enum super_action super_step(struct super *, const struct super_policy *,
		    enum super_event, int64_t);
enum super_action super_exited(struct super *, const struct super_policy *,
		    int, int, int64_t, uint32_t);
int		 super_alive(const struct super *);
int64_t		 super_deadline(const struct super *);
const char	*super_state_name(enum super_state);

#endif
