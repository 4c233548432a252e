#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run under faults and hostile children: each test pins one loss,
# hang or silent trap that fault injection and real programs found, so
# that the relay core keeps the behaviour. Real node and python children,
# real signals and limits; waits have deadlines, verdicts never depend
# on how fast a child starts.

load helper

# --- losses ------------------------------------------------------------------

@test "the idle rule does not count while ipcrun's own stdout is full" {
	# A non-Node child reads its one input line, then sends 50,000
	# replies at once and waits for EOF; the reader pauses 2 s, so ipcrun
	# stops reading the channel. (It starts only once the child has read
	# its input: a child that has not started yet looks quiet too.)
	cat > "$BATS_TEST_TMPDIR/burst.py" <<'PY'
import os
fd = int(os.environ["NODE_CHANNEL_FD"])
os.read(fd, 65536)
line = b'{"reply":"' + b"r" * 60 + b'"}\n'
for i in range(50000):
    os.write(fd, line)
while os.read(fd, 65536):
    pass
PY
	run bash -c '"$IPCRUN" run --eof idle:0.2 -- python3 "$0" < <(echo "{}") 2>/dev/null |
	    { sleep 2; wc -l; }' "$BATS_TEST_TMPDIR/burst.py"
	assert_success
	assert_output 50000
}

@test "the idle rule does not close on a Node child whose replies wait in ipcrun" {
	w="$BATS_TEST_TMPDIR/w.js"
	cat > "$w" <<'JS'
const pad = "x".repeat(200);
let i = 0;
function more() {
	while (i < 20000)
		if (!process.send({ i: i++, pad }))
			return setImmediate(more);
}
process.on("message", more);
JS
	run bash -c '"$IPCRUN" run --eof idle:0.2 -- node "$0" < <(echo "{}") 2>"$1" |
	    { sleep 2; wc -l; }' "$w" "$BATS_TEST_TMPDIR/err"
	assert_success
	assert_output 20000
	run cat "$BATS_TEST_TMPDIR/err"
	refute_output --partial ERR_IPC_CHANNEL_CLOSED
}

@test "closing the channel keeps every reply the child already wrote" {
	# The child writes replies until the channel is closed under it and
	# counts the writes that succeeded; each of them must come out.
	cat > "$BATS_TEST_TMPDIR/flood.py" <<'PY'
import os, sys
fd = int(os.environ["NODE_CHANNEL_FD"])
n = 0
try:
    while True:
        os.write(fd, b'{"n":%d,"pad":"%s"}\n' % (n, b"p" * 80))
        n += 1
        if n == 1000:
            open(sys.argv[1] + ".flag", "w").close()
except OSError:
    pass
open(sys.argv[1], "w").write(str(n))
PY
	mkfifo "$BATS_TEST_TMPDIR/in"
	c="$BATS_TEST_TMPDIR/count"
	"$IPCRUN" run --eof close -- python3 "$BATS_TEST_TMPDIR/flood.py" "$c" \
	    < "$BATS_TEST_TMPDIR/in" 2> "$BATS_TEST_TMPDIR/err" |
	    { while [ ! -e "$c.flag" ]; do sleep 0.02; done; sleep 1; cat; } \
	    > "$BATS_TEST_TMPDIR/out" &
	exec 7> "$BATS_TEST_TMPDIR/in"
	wait_for 30 test -e "$c.flag"
	exec 7>&-
	wait_for 60 test -s "$c"
	wait
	n=$(cat "$c")
	[ "$n" -ge 1000 ]
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/out")" "$n"
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/out" | jq .n)" "$((n - 1))"
}

@test "--eof-timeout keeps the replies already written at the timeout" {
	# Every reply ipcrun had received when the timeout shut the channel
	# comes out, however slow stdout is. Counted against ipcrun's own
	# trace of what it received, not against Node's send callbacks: Node
	# calls back without an error for a queued write that later failed
	# on the closed channel. The input ends only once the child has
	# issued its sends, so some are in the channel whatever the load.
	w="$BATS_TEST_TMPDIR/w.js"
	cat > "$w" <<'JS'
const pad = "y".repeat(500);
process.on("message", () => {});
for (let i = 0; i < 2000; i++)
	process.send({ i, pad });
require("fs").writeFileSync(process.argv[2], "");
JS
	d=$BATS_TEST_TMPDIR
	mkfifo "$d/in"
	bg bash -c '"$IPCRUN" run --trace --eof wait --eof-timeout 0.5 \
	    -- node "$0" "$1" < "$2" 2>"$3" | { sleep 2; wc -l; } > "$4"' \
	    "$w" "$d/sent" "$d/in" "$d/err" "$d/out"
	pid=$!
	exec 7>"$d/in"
	wait_for 30 test -e "$d/sent"
	exec 7>&-
	wait "$pid"
	received=$(grep -c -- '<- child [0-9]* bytes$' "$d/err")
	[ "$received" -gt 0 ] || fail "no reply received: $(cat "$d/err")"
	assert_equal "$(cat "$d/out")" "$received"
	grep -q "after --eof-timeout" "$d/err" || fail "no timeout: $(cat "$d/err")"
}

@test "lines a child never read are counted, and a hint names --channel stdio" {
	run --separate-stderr bash -c 'printf "1\n2\n3\n" | "$IPCRUN" run -- sleep 1'
	# The child read none of it: reported, and the run fails (issue 30).
	assert_failure 1
	assert_equal "$stderr" "ipcrun: run: 'sleep' exited before reading all its input: 3 input lines not delivered
ipcrun: run: 'sleep' never read its channel: a program that reads NDJSON on its stdin needs --channel stdio, and a wrapper (npx, a shell script) may have kept the channel from Node"
}

@test "cat on the node channel: the forgotten --channel stdio is named" {
	printf '{"a":1}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- cat < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_output ''
	[[ "$stderr" == *"'cat' never read its channel: a program that reads NDJSON on its stdin needs --channel stdio"* ]]
	[[ "$stderr" == *"1 input line not delivered"* ]]
}

@test "a child that closes its channel while running is noticed" {
	# Reads one line, closes its channel and goes on working: the rest
	# of the input is not delivered, and ipcrun does not hang on it.
	cat > "$BATS_TEST_TMPDIR/close.py" <<'PY'
import os, time
fd = int(os.environ["NODE_CHANNEL_FD"])
os.read(fd, 1)
os.close(fd)
time.sleep(1)
PY
	run --separate-stderr timeout 60 bash -c 'yes "{\"a\":1}" | "$IPCRUN" run --trace -- python3 "$0"' \
	    "$BATS_TEST_TMPDIR/close.py"
	assert_success
	[[ "$stderr" == *"'python3' closed its end of the channel"* ]]
	[[ "$stderr" == *"input lines not delivered (the rest of the input was not read)"* ]]
}

@test "run >&- is a write error, 125" {
	run --separate-stderr bash -c 'printf "{\"a\":1}\n" | "$IPCRUN" run -- node "$0" >&-' \
	    "$F/echo.js"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: write error on stdout: Bad file descriptor"
}

# --- hangs and unbounded memory ------------------------------------------------

@test "a signal storm that fills the self-pipe does not lose SIGCHLD" {
	# 200,000 real signals raised while the loop does not read (as when
	# ipcrun is blocked writing to a slow terminal), then SIGCHLD: with
	# only the self-pipe's bytes, the SIGCHLD was dropped and ipcrun
	# waited in poll() for ever beside a zombie.
	b=build/release
	[ "${DEBUG:-0}" != 1 ] || b=build/debug
	run "$ROOT/$b/test/unit/ev_storm"
	assert_success
	assert_output "SIGCHLD and SIGUSR1 seen after 200000 signals"
}

@test "out of memory for a long input line ends the run with 125" {
	[ "${DEBUG:-0}" != 1 ] || skip "ASan reserves more address space than the limit"
	head -c 60000000 /dev/zero | tr '\0' 1 > "$BATS_TEST_TMPDIR/big"
	echo >> "$BATS_TEST_TMPDIR/big"
	run --separate-stderr timeout 60 bash -c 'ulimit -v 40000; "$IPCRUN" run --channel stdio -- cat < "$0"' \
	    "$BATS_TEST_TMPDIR/big"
	assert_failure 125
	assert_output ''
	[[ "$stderr" == "ipcrun: run: input line 1: buffer: Cannot allocate memory"* ]]
}

@test "answers to a child that never reads stay bounded" {
	# The child sends 2,000,000 handle frames (each owed a NACK) and never
	# reads; it gives up once its writes have blocked for 2 s. Before,
	# ipcrun queued every NACK: 54 MB here.
	cat > "$BATS_TEST_TMPDIR/handles.py" <<'PY'
import os, select, time
fd = int(os.environ["NODE_CHANNEL_FD"])
os.set_blocking(fd, False)
frame = b'{"cmd":"NODE_HANDLE","type":"net.Native","msg":1}\n' * 1000
sent = 0
buf = b""
while sent < 2000:
    if not buf:
        buf = frame
    _, w, _ = select.select([], [fd], [], 2)
    if not w:
        break
    try:
        n = os.write(fd, buf)
    except BlockingIOError:
        continue
    buf = buf[n:]
    if not buf:
        sent += 1
PY
	peak_rss_kb "$IPCRUN" run -- python3 "$BATS_TEST_TMPDIR/handles.py" < /dev/null \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || true
	echo "peak RSS: $RSS_KB KiB"
	limit=20000
	[ "${DEBUG:-0}" != 1 ] || limit=60000
	[ "$RSS_KB" -lt "$limit" ]
	grep -q "sent a handle without a descriptor: refused" "$BATS_TEST_TMPDIR/err"
}

@test "a huge --max-line costs nothing up front" {
	run --separate-stderr bash -c 'printf "{\"a\":[[1]]}\n" | "$IPCRUN" run --max-line 1000G --channel stdio -- cat'
	assert_success
	assert_output '{"a":[[1]]}'
	run --separate-stderr "$IPCRUN" check --max-line 100G < <(printf '[[[]]]\n')
	assert_success
	assert_output '[[[]]]'
}

@test "an impossible --max-line is an error that names the option" {
	run --separate-stderr "$IPCRUN" run --max-line 4000000000G --channel stdio -- cat < /dev/null
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: --max-line 4294967296000000000: Cannot allocate memory"
}

@test "the node channel refuses a --max-line no V8 string can hold" {
	run --separate-stderr "$IPCRUN" run --max-line 1G -- node "$F/echo.js" < /dev/null
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --max-line '1G': more than a Node child can hold in one string (at most 511M on the node channel)"
	run --separate-stderr "$IPCRUN" run --max-line 511M -- node "$F/echo.js" < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	# The stdio channel has no such limit.
	run --separate-stderr "$IPCRUN" run --max-line 1G --channel stdio -- cat < <(printf '{"a":1}\n')
	assert_success
}

# --- silent traps and process hygiene -------------------------------------------

@test "a Node child without the preload is told apart at once, and said so" {
	run --separate-stderr timeout 60 bash -c 'printf "{\"a\":1}\n" |
	    "$IPCRUN" run -- env -u NODE_OPTIONS node "$0"' "$F/echo.js"
	assert_success
	assert_output '{"a":1}'
	[[ "$stderr" =~ ^"ipcrun: run: Node (pid "[0-9]+") runs without ipcrun's drain preload (NODE_OPTIONS was replaced?): using the idle rule, which can lose a late reply"$'\n'"ipcrun: run: closing the channel of 'env' (pid "[0-9]+") after 0.5 s of quiet (idle rule)"$ ]]
	# Decided from /proc, not after a blind 10 s wait for an announcement.
	run --separate-stderr "$IPCRUN" run --trace -- env -u NODE_OPTIONS node "$F/echo.js" < /dev/null
	[[ "$stderr" != *"waiting for the preload's announcement"* ]]
}

@test "kill -9 of ipcrun leaves nothing of the child's process group" {
	held_fifo "$IPCRUN" run --channel stdio -- sh -c \
	    'sleep 30 & a=$!; sleep 31 & echo "{\"a\":$a,\"b\":$!}"; wait'
	wait_for 20 grep -q '"b"' "$BATS_TEST_TMPDIR/out"
	a=$(jq .a "$BATS_TEST_TMPDIR/out")
	b=$(jq .b "$BATS_TEST_TMPDIR/out")
	kill -0 "$a"
	kill -0 "$b"
	kill -KILL "$ipid"
	wait_for 20 bash -c '! kill -0 '"$a"' 2>/dev/null && ! kill -0 '"$b"' 2>/dev/null'
	exec 7>&-
}

@test "the exited leader stays unreaped while ipcrun may still signal its group" {
	bg "$IPCRUN" run --channel stdio --kill-timeout 60 -- sh -c \
	    'sleep 60 & echo "{\"sh\":$$,\"bg\":$!}"' < /dev/null \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
	ipid=$!
	wait_for 20 grep -q '"bg"' "$BATS_TEST_TMPDIR/out"
	sh=$(jq .sh "$BATS_TEST_TMPDIR/out")
	bg=$(jq .bg "$BATS_TEST_TMPDIR/out")
	# sh has exited; its group (the background sleep) is alive, so its
	# id must not be free for reuse: the leader is a zombie of ipcrun's.
	wait_for 20 bash -c '[ "$(ps -o stat= -p '"$sh"')" = Z ]'
	kill -INT "$ipid"
	wait_for 20 bash -c '! kill -0 '"$ipid"' 2>/dev/null'
	wait_for 20 bash -c '! kill -0 '"$bg"' 2>/dev/null'
	run ps -o stat= -p "$sh"
	assert_failure
}

@test "reports never copy line-breaking or reordering characters raw" {
	printf '{"cmd":"NODE_\\u202e\\u2028\\u2029\\u0085\\ud800x\xe2\x80\xae\xc2\x85"}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" 'ipcrun: run: -:1:8: internal Node message (cmd "NODE_\u202E\u2028\u2029\u0085\uD800x\u202E\u0085")'
	run --separate-stderr "$IPCRUN" check --node < "$BATS_TEST_TMPDIR/in"
	assert_equal "$stderr" 'ipcrun: check: -:1:8: internal Node message (cmd "NODE_\u202E\u2028\u2029\u0085\uD800x\u202E\u0085")'
}

# --- exit status and noise --------------------------------------------------------

@test "exit status: refused lines make a good run 1; the child's failure wins" {
	run --separate-stderr bash -c 'printf "x\ny\n" | "$IPCRUN" run -- node "$0"' \
	    "$ROOT/examples/double.js"
	assert_failure 1
	assert_output ''
	w="$BATS_TEST_TMPDIR/w.js"
	echo 'process.on("message", () => process.exit(3));' > "$w"
	run --separate-stderr bash -c 'printf "x\n{}\n" | "$IPCRUN" run -- node "$0"' "$w"
	assert_failure 3
	run --separate-stderr bash -c 'printf "{\"n\":1}\n" | "$IPCRUN" run -- node "$0"' \
	    "$ROOT/examples/double.js"
	assert_success
}

@test "an interrupt is not reported as an early exit" {
	held_fifo "$IPCRUN" run -- node "$F/keepalive.js"
	echo '{"a":1}' >&7
	wait_for 20 grep -q '"a"' "$BATS_TEST_TMPDIR/out"
	kill -INT "$ipid"
	rc=0
	wait "$ipid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 130
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
}

@test "the end-of-input notice never overtakes input lines still queued" {
	# The child is busy for 1 s before it reads, so the input backs up in
	# ipcrun when it ends; a notice sent ahead of those lines made the
	# child stop reading and exit with them unread.
	w="$BATS_TEST_TMPDIR/w.js"
	cat > "$w" <<'JS'
const t = Date.now(); while (Date.now() - t < 1000);
let n = 0;
process.on("message", () => n++);
process.on("exit", () => require("fs").writeFileSync(process.argv[2], String(n)));
JS
	# Lines of 100 KB: more input waits in ipcrun than the socket holds.
	line="\"$(head -c 100000 /dev/zero | tr '\0' n)\""
	yes "$line" | head -n 300 > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$w" "$BATS_TEST_TMPDIR/n" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/n")" 300
}

@test "an interrupt ends the wait on a stdout nobody reads, and counts what it cost" {
	# The child has exited; its 70,000 replies fill a pipe whose reader
	# never reads. Before, SIGTERM was forwarded to nobody and ipcrun
	# waited for the reader for ever.
	mkfifo "$BATS_TEST_TMPDIR/out"
	# The reader opens the fifo itself (no writer yet: the test's shell
	# would wait in the open); ipcrun's open on bg's call finds it there.
	bg sh -c 'exec sleep 1000 < "$1"' sh "$BATS_TEST_TMPDIR/out"
	reader=$!
	bg "$IPCRUN" run --channel stdio -- sh -c 'yes "{}" | head -n 70000; echo "{\"sh\":$$}" >&2' \
	    < /dev/null > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
	ipid=$!
	wait_for 20 grep -q '"sh"' "$BATS_TEST_TMPDIR/err"
	sh=$(grep -o '"sh":[0-9]*' "$BATS_TEST_TMPDIR/err" | cut -d: -f2)
	# sh has exited (a zombie until ipcrun is done with its group).
	wait_for 20 bash -c '[ "$(ps -o stat= -p '"$sh"')" = Z ]'
	kill -TERM "$ipid"
	wait_for 20 bash -c '! kill -0 '"$ipid"' 2>/dev/null'
	kill "$reader"
	run grep -E "interrupted \(SIGTERM\) while stdout was full: [0-9]+ replies from 'sh' not written" \
	    "$BATS_TEST_TMPDIR/err"
	assert_success
}

@test "a child that floods handle frames and never reads their NACKs is a broken peer: reported, its channel closed, no hang" {
	cat > "$BATS_TEST_TMPDIR/flood.py" <<'PY'
import os, sys
# NODE_HANDLE frames without fds, never reading the NACKs that answer them.
frame = b'{"cmd":"NODE_HANDLE","type":"net.Socket","msg":1}\n' * 100
fd = int(os.environ["NODE_CHANNEL_FD"])
try:
    for i in range(4000):
        os.write(fd, frame)
except OSError:
    sys.exit(7)
sys.exit(0)
PY
	run --separate-stderr timeout 60 "$IPCRUN" run --eof wait \
	    -- python3 "$BATS_TEST_TMPDIR/flood.py" </dev/null
	echo "status $status: $stderr"
	[ "$status" -ne 124 ]
	[[ $stderr == *"'python3' sent handles faster than it read their answers"* ]]
	# The handles were refused, and the run says so in its status.
	[ "$status" -ne 0 ]
}
