#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the exit status with one child, every rule of ipcrun-run(1)
# EXIT STATUS, and the signals ipcrun forwards to the child's group.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

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

@test "exit status 1: a child that read none of its input did not succeed" {
	# The most common first mistake: a stdin filter on the node channel.
	# Input from a file: it is there to count however fast the child ends.
	printf '{"a":1}\n{"a":2}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -- jq -c . < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_output ''
	[[ "$stderr" == *"'jq' never read its channel"* ]]
	run --separate-stderr "$IPCRUN" run --channel stdio -- \
	    sh -c 'exec 0<&-; exit 0' < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	[[ "$stderr" == *"'sh' never read its input"* ]]
	# Its own failure still comes first.
	run --separate-stderr "$IPCRUN" run --channel stdio -- \
	    sh -c 'exec 0<&-; exit 4' < "$BATS_TEST_TMPDIR/in"
	assert_failure 4
}

@test "exit status 0: a child that read some of its input and left, as head does" {
	run --separate-stderr "$IPCRUN" run --channel stdio -- \
	    python3 -c 'import sys; print(sys.stdin.readline(), end="")' \
	    < <(seq 1 5000 | sed 's/.*/{"i":&}/')
	assert_success
	assert_output '{"i":1}'
	[[ "$stderr" == *"'python3' exited before reading all its input"* ]]
	[[ "$stderr" != *"never read"* ]]
	# Nothing to read is not a failure either.
	run --separate-stderr "$IPCRUN" run --channel stdio -- true < /dev/null
	assert_success
	assert_equal "$stderr" ""
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

# --- signals -----------------------------------------------------------------

@test "signals are forwarded to the child's group exactly once" {
	held_fifo setsid "$IPCRUN" run -- node "$F/signals.js"
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
	held_fifo "$IPCRUN" run -- node "$F/keepalive.js"
	wait_for 20 grep -q '"pid"' "$BATS_TEST_TMPDIR/out"
	kill -TERM "$ipid"
	rc=0
	wait "$ipid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 143
}

@test "a stopped child still ends on a forwarded SIGTERM" {
	bg "$IPCRUN" run --channel stdio -- sh -c 'echo "{\"pid\":$$}"; kill -STOP $$; echo "{\"resumed\":1}"; sleep 60' \
	    < /dev/null > "$BATS_TEST_TMPDIR/out" 2>&1
	pid=$!
	wait_for 10 grep -q pid "$BATS_TEST_TMPDIR/out"
	child=$(jq -r .pid "$BATS_TEST_TMPDIR/out" | head -n 1)
	wait_for 10 bash -c 'ps -o stat= -p '"$child"' | grep -q T'
	kill -TERM "$pid"
	wait_for 10 bash -c '! kill -0 '"$pid"' 2>/dev/null'
	run wait "$pid"
	assert_equal "$status" 143
}

@test "a child that read all it was sent and left while the input was open: no 'not delivered' line" {
	# As head(1): nothing was lost, so there is nothing to report, and
	# the status is the child's.
	held_fifo "$IPCRUN" run --channel stdio -- head -n 1
	printf '{"a":1}\n' >&7
	wait "$ipid" || fail "ipcrun exited with $?"
	exec 7>&-
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"a":1}'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
	w=$(node_worker 'process.once("message", (m) => process.send(m, () => process.exit(0)));')
	rm -f "$BATS_TEST_TMPDIR/fifo"
	held_fifo "$IPCRUN" run -- node "$w"
	printf '{"a":1}\n' >&7
	wait "$ipid" || fail "ipcrun exited with $?"
	exec 7>&-
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"a":1}'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
}
