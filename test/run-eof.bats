#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the end of input with one real child: the drain of a Node
# child with the preload, --eof idle|wait|close, --eof-timeout, the hint,
# and the cases where replies were lost or a child waited for ever.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

# --- end of input ------------------------------------------------------------

@test "async worker: a reply 1.5 s after the end of input arrives, exit 0" {
	run --separate-stderr "$IPCRUN" run -- node "$ROOT/examples/slow.js" \
	    < <(printf '{"delay":1500,"i":1}\n{"delay":0,"i":2}\n')
	assert_success
	assert_equal "$output" $'{"delay":0,"i":2}\n{"delay":1500,"i":1}'
	assert_equal "$stderr" ""
}

@test "the fetch example: every reply arrives, in completion order" {
	bg node "$F/httpd.js" > "$BATS_TEST_TMPDIR/port"
	hpid=$!
	wait_for 20 grep -q . "$BATS_TEST_TMPDIR/port"
	port=$(cat "$BATS_TEST_TMPDIR/port")
	run --separate-stderr "$IPCRUN" run -- node "$ROOT/examples/fetch.js" < <(
	    for n in 600 10 300; do echo "{\"url\":\"http://127.0.0.1:$port/$n\"}"; done)
	kill "$hpid"
	assert_success
	assert_equal "$output" \
"{\"url\":\"http://127.0.0.1:$port/10\",\"status\":200,\"bytes\":10}
{\"url\":\"http://127.0.0.1:$port/300\",\"status\":200,\"bytes\":300}
{\"url\":\"http://127.0.0.1:$port/600\",\"status\":200,\"bytes\":600}"
}

@test "10,000 messages through an async worker with 0-20 ms delays: none lost" {
	seq 1 10000 > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$ROOT/examples/slow.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	sort -n "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/in"
}

@test "a Node producer with empty input: all 1,000 messages arrive" {
	run --separate-stderr "$IPCRUN" run -- node "$F/producer.js" 1000 \
	    < /dev/null
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 1000
	assert_equal "$(printf '%s\n' "$output" | tail -n 1 | cut -c1-12)" \
	    '{"i":1000,"p'
}

@test "a worker that keeps itself alive: replies arrive, --eof-timeout ends it" {
	# The input ends only once both replies are back: the timeout, which
	# starts at the end of input, never races the child's start (under
	# load, Node took more than the 1 s and its replies were lost).
	held_fifo "$IPCRUN" run --eof-timeout 1 --kill-timeout 0.5 \
	    -- node "$F/keepalive.js"
	printf '{"a":1}\n{"b":2}\n' >&7
	wait_for 30 grep -q '"b"' "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	st=0
	wait "$ipid" || st=$?
	assert_equal "$st" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --index 1 '{"a":1}'
	assert_line --index 2 '{"b":2}'
	pid=$(sed -n '1s/{"pid":\([0-9]*\)}/\1/p' <<<"$output")
	[ -n "$pid" ]
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" \
"ipcrun: run: closing the channel of 'node' (pid $pid) after --eof-timeout
ipcrun: run: 'node' (pid $pid) is still running; sending SIGTERM"
}

@test "a child still alive after the notice gets a one-time hint naming both ways out" {
	bg "$IPCRUN" run --kill-timeout 0.2 -- node "$F/keepalive.js" < /dev/null \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
	pid=$!
	wait_for 30 grep -q 'ends it$' "$BATS_TEST_TMPDIR/err"
	kill -TERM "$pid"
	wait_for 10 bash -c '! kill -0 '"$pid"' 2>/dev/null'
	run wait "$pid"
	assert_equal "$status" 143
	child=$(jq -r .pid < "$BATS_TEST_TMPDIR/out")
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "ipcrun: run: 'node' (pid $child) is still running after the end of input, with nothing left to send; if it keeps itself alive (a server, a timer, a 'disconnect' listener), --eof-timeout DUR or --eof close ends it"
}

@test "no hint when --eof-timeout already bounds the wait" {
	run --separate-stderr "$IPCRUN" run --eof-timeout 4 --kill-timeout 0.2 \
	    -- node "$F/keepalive.js" < /dev/null
	assert_success
	[[ "$stderr" != *"still running after the end of input"* ]]
	[[ "$stderr" == *"after --eof-timeout"* ]]
}

@test "a Python program on the node channel sees exactly the input, then EOF" {
	printf '%s\n' '{"a":1}' '"two"' '[3]' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- python3 "$F/pyecho.py" \
	    "$BATS_TEST_TMPDIR/seen" < "$BATS_TEST_TMPDIR/in"
	assert_success
	# Not Node: a half-close ends its input, no guess, nothing to say.
	assert_equal "$stderr" ""
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/in")"
	cmp "$BATS_TEST_TMPDIR/seen" "$BATS_TEST_TMPDIR/in"
}

@test "a slow non-Node program that replies at EOF loses nothing (python-bridge)" {
	# Reads all of its input, works 1.5 s, replies to each line and
	# exits at EOF, as python-bridge's Python side does: the idle rule
	# closed its channel after 0.5 s and 2 of 3 replies were lost.
	cat > "$BATS_TEST_TMPDIR/bridge.py" <<'PY'
import os, time
fd = int(os.environ["NODE_CHANNEL_FD"])
f = os.fdopen(fd, "rb", buffering=0)
lines = f.read().splitlines()
time.sleep(1.5)
for l in lines:
    os.write(fd, b'{"reply":' + l + b'}\n')
PY
	run --separate-stderr "$IPCRUN" run -- python3 "$BATS_TEST_TMPDIR/bridge.py" \
	    < <(printf '1\n2\n3\n')
	assert_success
	assert_equal "$output" $'{"reply":1}\n{"reply":2}\n{"reply":3}'
	assert_equal "$stderr" ""
}

@test "--eof idle:DUR closes a quiet non-Node child's channel" {
	run --separate-stderr "$IPCRUN" run --eof idle:0.1 --trace \
	    -- python3 "$F/pyecho.py" < <(printf '{"a":1}\n')
	assert_success
	assert_line '{"a":1}'
	[[ "$stderr" == *"channel closed (idle)"* ]]
	[[ "$stderr" == *"ipcrun: run: closing the channel of 'python3' (pid "*") after 0.1 s of quiet (idle rule)"* ]]
	[[ "$stderr" != *NODE_IPCRUN_EOF* ]]
}

@test "--eof wait sends no notice and waits for the child to exit" {
	w=$(node_worker 'process.once("message", (m) => setTimeout(() => process.send(m), 300));')
	run --separate-stderr "$IPCRUN" run --eof wait --trace -- node "$w" \
	    < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	[[ "$stderr" != *NODE_IPCRUN* ]]
	[[ "$stderr" == *"channel closed (end of file)"* ]]
}

@test "--eof wait with a listening child ends at --eof-timeout" {
	# The input ends only once the echo is back: the timeout, which
	# starts at the end of input, never races the child's start.
	held_fifo "$IPCRUN" run --eof wait --eof-timeout 0.3 --kill-timeout 5 -- \
	    node "$F/echo.js"
	printf '{"a":1}\n' >&7
	wait_for 20 grep -q a "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	wait "$ipid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"a":1}'
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	assert_equal "$stderr" \
	    "ipcrun: run: closing the channel of 'node' (pid ${stderr##*pid }"
}

@test "--eof close closes the channel at once" {
	run --separate-stderr "$IPCRUN" run --eof close --trace -v \
	    -- node "$F/echo.js" < /dev/null
	assert_success
	[[ "$stderr" == *"channel closed (--eof close)"* ]]
	[[ "$stderr" == *"ipcrun: run: closing the channel of '"*"' (pid "*") at the end of input (--eof close)"* ]]
	[[ "$stderr" != *NODE_IPCRUN_EOF* ]]
}

@test "--no-preload: no announcement, the idle rule ends the run" {
	run --separate-stderr "$IPCRUN" run --no-preload --trace \
	    -- node "$F/echo.js" < <(printf '{"a":1}\n')
	assert_success
	assert_line '{"a":1}'
	[[ "$stderr" == *"channel closed (idle)"* ]]
	[[ "$stderr" != *NODE_IPCRUN* ]]
}

@test "a missing preload is reported and the idle rule is used" {
	IPCRUN_PRELOAD=$BATS_TEST_TMPDIR/none.js run --separate-stderr \
	    "$IPCRUN" run -- node "$F/echo.js" < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: drain preload '$BATS_TEST_TMPDIR/none.js' (using the idle rule): No such file or directory"
	[[ "$stderr" == *"closing the channel of 'node' (pid "*") after 0.5 s of quiet (idle rule)" ]]
}

# --- found in review ---------------------------------------------------------

@test "a slow stdout reader does not make --eof-timeout drop replies" {
	# The input ends only once the child has queued its 3000 replies (its
	# start-up time is not measured); the reader then waits 3 s, longer
	# than --eof-timeout, during which ipcrun's stdout is full.
	w=$(node_worker 'const pad = "x".repeat(1000);
process.on("message", () => {});
for (let i = 0; i < 3000; i++) process.send({ i, pad });
require("fs").writeFileSync(process.argv[2], "");')
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --eof-timeout 1 -- node "$w" "$BATS_TEST_TMPDIR/queued" \
	    < "$BATS_TEST_TMPDIR/in" 2>/dev/null |
	    { sleep 3; wc -l > "$BATS_TEST_TMPDIR/count"; } &
	exec 7> "$BATS_TEST_TMPDIR/in"
	wait_for 30 test -e "$BATS_TEST_TMPDIR/queued"
	exec 7>&-
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR/count")" 3000
}

@test "the preload never kills a child whose channel is already closed" {
	run --separate-stderr "$IPCRUN" run --eof-timeout 0.01 -- node -e 'setTimeout(() => console.error("alive"), 200)' < /dev/null
	assert_success
	[[ "$stderr" == *alive* ]]
	[[ "$stderr" != *EPIPE* && "$stderr" != *ERR_IPC* ]]
}

@test "a Node producer that starts slowly behind a wrapper still gets the drain" {
	# The user's own --require (loaded before the preload) makes Node
	# take 1.5 s to start, longer than the idle rule's 0.5 s, and sh
	# stands between ipcrun and node: the Node process in the child's
	# process group is what tells ipcrun to wait for the announcement.
	printf 'const t = Date.now(); while (Date.now() - t < 1500);\n' > "$BATS_TEST_TMPDIR/slow.js"
	NODE_OPTIONS="--require $BATS_TEST_TMPDIR/slow.js" run --separate-stderr \
	    "$IPCRUN" run -- sh -c 'node "$0" 5; true' "$F/producer.js" < /dev/null
	assert_success
	assert_equal "$(wc -l <<<"$output")" 5
	assert_equal "$stderr" ""
}

@test "no hint for a child that is still reading its input" {
	# Busy for 4 s before it reads anything: the input waits in the
	# socket past the hint's 3 s, which is not the silence the hint is for.
	w=$(node_worker 'const t = Date.now(); while (Date.now() - t < 4000);
process.on("message", () => {});')
	yes '{"payload":"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"}' |
	    head -n 2000 > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$w" < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
}

@test "two Node processes one after the other on the channel each get the notice" {
	# The first one reads all the input and exits on the notice; the
	# second announces itself later and must be told too, or it waits
	# for input for ever.
	run --separate-stderr timeout 30 "$IPCRUN" run -- sh -c 'node "$0"; node "$0"' \
	    "$F/echo.js" < <(printf '{"a":1}\n{"a":2}\n')
	assert_success
	assert_output $'{"a":1}\n{"a":2}'
	assert_equal "$stderr" ""
}

# --- a child that exits right after its last sends (issue 29) --------------

@test "a worker that exits after its last sends loses no more replies than under a Node parent" {
	# 20000 requests, then a terminate message: the child process.exit()s
	# as soon as it reads it. What reaches the parent is what fitted in
	# the channel; the rest died in libuv's queue. The socket's send
	# buffer on the child's end is what ipcrun can make bigger.
	for i in $(seq 0 19999); do printf '{"id":%d}\n' "$i"; done \
	    > "$BATS_TEST_TMPDIR/in"
	echo '{"terminate":true}' >> "$BATS_TEST_TMPDIR/in"
	node "$F/count_parent.js" "$F/exit_after_send.js" \
	    < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/node"
	node_got=$(cat "$BATS_TEST_TMPDIR/node")
	"$IPCRUN" run -- node "$F/exit_after_send.js" \
	    < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out"
	got=$(wc -l < "$BATS_TEST_TMPDIR/out")
	[ "$node_got" -gt 0 ] || fail "the Node parent got nothing"
	[ "$got" -ge "$node_got" ] ||
	    fail "ipcrun got $got replies, a Node parent $node_got"
	# What did arrive arrived whole, each once.
	assert_equal "$(sort -u "$BATS_TEST_TMPDIR/out" | wc -l)" "$got"
}

# --- 'disconnect' at the end of input (issue 29) ----------------------------

@test "a child's 'disconnect' handler runs once its work is done, after its last reply" {
	# As under a Node parent's disconnect(), but only once the child has
	# nothing left to do: its late replies are not cut off. The handler's
	# own work (here 300 ms) still runs.
	w=$(node_worker 'let sent = 0;
process.on("message", (m) => setTimeout(() => { process.send(m); sent++; }, 200));
process.on("disconnect", () => setTimeout(() =>
    console.error("disconnect after", sent, "replies, connected:", process.connected), 300));')
	run --separate-stderr "$IPCRUN" run -- node "$w" < <(printf '1\n2\n')
	assert_success
	assert_output $'1\n2'
	assert_equal "$stderr" "disconnect after 2 replies, connected: false"
}

@test "a child with no 'disconnect' handler still exits by itself after the notice" {
	w=$(node_worker 'process.on("message", (m) => process.send(m));')
	run --separate-stderr "$IPCRUN" run -- node "$w" < <(printf '1\n')
	assert_success
	assert_output 1
	assert_equal "$stderr" ""
}

@test "the child's end of the channel gets a 4 MiB send buffer, shared out among many children" {
	# SO_SNDBUFFORCE passes net.core.wmem_max for root only; the kernel
	# reports twice what was set.
	[ "$(id -u)" -eq 0 ] || skip "needs root to pass net.core.wmem_max"
	py='import json, os, socket
fd = int(os.environ["NODE_CHANNEL_FD"])
s = socket.socket(fileno=fd)
os.write(fd, (json.dumps(s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)) + "\n").encode())
s.detach()'
	run --separate-stderr "$IPCRUN" run --eof wait -- python3 -c "$py" < /dev/null
	assert_success
	assert_output $((2 * 4 * 1024 * 1024))
	# 32 children: 64 MiB between them.
	run --separate-stderr "$IPCRUN" run --raw --eof wait -n 32 -- python3 -c "$py" < /dev/null
	assert_success
	assert_equal "$(sort -u <<<"$output")" $((2 * 2 * 1024 * 1024))
	assert_equal "$(wc -l <<<"$output")" 32
}

@test "a last message sent from 'beforeExit' arrives, whenever the listener was added" {
	# The disconnect at the end waits a turn after 'beforeExit': a
	# listener of the child's, added before or after ipcrun's notice,
	# still sends its summary.
	w=$(node_worker 'let n = 0;
process.once("beforeExit", () => process.send({ early: n }));
process.on("message", () => {
	n++;
	setTimeout(() => process.once("beforeExit", () => process.send({ late: n })), 300);
});
process.on("disconnect", () => console.error("disconnected"));')
	run --separate-stderr "$IPCRUN" run -- node "$w" < <(printf '1\n2\n')
	assert_success
	assert_equal "$(sort <<<"$output")" $'{"early":2}\n{"late":2}\n{"late":2}'
	assert_equal "$stderr" disconnected
}
