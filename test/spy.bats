#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun spy: a real Node parent fork()s a real Node child through
# `ipcrun spy` as its execPath (test/fixtures/spy_parent.js), and what
# both sides saw is compared with the same run without spy. Waits have
# deadlines; nothing asserts a timing.

load helper

# spied SCENARIO [SPY_ARG...]: the parent fixture, through spy when
# arguments are given (--trace-file at least, so that spy is there).
spied() {
	run --separate-stderr timeout 120 node "$F/spy_parent.js" "$@"
}

# same SCENARIO SPY_ARG...: the results without spy and with it agree.
same() {
	local scen=$1
	shift
	spied "$scen"
	assert_success
	local plain=$output
	spied "$scen" "$@"
	assert_success
	assert_equal "$output" "$plain"
	assert_equal "$stderr" ""
}

# forked SPY_ARG...: a parent that only fork()s through spy and says
# how the child ended.
forked() {
	run --separate-stderr timeout 60 node -e '
		const c = require("child_process").fork("-", [], {
		    execPath: process.env.IPCRUN,
		    execArgv: ["spy", ...process.argv.slice(1), "--", process.execPath] });
		c.on("exit", (code, sig) => console.log("exit", code, sig));' -- "$@"
	assert_success
}

# no_spy_left: no process runs with this test's trace file in its
# arguments.
no_spy_left() {
	! pgrep -f -- "--trace-file $BATS_TEST_TMPDIR/trace" >/dev/null
}

# frames FROM: the frames of the trace from "parent" or "child".
frames() {
	grep -c "\"from\":\"$1\",\"size\"" "$BATS_TEST_TMPDIR/trace"
}

# --- passing on -------------------------------------------------------------------

@test "10,000 messages each way, in order; both sides' results as without spy; a trace with every frame" {
	same order --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_line "parent: 10000 in order, 0 out of place"
	assert_line --regexp '^child: \{"got":10000,"bad":0,"fds":[0-9]+\}$'
	assert_line "exit 0 null"
	# The relay ends with the channels: nothing of spy is left.
	wait_for 20 no_spy_left
	# 10,000 and "done" down; 10,000 echoes and the child's results up.
	[ "$(frames parent)" = 10001 ]
	[ "$(frames child)" = 10001 ]
	run -0 sed -n '1p;2p;$p' "$BATS_TEST_TMPDIR/trace"
	assert_line --index 0 --regexp '^\{"t":[0-9.]+,"event":"start","pid":[0-9]+,"serialization":"json","argv":\[".*node","[^"]*spy_child.js","order"\]\}$'
	assert_line --index 1 --regexp '^\{"t":[0-9.]+,"from":"parent","size":15,"msg":\{"i":0,"s":""\}\}$'
	assert_line --index 2 --regexp '^\{"t":[0-9.]+,"event":"end","to_child":\{"frames":10001,.*"lost":0\},"to_parent":\{"frames":10001,.*"lost":0\}\}$'
	# Every line of the trace is JSON.
	run -0 node -e '
		const l = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
		l.forEach((s) => JSON.parse(s));
		console.log(l.length);' "$BATS_TEST_TMPDIR/trace"
	# Besides the frames: the start, each side's end, and the counts.
	assert_output 20006
}

@test "advanced: 10,000 messages each way in order, as without spy; the trace decoded to JSON" {
	export SER=advanced
	same order --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_line "parent: 10000 in order, 0 out of place"
	[ "$(frames parent)" = 10001 ]
	[ "$(frames child)" = 10001 ]
	run -0 sed -n '1p;2p' "$BATS_TEST_TMPDIR/trace"
	assert_line --index 0 --partial '"serialization":"advanced"'
	# {i:0,s:""} as V8 writes it: 4 + 15 bytes on the wire.
	assert_line --index 1 --regexp '^\{"t":[0-9.]+,"from":"parent","size":19,"msg":\{"i":0,"s":""\}\}$'
}

@test "advanced: values of many kinds echoed as without spy; a Buffer is traced as its V8 bytes" {
	export SER=advanced
	same values --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_line 'echo 11 {"type":"Buffer","data":[98,117,102]}'
	assert_line 'echo 5 "\ud800"'
	run -0 grep -c '"from":"parent","size":10,"msg":"\\ud800"}$' "$BATS_TEST_TMPDIR/trace"
	run -0 grep '"v8"' "$BATS_TEST_TMPDIR/trace"
	assert_line --index 0 --regexp '"from":"parent","size":13,"v8":"ff0f5c000a03627566","error":"[^"]+"\}$'
}

@test "json: values of many kinds echoed as without spy" {
	same values --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_line --regexp '^echo 4 "a.😀"$'
	[ "$(frames parent)" = 11 ]
	[ "$(frames child)" = 11 ]
}

@test "a net.Server handle passes through and the child serves on it; the ACK is the child's; the pid is the child's" {
	same handle --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_line "sent: ok"
	assert_line "served by child, the pid the parent knows: true"
	assert_line 'message: "own" with a Server'
	assert_line 'message: {"echo":{"after":1}}'
	run -0 grep '"cmd"' "$BATS_TEST_TMPDIR/trace"
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 --regexp '"from":"parent","size":57,"cmd":"NODE_HANDLE","handle":"net.Server","fd":"TCP socket","msg":\{"cmd":"NODE_HANDLE","type":"net.Server","msg":"server"\}\}$'
	assert_line --index 1 --regexp '"from":"child","size":26,"cmd":"NODE_HANDLE_ACK","msg":'
	assert_line --index 2 --regexp '"from":"child","size":[0-9]+,"cmd":"NODE_HANDLE","handle":"net.Server","fd":"TCP socket"'
	assert_line --index 3 --regexp '"from":"parent","size":26,"cmd":"NODE_HANDLE_ACK","msg":'
	# Both fds went on, and spy kept no copy.
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/trace"
	assert_output --regexp '"to_child":\{"frames":5,"bytes":[0-9]+,"fds":1,"lost":0\},"to_parent":\{"frames":5,"bytes":[0-9]+,"fds":1,"lost":0\}'
}

@test "advanced: a net.Server handle passes through and is served on" {
	export SER=advanced
	same handle --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_line "served by child, the pid the parent knows: true"
	run -0 grep -c '"cmd":"NODE_HANDLE_ACK"' "$BATS_TEST_TMPDIR/trace"
	assert_output 2
}

@test "the child's exit status and its signals are its own" {
	same exit3 --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_output "exit 3 null"
	same kill --trace-file "$BATS_TEST_TMPDIR/trace"
	assert_output $'child: SIGTERM\nexit 7 null'
}

# --- what it says ---------------------------------------------------------------

@test "-v names the child on every line, both directions; -s cuts the frames shown" {
	spied values -v
	assert_success
	run -0 grep -c '^ipcrun: spy: [0-9.]* node\[[0-9]*\] > ' <<<"$stderr"
	assert_output 11
	run -0 grep -c '^ipcrun: spy: [0-9.]* node\[[0-9]*\] < ' <<<"$stderr"
	assert_output 11
	# Without -s, 64 bytes; -s 0, whole; -s 8, eight.
	run -0 grep -c '> "x\{63\}\.\.\.$' <<<"$stderr"
	assert_output 1
	spied values -v -s 0
	run -0 grep -o '> "xx*"$' <<<"$stderr"
	assert_equal "${#output}" 100004
	spied values -v -s 8 --trace-file "$BATS_TEST_TMPDIR/trace"
	run -0 grep -c '> {"a":{"b\.\.\.$' <<<"$stderr"
	assert_output 1
	# The trace file is cut at -s too, and says so.
	run -0 grep -c '"from":"parent","size":100003,"text":"\\"xxxxxxx","cut":true}$' "$BATS_TEST_TMPDIR/trace"
}

@test "--trace says each frame's direction and size; --stats the counts" {
	spied handle --trace --stats
	assert_success
	run -0 grep -c '^ipcrun: spy: trace [0-9.]* -> node\[[0-9]*\] 57 bytes internal cmd "NODE_HANDLE" with a TCP socket$' <<<"$stderr"
	run -0 grep -c '^ipcrun: spy: trace [0-9.]* <- node\[[0-9]*\] 26 bytes internal cmd "NODE_HANDLE_ACK"$' <<<"$stderr"
	run -0 grep '^ipcrun: spy: stats: ' <<<"$stderr"
	assert_output --regexp '^ipcrun: spy: stats: node\[[0-9]+\]: to the child 5 frames [0-9]+ B \(2 internal, 1 handles\), to the parent 5 frames [0-9]+ B \(2 internal, 1 handles\), fds 1 and 1, lost 0 B and 0 B, [0-9.]+ s$'
}

@test "a frame that is not JSON passes on unchanged, and the trace says what is wrong" {
	# A child that is no Node program writes garbage: the Node parent
	# crashes on it exactly as it would without spy.
	printf 'printf "{bad\\n" >&3\n' > "$BATS_TEST_TMPDIR/bad.sh"
	run --separate-stderr timeout 60 node -e '
		const c = require("child_process").fork(process.argv[1], [], {
		    execPath: process.env.IPCRUN,
		    execArgv: ["spy", "--trace-file", process.argv[2], "--", "sh"] });
		c.on("message", (m) => console.log("got", m));' \
	    "$BATS_TEST_TMPDIR/bad.sh" "$BATS_TEST_TMPDIR/trace"
	assert_failure 1
	[[ $stderr == *SyntaxError* ]]
	run -0 grep '"from":"child"' "$BATS_TEST_TMPDIR/trace"
	assert_output --regexp '^\{"t":[0-9.]+,"from":"child","size":5,"text":"\{bad","error":"[^"]+"\}$'
}

# --- refusals ---------------------------------------------------------------------

@test "bad usage: an unknown option, no NODE, a bad -s; each one line, status 125" {
	run --separate-stderr "$IPCRUN" spy --bogus -- node
	assert_failure 125
	assert_equal "${stderr_lines[0]}" "ipcrun: spy: unknown option '--bogus'"
	run --separate-stderr "$IPCRUN" spy --trace-file x
	assert_failure 125
	assert_equal "${stderr_lines[0]}" "ipcrun: spy: missing NODE: the command that the parent's fork() would have run"
	run --separate-stderr "$IPCRUN" spy -s lots -- node
	assert_failure 125
	assert_equal "${stderr_lines[0]}" "ipcrun: spy: -s 'lots': invalid"
}

@test "not under a Node parent, a trace file that cannot be written: one line each, status 125" {
	run --separate-stderr env -u NODE_CHANNEL_FD "$IPCRUN" spy -- node
	assert_failure 125
	assert_equal "$stderr" "ipcrun: spy: NODE_CHANNEL_FD is not set: ipcrun spy is the execPath of a Node parent's fork()"
	forked --trace-file "$BATS_TEST_TMPDIR/no/such/dir"
	assert_output "exit 125 null"
	assert_equal "$stderr" "ipcrun: spy: --trace-file '$BATS_TEST_TMPDIR/no/such/dir': No such file or directory"
}

@test "--tap: ipcrun ctl lists spy.PID; its tap streams every frame both ways, whole; the socket goes at the end" {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
	# A parent that sends one message once the test says so, and leaves
	# at the reply.
	bg node -e '
		const fs = require("fs");
		const c = require("child_process").fork(process.argv[1], [], {
		    execPath: process.env.IPCRUN,
		    execArgv: ["spy", "--tap", "--", process.execPath] });
		const go = setInterval(() => {
			if (!fs.existsSync(process.argv[2]))
				return;
			clearInterval(go);
			c.send({ hello: "tap", big: "x".repeat(100000) });
		}, 20);
		c.on("message", (m) => { console.log(m.hello); c.disconnect(); });
	' "$F/echo.js" "$BATS_TEST_TMPDIR/go" > "$BATS_TEST_TMPDIR/out"
	ppid=$!
	wait_for 20 sh -c '"$IPCRUN" ctl --names | grep -q "^spy\."'
	name=$("$IPCRUN" ctl --names | grep '^spy\.')
	run "$IPCRUN" ctl
	assert_output --partial '"mode":"spy"'
	run "$IPCRUN" ctl "$name" ps
	assert_output --partial "\"pid\":${name#spy.},"
	bg "$IPCRUN" ctl "$name" tap > "$BATS_TEST_TMPDIR/tap"
	tpid=$!
	wait_for 20 grep -q '"tapping"' "$BATS_TEST_TMPDIR/tap"
	touch "$BATS_TEST_TMPDIR/go"
	wait "$ppid"
	wait "$tpid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" tap
	[ ! -e "$XDG_RUNTIME_DIR/ipcrun/$name.sock" ]
	python3 - "$BATS_TEST_TMPDIR/tap" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])][1:]
frames = [e for e in ev if e.get("event") == "frame" and not e["internal"]]
assert sorted(e["dir"] for e in frames) == ["in", "out"], frames
for e in frames:
    assert e["frame"]["big"] == "x" * 100000 and e["frame"]["hello"] == "tap"
    assert e["size"] > 100000 and e["time"] > 0
PY
}

@test "NODE not found: the parent sees 127 and a one-line error" {
	run --separate-stderr timeout 60 node -e '
		const c = require("child_process").fork("x.js", [], {
		    execPath: process.env.IPCRUN,
		    execArgv: ["spy", "--", "/no/such/node"] });
		c.on("exit", (code, sig) => console.log("exit", code, sig));'
	assert_success
	assert_output "exit 127 null"
	assert_equal "$stderr" "ipcrun: spy: '/no/such/node': No such file or directory"
}
