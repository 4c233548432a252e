#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the lines it refuses, both ways, with one real child: bad
# input is reported with line, column and reason and never reaches the
# child, the child's bad frames and handles are not forwarded, and a
# refused line makes the status 1.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

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

# --- bad input ---------------------------------------------------------------

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
	assert_equal "$stderr" "ipcrun: run: -:2:17: line too long: 27 bytes, more than the limit of 16"
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

@test "a handle from the child is ACKed and closed, its message and the later ones flow" {
	run --separate-stderr "$IPCRUN" run --eof-timeout 5 -- \
	    node "$F/sendhandle.js" < /dev/null
	assert_success
	assert_output $'{"h":1}\n{"after":1,"err":null}'
	assert_equal "$stderr" "ipcrun: run: 'node' sent a handle: acknowledged and closed (give --handles to pass it to another child); its message goes on"
}

@test "handles in a row from a Node child: each ACKed once, the messages in order, the server's getConnections and close answered" {
	run --separate-stderr timeout 60 "$IPCRUN" run -n 2 --name h -- \
	    node "$F/send_handles.js" < /dev/null
	assert_success
	output=$(grep '"from":"h.1"' <<<"$output")
	echo "$output"
	# Wrapped: each message that came with a handle says its type.
	echo "$output" | grep -qx '{"from":"h.1","pid":[0-9]*,"handle":"net.Server","msg":{"n":1}}'
	echo "$output" | grep -qx '{"from":"h.1","pid":[0-9]*,"handle":"net.Socket","msg":{"n":2}}'
	echo "$output" | grep -qx '{"from":"h.1","pid":[0-9]*,"handle":"dgram.Socket","msg":{"n":3}}'
	echo "$output" | grep -qx '{"from":"h.1","pid":[0-9]*,"msg":{"n":4}}'
	echo "$output" | grep -qx '{"from":"h.1","pid":[0-9]*,"handle":"net.Socket","msg":{"n":5,"accepted":true}}'
	# 1, 2, 3 and 4 in the order sent; every send's callback ran once.
	[ "$(echo "$output" | grep -o '"n":[1-4]' | tr -d '\n')" = '"n":1"n":2"n":3"n":4' ]
	last=$(echo "$output" | tail -n 1)
	[[ $last == *'"count":0,"err":null}}' ]] || { echo "$output"; false; }
	[[ $last == *'"sent":[1,2,3,4,5]'* ]]
}

@test "--label NAME: reports name the input, as check's name the file" {
	run --separate-stderr "$IPCRUN" run --label jobs.ndjson -- node "$F/echo.js" \
	    < <(printf '{"a":1}\n{"a":\n')
	assert_failure 1
	assert_output '{"a":1}'
	assert_equal "$stderr" "ipcrun: run: jobs.ndjson:2:6: unexpected end of line"
}
