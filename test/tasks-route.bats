#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# run --tasks with a route that names each task's child: --route key=PATH
# and --envelope. A task is retried on its own child once that child has
# restarted, and given up when it will not be; broadcast stays refused.
# Real Node workers (test/fixtures/task_worker.js) that crash.

load helper

TW=$F/task_worker.js

# keyed N MOD: N tasks {"i":I,"k":I%MOD}.
keyed() {
	seq 1 "$1" | awk -v m="$2" '{ printf "{\"i\":%d,\"k\":%d}\n", $1, $1 % m }'
}

# addressed N: N envelopes, the odd tasks to a and the even ones to b.
addressed() {
	seq 1 "$1" | awk '{ printf "{\"to\":\"%s\",\"msg\":{\"i\":%d}}\n",
	    $1 % 2 ? "a" : "b", $1 }'
}

@test "tasks --route key: 600 tasks, workers crashing on every 50th: each answered once, by its key's child, exit 0" {
	keyed 600 7 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=50 run -0 --separate-stderr "$IPCRUN" run -n 3 --tasks \
	    --route key=.k --restart on-failure --backoff 10ms:50ms \
	    --max-restarts 50/1m --seq --events-fd 3 -- node "$TW" \
	    < "$BATS_TEST_TMPDIR/in" 3> "$BATS_TEST_TMPDIR/ev"
	O=$BATS_TEST_TMPDIR/out
	printf '%s\n' "$output" > "$O"
	[ "$(wc -l < "$O")" -eq 600 ]
	run -0 bash -c "jq -r .seq '$O' | sort -n | uniq | wc -l"
	assert_output 600
	run -0 jq -c 'select(.seq != .msg.i)' "$O"
	assert_output ""
	# Every reply of a key from one child, across its restarts.
	run -0 bash -c "jq -r '\"\(.msg.i % 7) \(.from)\"' '$O' | sort -u |
	    cut -d' ' -f1 | uniq -d"
	assert_output ""
	# A failed task is answered by the child it failed on.
	jq -r 'select(.event == "task-failed") | "\(.seq) \(.name)"' \
	    "$BATS_TEST_TMPDIR/ev" | sort > "$BATS_TEST_TMPDIR/failed"
	[ -s "$BATS_TEST_TMPDIR/failed" ]
	jq -r '"\(.seq) \(.from)"' "$O" | sort > "$BATS_TEST_TMPDIR/answered"
	run -0 comm -23 "$BATS_TEST_TMPDIR/failed" "$BATS_TEST_TMPDIR/answered"
	assert_output ""
	run -0 grep -c '"event":"restart"' "$BATS_TEST_TMPDIR/ev"
	(( output >= 3 ))
	refute grep -q task-given-up "$BATS_TEST_TMPDIR/ev"
}

@test "tasks --route key: a key's child not restarted: its tasks given up, in --rejects, the others answered, exit 1" {
	keyed 200 10 > "$BATS_TEST_TMPDIR/in"
	POISON=5 run -1 --separate-stderr "$IPCRUN" run -n 2 --tasks \
	    --route key=.k --rejects "$BATS_TEST_TMPDIR/rej" --seq \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	O=$BATS_TEST_TMPDIR/out
	printf '%s\n' "$output" > "$O"
	# Each task either answered or rejected, once.
	cat <(jq -r .seq "$O") <(jq -r .i "$BATS_TEST_TMPDIR/rej") | sort -n \
	    > "$BATS_TEST_TMPDIR/all"
	seq 1 200 | diff - "$BATS_TEST_TMPDIR/all"
	grep -qx '{"i":5,"k":5}' "$BATS_TEST_TMPDIR/rej"
	# Only the keys of task 5's child are given up; the other child
	# answered every task of its own keys.
	child=$(sed -n "s/.*-:5: task given up after 1 try (child '\([^']*\)' is not restarted)$/\1/p" <<<"$stderr")
	[ -n "$child" ]
	run -0 jq -r "select(.from != \"$child\") | .msg.i % 10" "$O"
	others=$(sort -u <<<"$output")
	run -0 bash -c "jq -r '.k' '$BATS_TEST_TMPDIR/rej' | sort -u"
	[ -z "$(comm -12 <(echo "$others") <(echo "$output"))" ]
	# Tasks the child never began are given up without a try.
	[[ $stderr == *"task given up (child '$child' is not restarted)"* ]]
}

@test "tasks --route key: a line without the key is refused; --route-default takes it" {
	printf '%s\n' '{"i":1,"k":1}' '{"i":2}' '{"i":3,"k":3}' \
	    > "$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr "$IPCRUN" run -n 2 --tasks --route key=.k \
	    --seq -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq .seq | sort -n | paste -sd' ')" '1 3'
	assert_equal "$stderr" "ipcrun: run: -:2:1: no member .k to route by (line not delivered)"
	run -0 --separate-stderr "$IPCRUN" run -c a="node $TW" -c b="node $TW" \
	    --tasks --route key=.k --route-default b --seq \
	    < "$BATS_TEST_TMPDIR/in"
	assert_equal "${#lines[@]}" 3
	[[ $output == *'{"seq":2,"from":"b",'* ]]
}

@test "tasks --envelope: a task per named child, retried there after its restart, each answered once" {
	addressed 300 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=40 run -0 --separate-stderr "$IPCRUN" run \
	    -c a="node $TW" -c b="node $TW" --envelope --tasks --seq \
	    --restart on-failure --backoff 10ms:50ms --max-restarts 50/1m \
	    --events-fd 3 < "$BATS_TEST_TMPDIR/in" 3> "$BATS_TEST_TMPDIR/ev"
	O=$BATS_TEST_TMPDIR/out
	printf '%s\n' "$output" > "$O"
	[ "$(wc -l < "$O")" -eq 300 ]
	run -0 bash -c "jq -r .seq '$O' | sort -n | uniq | wc -l"
	assert_output 300
	# The message went, not the envelope, and to the child it names.
	run -0 jq -c 'select(.seq != .msg.i or .from != (if .seq % 2 == 1
	    then "a" else "b" end))' "$O"
	assert_output ""
	run -0 grep -c '"event":"restart"' "$BATS_TEST_TMPDIR/ev"
	(( output >= 4 ))
	run -0 grep -c '"event":"task-failed"' "$BATS_TEST_TMPDIR/ev"
	(( output >= 4 ))
}

@test "tasks --envelope: a stuck child holds up the others only once --max-inflight tasks wait for it" {
	printf '%s\n' '{"to":"a","msg":{"i":1}}' '{"to":"a","msg":{"i":2}}' \
	    '{"to":"b","msg":{"i":3}}' '{"to":"b","msg":{"i":4}}' \
	    > "$BATS_TEST_TMPDIR/in"
	# a blocks for ever on task 1: only --task-timeout ends it.
	HANG=1 run -1 --separate-stderr "$IPCRUN" run -c a="node $TW" \
	    -c b="node $TW" --envelope --tasks --max-inflight 1 \
	    --task-timeout 2s --kill-timeout 500ms --retries 0 \
	    --restart on-failure --seq --events < "$BATS_TEST_TMPDIR/in"
	[[ $stderr == *"-:1: task given up after 1 try (timed out)"* ]]
	# Task 2 waited for a's next start; b answered 3 and 4 while a was
	# stuck, before task 1 was given up.
	[[ $output == *'{"seq":2,"from":"a",'* ]]
	run -0 grep -E '"seq":[34],|"event":"task-given-up"' <<<"$output"
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[2]} == *'"event":"task-given-up"'*'"seq":1,'* ]]
}

@test "tasks --envelope: --rejects keeps the whole envelope; a list or * is refused: one reply per task" {
	{ addressed 6; printf '%s\n' '{"to":["a","b"],"msg":{"i":7}}' \
	    '{"to":"*","msg":{"i":8}}' '{"to":["b"],"msg":{"i":9}}'; } \
	    > "$BATS_TEST_TMPDIR/in"
	POISON=3 run -1 --separate-stderr "$IPCRUN" run -c a="node $TW" \
	    -c b="node $TW" --envelope --tasks --seq --retries 1 \
	    --restart on-failure --rejects "$BATS_TEST_TMPDIR/rej" \
	    < "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq .seq | sort -n | paste -sd' ')" '1 2 4 5 6 9'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rej")" '{"to":"a","msg":{"i":3}}'
	[[ $stderr == *"ipcrun: run: -:3: task given up after 2 tries (exited)"* ]]
	[[ $stderr == *"ipcrun: run: -:7:1: a task has one reply: the envelope must name one child (line not delivered)"* ]]
	[[ $stderr == *"ipcrun: run: -:8:1: a task has one reply: the envelope must name one child (line not delivered)"* ]]
}

@test "tasks --route broadcast: refused, with the reason" {
	run -125 "$IPCRUN" run -n 2 --tasks --route broadcast -- true
	assert_line "ipcrun: run: --tasks cannot be used with --route broadcast: every child would answer each task"
}
