#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun attach: an NDJSON-aware nc against socat, a Node net server and a
# node-ipc style server; validation both ways, the half-close, listening,
# the record separator, and every error with its exit status.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	S=$T/app.sock
}

# echo_server: socat echoing every connection to $S.
echo_server() {
	bg socat UNIX-LISTEN:"$S",fork EXEC:cat
	wait_for 20 listening "$S"
}

# node_server MODE: test/fixtures/netserver.js on $S, ready when it says so.
node_server() {
	rm -f "$T/ready"
	bg node "$F/netserver.js" "$S" "$1" "$T/ready"
	wait_for 20 test -s "$T/ready"
}

# FILE's lines but the records -v shows (ipcrun: attach: SECONDS ADDR > ...):
# what is reported.
reports() {
	grep -v -E '^ipcrun: attach: [0-9]+\.[0-9]+ ' "$1" || true
}

@test "attach to a socat echo server: lines go and come back" {
	echo_server
	printf '{"a":1}\n[2,3]\n"x"\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_output $'{"a":1}\n[2,3]\n"x"'
}

@test "-v, --trace and --stats: each record both ways, cut at -s; the counts at the end" {
	echo_server
	printf '{"a":1}\n"\xc3\xa9x"\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach -v --trace --stats -s 4 "unix:$S" <"$T/in"
	assert_success
	assert_output $'{"a":1}\n"\u00e9x"'
	[[ $stderr == *"ipcrun: attach: trace "*" -> unix:$S 8 bytes"* ]]
	[[ $stderr == *" <- unix:$S 6 bytes"* ]]
	[[ $stderr == *"unix:$S > {\"a\"..."* ]]
	[[ $stderr == *"unix:$S < \"\\xc3\\xa9x..."* ]]
	[[ $stderr == *"ipcrun: attach: stats: to unix:$S 2 frames, 14 bytes (0 internal); from it 2 frames, 14 bytes (0 internal)" ]]
	run --separate-stderr "$IPCRUN" attach -s -1 "unix:$S"
	assert_failure 125
	[[ $stderr == "ipcrun: attach: -s '-1': too small"* ]]
}

@test "--trace-file: every record both ways as spy writes them" {
	echo_server
	printf '{"a":1}\n"\xc3\xa9x"\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach --trace-file "$T/trace" "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	run node "$F/trace_lines.js" "$T/trace"
	assert_success
	assert_output $'start attach end\n- peer 6 "\u00e9x"\n- peer 8 {"a":1}\n- stdin 6 "\u00e9x"\n- stdin 8 {"a":1}'
}

@test "a bad input line is reported and never sent; the rest flows" {
	echo_server
	printf '{"a":1}\n{"b":\n\n[1]\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach "$S" <"$T/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: attach: -:2:6: unexpected end of line"
	assert_output $'{"a":1}\n[1]'
}

@test "attach to a Node net server: replies, and the last one after the half-close" {
	node_server ndjson
	printf '{"n":1}\n{"n":2}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_output $'{"echo":{"n":1}}\n{"echo":{"n":2}}\n{"bye":2}'
}

@test "a bad line from the peer is reported with its line number; the rest flows" {
	node_server ndjson
	printf '{"n":1}\n{"bad":true}\n{"n":3}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_failure 1
	assert_equal "$stderr" \
	    "ipcrun: attach: unix:$S:2:11: unterminated string"
	assert_output $'{"echo":{"n":1}}\n{"echo":{"bad":true}}\n{"echo":{"n":3}}\n{"bye":3}'
}

@test "--node refuses internal Node messages both ways" {
	echo_server
	printf '{"cmd":"NODE_HANDLE_ACK"}\n{"cmd":"NODE_"}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach --node "unix:$S" <"$T/in"
	assert_failure 1
	assert_equal "$stderr" \
	    'ipcrun: attach: -:1:8: internal Node message (cmd "NODE_HANDLE_ACK")'
	assert_output '{"cmd":"NODE_"}'
	# Without --node they are ordinary JSON.
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_success
	assert_output "$(cat "$T/in")"
	# From the peer.
	printf '[1]\n{"a":0,"cmd":"\\u004eODE_X1"}\n[3]\n' >"$T/peer"
	bg socat -U UNIX-LISTEN:"$T/p.sock",fork OPEN:"$T/peer"
	wait_for 20 listening "$T/p.sock"
	run --separate-stderr "$IPCRUN" attach --node "$T/p.sock" </dev/null
	assert_failure 1
	assert_output $'[1]\n[3]'
	assert_equal "$stderr" \
	    "ipcrun: attach: $T/p.sock:2:14: internal Node message (cmd \"NODE_X1\")"
}

@test "--rs '\\f' speaks to a node-ipc style server" {
	node_server formfeed
	printf '{"type":"ping","data":1}\n{"type":"ping","data":2}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach --rs '\f' "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(printf '%s\n' \
	    '{"type":"reply","data":{"type":"ping","data":1}}' \
	    '{"type":"reply","data":{"type":"ping","data":2}}' \
	    '{"type":"bye"}')"
}

@test "--rs '\\x1e' sends RFC 7464 json-seq and reads it back" {
	bg socat -u UNIX-LISTEN:"$S",fork OPEN:"$T/wire",creat
	wait_for 20 listening "$S"
	printf '{"a":1}\n2\n' | "$IPCRUN" attach --rs '\x1e' "unix:$S"
	assert_equal "$(od -An -c "$T/wire" | tr -s ' ')" \
	    "$(printf '\036{"a":1}\n\0362\n' | od -An -c | tr -s ' ')"
	# And records the other way: RS before, newline after, newlines
	# inside a record are whitespace.
	printf '\036{"a":\n1}\n\036[2]\n\036{bad}\n' >"$T/seq"
	bg socat -U UNIX-LISTEN:"$T/s2.sock",fork OPEN:"$T/seq"
	wait_for 20 listening "$T/s2.sock"
	run --separate-stderr "$IPCRUN" attach --rs '\x1e' "unix:$T/s2.sock" \
	    </dev/null
	assert_failure 1
	assert_output $'{"a": 1}\n[2]'
	assert_equal "$stderr" \
	    "ipcrun: attach: unix:$T/s2.sock:4:2: expected a string key, found 'b'"
}

@test "-l on port 0 reports the real port and serves one peer" {
	printf '{"from":"attach"}\n' >"$T/in"
	bg "$IPCRUN" attach -lv tcp:127.0.0.1:0 <"$T/in" >"$T/out" 2>"$T/err"
	pid=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	run cat "$T/err"
	assert_output --regexp '^ipcrun: attach: listening on tcp:127\.0\.0\.1:[1-9][0-9]*$'
	port=${output##*:}
	run socat - TCP:127.0.0.1:"$port" <<<'{"from":"peer"}'
	assert_success
	assert_output '{"from":"attach"}'
	wait "$pid"
	assert_equal "$(cat "$T/out")" '{"from":"peer"}'
}

@test "-l says nothing unless -v asks, as nc -l" {
	bg "$IPCRUN" attach -l "unix:$S" <<<'{"from":"attach"}' >"$T/out" \
	    2>"$T/err"
	pid=$!
	wait_for 20 test -S "$S"
	run socat - UNIX-CONNECT:"$S" <<<'{"from":"peer"}'
	assert_success
	assert_output '{"from":"attach"}'
	wait "$pid"
	assert_equal "$(cat "$T/out")" '{"from":"peer"}'
	assert_equal "$(cat "$T/err")" ""
}

@test "-l on a unix path: a stale socket is replaced, a live one refused" {
	python3 "$F/fdtool.py" stale "$S"
	bg "$IPCRUN" attach -lv "unix:$S" </dev/null >"$T/out" 2>"$T/err"
	pid=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	assert_equal "$(cat "$T/err")" "ipcrun: attach: listening on unix:$S"
	assert_equal "$(stat -c %a "$S")" 600
	run socat - UNIX-CONNECT:"$S" <<<'[1]'
	assert_success
	wait "$pid"
	assert_equal "$(cat "$T/out")" '[1]'
	# Removed once used.
	[ ! -e "$S" ]

	# A live socket is refused and stays.
	echo_server
	run -125 --separate-stderr "$IPCRUN" attach -l "unix:$S" </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: unix:$S: a live socket is listening there"
	[ -S "$S" ]
}

@test "-l fd:N accepts on an inherited listening socket" {
	bg python3 "$F/fdtool.py" withlisten "$S" 3 -- "$IPCRUN" attach -lv fd:3 \
	    <<<'"hi"' >"$T/out" 2>"$T/err"
	pid=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	assert_equal "$(cat "$T/err")" "ipcrun: attach: listening on unix:$S"
	run socat - UNIX-CONNECT:"$S" <<<'[7]'
	assert_output '"hi"'
	wait "$pid"
	assert_equal "$(cat "$T/out")" '[7]'
}

@test "-l -k serves peers one at a time" {
	printf '"hello"\n' >"$T/in"
	bg "$IPCRUN" attach -lk --mode 0660 "unix:$S" <"$T/in" >"$T/out" \
	    2>"$T/err"
	pid=$!
	wait_for 20 test -S "$S"
	assert_equal "$(stat -c %a "$S")" 660
	run socat - UNIX-CONNECT:"$S" <<<'{"peer":1}'
	assert_output '"hello"'
	run socat - UNIX-CONNECT:"$S" <<<'{"peer":2}'
	assert_output ''
	wait_for 20 grep -q 'peer":2' "$T/out"
	assert_equal "$(cat "$T/out")" $'{"peer":1}\n{"peer":2}'
	kill "$pid"
	wait "$pid" || true
	# Removed on SIGTERM.
	[ ! -e "$S" ]
}

@test "-l on an abstract address refuses a peer of another uid and serves its own" {
	need_other_uid
	local name="ipcrun-test-$$-$RANDOM"
	printf '"for us"\n' >"$T/in"
	"$IPCRUN" attach -lv "unix:@$name" <"$T/in" >"$T/out" 2>"$T/err" &
	BG_PIDS=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	# socat may or may not see the close as a broken pipe: only that it
	# got nothing matters.
	run --separate-stderr as_nobody socat - ABSTRACT-CONNECT:"$name" <<<'{"from":"nobody"}'
	assert_output ''
	wait_for 20 grep -q refused "$T/err"
	run cat "$T/err"
	assert_line --index 0 "ipcrun: attach: listening on unix:@$name"
	assert_line --index 1 --regexp "^ipcrun: attach: unix:@$name: refused a peer of uid 65534 \(pid [0-9]+\); --allow-uid 65534 would admit it\$"
	kill -0 "$BG_PIDS"
	run socat - ABSTRACT-CONNECT:"$name" <<<'{"from":"us"}'
	assert_success
	assert_output '"for us"'
	wait "$BG_PIDS"
	assert_equal "$(cat "$T/out")" '{"from":"us"}'
}

@test "-l --allow-uid admits a peer of that uid" {
	need_other_uid
	local name="ipcrun-test-$$-$RANDOM"
	printf '"for nobody"\n' >"$T/in"
	"$IPCRUN" attach -lv --allow-uid 65534 "unix:@$name" <"$T/in" >"$T/out" 2>"$T/err" &
	BG_PIDS=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	run as_nobody socat - ABSTRACT-CONNECT:"$name" <<<'{"from":"nobody"}'
	assert_success
	assert_output '"for nobody"'
	wait "$BG_PIDS"
	assert_equal "$(cat "$T/out")" '{"from":"nobody"}'
	assert_equal "$(reports "$T/err")" "ipcrun: attach: listening on unix:@$name"
}

@test "--allow-uid: needs -l, not on TCP, a uid or a user name" {
	run -125 --separate-stderr "$IPCRUN" attach --allow-uid 65534 "unix:$S"
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: --allow-uid needs -l"
	run -125 --separate-stderr "$IPCRUN" attach -l --allow-uid 65534 tcp:127.0.0.1:0
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: --allow-uid is for unix sockets: a TCP peer has no uid"
	run -125 --separate-stderr "$IPCRUN" attach -l --allow-uid no-such-user-ipcrun "unix:$S"
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: --allow-uid 'no-such-user-ipcrun': not a uid or a user name"
}

@test "--idle-timeout ends the wait for a peer that never closes" {
	node_server silent
	run --separate-stderr "$IPCRUN" attach --idle-timeout 0.2 "unix:$S" \
	    <<<'{"a":1}'
	assert_failure 1
	assert_equal "$stderr" "ipcrun: attach: unix:$S: the peer sent nothing for 0.200 s after the end of input (--idle-timeout); closing"
}

@test "--idle-timeout takes a unit, and options may follow ADDR" {
	node_server silent
	run --separate-stderr "$IPCRUN" attach "unix:$S" --idle-timeout 150ms \
	    <<<'{"a":1}'
	assert_failure 1
	assert_equal "$stderr" "ipcrun: attach: unix:$S: the peer sent nothing for 0.150 s after the end of input (--idle-timeout); closing"
}

@test "a peer that goes away before the end of input is an error" {
	node_server drop
	# The test holds the fifo open: the input never ends.
	endless_fifo
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/fifo"
	exec 7<&-
	assert_failure 1
	assert_equal "$stderr" "ipcrun: attach: unix:$S: the peer closed the connection before the end of input"
}

@test "a peer that closes after the last line, before its end, is fine" {
	node_server last
	printf '{"n":1}\n{"last":true}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_output $'{"echo":{"n":1}}\n{"echo":{"last":true}}'
}

@test "a peer that goes away with lines still to send is an error" {
	node_server last
	# Far more than attach and the socket buffer between them hold: lines
	# are still unsent when the peer goes.
	line="{\"p\":\"$(head -c 1000 /dev/zero | tr '\0' a)\"}"
	{ printf '{"last":true}\n'; yes "$line" | head -n 8000; } >"$T/in"
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_failure 1
	assert_output --partial '{"echo":{"last":true}}'
	assert_equal "$stderr" "ipcrun: attach: unix:$S: the peer closed the connection before the end of input"
}

@test "attach fd:N uses an inherited connected socket" {
	echo_server
	run --separate-stderr python3 "$F/fdtool.py" withconn "$S" 3 -- \
	    "$IPCRUN" attach fd:3 <<<'{"via":"fd"}'
	assert_success
	assert_output '{"via":"fd"}'
}

@test "a descriptor sent by the peer is closed, with a warning" {
	bg "$IPCRUN" send-fd -l "unix:$S" 0 </dev/null
	pid=$!
	wait_for 20 test -S "$S"
	run --separate-stderr "$IPCRUN" attach "unix:$S" </dev/null
	wait "$pid"
	assert_failure 1
	assert_output '{"fds":1}'
	assert_line --index 0 '{"fds":1}'
	assert_equal "$stderr" "ipcrun: attach: unix:$S: the peer sent a descriptor; it was closed
ipcrun: attach: unix:$S:2:1: expected a value, found byte 0x00"
}

@test "no peer: exit 1" {
	run -1 --separate-stderr "$IPCRUN" attach "unix:$T/none.sock" </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: unix:$T/none.sock: connect: No such file or directory"
	run -1 --separate-stderr "$IPCRUN" attach tcp:127.0.0.1:1 </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: tcp:127.0.0.1:1: connect: Connection refused"
}

@test "usage and set-up errors exit 125" {
	run -125 --separate-stderr "$IPCRUN" attach
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: no address given"
	run -125 --separate-stderr "$IPCRUN" attach "$S" extra
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: unexpected operand 'extra'"
	run -125 --separate-stderr "$IPCRUN" attach -k "$S"
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: -k needs -l"
	run -125 --separate-stderr "$IPCRUN" attach --mode 600 "$S"
	assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: --mode needs -l"
	for rs in '\t' '\r' 'a' '' '\x20' '\x1ee' '\q' ' '; do
		run -125 --separate-stderr "$IPCRUN" attach --rs "$rs" "$S"
		assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: --rs '$rs': not one control character other than tab and CR, such as '\\n', '\\f' or '\\x1e'"
	done
	for t in -1 x 1e999 '' 2h 1.5.s; do
		run -125 --separate-stderr "$IPCRUN" attach --idle-timeout "$t" "$S"
		assert_equal "${stderr%%$'\n'*}" \
		    "ipcrun: attach: --idle-timeout '$t': not a duration (seconds, or with a unit: 500ms, 2s, 1m)"
	done
	for t in 0 0ms 0.0s; do
		run -125 --separate-stderr "$IPCRUN" attach --idle-timeout "$t" "$S"
		assert_equal "${stderr%%$'\n'*}" \
		    "ipcrun: attach: --idle-timeout '$t': must be above 0"
	done
	run -125 --separate-stderr "$IPCRUN" attach --idle-timeout 2000000 "$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: attach: --idle-timeout '2000000': too large (at most 1000000 seconds)"
	run -125 --separate-stderr "$IPCRUN" attach -l "$T/no/dir/s.sock"
	assert_equal "$stderr" \
	    "ipcrun: attach: $T/no/dir/s.sock: bind: No such file or directory"
	long=/$(printf 'a%.0s' {1..99})
	run -125 --separate-stderr "$IPCRUN" attach -l "unix:$long"
	assert_equal "$stderr" "ipcrun: attach: unix:$long: socket path is too long to listen on (100 bytes, at most 95)"
	printf 'x\n' >"$T/file"
	run -125 --separate-stderr "$IPCRUN" attach -l "$T/file"
	assert_equal "$stderr" \
	    "ipcrun: attach: $T/file: exists and is not a socket"
	run -125 --separate-stderr python3 "$F/fdtool.py" withlisten \
	    "$T/l.sock" 3 -- "$IPCRUN" attach fd:3 </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: fd:3: descriptor is a listening socket"
	echo_server
	run -125 --separate-stderr python3 "$F/fdtool.py" withconn "$S" 3 -- \
	    "$IPCRUN" attach -l fd:3 </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: fd:3: descriptor is not a listening socket"
	run -125 --separate-stderr "$IPCRUN" attach fd:0 </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: fd:0: descriptor: Socket operation on non-socket"
}

@test "the reader of stdout going away ends attach with 141" {
	echo_server
	# seq, not a loop of 20,000 printf: bats traces every command a test runs.
	seq 20000 | sed 's/.*/{"n":&}/' >"$T/in"
	run bash -c '"$1" attach "unix:$2" <"$3" | head -1
	    echo "status ${PIPESTATUS[0]}"' _ "$IPCRUN" "$S" "$T/in"
	assert_output $'{"n":1}\nstatus 141'
}

@test "50 MB through an echo server: byte for byte, with bounded RSS" {
	echo_server
	line="{\"p\":\"$(head -c 4000 /dev/zero | tr '\0' a)\"}"
	yes "$line" | head -n 12500 >"$T/in"
	peak_rss_kb "$IPCRUN" attach "unix:$S" <"$T/in" >"$T/out"
	cmp "$T/in" "$T/out"
	echo "attach peak RSS: $RSS_KB KiB"
	[ "$RSS_KB" -lt 32768 ]
}

# hello_server: socat on $S that greets each peer with {"hello":1} and
# keeps what the peer sends in $T/wire until the peer's end of input.
hello_server() {
	cat >"$T/hello" <<'SH'
#!/bin/sh
echo '{"hello":1}'
exec cat >>"$1"
SH
	chmod +x "$T/hello"
	bg socat UNIX-LISTEN:"$S",fork EXEC:"$T/hello $T/wire"
	wait_for 20 listening "$S"
	: >"$T/wire"
}

@test "a closed stdin is an empty input: nothing goes back to the peer" {
	hello_server
	# Closed in a shell of its own: bats' run would put the pipe it
	# reads the output from on a closed fd 0. A deadline: the peer's
	# lines used to go back to it for ever.
	run --separate-stderr timeout 60 bash -c 'exec <&-; exec "$0" attach "unix:$1"' \
	    "$IPCRUN" "$S"
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"hello":1}'
	assert_equal "$(cat "$T/wire")" ""
}

@test "a closed stdout is a write error, 125, and nothing goes back to the peer" {
	hello_server
	run -125 --separate-stderr bash -c 'exec >&-; exec "$0" attach "unix:$1"' \
	    "$IPCRUN" "$S"
	assert_equal "$stderr" "ipcrun: attach: write error on stdout: Bad file descriptor"
	assert_equal "$(cat "$T/wire")" ""
}

@test "a non-blocking stdout whose reader is slow is waited on" {
	echo_server
	line="{\"p\":\"$(head -c 1000 /dev/zero | tr '\0' a)\"}"
	yes "$line" | head -n 1000 >"$T/in"
	# The pipe is O_NONBLOCK and nobody reads it until it is full: a
	# write must then wait for room, not fail with EAGAIN.
	run --separate-stderr python3 - "$IPCRUN" "unix:$S" "$T/in" "$T/out" <<'PY'
import fcntl, os, select, subprocess, sys, termios, array, time
ipcrun, addr, inp, out = sys.argv[1:5]
r, w = os.pipe()
os.set_blocking(w, False)
size = fcntl.fcntl(r, 1032)	# F_GETPIPE_SZ
with open(inp, 'rb') as f:
    p = subprocess.Popen([ipcrun, 'attach', addr], stdin=f, stdout=w)
os.close(w)
deadline = time.monotonic() + 60
n = array.array('i', [0])
while p.poll() is None and time.monotonic() < deadline:
    fcntl.ioctl(r, termios.FIONREAD, n)
    if n[0] >= size:
        break
    time.sleep(0.02)
with open(out, 'wb') as f:
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        f.write(b)
sys.exit(p.wait())
PY
	assert_success
	assert_equal "$stderr" ""
	cmp "$T/in" "$T/out"
}

@test "-l -k: a line cut short by one peer is reported, and the next peer starts on a line boundary" {
	# The first line is far larger than the socket holds, and the first
	# peer reads a few bytes of it and closes: it is cut short for sure.
	{ printf '{"big":"%s"}\n' "$(head -c 4000000 /dev/zero | tr '\0' a)"
	  printf '{"n":2}\n{"n":3}\n'; } >"$T/in"
	bg "$IPCRUN" attach -lkv "unix:$S" <"$T/in" >"$T/out" 2>"$T/err"
	pid=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	python3 - "$S" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.recv(10)
s.close()
PY
	# The second peer reads everything until attach's end of input.
	run python3 - "$S" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
b = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    b += d
sys.stdout.write(b.decode()[:200])
PY
	assert_success
	assert_output $'{"n":2}\n{"n":3}'
	kill "$pid"
	wait "$pid" || true
	run reports "$T/err"
	assert_line --index 1 "ipcrun: attach: unix:$S: the peer closed the connection before the end of input"
	assert_line --index 2 "ipcrun: attach: unix:$S: input line 1 was cut short by the peer's close: the rest of it was not sent (lost)"
	assert_equal "${#lines[@]}" 3
}

@test "--rs '\\f' waits for a node-ipc server's replies, which come after the end of input" {
	node_server nodeipc
	printf '{"type":"ping","data":1}\n{"type":"ping","data":2}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach --rs '\f' "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(printf '%s\n' \
	    '{"type":"reply","data":{"type":"ping","data":1}}' \
	    '{"type":"reply","data":{"type":"ping","data":2}}')"
	# -q 0: the half-close at once, and the replies are lost (as without
	# --rs '\f', where attach is nc -N).
	run --separate-stderr "$IPCRUN" attach --rs '\f' -q 0 "unix:$S" <"$T/in"
	assert_success
	assert_output ""
}

@test "-q DUR keeps the connection open after the end of input until the replies came" {
	node_server late
	printf '{"n":1}\n{"n":2}\n' >"$T/in"
	# The wait ends when every line has had a record back, not after DUR.
	run --separate-stderr timeout 60 "$IPCRUN" attach -q 100 "unix:$S" <"$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_output $'{"echo":{"n":1}}\n{"echo":{"n":2}}'
	run --separate-stderr timeout 60 "$IPCRUN" attach "unix:$S" --quit-after 1m <"$T/in"
	assert_success
	assert_output $'{"echo":{"n":1}}\n{"echo":{"n":2}}'
	# Without -q the peer closes on the half-close, before it replies.
	run --separate-stderr "$IPCRUN" attach "unix:$S" <"$T/in"
	assert_success
	assert_output ""
}

@test "lines still unanswered when -q runs out are counted in a warning" {
	node_server mute
	printf '{"n":1}\n{"n":2}\n' >"$T/in"
	run --separate-stderr "$IPCRUN" attach --rs '\f' -q 0.2 "unix:$S" <"$T/in"
	assert_success
	assert_output ""
	assert_equal "$stderr" "ipcrun: attach: unix:$S: 2 lines sent, 0 records back when -q's 0.200 s ran out; half-closing"
}

@test "-q: a duration, 0 or more" {
	for t in -1 x 1e999 '' 2h; do
		run -125 --separate-stderr "$IPCRUN" attach -q "$t" "$S"
		assert_equal "${stderr%%$'\n'*}" \
		    "ipcrun: attach: -q '$t': not a duration (seconds, or with a unit: 500ms, 2s, 1m)"
	done
	run -125 --separate-stderr "$IPCRUN" attach --quit-after 2000000 "$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: attach: -q '2000000': too large (at most 1000000 seconds)"
}

# leaves_first ADDR: attach -l on ADDR with an input that is not over
# when its client sends a line and closes; then one more line and the
# end of input. Prints attach's status.
leaves_first() {
	endless_fifo
	"$IPCRUN" attach -lv "$1" <"$T/fifo" >"$T/out" 2>"$T/err" 7<&- &
	local pid=$!
	BG_PIDS="$BG_PIDS $pid"
	wait_for 20 grep -q 'listening on' "$T/err"
	local a
	a=$(sed -n 's/^ipcrun: attach: listening on //p' "$T/err")
	python3 - "$a" <<'PY'
import socket, sys
a = sys.argv[1]
if a.startswith('tcp:'):
    host, port = a[4:].rsplit(':', 1)
    s = socket.create_connection((host, int(port)))
else:
    s = socket.socket(socket.AF_UNIX)
    s.connect(a[5:])
s.sendall(b'{"from":"client"}\n')
s.close()
PY
	wait_for 20 grep -q client "$T/out"
	printf '{"late":1}\n' >&7
	exec 7<&-
	local rc=0
	wait "$pid" || rc=$?
	echo "$rc"
}

@test "a listening attach whose client leaves first: exit 1, over unix and tcp alike" {
	run leaves_first "unix:$S"
	assert_output 1
	assert_equal "$(cat "$T/out")" '{"from":"client"}'
	assert_equal "$(reports "$T/err" | sed -n 2p)" "ipcrun: attach: unix:$S: the peer closed the connection before the end of input"
	rm -f "$T/fifo"
	run leaves_first tcp:127.0.0.1:0
	assert_output 1
	assert_equal "$(cat "$T/out")" '{"from":"client"}'
	assert_equal "$(reports "$T/err" | sed -n 2p)" "ipcrun: attach: tcp:127.0.0.1:0: the peer closed the connection before the end of input"
}

@test "-w connects to a listener that starts after it" {
	bg "$IPCRUN" attach -w 30s "unix:$S" <<<'{"q":1}' >"$T/out" 2>"$T/err"
	pid=$!
	# It has tried and waits to try again (clock_nanosleep, 230 on
	# x86-64) before anybody listens.
	wait_for 20 grep -q '^230 ' "/proc/$pid/syscall"
	run --separate-stderr "$IPCRUN" attach -l "unix:$S" <<<'{"r":2}'
	assert_success
	assert_output '{"q":1}'
	wait "$pid"
	assert_equal "$(cat "$T/out")" '{"r":2}'
	assert_equal "$(cat "$T/err")" ""
	run -1 --separate-stderr "$IPCRUN" attach -w 0.2s "unix:$T/none.sock"
	assert_equal "$stderr" "ipcrun: attach: unix:$T/none.sock: connect: \
No such file or directory (still, after -w 0.200 s)"
}

@test "-l --ready-fd writes the real address once listening" {
	bg sh -c 'exec "$@" 9>"$0"' "$T/ready" "$IPCRUN" attach -l --ready-fd 9 \
	    tcp:127.0.0.1:0 <<<'{"from":"attach"}' >"$T/out" 2>"$T/err"
	pid=$!
	wait_for 20 grep -q . "$T/ready"
	run cat "$T/ready"
	assert_output --regexp '^tcp:127\.0\.0\.1:[1-9][0-9]*$'
	run "$IPCRUN" attach "$output" <<<'{"from":"peer"}'
	assert_success
	assert_output '{"from":"attach"}'
	wait "$pid"
	assert_equal "$(cat "$T/out")" '{"from":"peer"}'
	run -125 --separate-stderr "$IPCRUN" attach --ready-fd 9 "unix:$S" \
	    9>/dev/null
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: attach: --ready-fd is for listening: it needs -l"
	run -125 --separate-stderr "$IPCRUN" attach -l -w 1s "unix:$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: attach: -w is for connecting: not with -l"
}

@test "a second attach -l's liveness probe does not end the first one's wait" {
	bg "$IPCRUN" attach -lv "unix:$S" <<<'"one"' >"$T/out" 2>"$T/err"
	pid=$!
	wait_for 20 grep -q 'listening on' "$T/err"
	run -125 --separate-stderr timeout 20 "$IPCRUN" attach -l "unix:$S" \
	    </dev/null
	assert_equal "$stderr" \
	    "ipcrun: attach: unix:$S: a live socket is listening there"
	run "$IPCRUN" attach "unix:$S" <<<'"two"'
	assert_success
	assert_output '"one"'
	wait "$pid"
	assert_equal "$(cat "$T/out")" '"two"'
}
