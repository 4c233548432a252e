#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run -v (each frame's content, cut and escaped; the notices), -q,
# --stats and the progress meter, with real children (node and cat).
# No timings are asserted; the terminal cases read a pty to its end.

load helper

# A timestamp, as -v and --trace print it.
T='[0-9]+\.[0-9]{6}'

# A file just over 64 MiB: blank lines (quick to frame, never sent), one
# good line, one bad line (line 16386) and one more good line.
big_input() {
	python3 - "$1" <<'PY'
import sys
with open(sys.argv[1], 'wb') as f:
    f.write((b' ' * 4095 + b'\n') * 16384)
    f.write(b'{"n":1}\n{bad}\n{"n":2}\n')
PY
}

# --- -v: frames -------------------------------------------------------------

@test "-v: each frame to and from a stdio child, with the time and its name" {
	run --separate-stderr "$IPCRUN" run -v --channel stdio cat \
	    < <(printf '{"a":1}\n\n{"b":[2,3]}\n')
	assert_success
	assert_equal "$output" $'{"a":1}\n{"b":[2,3]}'
	assert_regex "$stderr" "^ipcrun: run: $T cat > \\{\"a\":1\\}"$'\n'
	assert_regex "$stderr" $'\n'"ipcrun: run: $T cat > \\{\"b\":\\[2,3\\]\\}"$'\n'
	assert_regex "$stderr" $'\n'"ipcrun: run: $T cat < \\{\"a\":1\\}"$'\n'
	assert_regex "$stderr" $'\n'"ipcrun: run: $T cat < \\{\"b\":\\[2,3\\]\\}$"
	assert_equal "$(grep -c . <<<"$stderr")" 4
	# --trace keeps its sizes-only lines beside them.
	run --separate-stderr "$IPCRUN" run --trace --channel stdio cat \
	    < <(printf '{"a":1}\n')
	assert_success
	assert_regex "$stderr" "ipcrun: run: trace $T -> child 8 bytes"
	[[ $stderr != *'{"a":1}'* ]]
}

@test "-v: a Node child's frames both ways, its internal messages marked" {
	run --separate-stderr "$IPCRUN" run -v -- node "$F/echo.js" \
	    < <(printf '{"a":1}\n["x"]\n')
	assert_success
	assert_equal "$output" $'{"a":1}\n["x"]'
	assert_regex "$stderr" "ipcrun: run: $T node > \\{\"a\":1\\}"
	assert_regex "$stderr" "ipcrun: run: $T node > \\[\"x\"\\]"
	assert_regex "$stderr" "ipcrun: run: $T node < \\{\"a\":1\\}"
	assert_regex "$stderr" "ipcrun: run: $T node < \\[\"x\"\\]"
	assert_regex "$stderr" "ipcrun: run: $T node < internal \\{\"cmd\":\"NODE_IPCRUN_READY\""
	assert_regex "$stderr" "ipcrun: run: $T node > internal \\{\"cmd\":\"NODE_IPCRUN_EOF\"\\}"
	# The notice goes after the last input line, never before it.
	[[ ${stderr%%NODE_IPCRUN_EOF*} == *'node > ["x"]'* ]]
}

@test "-v: a long frame is cut after 64 bytes, never inside a character" {
	long=$(printf '"%s"' "$(printf 'x%.0s' $(seq 100))")
	exact=$(printf '"%s"' "$(printf 'y%.0s' $(seq 62))")
	# 63 bytes, then a 2-byte character that would end at byte 65.
	split=$(printf '"%s\303\251"' "$(printf 'z%.0s' $(seq 62))")
	run --separate-stderr "$IPCRUN" run -v --channel stdio cat \
	    < <(printf '%s\n%s\n%s\n' "$long" "$exact" "$split")
	assert_success
	assert_equal "$output" "$long"$'\n'"$exact"$'\n'"$split"
	assert_regex "$stderr" "cat > ${long:0:64}\\.\\.\\."$'\n'
	assert_regex "$stderr" "cat < ${long:0:64}\\.\\.\\."$'\n'
	# Exactly 64 bytes: whole, no dots.
	assert_regex "$stderr" "cat > $exact"$'\n'
	assert_regex "$stderr" "cat > \"z{62}\\.\\.\\."$'\n'
	[[ $stderr != *$'\303'* ]]
}

@test "-v -s N: N bytes shown, 0 the whole frame, however long; a bad -s is refused" {
	long=$(printf '"%s"' "$(printf 'x%.0s' $(seq 5000))")
	run --separate-stderr "$IPCRUN" run -v -s 0 --channel stdio cat \
	    < <(printf '%s\n' "$long")
	assert_success
	[[ $stderr$'\n' == *"cat > $long"$'\n'* ]]
	[[ $stderr$'\n' == *"cat < $long"$'\n'* ]]
	run --separate-stderr "$IPCRUN" run -v -s 3 --channel stdio cat \
	    < <(printf '%s\n' "$long")
	assert_regex "$stderr" 'cat > "xx\.\.\.'$'(\n|$)'
	assert_regex "$stderr" 'cat < "xx\.\.\.'$'(\n|$)'
	run --separate-stderr "$IPCRUN" serve -v -s -1 -l unix:@x -- cat
	assert_failure 125
	assert_equal "${stderr_lines[0]}" "ipcrun: serve: -s '-1': too small"
}

@test "-v: control bytes, invalid UTF-8 and bidi controls are escaped" {
	printf 'a\tb\001c\033[31m\377 \\ \303\251 \342\200\256x\302\205\r\n' \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -v --no-validate --channel stdio \
	    cat < "$BATS_TEST_TMPDIR/in"
	assert_success
	# The data itself is untouched.
	cmp <(printf '%s\n' "$output") "$BATS_TEST_TMPDIR/in"
	want='a\tb\x01c\x1b[31m\xff \\ '$'\303\251'' \u202Ex\u0085\r'
	assert_equal "$(sed -n 's/^ipcrun: run: [0-9.]* cat > //p' <<<"$stderr")" "$want"
	assert_equal "$(sed -n 's/^ipcrun: run: [0-9.]* cat < //p' <<<"$stderr")" "$want"
	# Nothing below 0x20 but the newlines reaches the terminal.
	[ "$(tr -d '\n' <<<"$stderr" | LC_ALL=C tr -d '\040-\176\200-\377' | wc -c)" -eq 0 ]
}

# --- -v, -q: notices and warnings -------------------------------------------

@test "-v: the notices a user cannot act on appear only with it" {
	run --separate-stderr "$IPCRUN" run --eof close -- node "$F/echo.js" \
	    < /dev/null
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr "$IPCRUN" run -v --eof close -- node "$F/echo.js" \
	    < /dev/null
	assert_success
	assert_regex "$stderr" "ipcrun: run: closing the channel of 'node' \\(pid [0-9]+\\) at the end of input \\(--eof close\\)"
	# A child ipcrun stops: the warnings always, the notice with -v.
	run --separate-stderr "$IPCRUN" run --channel stdio --eof-timeout 0.1 \
	    --kill-timeout 0.1 -v -- sleep 100 < /dev/null
	assert_success
	assert_regex "$stderr" "'sleep' \\(pid [0-9]+\\) is still running; sending SIGTERM"$'\n'"ipcrun: run: 'sleep' \\(pid [0-9]+\\) was stopped by ipcrun with SIGTERM$"
	run --separate-stderr "$IPCRUN" run --channel stdio --eof-timeout 0.1 \
	    --kill-timeout 0.1 -- sleep 100 < /dev/null
	assert_success
	assert_regex "$stderr" "'sleep' \\(pid [0-9]+\\) is still running; sending SIGTERM$"
	[[ $stderr != *"stopped by ipcrun"* ]]
}

@test "-q: warnings and refused lines go quiet, the status stays; errors still print" {
	run --separate-stderr "$IPCRUN" run -q --channel stdio cat \
	    < <(printf '{"a":1}\nbad\n{"b":2}\n')
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n{"b":2}'
	assert_equal "$stderr" ""
	# Without -q, the same run says why.
	run --separate-stderr "$IPCRUN" run --channel stdio cat \
	    < <(printf '{"a":1}\nbad\n{"b":2}\n')
	assert_failure 1
	assert_equal "$stderr" "ipcrun: run: -:2:1: expected a value, found 'b'"
	# A child that reads none of its input: the warnings go quiet, the
	# status (1) stays.
	printf '{"a":1}\n' > "$BATS_TEST_TMPDIR/one"
	run --separate-stderr "$IPCRUN" run -q --channel stdio true \
	    < "$BATS_TEST_TMPDIR/one"
	assert_failure 1
	assert_equal "$stderr" ""
	# ipcrun's own failure is an error: it prints, and decides the status.
	run -127 --separate-stderr "$IPCRUN" run -q --channel stdio \
	    "$BATS_TEST_TMPDIR/none" < /dev/null
	assert_failure 127
	assert_equal "$stderr" "ipcrun: run: '$BATS_TEST_TMPDIR/none': No such file or directory"
	run --separate-stderr bash -c '"$IPCRUN" run -q --channel stdio cat \
	    < <(printf "{\"a\":1}\n") >&-'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: write error on stdout: Bad file descriptor"
}

@test "-q with -v or --stats is a usage error" {
	run --separate-stderr "$IPCRUN" run -q -v cat
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: run: -q and -v cannot be used together\nTry \'ipcrun run --help\'.'
	run --separate-stderr "$IPCRUN" run -q --stats cat
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: run: -q and --stats cannot be used together\nTry \'ipcrun run --help\'.'
}

# --- --stats ----------------------------------------------------------------

@test "--stats: one line with the exact counts for a known input" {
	for i in $(seq 100); do printf '{"i":"%03d"}\n' "$i"; done \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --stats --channel stdio cat \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 100
	# 100 lines of 12 bytes each way.
	assert_regex "$stderr" '^ipcrun: run: stats: in 100 lines 1200 B, refused 0, delivered 100, replies 100 lines 1200 B, [0-9]+\.[0-9]{3} s, [0-9]+ lines/s in$'
	# A blank and a bad line are read, not delivered; the bad one refused.
	printf '\n{x\n' >> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --stats --channel stdio cat \
	    < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_regex "$stderr" $'\nipcrun: run: stats: in 102 lines 1204 B, refused 1, delivered 100, replies 100 lines 1200 B, [0-9.]+ s, [0-9]+ lines/s in$'
}

@test "--stats: a Node child; replies counted as it sent them; lines it never read are not delivered" {
	run --separate-stderr "$IPCRUN" run --stats -- node -e \
	    'process.on("message", (m) => process.send({r: m}))' \
	    < <(printf '{"a":1}\n{"b":2}\n')
	assert_success
	assert_regex "$stderr" '^ipcrun: run: stats: in 2 lines 16 B, refused 0, delivered 2, replies 2 lines 28 B, '
	# A child that reads nothing: all three lines undelivered, and the
	# run fails.
	# (From a file: the lines are there to count however fast it ends.)
	printf '1\n2\n3\n' > "$BATS_TEST_TMPDIR/three"
	run --separate-stderr "$IPCRUN" run --stats --channel stdio true \
	    < "$BATS_TEST_TMPDIR/three"
	assert_failure 1
	assert_regex "$stderr" $'^ipcrun: run: \'true\' exited before reading all its input: 3 input lines not delivered\nipcrun: run: \'true\' never read its input\nipcrun: run: stats: in 3 lines 6 B, refused 0, delivered 0, replies 0 lines 0 B, '
}

# --- the progress meter -----------------------------------------------------

@test "progress: a large file on a terminal shows a meter, erased before reports and at the end" {
	big_input "$BATS_TEST_TMPDIR/big"
	on_tty "'$IPCRUN' run --channel stdio cat < '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	assert_regex "$output" $'\r[^\r]*[0-9]+%  [0-9.]+ [KMG]?i?B of 64.0 MiB  [0-9]+ lines  0 bad  [0-9.]+ [KMG]?i?B/s'
	assert_regex "$output" $'\r +\ripcrun: run: -:16386:2: expected a string key'
	last=${output##*lines}
	assert_regex "$last" $'\r +\r'
}

@test "progress: never on a pipe, with TERM=dumb, -q or --no-progress; NO_COLOR keeps it" {
	big_input "$BATS_TEST_TMPDIR/big"
	msg="ipcrun: run: -:16386:2: expected a string key, found 'b'"
	run --separate-stderr "$IPCRUN" run --channel stdio cat \
	    < "$BATS_TEST_TMPDIR/big"
	assert_failure 1
	assert_equal "$stderr" "$msg"
	on_tty "TERM=dumb '$IPCRUN' run --channel stdio cat < '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	assert_equal "${output//$'\r'/}" "$msg"
	# NO_COLOR is about colour; the meter has none (issue 30 item 8).
	on_tty "NO_COLOR=1 '$IPCRUN' run --channel stdio cat < '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	[[ $output == *lines* ]]
	[[ ${output//$'\r'/} == *"$msg"* ]]
	on_tty "'$IPCRUN' run --no-progress --channel stdio cat < '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_equal "${output//$'\r'/}" "$msg"
	on_tty "'$IPCRUN' run -q --channel stdio cat < '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	assert_output ""
	# A small file: no meter either.
	printf '{"a":1}\n' > "$BATS_TEST_TMPDIR/small"
	on_tty "'$IPCRUN' run --channel stdio cat < '$BATS_TEST_TMPDIR/small' > /dev/null"
	assert_success
	[[ $output != *lines* ]]
}

@test "progress: --progress on a pipe; erased before -v lines and the children's log lines" {
	run --separate-stderr bash -c 'printf "{\"a\":1}\n" | NO_COLOR=1 TERM=dumb "$IPCRUN" run --progress -v --log prefix --channel stdio -- sh -c "cat; echo done >&2"'
	assert_success
	assert_equal "$output" '{"a":1}'
	# Drawn at least once (how many lines it had seen by then varies).
	assert_regex "$stderr" $'\rstdin  [0-9]+ B  [01] lines  0 bad  [0-9.]+ [KMG]?i?B/s'
	# Each -v and log line starts a line of its own: at the start, after
	# a newline, or after the meter was blanked (whether the meter was
	# drawn just before depends on how fast the reply comes).
	assert_regex "$stderr" $'(^|\n|\r +\r)'"ipcrun: run: $T sh < \\{\"a\":1\\}"
	assert_regex "$stderr" $'(^|\n|\r +\r)sh\\| done'
	[[ $stderr != *%* ]]
	# Nothing is left on the line at the end.
	[[ ${stderr##*$'\n'} != *stdin* ]]
}

@test "progress: the children's stderr goes through ipcrun while the meter shows" {
	big_input "$BATS_TEST_TMPDIR/big"
	on_tty "'$IPCRUN' run --channel stdio -- sh -c 'cat >/dev/null; echo bye >&2' < '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	# On a line of its own, behind its name: not after the meter's text.
	assert_regex "$output" $'[\r\n]sh\\| bye'
}
