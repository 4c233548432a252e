#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run with many children, their lives: restarts (backoff, the
# window, give-up), a worker killed mid-stream (its unread lines to the
# others or to its next start, the read ones counted), and the exit
# status rules with several children. Real children (node, sh, python3);
# waits have deadlines, nothing asserts a timing. (many.bats: routing,
# envelopes, output, events, hygiene.)

load helper

# A Node worker that exits with 3 on its first {"crash":...} message of
# the run (a marker file remembers), and echoes with its pid otherwise.
crash_worker() {
	cat > "$BATS_TEST_TMPDIR/crash.js" <<'JS'
const fs = require('fs');
const mark = process.argv[2];
process.on('message', (m) => {
	if (m.crash && !fs.existsSync(mark)) {
		fs.writeFileSync(mark, '');
		process.exit(3);
	}
	process.send({pid: process.pid, m});
});
JS
}

@test "--restart on-failure: the child comes back, with from and pid of the new one" {
	crash_worker
	held_fifo "$IPCRUN" run --restart on-failure --backoff 20ms:1s --events \
	    -c "w=node $BATS_TEST_TMPDIR/crash.js $BATS_TEST_TMPDIR/mark" \
	    --envelope
	printf '%s\n' '{"to":"w","msg":{"a":1}}' '{"to":"w","msg":{"crash":1}}' >&7
	wait_for 30 bash -c '[ "$(grep -c "\"event\":\"spawn\"" '"$BATS_TEST_TMPDIR/out"')" -eq 2 ]'
	printf '%s\n' '{"to":"w","msg":{"b":2}}' >&7
	exec 7>&-
	wait "$ipid"
	out="$BATS_TEST_TMPDIR/out"
	assert_equal "$(jq -r 'select(.event) | .event' "$out" | paste -sd' ')" \
	    'spawn ready exit restart spawn ready exit'
	jq -e -s '[.[] | select(.event == "restart")][0] |
	    .attempt == 1 and .delay_ms >= 15 and .delay_ms <= 25' "$out"
	jq -e -s '[.[] | select(.event == "exit")][0] | .code == 3' "$out"
	# Each reply is wrapped with the pid of the child that sent it.
	jq -e -s '[.[] | select(.msg) | .pid == .msg.pid] | length == 2 and all' "$out"
	second=$(jq -s '[.[] | select(.event == "spawn")][1].pid' "$out")
	jq -e -s "[.[] | select(.msg.m.b)][0].pid == $second" "$out"
	# The replaced child does not decide the status: the run is a success.
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
}

@test "--restart always: given up after --max-restarts, events in order, its status decides" {
	# Input that never ends (the test holds the fifo's write side), and
	# no process left behind to hold it.
	endless_fifo
	run --separate-stderr "$IPCRUN" run --channel stdio --restart always \
	    --backoff 1ms:2ms --max-restarts 2/1m --events-fd 3 \
	    -c 'w=sh -c "exit 4"' 3> "$BATS_TEST_TMPDIR/ev" \
	    < "$BATS_TEST_TMPDIR/fifo" 7<&-
	exec 7<&-
	assert_failure 4
	assert_equal "$(jq -r .event "$BATS_TEST_TMPDIR/ev" | paste -sd' ')" \
	    'spawn ready exit restart spawn ready exit restart spawn ready exit giveup'
	jq -e -s '[.[] | select(.event == "restart") | .attempt] == [1, 2]' \
	    "$BATS_TEST_TMPDIR/ev"
	[[ "$stderr" == *"'w' (pid "*") exited 3 times within the window: giving up (--max-restarts)"* ]]
}

@test "--restart: bad values and misuse are usage errors" {
	run --separate-stderr "$IPCRUN" run --restart sometimes -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --restart 'sometimes': "* ]]
	run --separate-stderr "$IPCRUN" run --restart always --backoff 2s:1s -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --backoff '2s:1s': "* ]]
	run --separate-stderr "$IPCRUN" run --restart always --max-restarts x/1s -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --max-restarts 'x/1s': "* ]]
	run --separate-stderr "$IPCRUN" run --backoff 1s -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --backoff and --max-restarts apply with --restart on-failure or always"* ]]
}

# --- a worker killed mid-stream (issue 19's tests, audited) ------------------

@test "kill -9 mid-stream: unread lines go to the other, read ones are counted" {
	# a (fixtures/read10.py) reads exactly 10 lines, one byte at a time so
	# that it takes no more, answers the first 4 and stops reading; its
	# other 990 lines are unread. b (cat) answers everything it gets.
	d=$BATS_TEST_TMPDIR
	lines 2000 > "$d/in"
	held_fifo "$IPCRUN" run --channel stdio --events \
	    -c "a=python3 $F/read10.py $d/held" -c 'b=cat'
	cat "$d/in" >&7
	wait_for 30 test -e "$d/held"
	wait_for 30 bash -c '[ "$(grep -c "\"from\":\"a\"" '"$d/out"')" -eq 4 ]'
	wait_for 30 bash -c '[ "$(grep -c "\"from\":\"b\"" '"$d/out"')" -ge 1000 ]'
	apid=$(grep '"event":"spawn","t":[0-9.]*,"name":"a"' "$d/out" | jq .pid)
	kill -KILL "$apid"
	wait_for 30 bash -c '[ "$(grep -c "\"from\":\"b\"" '"$d/out"')" -ge 1990 ]'
	exec 7>&-
	st=0
	wait "$ipid" || st=$?
	cat "$d/err"
	grep '"event"' "$d/out"
	assert_equal "$st" 137
	grep '"event":"exit"' "$d/out" | grep '"name":"a"' |
	    jq -e '.signal == "SIGKILL" and .rerouted == 990 and
		.undelivered == 0 and .unanswered == 6'
	# Every line came back once, but the 6 that a read and never
	# answered: nothing twice, nothing else missing.
	assert_equal "$(wc -l < "$d/held")" 6
	assert_equal "$(grep '"from"' "$d/out" | jq -c .msg | sort)" \
	    "$(sort "$d/in" | comm -23 - <(sort "$d/held"))"
	grep -q "'a' (pid $apid) exited (SIGKILL) with 6 lines read and not answered: possibly lost" \
	    "$d/err"
}

@test "kill -9 mid-stream of a Node worker: unread lines go to the other, the lost counted" {
	# a answers 5 messages and blocks for good on the 6th: it reads its
	# channel no more (lines 6 to 10 of its share are read, not
	# answered). The input goes on only then: a's share of the rest
	# stays unread, in its channel and in ipcrun's queue, and after
	# kill -9 goes to b (a Node echo). Only the 5 lines a read and never
	# answered are missing.
	cat > "$BATS_TEST_TMPDIR/stop.js" <<'JS'
let n = 0;
process.on("message", (m) => {
	if (++n <= 5)
		return process.send(m);
	require("fs").writeFileSync(process.argv[2], "");
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
JS
	d=$BATS_TEST_TMPDIR
	pad=$(head -c 80 /dev/zero | tr '\0' p)
	seq 1 5020 | sed 's/.*/{"i":&,"p":"'"$pad"'"}/' > "$d/in"
	held_fifo "$IPCRUN" run --events -c "a=node $d/stop.js $d/stopped" \
	    -c "b=node $F/echo.js"
	# 20 lines, 10 for a: it has read them all when it blocks.
	head -n 20 "$d/in" >&7
	wait_for 30 test -e "$d/stopped"
	wait_for 30 bash -c '[ "$(grep -c "\"from\":\"b\"" '"$d/out"')" -eq 10 ]'
	tail -n +21 "$d/in" >&7
	# b answering 2,000 more means round robin gave a its turns too.
	wait_for 60 bash -c '[ "$(grep -c "\"from\":\"b\"" '"$d/out"')" -ge 2010 ]'
	apid=$(grep '"event":"spawn","t":[0-9.]*,"name":"a"' "$d/out" | jq .pid)
	kill -KILL "$apid"
	exec 7>&-
	st=0
	wait "$ipid" || st=$?
	cat "$d/err"
	grep '"event"' "$d/out"
	assert_equal "$st" 137
	ev=$(grep '"event":"exit"' "$d/out" | grep '"name":"a"')
	# 5 unless Node had not yet read all of its 10 when it blocked.
	jq -e '.signal == "SIGKILL" and .rerouted > 0 and
	    .undelivered == 0 and .unanswered >= 1 and .unanswered <= 5' <<<"$ev"
	[ "$(grep -c '"from":"a"' "$d/out")" -eq 5 ]
	# Nothing twice, nothing that was not sent, and missing only those
	# a read and never answered, among the first 20, as many as counted.
	grep '"from"' "$d/out" | jq -c .msg | sort > "$d/got"
	assert_equal "$(uniq -d "$d/got")" ""
	sort "$d/in" | comm -23 - "$d/got" > "$d/missing"
	assert_equal "$(wc -l < "$d/missing")" "$(jq .unanswered <<<"$ev")"
	assert_equal "$(jq '.i <= 20' "$d/missing" | sort -u)" true
	assert_equal "$(sort "$d/in" | comm -13 - "$d/got")" ""
}

# --- exit status rules with several children (issue 19's tests, audited) -----

# exit_order FIRST SECOND: b ends first with FIRST (an sh exit word:
# "exit 5", 'kill -TERM $$'), a only after b's exit event, with SECOND;
# prints the status of the run.
exit_order() {
	local d=$BATS_TEST_TMPDIR
	rm -f "$d/go" "$d/ev"
	mkfifo "$d/go"
	printf 'read x < "$1"; %s\n' "$2" > "$d/a.sh"
	printf '%s\n' "$1" > "$d/b.sh"
	"$IPCRUN" run --channel stdio --events-fd 3 \
	    -c "a=sh $d/a.sh $d/go" -c "b=sh $d/b.sh" \
	    < /dev/null 3> "$d/ev" 2> "$d/err" &
	local ipid=$! st=0
	wait_for 30 grep -q '"event":"exit".*"name":"b"' "$d/ev"
	echo go > "$d/go"
	wait "$ipid" || st=$?
	echo "$st"
}

@test "exit status: the first child in exit order decides, not the name order or the worst" {
	assert_equal "$(exit_order 'exit 5' 'exit 3')" 5
	assert_equal "$(exit_order 'exit 3' 'exit 5')" 3
	# A signal is a failure too: 128 + N, first.
	assert_equal "$(exit_order 'kill -TERM $$' 'exit 3')" 143
	assert_equal "$(exit_order 'exit 4' 'kill -KILL $$')" 4
	# A child that succeeds decides nothing: the later failure does.
	assert_equal "$(exit_order 'exit 0' 'exit 6')" 6
	assert_equal "$(exit_order 'exit 6' 'exit 0')" 6
	assert_equal "$(exit_order 'exit 0' 'exit 0')" 0
}

@test "exit status: a child's failure wins over refused lines; 125 for a write error" {
	run --separate-stderr "$IPCRUN" run --channel stdio -c 'a=cat' \
	    -c 'b=sh -c "cat; exit 4"' < <(printf '{"a":1}\nbad\n{"b":2}\n')
	assert_failure 4
	[[ "$stderr" == *"-:2:1: "* ]]
	run --separate-stderr bash -c '"$IPCRUN" run --channel stdio -n 2 \
	    -- cat > /dev/full' < <(printf '{"a":1}\n')
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: write error on stdout: No space left on device"
}

@test "exit status 127 and 126 with several children: CMD not found, not executable" {
	run -127 --separate-stderr "$IPCRUN" run --channel stdio \
	    -c 'a=ipcrun-no-such-command' -c 'b=cat' < /dev/null
	assert_failure 127
	assert_equal "$stderr" "ipcrun: run: 'ipcrun-no-such-command': No such file or directory"
	# The same error for the same command is said once, however many copies.
	run -127 --separate-stderr "$IPCRUN" run --channel stdio -n 3 -- \
	    ipcrun-no-such-command < /dev/null
	assert_failure 127
	assert_equal "$stderr" "ipcrun: run: 'ipcrun-no-such-command': No such file or directory"
	printf '#!/bin/sh\n' > "$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr "$IPCRUN" run --channel stdio -c 'a=cat' \
	    -c "b=$BATS_TEST_TMPDIR/noexec" < /dev/null
	assert_failure 126
	assert_equal "$stderr" "ipcrun: run: '$BATS_TEST_TMPDIR/noexec': Permission denied"
}

# --- restarts: backoff and the window (issue 19's tests, audited) ------------

@test "--backoff: each delay doubles from MIN within 25%, and is waited for" {
	# The input stays open (a restart comes only before the end of input).
	endless_fifo
	run --separate-stderr "$IPCRUN" run --channel stdio --restart always \
	    --backoff 40ms:1s --max-restarts 4/1m --events-fd 3 \
	    -c 'w=sh -c "exit 4"' 3> "$BATS_TEST_TMPDIR/ev" < "$BATS_TEST_TMPDIR/fifo"
	assert_failure 4
	ev="$BATS_TEST_TMPDIR/ev"
	assert_equal "$(jq -r .event "$ev" | paste -sd' ')" \
	    "$(printf 'spawn ready exit restart %.0s' 1 2 3 4)spawn ready exit giveup"
	# Restart k: 40 ms x 2^(k-1), from 25% below (never under MIN) to
	# 25% above.
	jq -e -s '[.[] | select(.event == "restart")] |
	    [.[] | .attempt] == [1, 2, 3, 4] and
	    (.[0].delay_ms >= 40 and .[0].delay_ms <= 50) and
	    (.[1].delay_ms >= 60 and .[1].delay_ms <= 100) and
	    (.[2].delay_ms >= 120 and .[2].delay_ms <= 200) and
	    (.[3].delay_ms >= 240 and .[3].delay_ms <= 400)' "$ev"
	# Each new child is spawned no sooner than its delay after the exit
	# (t has millisecond steps, hence the 1.5 ms).
	jq -e -s '. as $e | [range(0; length) | select($e[.].event == "restart") |
	    ($e[. + 1].event == "spawn" and
	    $e[. + 1].t + 0.0015 >= $e[. - 1].t + $e[.].delay_ms / 1000)] |
	    length == 4 and all' "$ev"
	exec 7>&-
}

# flaky_sh MARK N CODE: a script that exits CODE on its first N runs
# (counted in MARK), then 0.
flaky_sh() {
	printf 'n=$(cat "%s" 2>/dev/null || echo 0)\necho $((n + 1)) > "%s"\n[ "$n" -ge %d ] || exit %d\n' \
	    "$1" "$1" "$2" "$3" > "$BATS_TEST_TMPDIR/flaky.sh"
	echo "$BATS_TEST_TMPDIR/flaky.sh"
}

@test "--max-restarts N/WINDOW counts only the deaths within WINDOW" {
	# The input stays open (a restart comes only before the end of input).
	endless_fifo
	# 4 failures, then success. Within 1m: given up at the third death.
	s=$(flaky_sh "$BATS_TEST_TMPDIR/n1" 4 3)
	run --separate-stderr "$IPCRUN" run --channel stdio --restart on-failure \
	    --backoff 50ms:60ms --max-restarts 2/1m --events-fd 3 \
	    -c "w=sh $s" 3> "$BATS_TEST_TMPDIR/ev1" < "$BATS_TEST_TMPDIR/fifo"
	assert_failure 3
	assert_equal "$(jq -r .event "$BATS_TEST_TMPDIR/ev1" | grep -c spawn)" 3
	jq -e -s 'last | .event == "giveup"' "$BATS_TEST_TMPDIR/ev1"
	# Within 20 ms: two deaths are always further apart (the delay is at
	# least 50 ms), so none is given up; the fifth run succeeds.
	s=$(flaky_sh "$BATS_TEST_TMPDIR/n2" 4 3)
	run --separate-stderr "$IPCRUN" run --channel stdio --restart on-failure \
	    --backoff 50ms:60ms --max-restarts 2/20ms --events-fd 3 \
	    -c "w=sh $s" 3> "$BATS_TEST_TMPDIR/ev2" < "$BATS_TEST_TMPDIR/fifo"
	assert_success
	assert_equal "$(jq -r .event "$BATS_TEST_TMPDIR/ev2" | paste -sd' ')" \
	    "$(printf 'spawn ready exit restart %.0s' 1 2 3 4)spawn ready exit"
	jq -e -s '[.[] | select(.event == "exit") | .code] == [3, 3, 3, 3, 0]' \
	    "$BATS_TEST_TMPDIR/ev2"
	[[ "$stderr" != *"giving up"* ]]
	exec 7>&-
}

# restart_midstream: a run with one child w on the stdio channel and
# --restart on-failure. The first w reads exactly 10 of 1,000 lines
# (one byte at a time, so that it takes no more), answers 4 and stops
# reading; it is killed, and its next incarnation (an echo, since the
# mark exists) gets the 990 lines the first never read. Leaves in
# $BATS_TEST_TMPDIR: in, out, err, ev (the events), held (the 6 lines
# read and never answered) and st (the status).
restart_midstream() {
	local d=$BATS_TEST_TMPDIR ipid pid st=0
	lines 1000 > "$d/in"
	held_fifo "$IPCRUN" run --channel stdio --restart on-failure --backoff 10ms \
	    --events-fd 3 -c "w=python3 $F/read10.py $d/held" 3> "$d/ev"
	cat "$d/in" >&7
	wait_for 30 test -e "$d/held"
	wait_for 30 bash -c '[ "$(wc -l < '"$d/out"')" -eq 4 ]'
	pid=$(jq 'select(.event == "spawn") | .pid' "$d/ev")
	kill -KILL "$pid"
	wait_for 30 bash -c '[ "$(wc -l < '"$d/out"')" -eq 994 ]'
	exec 7>&-
	wait "$ipid" || st=$?
	echo "$st" > "$d/st"
	cat "$d/err" "$d/ev"
}

@test "--restart: a worker killed mid-stream gives its unread lines to its next incarnation" {
	restart_midstream
	d=$BATS_TEST_TMPDIR
	# The replaced child does not decide the status.
	assert_equal "$(cat "$d/st")" 0
	assert_equal "$(jq -r .event "$d/ev" | paste -sd' ')" \
	    'spawn ready exit restart spawn ready exit'
	jq -e -s '[.[] | select(.event == "exit")] |
	    .[0].signal == "SIGKILL" and .[1].code == 0 and
	    .[1].unanswered == 0' "$d/ev"
	# Every line came back once, but the 6 the first w read and never
	# answered.
	assert_equal "$(wc -l < "$d/held")" 6
	assert_equal "$(sort "$d/out")" \
	    "$(sort "$d/in" | comm -23 - <(sort "$d/held"))"
}

@test "--restart: the exit event of a worker killed mid-stream counts only the lines it read" {
	restart_midstream
	jq -e -s '[.[] | select(.event == "exit")][0] |
	    .signal == "SIGKILL" and .unanswered == 6 and .rerouted == 990' \
	    "$BATS_TEST_TMPDIR/ev"
}
