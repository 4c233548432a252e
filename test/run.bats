#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the relay with one real child (node wherever Node is
# involved), the basics: messages make the round trip unchanged on the
# node channel and on stdio, and --trace shows the frames. The other
# run-*.bats files hold the end of input, refused lines, the node
# channel's set-up, exit status and signals, process hygiene and flow
# control; many.bats the many-children relay.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

# --- round trips -------------------------------------------------------------

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

# --- stdio channel -----------------------------------------------------------

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
	assert_equal "$stderr" "ipcrun: run: 'printf' frame 2:2: invalid literal, found 'o' (not forwarded)
    2 | not json
      |  ^
ipcrun: run: hint: on the stdio channel each line 'printf' prints on its stdout is a message: print logs to standard error"
}

@test "-c NAME:stdio=: a stray stdout line shows its excerpt, the hint once a run; -q silences all" {
	printf '{"a":1}\n{"a":2}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run \
	    -c 'py:stdio=sh -c "echo starting up; echo \"  {bad: 1}\"; cat"' \
	    -c 'js=node -e "process.on(\"message\", (m) => process.send(m))"' \
	    < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	[ "${#lines[@]}" -eq 2 ]
	assert_equal "$stderr" "ipcrun: run: 'py' frame 1:1: expected a value, found 's' (not forwarded)
    1 | starting up
      | ^
ipcrun: run: hint: on the stdio channel each line 'py' prints on its stdout is a message: print logs to standard error
ipcrun: run: 'py' frame 2:4: expected a string key, found 'b' (not forwarded)
    2 |   {bad: 1}
      |    ^"
	run --separate-stderr "$IPCRUN" run -q -c 'py:stdio=sh -c "echo starting up; cat"' \
	    < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" ""
}

@test "--no-validate passes anything through a stdio child" {
	run --separate-stderr "$IPCRUN" run --channel stdio --no-validate -- cat \
	    < <(printf '{bad\n\xff\n')
	assert_success
	assert_equal "$output" $'{bad\n\xff'
}

@test "--no-validate: 200,000 lines in runs keep their order, blanks dropped, every line counted, the last one without its newline kept" {
	# Blank and whitespace-only lines every 1,000, bytes no JSON
	# allows, and no newline at the end.
	LC_ALL=C awk 'BEGIN { for (i = 1; i <= 200000; i++) {
		if (i % 1000 == 0) print (i % 2000 ? "" : " \t")
		else print "{x" i " \377" } printf "end" }' \
	    > "$BATS_TEST_TMPDIR/in"
	LC_ALL=C awk '!/^[ \t]*$/' "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/want"
	run --separate-stderr "$IPCRUN" run --stats --channel stdio \
	    --no-validate -- cat < "$BATS_TEST_TMPDIR/in"
	assert_success
	printf '%s\n' "$output" | cmp - "$BATS_TEST_TMPDIR/want"
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/want")" 199801
	[[ "$stderr" == *"in 200001 lines "*", refused 0, delivered 199801, replies 199801 lines "* ]]
}

@test "--no-validate: a line over --max-line among runs is refused by its number, the lines around it delivered" {
	{ seq 1 5000; printf '%0100d\n' 0; seq 5002 10000; } \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --max-line 50 --channel stdio \
	    --no-validate -- cat < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: run: -:5001:51: line too long: 100 bytes, more than the limit of 50"
	printf '%s\n' "$output" | cmp - <(seq 1 5000; seq 5002 10000)
}

@test "--no-validate -n 3 --raw: round robin in runs, every line out once" {
	seq 1 100000 > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -n 3 --raw --channel stdio \
	    --no-validate -- cat < "$BATS_TEST_TMPDIR/in"
	assert_success
	printf '%s\n' "$output" | sort -n | cmp - "$BATS_TEST_TMPDIR/in"
}

# --- trace -------------------------------------------------------------------

@test "--trace-file: every frame both ways as spy writes them, with its child; -s cuts them; a file that cannot be made is an error" {
	local t=$BATS_TEST_TMPDIR/trace
	run --separate-stderr "$IPCRUN" run -n 2 --name w --trace-file "$t" \
	    -- node "$F/echo.js" < <(printf '{"a":1}\n{"b":"x\\ny"}\n')
	assert_success
	assert_equal "$stderr" ""
	run node "$F/trace_lines.js" "$t"
	assert_success
	assert_line --index 0 'start run end'
	assert_line 'w.1 parent 8 {"a":1}'
	assert_line 'w.1 child 8 {"a":1}'
	assert_line 'w.2 parent 13 {"b":"x\ny"}'
	assert_line 'w.2 child 13 {"b":"x\ny"}'
	assert_line --regexp '^w.1 child [0-9]+ NODE_IPCRUN_READY \{"cmd":"NODE_IPCRUN_READY".*\}$'
	assert_line 'w.2 parent 26 NODE_IPCRUN_EOF {"cmd":"NODE_IPCRUN_EOF"}'
	# -s: the first bytes, as a string, marked cut; the rest whole.
	run --separate-stderr "$IPCRUN" run -s 3 --trace-file "$t" -- \
	    node "$F/echo.js" < <(printf '{"a":1}\n1\n')
	assert_success
	run node "$F/trace_lines.js" "$t"
	assert_line 'node parent 8 text:{"a cut'
	assert_line 'node child 2 1'
	run --separate-stderr "$IPCRUN" run --trace-file "$BATS_TEST_TMPDIR/no/t" -- true
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: --trace-file '$BATS_TEST_TMPDIR/no/t': No such file or directory"
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
