#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The control socket of run and serve, and ipcrun ctl: where it is and who
# may use it (0600 in a 0700 directory of ours, SO_PEERCRED), stale and
# live sockets, removal on every exit, the protocol (ps, send, signal,
# restart, stop, tap, events, stats) with malformed requests, and taps
# that lag. Real Node children, real unix sockets in the test's own
# runtime directory.

load helper

setup() {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
	SOCK=$XDG_RUNTIME_DIR/ipcrun/pool.sock
}

# pool N [ARGS]: ipcrun run -n N --name pool ARGS -- node echo.js, its
# input the held fifo (fd 7), out/err in the test's dir; waits until
# ctl answers.
pool() {
	local n=$1
	shift
	held_fifo "$IPCRUN" run -n "$n" --name pool "$@" -- node "$F/echo.js"
	wait_for 20 "$IPCRUN" ctl pool info
}

# pids: the children's pids from ctl pool ps.
pids() {
	"$IPCRUN" ctl pool ps | sed 's/.*"pid":\([0-9]*\).*/\1/'
}

# up N: ps says N children are up.
up() {
	[ "$("$IPCRUN" ctl pool ps | grep -c '"state":"up"')" = "$1" ]
}

@test "ctl pool ps lists the real pids of 3 children; the socket is 0600 in a 0700 directory" {
	pool 3
	run pids
	assert_success
	[ "${#lines[@]}" = 3 ]
	for p in "${lines[@]}"; do
		[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$ipid" ]
	done
	[ "$(stat -c %a "$SOCK")" = 600 ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/ipcrun")" = 700 ]
	run "$IPCRUN" ctl
	assert_success
	assert_output --partial '"name":"pool"'
	assert_output --partial "\"pid\":$ipid"
	assert_output --partial '"children":3'
	exec 7>&-
	wait "$ipid"
}

@test "ctl: send reaches the named child and its reply comes out on run's stdout" {
	pool 3
	run "$IPCRUN" ctl pool send pool.2 '{"debug":true}'
	assert_success
	assert_output --partial '"to":"pool.2"'
	wait_for 20 grep -q '"from":"pool.2".*"msg":{"debug":true}' "$BATS_TEST_TMPDIR/out"
	# ps counts its messages and bytes both ways (out: its reply, after
	# the preload's own announcement).
	run "$IPCRUN" ctl pool ps
	assert_output --regexp '"name":"pool.2",.*"in":1,"in_bytes":15,"out":1,"out_bytes":(1[6-9]|[2-9][0-9]),'
	assert_output --regexp '"name":"pool.1",.*"in":0,"in_bytes":0,"out":0,'
	run "$IPCRUN" ctl pool send pool.9 '{}'
	[ "$status" = 1 ]
	assert_output --partial 'no child named "pool.9"'
	run "$IPCRUN" ctl pool send pool.1 '{"bad"'
	[ "$status" = 125 ]
	assert_output --partial 'invalid JSON'
	run "$IPCRUN" ctl pool send pool.1 '{"cmd":"NODE_HANDLE"}'
	[ "$status" = 1 ]
	assert_output --partial "Node's own message"
	exec 7>&-
	wait "$ipid"
}

# slow_worker: a Node worker that answers its messages one after the
# other, 2 ms apart: at any time it holds lines read and not answered.
slow_worker() {
	node_worker 'let q = [], busy = false;
function next() {
	if (q.length === 0) { busy = false; return; }
	busy = true;
	const m = q.shift();
	setTimeout(() => { process.send(m); next(); }, 2);
}
process.on("message", (m) => { q.push(m); if (!busy) next(); });'
}

# once KEY N: every "KEY":1..N is in out exactly once.
once() {
	[ "$(grep -c "\"$1\":" "$BATS_TEST_TMPDIR/out")" = "$2" ] &&
	[ "$(grep -o "\"$1\":[0-9]*" "$BATS_TEST_TMPDIR/out" | sort -u | wc -l)" = "$2" ]
}

@test "ctl: restart gives a new pid, and no line is lost" {
	w=$(slow_worker)
	# A grace far longer than the wait below: only the child ending by
	# itself after the notice lets the restart finish in time.
	held_fifo "$IPCRUN" run -n 2 --name pool --restart no --kill-timeout 120s \
	    -- node "$w"
	wait_for 20 "$IPCRUN" ctl pool info
	old=$(pids | head -n 1)
	lines 2000 >&7
	# pool.1 answers, and holds hundreds of lines read and not answered.
	wait_for 20 grep -q '"from":"pool.1"' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool restart pool.1
	assert_success
	assert_output --partial '"restarting":["pool.1"]'
	wait_for 30 sh -c "\"$IPCRUN\" ctl pool ps | grep '\"name\":\"pool.1\"' | grep -q '\"restarts\":1,'"
	wait_for 20 up 2
	new=$(pids | head -n 1)
	[ "$new" != "$old" ]
	lines 2000 | sed 's/i/j/' >&7
	exec 7>&-
	wait "$ipid"
	once i 2000
	once j 2000
	refute grep -q 'SIGTERM' "$BATS_TEST_TMPDIR/err"
}

@test "ctl: restart of the only child: the lines meanwhile wait for the next one" {
	w=$(slow_worker)
	held_fifo "$IPCRUN" run --name pool --kill-timeout 120s -- node "$w"
	wait_for 20 "$IPCRUN" ctl pool info
	lines 500 >&7
	wait_for 20 grep -q '"i":1}' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool restart pool
	assert_success
	lines 500 | sed 's/i/j/' >&7
	wait_for 30 sh -c "\"$IPCRUN\" ctl pool ps | grep -q '\"restarts\":1,'"
	exec 7>&-
	wait "$ipid"
	once i 500
	once j 500
	# A stdio child: the end of file after what it was sent, then again.
	rm -f "$BATS_TEST_TMPDIR/fifo"
	held_fifo "$IPCRUN" run --name pool --channel stdio --kill-timeout 120s -- cat
	wait_for 20 "$IPCRUN" ctl pool info
	lines 300 >&7
	wait_for 20 grep -q '"i":1}' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool restart pool
	assert_success
	lines 300 | sed 's/i/j/' >&7
	wait_for 30 sh -c "\"$IPCRUN\" ctl pool ps | grep -q '\"restarts\":1,'"
	exec 7>&-
	wait "$ipid"
	once i 300
	once j 300
}

@test "ctl: a restart after the child's end of input is refused; --rolling is for all" {
	held_fifo "$IPCRUN" run --name pool --eof wait -- node "$F/echo.js"
	wait_for 20 "$IPCRUN" ctl pool info
	run "$IPCRUN" ctl pool restart pool --rolling
	[ "$status" = 1 ]
	assert_output --partial 'restart --rolling: only with all'
	echo '{"a":1}' >&7
	exec 7>&-
	wait_for 20 grep -q '"a":1' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool restart pool
	[ "$status" = 1 ]
	assert_output --partial 'child "pool" has had its end of input: not restarted'
	run "$IPCRUN" ctl pool stop pool
	assert_success
	wait "$ipid" || true
}

@test "ctl: restart all --rolling restarts one child at a time" {
	pool 3
	run "$IPCRUN" ctl pool restart all --rolling
	assert_success
	wait_for 30 sh -c "[ \$(\"$IPCRUN\" ctl pool ps | grep -c '\"restarts\":1,') = 3 ]"
	wait_for 20 up 3
	exec 7>&-
	wait "$ipid"
}

@test "ctl: scale down and up again, no line lost; start brings a stopped child back" {
	w=$(slow_worker)
	held_fifo "$IPCRUN" run -n 3 --name pool --kill-timeout 120s -- node "$w"
	wait_for 20 "$IPCRUN" ctl pool info
	lines 1500 >&7
	# Every child holds lines read and not answered when two of them end.
	wait_for 20 grep -q '"from":"pool.3"' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool scale 1
	assert_success
	assert_output --partial '"scale":1,"children":["pool.1"]'
	wait_for 30 sh -c "[ \$(\"$IPCRUN\" ctl pool ps | grep -c '\"state\":\"done\"') = 2 ]"
	up 1
	run "$IPCRUN" ctl pool scale 3
	assert_success
	wait_for 20 up 3
	run "$IPCRUN" ctl pool scale 4
	[ "$status" = 1 ]
	assert_output --partial 'from 1 to the number of children the run started with'
	run "$IPCRUN" ctl pool stop pool.2
	assert_success
	wait_for 20 sh -c "\"$IPCRUN\" ctl pool ps | grep '\"name\":\"pool.2\"' | grep -q '\"state\":\"done\"'"
	run "$IPCRUN" ctl pool start pool.2
	assert_success
	assert_output --partial '"starting":["pool.2"]'
	wait_for 20 up 3
	run "$IPCRUN" ctl pool start pool.2
	[ "$status" = 1 ]
	assert_output --partial 'child "pool.2" is running'
	lines 1500 | sed 's/i/j/' >&7
	wait_for 60 once j 1500
	# Children ended by scale or stopped do not fail the run.
	exec 7>&-
	wait "$ipid"
	once i 1500
	[ "$(grep '"from":"pool.2"' "$BATS_TEST_TMPDIR/out" | grep -c '"j":')" -gt 0 ]
}

@test "ctl: stop ends one child for good; signal reaches its group" {
	w=$(node_worker 'process.on("SIGUSR2", () => process.send({usr2: 1})); process.on("message", () => {}); process.send({ready: 1});')
	held_fifo "$IPCRUN" run -n 2 --name pool -- node "$w"
	wait_for 20 grep -q '"from":"pool.2".*"ready":1' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool signal pool.2 USR2
	assert_success
	wait_for 20 grep -q '"from":"pool.2".*"usr2":1' "$BATS_TEST_TMPDIR/out"
	run "$IPCRUN" ctl pool signal pool.2 NOSUCH
	[ "$status" = 1 ]
	run "$IPCRUN" ctl pool stop pool.1
	assert_success
	wait_for 20 sh -c "\"$IPCRUN\" ctl pool ps | grep '\"name\":\"pool.1\"' | grep -q '\"state\":\"done\"'"
	run "$IPCRUN" ctl pool stop pool.1
	[ "$status" = 1 ]
	assert_output --partial 'not running'
	exec 7>&-
	wait "$ipid" || true
}

@test "ctl: tap shows whole frames of a 100 KB message, both directions" {
	pool 1
	"$IPCRUN" ctl pool tap > "$BATS_TEST_TMPDIR/tap" 7>&- &
	tpid=$!
	wait_for 20 grep -q '"tapping"' "$BATS_TEST_TMPDIR/tap"
	python3 -c 'import json; print(json.dumps({"big": "x" * 100000}))' >&7
	wait_for 20 sh -c "[ \$(grep -c '\"event\":\"frame\"' '$BATS_TEST_TMPDIR/tap') -ge 2 ]"
	exec 7>&-
	wait "$ipid"
	wait "$tpid"
	python3 - "$BATS_TEST_TMPDIR/tap" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])][1:]
dirs = sorted(e["dir"] for e in ev if not e["internal"])
assert dirs == ["in", "out"], dirs
for e in ev:
    if not e["internal"]:
        assert e["frame"]["big"] == "x" * 100000
        assert e["size"] == len(json.dumps(e["frame"], separators=(",", ":") if e["dir"] == "out" else (", ", ": "))) + 1, e["size"]
        assert e["child"].startswith("pool") and e["time"] > 0
PY
}

@test "ctl: a tap client that never reads does not slow the relay; its losses are counted" {
	pool 1
	# A client that asks for the tap and never reads again.
	python3 - "$SOCK" > "$BATS_TEST_TMPDIR/slow" 7>&- <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b'{"id":7,"cmd":"tap"}\n')
print("tapping", flush=True)
time.sleep(600)
PY
	spid=$!
	wait_for 20 grep -q tapping "$BATS_TEST_TMPDIR/slow"
	wait_for 20 sh -c "\"$IPCRUN\" ctl pool stats | grep -q '\"ctl_refused\":0'"
	python3 -c '
import json
for i in range(20000): print(json.dumps({"i": i, "pad": "y" * 1000}))' >&7
	wait_for 60 sh -c "[ \$(grep -c '\"i\":' '$BATS_TEST_TMPDIR/out') = 20000 ]"
	run "$IPCRUN" ctl pool stats
	assert_output --regexp '"tap_dropped":[1-9]'
	exec 7>&-
	wait "$ipid"
	kill "$spid"
}

@test "ctl: a peer of another uid is refused on an abstract control socket, and logged" {
	need_other_uid
	name=ipcrun-ctl-test-$$-$RANDOM
	held_fifo "$IPCRUN" run --control "unix:@$name" -- node "$F/echo.js"
	wait_for 20 "$IPCRUN" ctl "unix:@$name" info
	run as_nobody "$IPCRUN" ctl "unix:@$name" ps
	[ "$status" = 125 ]
	wait_for 20 grep -q "refused a client (another uid; uid 65534" "$BATS_TEST_TMPDIR/err"
	run "$IPCRUN" ctl "unix:@$name" stats
	assert_success
	assert_output --partial '"ctl_refused":1'
	exec 7>&-
	wait "$ipid"
}

@test "ctl: malformed requests get error replies; a client gone mid-request changes nothing" {
	pool 2
	run "$IPCRUN" ctl pool <<'EOF'
not json
[1,2]
{"id":1}
{"id":2,"cmd":"fly"}
{"id":3,"cmd":"ps","args":"x"}
{"id":-1,"cmd":"ps"}
{"id":4,"cmd":"ps","extra":1}
{"id":5,"cmd":"send","args":["pool.1"]}
{"id":6,"cmd":"scale","args":["5"]}
{"id":7,"cmd":"stats"}
EOF
	assert_success
	[ "$(grep -c '"ok":false' <<< "$output")" = 9 ]
	assert_output --partial '"error":"invalid JSON at column'
	assert_output --partial '"id":2,"ok":false,"error":"unknown command \"fly\""'
	assert_output --partial '"id":6,"ok":false,"error":"from 1 to the number of children the run started with"'
	assert_output --partial '"id":7,"ok":true'
	# Half a request, then gone; a request too long: dropped.
	printf '{"id":1,"cmd":"se' | socat -u - "UNIX-CONNECT:$SOCK"
	head -c 2000000 /dev/zero | tr '\0' x | socat -u - "UNIX-CONNECT:$SOCK" || true
	run "$IPCRUN" ctl pool ps
	assert_success
	[ "$(grep -c '"state":"up"' <<< "$output")" = 2 ]
	echo '{"i":1}' >&7
	exec 7>&-
	wait "$ipid"
	assert_equal "$(grep -c '"i":1' "$BATS_TEST_TMPDIR/out")" 1
}

@test "ctl: a stale socket is replaced, a live one refused; --control with --no-control is a usage error" {
	mkdir -m 0700 "$XDG_RUNTIME_DIR/ipcrun"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
	[ -S "$SOCK" ]
	pool 1
	run "$IPCRUN" run --control "unix:$SOCK" -- node "$F/echo.js"
	[ "$status" = 125 ]
	assert_output --partial 'a live socket is listening there'
	# The default name taken by a live run: NAME.PID.sock instead.
	run "$IPCRUN" run --name pool -- node -e 'process.exit(0)'
	assert_success
	run "$IPCRUN" run --control unix:x --no-control -- true
	[ "$status" = 125 ]
	exec 7>&-
	wait "$ipid"
}

@test "ctl: the socket is gone after the exit, SIGTERM and SIGINT" {
	echo '{"a":1}' | "$IPCRUN" run --name pool -- node "$F/echo.js"
	[ ! -e "$SOCK" ]
	for sig in TERM INT; do
		pool 1
		[ -S "$SOCK" ]
		kill -"$sig" "$ipid"
		wait "$ipid" || true
		[ ! -e "$SOCK" ]
		exec 7>&-
		rm -f "$BATS_TEST_TMPDIR/fifo"
	done
}

@test "ctl: a control directory that is not ours and 0700 is not used, and the run goes on" {
	mkdir -m 0755 "$XDG_RUNTIME_DIR/ipcrun"
	run "$IPCRUN" run --name pool -- node "$F/echo.js" <<< '{"a":1}'
	assert_success
	assert_output --partial "no control socket: control directory '$XDG_RUNTIME_DIR/ipcrun': mode 755, must be 0700"
	assert_output --partial '{"a":1}'
	[ ! -e "$SOCK" ]
	run "$IPCRUN" run --no-control --name pool -- node "$F/echo.js" <<< '{"a":1}'
	assert_success
	refute_output --partial 'control'
}

@test "ctl: events streams the children's events; an unknown run is 125" {
	pool 1 --restart always
	"$IPCRUN" ctl pool events > "$BATS_TEST_TMPDIR/ev" 7>&- &
	epid=$!
	wait_for 20 grep -q '"subscribed":true' "$BATS_TEST_TMPDIR/ev"
	"$IPCRUN" ctl pool restart all
	wait_for 20 grep -q '"event":"exit"' "$BATS_TEST_TMPDIR/ev"
	exec 7>&-
	wait "$ipid"
	wait "$epid"
	run "$IPCRUN" ctl nosuchrun ps
	[ "$status" = 125 ]
	assert_output --partial "no run named 'nosuchrun'"
}

# repl KEYS...: ipcrun ctl pool on a pseudo-terminal, each KEYS typed in
# turn; the screen in $output.
repl() {
	local k
	for k in "$@"; do printf '%s\n' "$k"; done > "$BATS_TEST_TMPDIR/keys"
	run python3 "$F/repl_drive.py" "$IPCRUN" ctl pool < "$BATS_TEST_TMPDIR/keys"
}

@test "ctl REPL: a prompt; a pasted multi-line object is one message; the reply is coloured; history is written; Ctrl-D leaves" {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	pool 2
	repl '".to pool.2\r"' '"{\"a\": {\r"' '"  \"b\": [1, 2]\r"' '"}}\r"' '"{\"c\":\r"' '"\x04"'
	assert_success
	assert_output --partial 'ctl>'
	assert_output --partial 'pool.2>'
	assert_output --partial '...>'
	# The reply, pretty and coloured: a key in cyan, a number in yellow.
	assert_output --partial $'\e[36m"b"\e[0m: ['
	assert_output --partial $'\e[33m1\e[0m'
	wait_for 20 grep -q '"from":"pool.2".*"msg":{"a":{"b":\[1,2\]}}' "$BATS_TEST_TMPDIR/out"
	[ "$(grep -c '"a":' "$BATS_TEST_TMPDIR/out")" = 1 ]
	grep -q '^{"a":' "$XDG_STATE_HOME/ipcrun/history" ||
	    grep -q '{\\"a\\":\|{"a":' "$XDG_STATE_HOME/ipcrun/history"
	grep -q '^\.to\\040pool\.2$' "$XDG_STATE_HOME/ipcrun/history"
	# The incomplete value at Ctrl-D was not sent; the run goes on.
	run "$IPCRUN" ctl pool ps
	assert_success
	exec 7>&-
	wait "$ipid"
	[ "$(grep -c '"c"' "$BATS_TEST_TMPDIR/out")" = 0 ]
}

@test "ctl REPL: plain under NO_COLOR; .restart gives a new pid; a bad value gets a caret under its column" {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state NO_COLOR=1
	pool 1
	old=$(pids)
	repl '"{\"x\": tru}\r"' '".restart all\r"' '".ps\r"' '".quit\r"'
	assert_success
	refute_output --partial $'\e['
	assert_output --partial 'error: invalid JSON at line 1, column'
	assert_output --partial '  {"x": tru}'
	assert_output --regexp $'\n +\\^'
	assert_output --partial '"restarting": ['
	wait_for 20 sh -c "\"$IPCRUN\" ctl pool ps | grep -q '\"restarts\":1,'"
	wait_for 20 up 1
	[ "$(pids)" != "$old" ]
	exec 7>&-
	wait "$ipid"
}
