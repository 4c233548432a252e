#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the node channel's set-up for one child: NODE_OPTIONS and
# the preload, NODE_CHANNEL_* and --channel-fd, the child's stdin and
# stdout. Real node children.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

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

# --- stdio of a node child ---------------------------------------------------

@test "a node child's stdin is /dev/null and its stdout goes to stderr" {
	run --separate-stderr "$IPCRUN" run -- node -e '
console.log("log line");
process.send({ stdin: require("fs").readlinkSync("/proc/self/fd/0") });' < /dev/null
	assert_success
	assert_output '{"stdin":"/dev/null"}'
	assert_equal "$stderr" "log line"
}
