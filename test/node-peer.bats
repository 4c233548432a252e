#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Node's own child-process IPC tests (test/parallel/test-child-process-*),
# adapted in test/node-peer/ so that ipcrun stands in for one side:
#   run/    the child side, unchanged in what it expects, under `ipcrun run`
#           as its parent (the test's input is what the parent sent);
#   child/  the parent side, unchanged in what it expects, with
#           `ipcrun child -- CMD` as its child and CMD a small program.
# test/node-peer/README.md says, test by test, what matches Node and why
# what differs does. Waits have deadlines; nothing sleeps blindly.

load helper

P=$ROOT/test/node-peer

# peer_parent NAME: run the parent-side adaptation NAME; it exits non-zero
# on a broken expectation or on a callback that never came.
peer_parent() {
	run --separate-stderr timeout 60 node "$P/child/$1.js"
}

# --- ipcrun run as the parent -----------------------------------------------

@test "run: fork: each message answered, the child exits by itself, 0" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/fork.js" \
	    < <(printf '{"hello":"world"}\n')
	assert_success
	assert_output '{"foo":"bar","got":{"hello":"world"}}'
	assert_equal "$stderr" ""
}

@test "run: fork: what JSON cannot carry is refused at the parent, with a report" {
	# Node's send(undefined) and send(Symbol()) throw in the parent; for
	# run the parent's messages are lines, and a line that is not JSON
	# is refused where it stands.
	run --separate-stderr "$IPCRUN" run -- node "$P/run/fork.js" \
	    < <(printf 'undefined\n{"hello":"world"}\n')
	assert_failure 1
	assert_output '{"foo":"bar","got":{"hello":"world"}}'
	assert_equal "$stderr" "ipcrun: run: -:1:1: expected a value, found 'u'"
}

@test "run: ipc-next-tick: a throwing listener gets each of 10 messages once" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/ipc-next-tick.js" \
	    < <(seq 0 9)
	assert_success
	assert_output '"ready"'
	assert_equal "$stderr" ""
}

@test "run: send-utf8: a large multibyte string comes back unchanged" {
	node -e 'console.log(JSON.stringify("ßöü".repeat(1 << 18) + "😀\u2028"))' \
	    > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run -- node "$P/run/send-utf8.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "run: send-cb: the callback gets null, send() returned true" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/send-cb.js" < /dev/null
	assert_success
	assert_output $'"ok"\n{"cb":null,"rv":true}'
	assert_equal "$stderr" ""
}

@test "run: internal: NODE_ commands stay inside, fooNODE_ is a message" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/internal.js" < /dev/null
	assert_success
	assert_output '{"cmd":"fooNODE_foobar"}'
	assert_equal "$stderr" ""
}

@test "run: disconnect: 'disconnect' comes on a later tick, connected false" {
	# ipcrun disconnects once the child is idle after the end of input.
	run --separate-stderr "$IPCRUN" run -- node "$P/run/disconnect.js" \
	    < <(printf '1\n')
	assert_success
	assert_output '"ready"'
	assert_equal "$stderr" "disconnect async false"
}

@test "run: fork-ref: listeners keep the child until it is disconnected, then its handler runs" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/fork-ref.js" \
	    < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	assert_equal "$stderr" "disconnected"
}

@test "run: fork-ref2: a child that disconnects itself is not kept alive by a later listener" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/fork-ref2.js" < /dev/null
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "run: send-returns-boolean: send() turns false while ipcrun's stdout is held, and nothing is lost" {
	# stdout is a FIFO nobody reads until the child has sent all: ipcrun
	# stops reading the channel, the socket fills, Node queues, send()
	# says false. Then every message comes, in order.
	mkfifo "$BATS_TEST_TMPDIR/o"
	"$IPCRUN" run -- node "$P/run/send-returns-boolean.js" 200 < /dev/null \
	    > "$BATS_TEST_TMPDIR/o" 2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	BG_PIDS="${BG_PIDS:-} $ipid"
	# Open, so that ipcrun starts, but not read until the child says it
	# has sent all (on its stderr, which is ipcrun's).
	exec 8< "$BATS_TEST_TMPDIR/o"
	wait_for 60 grep -q '^sent$' "$BATS_TEST_TMPDIR/err"
	cat <&8 > "$BATS_TEST_TMPDIR/out"
	exec 8<&-
	wait "$ipid"
	run node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")
    .map((l) => JSON.parse(l));
const last = lines.pop();
const inOrder = lines.every((m, i) => m.i === i && m.chunk.length === 65536);
console.log(lines.length, inOrder, last.first > 0);' "$BATS_TEST_TMPDIR/out"
	assert_output "200 true true"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" sent
}

@test "run: splitted-length-field: ten 64 KiB messages sent just before process.exit() all come" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/splitted-length-field.js" < /dev/null
	assert_success
	assert_equal "$(awk 'length($0) == 65523 && /^"y+"$/' <<<"$output" | wc -l)" 10
	assert_equal "$stderr" ""
}

@test "run: advanced-serialization: run is a json parent, values come as JSON.stringify gives them" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/advanced-serialization.js" < /dev/null
	assert_success
	assert_output '[{"type":"Buffer","data":[104,105]},{},{},1.5,"é😀",{"a":[true,null]}]'
	assert_equal "$stderr" ""
}

# --- ipcrun child as the child ----------------------------------------------

@test "child: fork: messages both ways, send(undefined) throws in the parent, exit 0" {
	peer_parent fork
	assert_success
	assert_equal "$stderr" ""
}

@test "child: send-utf8: a large multibyte string comes back unchanged" {
	peer_parent send-utf8
	assert_success
	assert_equal "$stderr" ""
}

@test "child: send-cb: the callback gets null" {
	peer_parent send-cb
	assert_success
	assert_equal "$stderr" ""
}

@test "child: internal: NODE_ commands never reach CMD, and CMD cannot send one" {
	peer_parent internal
	assert_success
	assert_equal "$stderr" 'ipcrun: child: sh:1:8: internal Node message (cmd "NODE_foobar") (not sent)'
}

@test "child: disconnect: async 'disconnect', a second one throws, the child ends by itself" {
	peer_parent disconnect
	assert_success
	assert_equal "$stderr" ""
}

@test "child: send-returns-boolean: true, true, false, false behind the ACK; all four delivered" {
	peer_parent send-returns-boolean
	assert_success
	assert_equal "$stderr" "$(printf "ipcrun: child: the parent sent a handle: acknowledged and closed, not passed on to 'cat' (no --fd-as)\n%.0s" 1 2)"
}

@test "child: advanced-serialization: the JSON subset comes back deep-equal, the rest is reported" {
	peer_parent advanced-serialization
	assert_success
	assert_equal "$stderr" "ipcrun: child: parent message 1: a Buffer or another host object is outside the JSON subset (not delivered)
ipcrun: child: parent message 2: a Map is outside the JSON subset (not delivered)"
}

@test "child: advanced-serialization-largebuffer: 4 x 8 MB each way" {
	peer_parent advanced-serialization-largebuffer
	assert_success
	assert_equal "$stderr" ""
}

@test "child: advanced-serialization-splitted-length-field: ten 64 KiB frames, then the exit" {
	peer_parent advanced-serialization-splitted-length-field
	assert_success
	assert_equal "$stderr" ""
}

@test "child: send-keep-open: the parent's socket stays usable after the ACK" {
	peer_parent send-keep-open
	assert_success
	assert_equal "$stderr" "ipcrun: child: the parent sent a handle: acknowledged and closed, not passed on to 'sh' (no --fd-as)"
}

@test "child: fork-getconnections: getConnections() and close() callbacks come (count 0)" {
	peer_parent fork-getconnections
	assert_success
	assert_equal "$(grep -c 'acknowledged and closed' <<<"$stderr")" 3
}

@test "child: fork-net-server: the server is ACKed, the parent serves on, later messages flow" {
	peer_parent fork-net-server
	assert_success
	assert_equal "$stderr" "ipcrun: child: the parent sent a handle: acknowledged and closed, not passed on to 'cat' (no --fd-as)"
}

# --- where ipcrun differs from a Node parent on purpose (README) ------------

@test "differs: a grandchild in the child's group is ended with a report, a detached one is left" {
	run --separate-stderr "$IPCRUN" run -- node "$P/run/grandchildren.js" < /dev/null
	assert_success
	g=$(sed -n 's/^{"inGroup":\([0-9]*\),.*/\1/p' <<<"$output")
	d=$(sed -n 's/.*"detached":\([0-9]*\)}$/\1/p' <<<"$output")
	[ -n "$g" ] && [ -n "$d" ] || fail "no pids in: $output"
	# Ended by ipcrun (reaped by init a moment later: no verdict before).
	wait_for 30 sh -c "! grep -qs '^[^)]*) [^Z]' /proc/$g/stat"
	kill -0 "$d" || fail "the detached grandchild was ended"
	kill "$d"
	[[ "$stderr" == "ipcrun: run: sending SIGTERM to what is left of the process group of 'node' ("[0-9]*")" ]]
}

@test "differs: a child that outlives --eof-timeout is disconnected, then SIGTERM; status 0, the event says SIGTERM" {
	# The 'disconnect' handler runs in the grace before the SIGTERM.
	w=$(node_worker 'process.on("message", (m) => process.send(m));
process.on("disconnect", () => console.error("disconnected"));
setInterval(() => {}, 1000);')
	held_fifo "$IPCRUN" run --events-fd 3 --eof-timeout 0.2 \
	    --kill-timeout 3 -- node "$w" 3> "$BATS_TEST_TMPDIR/ev"
	printf '{"a":1}\n' >&7
	wait_for 30 grep -q '"a"' "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	st=0
	wait "$ipid" || st=$?
	assert_equal "$st" 0
	grep -q '^{"event":"exit",.*"signal":"SIGTERM"' "$BATS_TEST_TMPDIR/ev" ||
	    fail "no SIGTERM in the exit event: $(cat "$BATS_TEST_TMPDIR/ev")"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --index 0 --regexp "^ipcrun: run: closing the channel of 'node' \(pid [0-9]+\) after --eof-timeout$"
	assert_line --index 1 disconnected
	assert_line --index 2 --regexp "^ipcrun: run: 'node' \(pid [0-9]+\) is still running; sending SIGTERM$"
}
