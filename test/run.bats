#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the relay with one real child (node wherever Node is
# involved), every end-of-input policy, exit status and bad-input case.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

F=$BATS_TEST_DIRNAME/fixtures

# A Node one-liner worker, for cases too small for a fixture file.
node_worker() {
	printf '%s\n' "$1" > "$BATS_TEST_TMPDIR/w.js"
	echo "$BATS_TEST_TMPDIR/w.js"
}

# relay_bad FORMAT COLUMN REASON: the line FORMAT (printf) between two
# good lines is reported as input line 2 with COLUMN and REASON, never
# reaches the Node child (which would crash on it), and the good lines
# around it make the round trip; the refused line makes the status 1.
relay_bad() {
	printf '{"before":1}\n'"$1"'\n{"after":2}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" $'{"before":1}\n{"after":2}'
	assert_equal "$stderr" "ipcrun: run: -:2:$2: $3"
}

# relay_skip FORMAT: the line is skipped silently; the others arrive.
relay_skip() {
	printf '{"before":1}\n'"$1"'\n{"after":2}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$output" $'{"before":1}\n{"after":2}'
	assert_equal "$stderr" ""
}

# --- round trips -----------------------------------------------------------

@test "README demo: a Node worker becomes an NDJSON filter" {
	run --separate-stderr "$IPCRUN" run -- node "$ROOT/examples/double.js" \
	    < <(printf '{"n":1}\n{"n":2}\n')
	assert_success
	assert_equal "$output" $'{"n":2}\n{"n":4}'
	assert_equal "$stderr" ""
}

@test "echo round trip: objects, JSON scalars, arrays" {
	printf '%s\n' '{"a":1,"b":[true,false,null]}' '"str"' '42' 'null' \
	    'true' '[1,"x"]' '-1.5' '{}' '[]' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/in")"
	assert_equal "$stderr" ""
}

@test "echo round trip: U+2028, 4-byte characters, lone surrogate escapes" {
	printf '%s\n' $'{"s":"a\u2028b\u2029c"}' $'"\U0001F600 \U00010348"' \
	    '"\ud800"' '{"k":"\udc00x\ud83d"}' $'{"\u00e9":"\u00e9"}' \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/in")"
	assert_equal "$stderr" ""
}

@test "an 8 MiB message makes the round trip intact" {
	python3 -c 'import sys; sys.stdout.write("{\"s\":\"" + "ab\u00e9" * ((8 << 20) // 4) + "\"}\n")' \
	    > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$F/echo.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/in")" -gt $((8 << 20)) ]
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "100,000 messages in order, none lost at the end of input" {
	seq 1 100000 > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/in")" ]
}

@test "a last input line without a newline is delivered" {
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < <(printf '{"a":1}\n{"b":2}')
	assert_success
	assert_equal "$output" $'{"a":1}\n{"b":2}'
}

@test "CRLF input lines are accepted" {
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < <(printf '{"a":1}\r\n[2] \r\n')
	assert_success
	assert_equal "$output" $'{"a":1}\n[2]'
	assert_equal "$stderr" ""
}

# --- end of input -----------------------------------------------------------

@test "async worker: a reply 1.5 s after the end of input arrives, exit 0" {
	run --separate-stderr "$IPCRUN" run -- node "$ROOT/examples/slow.js" \
	    < <(printf '{"delay":1500,"i":1}\n{"delay":0,"i":2}\n')
	assert_success
	assert_equal "$output" $'{"delay":0,"i":2}\n{"delay":1500,"i":1}'
	assert_equal "$stderr" ""
}

@test "the fetch example: every reply arrives, in completion order" {
	node "$F/httpd.js" > "$BATS_TEST_TMPDIR/port" &
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
	run --separate-stderr "$IPCRUN" run --eof-timeout 1 --kill-timeout 0.5 \
	    -- node "$F/keepalive.js" < <(printf '{"a":1}\n{"b":2}\n')
	assert_success
	assert_line --index 1 '{"a":1}'
	assert_line --index 2 '{"b":2}'
	pid=$(sed -n '1s/{"pid":\([0-9]*\)}/\1/p' <<<"$output")
	[ -n "$pid" ]
	assert_equal "$stderr" \
"ipcrun: run: closing the channel of 'node' (pid $pid) after --eof-timeout
ipcrun: run: 'node' (pid $pid) is still running; sending SIGTERM"
}

@test "a child still alive after the notice gets a one-time hint naming both ways out" {
	"$IPCRUN" run --kill-timeout 0.2 -- node "$F/keepalive.js" < /dev/null \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
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
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --eof wait --eof-timeout 0.3 --kill-timeout 5 -- \
	    node "$F/echo.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
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

# --- NODE_OPTIONS and the preload --------------------------------------------

@test "NODE_OPTIONS is kept for the child and restored for a grandchild" {
	NODE_OPTIONS='--no-warnings --max-old-space-size=200' run \
	    --separate-stderr "$IPCRUN" run -- node "$F/grandchild.js" \
	    < <(printf '{}\n')
	assert_success
	assert_output '{"self":"--no-warnings --max-old-space-size=200","grandchild":{"opts":"--no-warnings --max-old-space-size=200","ipcrun":[],"preload":false}}'
}

@test "unset NODE_OPTIONS stays unset, empty stays empty" {
	run --separate-stderr env -u NODE_OPTIONS "$IPCRUN" run \
	    -- node "$F/grandchild.js" < <(printf '{}\n')
	assert_success
	assert_output '{"self":null,"grandchild":{"opts":null,"ipcrun":[],"preload":false}}'
	NODE_OPTIONS= run --separate-stderr "$IPCRUN" run \
	    -- node "$F/grandchild.js" < <(printf '{}\n')
	assert_success
	assert_output '{"self":"","grandchild":{"opts":"","ipcrun":[],"preload":false}}'
}

@test "the embedded preload needs no file: a binary copied to a path with a space and quotes" {
	d="$BATS_TEST_TMPDIR/dir with space \"q\" and \\ back"
	mkdir -p "$d"
	cp "$IPCRUN" "$d/ipcrun"
	run --separate-stderr env -u IPCRUN_PRELOAD "$d/ipcrun" run --trace \
	    -- node "$ROOT/examples/slow.js" < <(printf '{"delay":300}\n')
	assert_success
	assert_output '{"delay":300}'
	[[ "$stderr" == *'internal cmd "NODE_IPCRUN_READY"'* ]]
	[[ "$stderr" == *'internal cmd "NODE_IPCRUN_EOF"'* ]]
}

@test "the preload stays quiet in worker threads" {
	run --separate-stderr "$IPCRUN" run --trace -- node "$F/worker.js" \
	    < <(printf '{"a":1}\n')
	assert_success
	assert_line '{"worker":"up"}'
	assert_line '{"a":1}'
	assert_equal "$(grep -c 'internal cmd "NODE_IPCRUN_READY"' <<<"$stderr")" 1
}

@test "inherited NODE_CHANNEL_* values are replaced" {
	w=$(node_worker 'process.send({fd: process.channel.fd, env: Object.keys(process.env).filter((k) => k.startsWith("NODE_CHANNEL"))})')
	NODE_CHANNEL_FD=9 NODE_CHANNEL_SERIALIZATION_MODE=advanced run \
	    --separate-stderr "$IPCRUN" run -- node "$w" < /dev/null
	assert_success
	assert_output '{"fd":3,"env":[]}'
}

@test "--channel-fd puts the channel at another fd" {
	run --separate-stderr "$IPCRUN" run --channel-fd 7 -- sh -c \
	    'echo "{\"fd\":$NODE_CHANNEL_FD,\"mode\":\"$NODE_CHANNEL_SERIALIZATION_MODE\"}" >&7' \
	    < /dev/null
	assert_success
	assert_output '{"fd":7,"mode":"json"}'
}

# --- bad input -------------------------------------------------------------

@test "bad input: invalid JSON is reported with line, column and reason" {
	relay_bad '{bad' 2 "expected a string key, found 'b'"
	relay_bad '[1,]' 4 "expected a value, found ']'"
	relay_bad '{} x' 4 "more than one value, found 'x'"
}

@test "bad input: internal Node messages never reach the child" {
	relay_bad '{"cmd":"NODE_HANDLE_ACK"}' 8 \
	    'internal Node message (cmd "NODE_HANDLE_ACK")'
	relay_bad '{"cmd":"x","cmd":"NODE_HANDLE_ACK"}' 18 \
	    'internal Node message (cmd "NODE_HANDLE_ACK")'
	relay_bad '{"cmd":"\\u004eODE_X"}' 8 'internal Node message (cmd "NODE_X")'
}

@test "bad input: BOM, NUL, form feed and invalid UTF-8" {
	relay_bad '\357\273\277{}' 1 'byte order mark'
	relay_bad '\000' 1 'expected a value, found byte 0x00'
	relay_bad '\f{}' 1 'expected a value, found byte 0x0c'
	relay_bad '"\377"' 2 'invalid UTF-8, found byte 0xff'
}

@test "blank and whitespace-only lines are skipped silently" {
	relay_skip ''
	relay_skip '   '
	relay_skip '\t \r'
}

@test "NODE_ alone and nested cmd members are ordinary messages" {
	run --separate-stderr "$IPCRUN" run -- node "$F/echo.js" \
	    < <(printf '%s\n' '{"cmd":"NODE_"}' '{"a":{"cmd":"NODE_X"}}' '["NODE_X"]')
	assert_success
	assert_equal "$output" $'{"cmd":"NODE_"}\n{"a":{"cmd":"NODE_X"}}\n["NODE_X"]'
	assert_equal "$stderr" ""
}

@test "--max-line rejects an over-long line, the run goes on" {
	run --separate-stderr "$IPCRUN" run --max-line 16 -- node "$F/echo.js" \
	    < <(printf '{"a":1}\n{"long":"0123456789abcdef"}\n{"b":2}\n')
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n{"b":2}'
	assert_equal "$stderr" "ipcrun: run: -:2:17: line too long"
}

@test "--strict: the first bad line is fatal after draining, exit 1" {
	run --separate-stderr "$IPCRUN" run --strict -- node "$ROOT/examples/slow.js" \
	    < <(printf '{"delay":200}\n{bad\n{"never":1}\n')
	assert_failure 1
	assert_output '{"delay":200}'
	assert_equal "$stderr" "ipcrun: run: -:2:2: expected a string key, found 'b'"
}

@test "a child's invalid or internal frames are not forwarded" {
	run --separate-stderr "$IPCRUN" run -- node "$F/badout.js" < /dev/null
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n[2]'
	assert_equal "$stderr" "ipcrun: run: 'node' frame 2:6: unterminated string (not forwarded)"
}

@test "a handle from the child is refused with a NACK, later messages flow" {
	run --separate-stderr "$IPCRUN" run --eof-timeout 5 -- \
	    node "$F/sendhandle.js" < /dev/null
	assert_failure 1
	assert_output '{"after":1,"err":null}'
	assert_equal "$stderr" "ipcrun: run: 'node' sent a handle: not supported, refused"
}

@test "--trace shows every frame with time, direction, size and cmd" {
	run --separate-stderr "$IPCRUN" run --trace -- node "$F/echo.js" \
	    < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	grep -Eq '^ipcrun: run: trace [0-9]+\.[0-9]{6} -> child 8 bytes$' <<<"$stderr"
	grep -Eq '^ipcrun: run: trace [0-9]+\.[0-9]{6} <- child 8 bytes$' <<<"$stderr"
	grep -Eq '^ipcrun: run: trace [0-9.]+ <- child [0-9]+ bytes internal cmd "NODE_IPCRUN_READY"$' <<<"$stderr"
	grep -Eq '^ipcrun: run: trace [0-9.]+ -> child 26 bytes internal cmd "NODE_IPCRUN_EOF"$' <<<"$stderr"
}

# --- stdio channel ------------------------------------------------------------

@test "stdio channel through cat: bytes unchanged" {
	printf '%s\n' '{"a" : 1 }' '1e400' '"\uD800"' '12345678901234567890123' \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio -- cat \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/in")"
	assert_equal "$stderr" ""
}

@test "stdio channel with a python filter, 10,000 lines" {
	seq 1 10000 > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --channel stdio -- python3 -u -c '
import sys, json
for l in sys.stdin:
    print(json.dumps({"got": json.loads(l)}))' < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/out")" 10000
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" '{"got": 10000}'
}

@test "stdio channel: the child's bad lines are reported, a last line without newline kept" {
	run --separate-stderr "$IPCRUN" run --channel stdio -- \
	    printf '{"a":1}\nnot json\n[3]' < /dev/null
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n[3]'
	assert_equal "$stderr" "ipcrun: run: 'printf' frame 2:2: invalid literal, found 'o' (not forwarded)"
}

@test "--no-validate passes anything through a stdio child" {
	run --separate-stderr "$IPCRUN" run --channel stdio --no-validate -- cat \
	    < <(printf '{bad\n\xff\n')
	assert_success
	assert_equal "$output" $'{bad\n\xff'
}

# --- exit status -------------------------------------------------------------

@test "exit status: the child's code" {
	run --separate-stderr "$IPCRUN" run -- node -e 'process.exit(7)' < /dev/null
	assert_failure 7
	run --separate-stderr "$IPCRUN" run --channel stdio -- sh -c 'exit 3' \
	    < /dev/null
	assert_failure 3
}

@test "exit status: 128 + the signal that killed the child" {
	run --separate-stderr "$IPCRUN" run -- node -e 'process.kill(process.pid, "SIGKILL")' \
	    < /dev/null
	assert_failure 137
	run --separate-stderr "$IPCRUN" run --channel stdio -- sh -c 'kill -TERM $$' \
	    < /dev/null
	assert_failure 143
}

@test "exit status 127: command not found" {
	run -127 --separate-stderr "$IPCRUN" run -- ipcrun-no-such-command < /dev/null
	assert_failure 127
	assert_equal "$stderr" "ipcrun: run: 'ipcrun-no-such-command': No such file or directory"
}

@test "exit status 126: found but not executable" {
	printf '#!/bin/sh\n' > "$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr "$IPCRUN" run -- "$BATS_TEST_TMPDIR/noexec" < /dev/null
	assert_failure 126
	assert_equal "$stderr" "ipcrun: run: '$BATS_TEST_TMPDIR/noexec': Permission denied"
}

@test "exit status 125: usage errors" {
	run --separate-stderr "$IPCRUN" run --bogus -- true
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: unknown option '--bogus'
Try 'ipcrun run --help'."
	run --separate-stderr "$IPCRUN" run
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: no command given"
	run --separate-stderr "$IPCRUN" run --eof-timeout
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: option '--eof-timeout' needs a value"
}

@test "exit status 125: bad option values and conflicts" {
	run --separate-stderr "$IPCRUN" run --no-validate -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --no-validate is for --channel stdio only: a Node child crashes on an invalid line"
	run --separate-stderr "$IPCRUN" run --channel stdio --eof wait -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --eof applies to --channel node only"
	run --separate-stderr "$IPCRUN" run --channel pipe -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --channel 'pipe': must be node or stdio"
	run --separate-stderr "$IPCRUN" run --eof idle:soon -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --eof 'idle:soon': not a duration (seconds, or with a unit: 500ms, 2s, 1m)"
	run --separate-stderr "$IPCRUN" run --channel-fd 2 -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --channel-fd '2': too small (3 to 1023)"
	run --separate-stderr "$IPCRUN" run --kill-timeout -1 -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --kill-timeout '-1': not a duration (seconds, or with a unit: 500ms, 2s, 1m)"
	run --separate-stderr "$IPCRUN" run --max-line 0 -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --max-line '0': must be at least 1"
	IPCRUN_JSCAN=bogus run --separate-stderr "$IPCRUN" run -- cat
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: IPCRUN_JSCAN 'bogus': not available on this CPU (use avx512, avx2, sse42, sse2 or scalar)"
}

@test "exit status 141: the reader of stdout went away (| head -1)" {
	yes '{"a":1}' | head -n 200000 > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr bash -c '"$IPCRUN" run -- node "$1" < "$2" | head -n 1;
	    echo "status ${PIPESTATUS[0]}"' _ "$F/echo.js" "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output $'{"a":1}\nstatus 141'
	assert_equal "$stderr" ""
}

@test "exit status 125: a write error on stdout is reported" {
	run --separate-stderr bash -c '"$IPCRUN" run -- node "$1" > /dev/full' \
	    _ "$F/echo.js" < <(printf '{"a":1}\n')
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: write error on stdout: No space left on device"
}

@test "exit status 125: a read error on stdin is reported, the child still drained" {
	run --separate-stderr "$IPCRUN" run -- node "$F/producer.js" 2 < /
	assert_failure 125
	assert_equal "$(grep -c '^{"i":' <<<"$output")" 2
	assert_equal "$stderr" "ipcrun: run: read error on stdin: Is a directory"
}

@test "a child exiting before the input ends: undelivered lines, its status" {
	w=$(node_worker 'process.once("message", (m) => { process.send(m); setImmediate(() => process.exit(3)); })')
	run --separate-stderr bash -c 'yes "{\"a\":1}" | "$IPCRUN" run -- node "$1"' _ "$w"
	assert_failure 3
	assert_line --index 0 '{"a":1}'
	[[ "$stderr" =~ ^"ipcrun: run: 'node' exited before reading all its input: "[0-9]+" input lines not delivered (the rest of the input was not read)"$ ]]
}

# --- process hygiene -----------------------------------------------------------

@test "the child sees only fds 0-2 and its channel" {
	# Lists its open fds (not the one listdir itself used) as JSON.
	lsfd='import os, sys
def is_open(f):
    try:
        os.fstat(f)
        return True
    except OSError:
        return False
fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
os.write(int(sys.argv[1]), (str([f for f in fds if is_open(f)]) + "\n").encode())'
	exec 5</dev/null 8>"$BATS_TEST_TMPDIR/leak"
	run --separate-stderr "$IPCRUN" run -- python3 -c "$lsfd" 3 < /dev/null
	assert_success
	assert_output '[0, 1, 2, 3]'
	run --separate-stderr "$IPCRUN" run --channel-fd 9 -- python3 -c "$lsfd" 9 \
	    < /dev/null
	assert_success
	assert_output '[0, 1, 2, 9]'
	run --separate-stderr "$IPCRUN" run --channel-fd 5 -- python3 -c "$lsfd" 5 \
	    < /dev/null
	assert_success
	assert_output '[0, 1, 2, 5]'
	run --separate-stderr "$IPCRUN" run --channel stdio -- python3 -c "$lsfd" 1 \
	    < /dev/null
	assert_success
	assert_output '[0, 1, 2]'
	exec 5<&- 8>&-
}

@test "a child that ignores SIGTERM after closing its channel gets SIGKILL" {
	run --separate-stderr "$IPCRUN" run --kill-timeout 0.2 -- sh -c \
	    'trap "" TERM; echo "{\"pid\":$$}" >&3; exec 3>&-; while :; do sleep 0.05; done' \
	    < /dev/null
	assert_success
	pid=$(sed -n 's/{"pid":\([0-9]*\)}/\1/p' <<<"$output")
	[ -n "$pid" ]
	assert_equal "$stderr" \
"ipcrun: run: 'sh' (pid $pid) is still running; sending SIGTERM
ipcrun: run: 'sh' (pid $pid) ignored SIGTERM; sending SIGKILL"
}

@test "a descendant holding the channel after the child's exit is not waited for forever" {
	run --separate-stderr "$IPCRUN" run --kill-timeout 0.3 -- sh -c \
	    'sleep 60 & echo "{\"gc\":$!}" >&3; exit 5' < /dev/null
	gc=$(sed -n 's/{"gc":\([0-9]*\)}/\1/p' <<<"$output")
	[ -z "$gc" ] || kill "$gc"
	assert_failure 5
	[ -n "$gc" ]
	[[ "$stderr" == "ipcrun: run: the channel stayed open after 'sh' exited (a descendant may hold it); closing it"$'\n'"ipcrun: run: sending SIGTERM to what is left of the process group of 'sh' ("[0-9]*")" ]]
}

@test "a node child's stdin is /dev/null and its stdout goes to stderr" {
	run --separate-stderr "$IPCRUN" run -- node -e '
console.log("log line");
process.send({ stdin: require("fs").readlinkSync("/proc/self/fd/0") });' < /dev/null
	assert_success
	assert_output '{"stdin":"/dev/null"}'
	assert_equal "$stderr" "log line"
}

@test "the child runs in its own process group with signals reset" {
	w=$(node_worker 'const f = require("fs").readFileSync("/proc/self/status", "utf8");
const st = require("fs").readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
process.send({ pgid: Number(st[2]), pid: process.pid, ppid: process.ppid,
    blk: /SigBlk:\s*(\S+)/.exec(f)[1], ign: /SigIgn:\s*(\S+)/.exec(f)[1] });')
	# ipcrun itself starts with SIGALRM and SIGQUIT ignored, SIGUSR1 blocked.
	run --separate-stderr bash -c 'trap "" ALRM QUIT; exec "$IPCRUN" run -- node "$1"' \
	    _ "$w" < /dev/null
	assert_success
	[[ "$output" =~ \"pgid\":([0-9]+),\"pid\":([0-9]+) ]]
	assert_equal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	[[ "$output" == *'"blk":"0000000000000000"'* ]]
	[[ "$output" =~ \"ign\":\"([0-9a-f]+)\" ]]
	(( (16#${BASH_REMATCH[1]} & 0x2004) == 0 ))
}

@test "signals are forwarded to the child's group exactly once" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	setsid "$IPCRUN" run -- node "$F/signals.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	wait_for 20 grep -q '"pid"' "$BATS_TEST_TMPDIR/out"
	# Ctrl-C reaches the whole foreground group: here, ipcrun's.
	kill -INT -- -"$ipid"
	wait_for 20 grep -q '"sig":"SIGINT"' "$BATS_TEST_TMPDIR/out"
	for s in TERM HUP USR1 USR2; do
		kill -"$s" "$ipid"
		wait_for 20 grep -q "\"sig\":\"SIG$s\"" "$BATS_TEST_TMPDIR/out"
	done
	echo '{"q":1}' >&7
	wait_for 20 grep -q '"seen"' "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	wait "$ipid"
	run grep '"seen"' "$BATS_TEST_TMPDIR/out"
	assert_output '{"seen":{"SIGINT":1,"SIGTERM":1,"SIGHUP":1,"SIGUSR1":1,"SIGUSR2":1}}'
	run grep -c '"sig"' "$BATS_TEST_TMPDIR/out"
	assert_output 5
}

@test "a forwarded SIGTERM that kills the child gives 143" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$F/keepalive.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	wait_for 20 grep -q '"pid"' "$BATS_TEST_TMPDIR/out"
	kill -TERM "$ipid"
	rc=0
	wait "$ipid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 143
}

@test "no orphan after kill -9 of ipcrun" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$F/keepalive.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	wait_for 20 grep -q '"pid"' "$BATS_TEST_TMPDIR/out"
	cpid=$(sed -n 's/{"pid":\([0-9]*\)}/\1/p' "$BATS_TEST_TMPDIR/out")
	kill -0 "$cpid"
	kill -KILL "$ipid"
	gone() { ! kill -0 "$cpid" 2>/dev/null; }
	wait_for 20 gone
	exec 7>&-
}

# --- backpressure and memory ---------------------------------------------------

@test "200 MB of input to a slower child with bounded RSS" {
	line="{\"p\":\"$(head -c 4000 /dev/zero | tr '\0' a)\"}"
	{ yes "$line" | head -n 50000; echo '{"end":true}'; } |
	    "$IPCRUN" run -- node "$F/rss.js" > "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	[[ "$output" =~ ^\{\"count\":50000,\"hwm\":([0-9]+)\}$ ]]
	echo "ipcrun peak RSS: ${BASH_REMATCH[1]} KiB"
	[ "${BASH_REMATCH[1]}" -lt 65536 ]
}

@test "an echoing child never deadlocks on a large input" {
	line="{\"p\":\"$(head -c 1000 /dev/zero | tr '\0' b)\"}"
	yes "$line" | head -n 20000 > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --channel stdio -- cat < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	"$IPCRUN" run -- node "$F/echo.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "lines read in one large burst all go through while input stays open" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$F/echo.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	# Far more than one queue's worth, in one write, then nothing more.
	line="{\"p\":\"$(head -c 90 /dev/zero | tr '\0' c)\"}"
	yes "$line" | head -n 20000 > "$BATS_TEST_TMPDIR/burst"
	cat "$BATS_TEST_TMPDIR/burst" >&7
	all() { [ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 20000 ]; }
	wait_for 30 all
	exec 7>&-
	wait "$ipid"
	cmp "$BATS_TEST_TMPDIR/burst" "$BATS_TEST_TMPDIR/out"
}

@test "a slow trickle is written as soon as each reply is complete" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$F/echo.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	echo '{"n":1}' >&7
	wait_for 20 grep -q '{"n":1}' "$BATS_TEST_TMPDIR/out"
	echo '{"n":2}' >&7
	wait_for 20 grep -q '{"n":2}' "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	wait "$ipid"
}

# --- found in review ---------------------------------------------------------

@test "a slow stdout reader after the child's exit loses nothing" {
	# The child is gone long before the reader takes the first line:
	# the time ipcrun spends waiting on its own stdout is not the
	# child's, and the channel is read to its end.
	yes '{"payload":"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"}' |
	    head -n 60000 > "$BATS_TEST_TMPDIR/in"
	run bash -c '"$IPCRUN" run --channel stdio --kill-timeout 0.2 -- cat "$0" < /dev/null |
	    { sleep 1; wc -l; }' "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output 60000
}

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

@test "stdout shared with the child's stderr (2>&1) stays blocking for the child" {
	run bash -c '"$IPCRUN" run -- python3 -c "
for i in range(20000): print(\"log\", \"z\" * 100)" < /dev/null 2>&1 | { sleep 1; tr -cd z | wc -c; }'
	assert_success
	# ipcrun's own notes may land between two of the child's writes.
	assert_output 2000000
}

@test "what is left of the child's process group is ended with ipcrun" {
	run --separate-stderr "$IPCRUN" run --channel stdio --kill-timeout 0.2 \
	    -- sh -c 'sleep 60 & echo "{\"bg\":$!}"' < /dev/null
	assert_success
	bg=$(jq -r .bg <<<"$output")
	[[ "$stderr" == *"sending SIGTERM to what is left of the process group of 'sh'"* ]]
	wait_for 10 bash -c '! kill -0 '"$bg"' 2>/dev/null'
}

@test "an interrupt ends the wait for the channel after the child's exit" {
	"$IPCRUN" run --channel stdio --kill-timeout 60 \
	    -- sh -c 'sleep 60 & echo "{\"bg\":$!}"' < /dev/null \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for 10 grep -q bg "$BATS_TEST_TMPDIR/out"
	# The child (sh) has exited; its background job holds the channel.
	# (ipcrun keeps it as a zombie until it is done with its group)
	wait_for 10 bash -c '! ps --ppid '"$pid"' -o stat=,comm= | grep -q "^[^Z].* sh$"'
	kill -INT "$pid"
	wait_for 10 bash -c '! kill -0 '"$pid"' 2>/dev/null'
	bg=$(jq -r .bg "$BATS_TEST_TMPDIR/out")
	wait_for 10 bash -c '! kill -0 '"$bg"' 2>/dev/null'
}

@test "a stopped child still ends on a forwarded SIGTERM" {
	"$IPCRUN" run --channel stdio -- sh -c 'echo "{\"pid\":$$}"; kill -STOP $$; echo "{\"resumed\":1}"; sleep 60' \
	    < /dev/null > "$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for 10 grep -q pid "$BATS_TEST_TMPDIR/out"
	child=$(jq -r .pid "$BATS_TEST_TMPDIR/out" | head -n 1)
	wait_for 10 bash -c 'ps -o stat= -p '"$child"' | grep -q T'
	kill -TERM "$pid"
	wait_for 10 bash -c '! kill -0 '"$pid"' 2>/dev/null'
	run wait "$pid"
	assert_equal "$status" 143
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
