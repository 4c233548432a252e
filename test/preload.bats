#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The drain preload: embedded in the binary and loaded by --import of a
# data: URL put first in NODE_OPTIONS, so it needs no file (wherever ipcrun
# is installed, under Node's permission model) and survives stray words in
# the user's NODE_OPTIONS; IPCRUN_PRELOAD overrides it with a regular file.
# Every case runs a real node child; waits have deadlines, never a verdict
# taken from a clock.

load helper

# Replies to each message 1 s later, with what the child sees of its
# environment: the drain must keep that late reply (the idle rule would
# have closed the channel after 0.5 s of quiet, with a warning).
late_worker() {
	node_worker 'process.on("message", () => setTimeout(() => process.send({
	opts: process.env.NODE_OPTIONS ?? null,
	ipcrun: Object.keys(process.env).filter((k) => k.startsWith("IPCRUN_")),
}), 1000));'
}

# --- the embedded preload ----------------------------------------------------

@test "the preload is the first option of NODE_OPTIONS and decodes to share/ipcrun-preload.mjs" {
	# The child reads NODE_OPTIONS as it was started (/proc keeps the
	# original environment), decodes the data: URL and compares it with
	# the source, whose comments hold every byte the encoding must escape.
	w=$(node_worker 'const fs = require("fs");
const opts = fs.readFileSync("/proc/self/environ", "utf8").split("\0")
    .find((e) => e.startsWith("NODE_OPTIONS=")).slice(13);
const m = /^--import "data:text\/javascript,([^"]*)"(.*)$/s.exec(opts);
process.send({
	first: m !== null,
	same: m !== null && decodeURIComponent(m[1]) ===
	    fs.readFileSync(process.argv[2], "utf8"),
	rest: m && m[2],
	now: process.env.NODE_OPTIONS,
});')
	NODE_OPTIONS='--no-warnings --max-old-space-size=200' run \
	    --separate-stderr "$IPCRUN" run -- node "$w" \
	    "$ROOT/share/ipcrun-preload.mjs" < /dev/null
	assert_success
	assert_output '{"first":true,"same":true,"rest":" --no-warnings --max-old-space-size=200","now":"--no-warnings --max-old-space-size=200"}'
	assert_equal "$stderr" ""
}

@test "the preload's source holds every byte the encoding escapes" {
	# Else the round trip above would prove less than it says.
	src=$ROOT/share/ipcrun-preload.mjs
	for c in % '#' '?' '"' '\' ' ' $'\t' →; do
		grep -qF -- "$c" "$src" || fail "no '$c' in $src"
	done
}

@test "editing share/ipcrun-preload.mjs rebuilds the header, nodechan.o and the binary" {
	# make -n -W: what would be done were the file newer; nothing is.
	run make -n -C "$ROOT" -W share/ipcrun-preload.mjs DEBUG="${DEBUG:-0}" all
	assert_success
	assert_line --partial 'share/ipcrun-preload.mjs > build/gen/ipcrun-preload.h.tmp'
	assert_line --regexp ' -o build/(release|debug)/lib/nodechan\.o lib/nodechan\.c$'
	assert_line --regexp ' -o build/(release|debug)/ipcrun '
	refute_line --partial 'cmd/check.c'
}

@test "a late reply arrives from a binary with no preload file anywhere" {
	d=$BATS_TEST_TMPDIR/bin
	mkdir "$d"
	cp "$IPCRUN" "$d/ipcrun"
	run --separate-stderr env -u IPCRUN_PRELOAD "$d/ipcrun" run \
	    -- node "$ROOT/examples/slow.js" < <(printf '{"delay":1000}\n')
	assert_success
	assert_output '{"delay":1000}'
	assert_equal "$stderr" ""
}

@test "a child under Node's permission model gets the drain" {
	# The preload is no file, so --allow-fs-read need not name one.
	perm=--experimental-permission
	if node --permission -e 0 >/dev/null 2>&1; then
		perm=--permission
	fi
	mkdir "$BATS_TEST_TMPDIR/app"
	cp "$ROOT/examples/slow.js" "$BATS_TEST_TMPDIR/app/child.js"
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$IPCRUN" run --trace -- node "$perm" \
	    --allow-fs-read=./app/ app/child.js < <(printf '{"delay":1000}\n')
	assert_success
	assert_output '{"delay":1000}'
	[[ "$stderr" == *'internal cmd "NODE_IPCRUN_READY"'* ]]
	[[ "$stderr" != *ERR_ACCESS_DENIED* ]]
	[[ "$stderr" != *"idle rule"* ]]
}

@test "a stray word in NODE_OPTIONS does not disable the drain" {
	# Node reads NODE_OPTIONS up to the first word that is not an option:
	# --title=a\ b leaves a stray "b". ipcrun's option comes before it.
	w=$(late_worker)
	NODE_OPTIONS='--title=a\ b' run --separate-stderr "$IPCRUN" run \
	    -- node "$w" < <(printf '{}\n')
	assert_success
	assert_output '{"opts":"--title=a\\ b","ipcrun":[]}'
	assert_equal "$stderr" ""
}

# --- when it runs ------------------------------------------------------------

@test "the announcement comes before the main module runs" {
	# The main module spins until the test has seen the announcement in
	# ipcrun's trace: an announcement that waited for user code would
	# leave it spinning to its own deadline, and the reply says so.
	w=$(node_worker 'const fs = require("fs");
const until = Date.now() + 20000;
let seen = false;
while (!(seen = fs.existsSync(process.argv[2])) && Date.now() < until);
process.on("message", () => process.send({ seen }));')
	bg "$IPCRUN" run --trace -- node "$w" "$BATS_TEST_TMPDIR/flag" \
	    < <(printf '{}\n') > "$BATS_TEST_TMPDIR/out" \
	    2> "$BATS_TEST_TMPDIR/err"
	pid=$!
	wait_for 30 grep -q 'internal cmd "NODE_IPCRUN_READY"' \
	    "$BATS_TEST_TMPDIR/err"
	touch "$BATS_TEST_TMPDIR/flag"
	wait "$pid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"seen":true}'
}

@test "the preload listens for the notice before the main module runs" {
	# The input stays open until the reply is out: no notice yet, which
	# would remove the listener (it can come before the main module runs).
	w=$(node_worker 'process.send({ listening: process.listeners("internalMessage")
    .some((f) => f.name === "onInternal") });')
	held_fifo "$IPCRUN" run -- node "$w"
	wait_for 30 test -s "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	wait "$ipid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"listening":true}'
}

@test "a user --require that blocks for 1.5 s still gets the drain" {
	# Node runs every --require module before any --import one, so the
	# announcement comes after it; ipcrun must still wait for it.
	printf 'const t = Date.now(); while (Date.now() - t < 1500);\n' \
	    > "$BATS_TEST_TMPDIR/busy.js"
	w=$(late_worker)
	NODE_OPTIONS="--require $BATS_TEST_TMPDIR/busy.js" run --separate-stderr \
	    "$IPCRUN" run --trace -- node "$w" < <(printf '{}\n')
	assert_success
	assert_output "{\"opts\":\"--require $BATS_TEST_TMPDIR/busy.js\",\"ipcrun\":[]}"
	[[ "$stderr" == *'internal cmd "NODE_IPCRUN_EOF"'* ]]
	[[ "$stderr" != *"idle rule"* ]]
}

@test "an ES module main and a CommonJS one both get the drain" {
	printf '%s\n' 'process.on("message", (m) => setTimeout(() => process.send({ esm: typeof require === "undefined", m }), 1000));' \
	    > "$BATS_TEST_TMPDIR/w.mjs"
	run --separate-stderr "$IPCRUN" run -- node "$BATS_TEST_TMPDIR/w.mjs" \
	    < <(printf '1\n')
	assert_success
	assert_output '{"esm":true,"m":1}'
	assert_equal "$stderr" ""
	run --separate-stderr "$IPCRUN" run -- node -e 'process.on("message", (m) => setTimeout(() => process.send({ m }), 1000))' \
	    < <(printf '2\n')
	assert_success
	assert_output '{"m":2}'
	assert_equal "$stderr" ""
}

@test "a main module with an extension unknown to ES modules still runs as CommonJS" {
	# As without any --import: the CommonJS loader, with the
	# require.extensions hook of a -r module (ts-node's way), or as
	# plain JavaScript without one.
	printf '%s\n' 'require.extensions[".ts"] = function (m, f) {' \
	    '	m._compile("globalThis.hooked = true;\n" + require("fs").readFileSync(f, "utf8"), f);' \
	    '};' > "$BATS_TEST_TMPDIR/hook.js"
	printf '%s\n' 'process.on("message", (m) => setTimeout(() => process.send({ m, hooked: globalThis.hooked === true, main: require.main === module }), 1000));' \
	    > "$BATS_TEST_TMPDIR/w.ts"
	run --separate-stderr "$IPCRUN" run -- node -r "$BATS_TEST_TMPDIR/hook.js" \
	    "$BATS_TEST_TMPDIR/w.ts" < <(printf '1\n')
	assert_success
	assert_output '{"m":1,"hooked":true,"main":true}'
	assert_equal "$stderr" ""
	cp "$BATS_TEST_TMPDIR/w.ts" "$BATS_TEST_TMPDIR/w.coffee"
	run --separate-stderr "$IPCRUN" run -- node "$BATS_TEST_TMPDIR/w.coffee" \
	    < <(printf '2\n')
	assert_success
	assert_output '{"m":2,"hooked":false,"main":true}'
	assert_equal "$stderr" ""
}

# --- IPCRUN_PRELOAD ----------------------------------------------------------

@test "IPCRUN_PRELOAD: a file is loaded by --import from any path" {
	# Relative, and with bytes that a file: URL or NODE_OPTIONS would
	# misread: the child sees the exact encoded option.
	d="$BATS_TEST_TMPDIR/p %41 #? \"q\" é"
	mkdir -p "$d"
	cp "$ROOT/share/ipcrun-preload.mjs" "$d/mine.mjs"
	w=$(node_worker 'const fs = require("fs");
process.send({ opts: fs.readFileSync("/proc/self/environ", "utf8")
    .split("\0").find((e) => e.startsWith("NODE_OPTIONS=")) });
process.on("message", () => setTimeout(() => process.send("late"), 1000));')
	cd "$BATS_TEST_TMPDIR"
	IPCRUN_PRELOAD="${d##*/}/mine.mjs" run --separate-stderr "$IPCRUN" run \
	    --trace -- node "$w" < <(printf '{}\n')
	assert_success
	enc=$(printf '%s' "$BATS_TEST_TMPDIR" | node -e 'process.stdout.write(require("fs").readFileSync(0, "utf8").replace(/[^!$&-\x3e@-\x5b\x5d-~]/gu, (c) => encodeURIComponent(c)))')
	assert_equal "${lines[0]}" "{\"opts\":\"NODE_OPTIONS=--import \\\"file://$enc/p%20%2541%20%23%3F%20%22q%22%20%C3%A9/mine.mjs\\\"\"}"
	assert_equal "${lines[1]}" '"late"'
	[[ "$stderr" == *'internal cmd "NODE_IPCRUN_READY"'* ]]
	[[ "$stderr" != *"idle rule"* ]]
}

@test "IPCRUN_PRELOAD naming a directory is reported, the idle rule is used" {
	mkdir "$BATS_TEST_TMPDIR/pre"
	IPCRUN_PRELOAD=$BATS_TEST_TMPDIR/pre run --separate-stderr \
	    "$IPCRUN" run -- node "$F/echo.js" < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: drain preload '$BATS_TEST_TMPDIR/pre' (using the idle rule): Is a directory"
	[[ "$stderr" == *"closing the channel of 'node' (pid "*") after 0.5 s of quiet (idle rule)" ]]
	[[ "$stderr" != *"Cannot find module"* ]]
}

@test "IPCRUN_PRELOAD naming a device or a FIFO is not a regular file" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	for f in /dev/null "$BATS_TEST_TMPDIR/fifo"; do
		IPCRUN_PRELOAD=$f run --separate-stderr \
		    "$IPCRUN" run -- node "$F/echo.js" < <(printf '{"a":1}\n')
		assert_success
		assert_output '{"a":1}'
		assert_equal "${stderr%%$'\n'*}" "ipcrun: run: drain preload '$f' (using the idle rule): not a regular file"
		[[ "$stderr" == *"(idle rule)" ]]
	done
}

@test "IPCRUN_PRELOAD in a path with a backslash is refused" {
	# Node's ES module loader has no URL for it; the old --require did.
	mkdir "$BATS_TEST_TMPDIR/a\\b"
	cp "$ROOT/share/ipcrun-preload.mjs" "$BATS_TEST_TMPDIR/a\\b/p.mjs"
	IPCRUN_PRELOAD="$BATS_TEST_TMPDIR/a\\b/p.mjs" run --separate-stderr \
	    "$IPCRUN" run -- node "$F/echo.js" < <(printf '{"a":1}\n')
	assert_success
	assert_output '{"a":1}'
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: drain preload '$BATS_TEST_TMPDIR/a\\b/p.mjs' (using the idle rule): Node cannot import a path with a backslash"
	[[ "$stderr" != *ERR_* ]]
}

@test "an empty IPCRUN_PRELOAD means the embedded preload" {
	IPCRUN_PRELOAD= run --separate-stderr "$IPCRUN" run \
	    -- node "$ROOT/examples/slow.js" < <(printf '{"delay":1000}\n')
	assert_success
	assert_output '{"delay":1000}'
	assert_equal "$stderr" ""
}

# --- messages held before the main module listens (issue 29) ----------------

# held_then N CODE: a child that waits (with a deadline) until Node holds
# N messages for want of a 'message' listener, then runs CODE: the replay
# path is met every time, not only when the main module happens to load
# late.
held_then() {
	node_worker "const key = Object.getOwnPropertySymbols(process.channel)
    .find((s) => s.description === 'kPendingMessages');
const until = Date.now() + 20000;
(function wait() {
	if (process.channel[key].length < $1 && Date.now() < until)
		return setTimeout(wait, 10);
	$2
})();"
}

@test "a listener that throws gets every held message once" {
	# Node's own test-child-process-ipc-next-tick.js, listening late:
	# Node's replay stopped at the first throw and replayed it again on
	# the next listener; the rest never came.
	w=$(held_then 10 'process.on("uncaughtException", (e) => process.send({ got: e }));
	process.on("message", (m) => { throw m; });')
	run --separate-stderr "$IPCRUN" run -- node "$w" < <(seq 1 10)
	assert_success
	assert_output "$(seq 1 10 | sed 's/.*/{"got":&}/')"
	assert_equal "$stderr" ""
}

@test "a listener that throws at once after loading gets every message once" {
	# The same child as Node's test, listening in its main module: under
	# --import that is a turn after the channel starts reading.
	w=$(node_worker 'process.on("uncaughtException", (e) => process.send({ got: e }));
process.on("message", (m) => { throw m; });')
	run --separate-stderr "$IPCRUN" run -- node "$w" < <(seq 1 10)
	assert_success
	assert_output "$(seq 1 10 | sed 's/.*/{"got":&}/')"
}

@test "process.once takes the held messages one at a time, none lost" {
	# Node's replay emits every held message in one loop: after the
	# first, no listener is left and the others were dropped.
	w=$(held_then 3 'function on(m) {
		process.send({ got: m });
		setTimeout(() => process.once("message", on), 10);
	}
	process.once("message", on);')
	run --separate-stderr "$IPCRUN" run -- node "$w" < <(seq 1 3)
	assert_success
	assert_output "$(seq 1 3 | sed 's/.*/{"got":&}/')"
	assert_equal "$stderr" ""
}
