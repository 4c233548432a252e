#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# run --tasks: each input line a task with exactly one reply, with real
# Node workers (test/fixtures/task_worker.js: crash on every Nth of its
# own tasks, a poison task, a task that blocks, async replies) and Python
# stdio workers. Correlation, retries, --rejects, --task-timeout, --seq,
# --wrap, --id, -n auto, --stats, the exit status and the refusals.

load helper

TW=$F/task_worker.js

# seqs FILE: the task numbers of a --seq output, sorted, one a line.
seqs() {
	jq -r .seq "$1" | sort -n
}

@test "tasks: 5000 tasks, a worker crashing on every 1000th: each answered once, restarts, exit 0" {
	lines 5000 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=1000 run -0 --separate-stderr "$IPCRUN" run -n 2 --tasks \
	    --restart on-failure --max-restarts 20/1m --seq --events-fd 3 \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in" 3> "$BATS_TEST_TMPDIR/ev"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 5000 ]
	# Every task once, and each reply is its own task's.
	run -0 bash -c "jq -r .seq '$BATS_TEST_TMPDIR/out' | sort -n | uniq | wc -l"
	assert_output 5000
	run -0 jq -c 'select(.seq != .msg.i)' "$BATS_TEST_TMPDIR/out"
	assert_output ""
	run -0 grep -c '"event":"restart"' "$BATS_TEST_TMPDIR/ev"
	(( output >= 4 ))
	run -0 grep -c '"event":"task-failed"' "$BATS_TEST_TMPDIR/ev"
	(( output >= 4 ))
	refute grep -q task-given-up "$BATS_TEST_TMPDIR/ev"
}

@test "tasks: a poison task is given up after --retries 2, in --rejects, exit 1, the run goes on" {
	lines 20 > "$BATS_TEST_TMPDIR/in"
	POISON=7 run -1 --separate-stderr "$IPCRUN" run -n 2 --tasks \
	    --retries 2 --rejects "$BATS_TEST_TMPDIR/rej" --restart on-failure \
	    --events-fd 3 -- node "$TW" < "$BATS_TEST_TMPDIR/in" \
	    3> "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -eq 19 ]
	refute_output --partial '"i":7,'
	assert_equal "$stderr" "ipcrun: run: -:7: task given up after 3 tries (exited)"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rej")" '{"i":7}'
	run -0 grep -c '"event":"task-failed".*"seq":7,' "$BATS_TEST_TMPDIR/ev"
	assert_output 3
	run -0 grep -c '"event":"task-given-up".*"seq":7,"tries":3' \
	    "$BATS_TEST_TMPDIR/ev"
	assert_output 1
}

@test "tasks: --retries 0 gives a failed task up at once" {
	lines 5 > "$BATS_TEST_TMPDIR/in"
	POISON=3 run -1 --separate-stderr "$IPCRUN" run --tasks --retries 0 \
	    --restart on-failure -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 4 ]
	assert_equal "$stderr" "ipcrun: run: -:3: task given up after 1 try (exited)"
}

@test "tasks: a task that hangs is timed out, its worker restarted, the others answered" {
	lines 20 > "$BATS_TEST_TMPDIR/in"
	HANG=5 run -1 --separate-stderr "$IPCRUN" run -n 2 --tasks \
	    --task-timeout 2s --kill-timeout 1s --retries 1 --events-fd 3 \
	    --stats -- node "$TW" < "$BATS_TEST_TMPDIR/in" \
	    3> "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -eq 19 ]
	refute_output --partial '"i":5,'
	[[ $stderr == *"-:5: task timed out on"* ]]
	[[ $stderr == *"-:5: task given up after 2 tries (timed out)"* ]]
	[[ $stderr == *"tasks 20, done 19, failed 1, retried 0, timed out 2,"* ]]
	run -0 grep -c '"event":"restart"' "$BATS_TEST_TMPDIR/ev"
	(( output >= 2 ))
}

@test "tasks: without --restart a crashed worker's tasks go to the others" {
	lines 300 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=20 ONCE="$BATS_TEST_TMPDIR/once" run -0 \
	    --separate-stderr "$IPCRUN" run -n 3 --tasks --seq --events-fd 3 \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in" 3> "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -eq 300 ]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	run -0 grep -c '"event":"exit".*"code":3' "$BATS_TEST_TMPDIR/ev"
	assert_output 1
	run -0 bash -c "jq -r .seq '$BATS_TEST_TMPDIR/out' | sort -n | uniq | wc -l"
	assert_output 300
}

@test "tasks: no child left: what waits is given up, exit 1" {
	lines 10 > "$BATS_TEST_TMPDIR/in"
	POISON=4 run -1 --separate-stderr "$IPCRUN" run --tasks \
	    --rejects "$BATS_TEST_TMPDIR/rej" -- node "$TW" \
	    < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 3 ]
	assert_equal "$stderr" "ipcrun: run: no child left to take tasks: 7 given up"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rej")" "$(lines 10 | tail -n 7)"
}

@test "tasks: -n 1 with --restart carries on after each crash" {
	lines 300 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=100 run -0 --separate-stderr "$IPCRUN" run --tasks \
	    --restart on-failure --stats -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 300 ]
	# --stats adds up across the restarts (issue 29 item 11).
	[[ $stderr == *"in 300 lines"*"delivered 300, replies 300 lines"* ]]
	[[ $stderr == *"tasks 300, done 300, failed 0, retried 3,"* ]]
}

@test "tasks: --id .i with an async worker that answers out of order" {
	lines 200 > "$BATS_TEST_TMPDIR/in"
	ASYNC=1 run -0 --separate-stderr "$IPCRUN" run -n 2 --tasks --id .i \
	    --seq --stats -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 200 ]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	run -0 jq -c 'select(.seq != .msg.i)' "$BATS_TEST_TMPDIR/out"
	assert_output ""
	[[ $stderr == *"unmatched replies 0"* ]]
}

@test "tasks: a reply that matches no task is reported and passed through" {
	w=$(node_worker 'process.on("message", (m) => { process.send(m);
	    if (m.i === 2) process.send({ extra: 1 }); });')
	lines 3 > "$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr "$IPCRUN" run --tasks --seq --id .i \
	    -- node "$w" < "$BATS_TEST_TMPDIR/in"
	assert_line '{"seq":null,"from":"node","pid":'"$(jq -r .pid <<< "${lines[0]}")"',"msg":{"extra":1}}'
	assert_equal "$stderr" "ipcrun: run: 'node' reply 3 matches no task: no member at the --id path (passed through)"
}

@test "tasks: python3 stdio workers, crashing, with --seq" {
	cat > "$BATS_TEST_TMPDIR/w.py" <<'PY'
import json, os, sys
# Exits on each 50th task the first time it is tried (marked in a file).
for line in sys.stdin:
    m = json.loads(line)
    if m["i"] % 50 == 0:
        try:
            os.close(os.open("%s/c%d" % (sys.argv[1], m["i"]),
                os.O_CREAT | os.O_EXCL))
            sys.exit(4)
        except FileExistsError:
            pass
    print(json.dumps({"i": m["i"]}), flush=True)
PY
	lines 200 > "$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr "$IPCRUN" run -n 3 --channel stdio --tasks \
	    --seq --restart on-failure --backoff 10ms:50ms \
	    --max-restarts 20/1m --events-fd 3 -- python3 -u \
	    "$BATS_TEST_TMPDIR/w.py" "$BATS_TEST_TMPDIR" \
	    < "$BATS_TEST_TMPDIR/in" 3> "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -eq 200 ]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	run -0 grep -c '"event":"task-failed"' "$BATS_TEST_TMPDIR/ev"
	assert_output 4
	run -0 jq -c 'select(.seq != .msg.i)' "$BATS_TEST_TMPDIR/out"
	assert_output ""
	run -0 bash -c "jq -r .seq '$BATS_TEST_TMPDIR/out' | sort -n | uniq | wc -l"
	assert_output 200
}

@test "tasks: --seq with -n 1, --wrap with -n 1, --raw refuses them" {
	lines 3 > "$BATS_TEST_TMPDIR/in"
	run -0 "$IPCRUN" run --tasks --seq -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[2]} == '{"seq":3,"from":"node","pid":'*',"msg":{"i":3,"pid":'*'}}' ]]
	run -0 "$IPCRUN" run --wrap -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[[ ${lines[0]} == '{"from":"node","pid":'*',"msg":{"i":1,"pid":'*'}}' ]]
	run -125 "$IPCRUN" run --wrap --raw -- true
	assert_line "ipcrun: run: --raw and --wrap cannot be used together"
	run -125 "$IPCRUN" run --tasks --seq --raw -- true
	assert_line "ipcrun: run: --raw and --seq cannot be used together"
}

@test "tasks: -n auto is the CPUs ipcrun may use; -n 0 refused" {
	want=$(nproc)
	"$IPCRUN" run -n auto --tasks --events-fd 3 -- node "$TW" \
	    < /dev/null 3> "$BATS_TEST_TMPDIR/ev"
	run -0 grep -c '"event":"spawn"' "$BATS_TEST_TMPDIR/ev"
	assert_output "$want"
	taskset -c 0 "$IPCRUN" run -n auto --events-fd 3 -- true \
	    3> "$BATS_TEST_TMPDIR/ev"
	run -0 grep -c '"event":"spawn"' "$BATS_TEST_TMPDIR/ev"
	assert_output 1
	run -125 "$IPCRUN" run -n 0 -- true
	assert_line "ipcrun: run: -n '0': too small (1 to 1000, or auto)"
}

@test "tasks: options that need --tasks, bad values, routes, -j" {
	run -125 "$IPCRUN" run --retries 2 -- true
	assert_line "ipcrun: run: --retries, --task-timeout, --max-inflight, --rejects, --id, --seq, --keep-order, --tasklog and --resume-failed apply with --tasks"
	run -125 "$IPCRUN" run --tasks --retries x -- true
	assert_line "ipcrun: run: --retries 'x': invalid (0 to 1000)"
	run -125 "$IPCRUN" run --tasks --max-inflight 0 -- true
	assert_line "ipcrun: run: --max-inflight '0': too small (1 to 65536)"
	run -125 "$IPCRUN" run --tasks --task-timeout 0 -- true
	assert_line "ipcrun: run: --task-timeout '0': must be more than 0"
	run -125 "$IPCRUN" run --tasks --id 'a..b' -- true
	assert_line -p "ipcrun: run: --id 'a..b': "
	run -125 "$IPCRUN" run --tasks --route broadcast -- true
	assert_line "ipcrun: run: --tasks cannot be used with --route broadcast: every child would answer each task"
	run -125 "$IPCRUN" run --tasks --rejects /nonexistent/dir/f -- true
	assert_line "ipcrun: run: --rejects '/nonexistent/dir/f': No such file or directory"
	run -125 "$IPCRUN" run -j 4 -- true
	assert_line "ipcrun: run: unknown option '-j'; did you mean -n (the number of copies)?"
}

@test "tasks: --max-inflight bounds what a child holds: one crash resends at most K" {
	lines 400 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=300 run -0 --separate-stderr "$IPCRUN" run --tasks \
	    --max-inflight 4 --restart on-failure --events-fd 3 --stats \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in" 3> "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -eq 400 ]
	run -0 grep '"event":"exit".*"code":3' "$BATS_TEST_TMPDIR/ev"
	assert_output -e '"unanswered":[1-4]}'
	[[ $stderr =~ sends\ 40[1-4], ]]
}

@test "tasks: --keep-order with 4 async workers of random latency: input order, with --id" {
	lines 2000 > "$BATS_TEST_TMPDIR/in"
	DELAY_MS=5 run -0 --separate-stderr "$IPCRUN" run -n 4 --tasks \
	    --keep-order --id .i --raw -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 2000 ]
	printf '%s\n' "$output" | jq .i > "$BATS_TEST_TMPDIR/got"
	seq 1 2000 | diff - "$BATS_TEST_TMPDIR/got"
}

@test "tasks: --keep-order after crashes and a task given up: order kept, the gap skipped" {
	lines 1000 > "$BATS_TEST_TMPDIR/in"
	CRASH_EVERY=300 POISON=77 run -1 --separate-stderr "$IPCRUN" run \
	    -n 4 --tasks --keep-order --restart on-failure --seq \
	    --max-restarts 30/1m -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 999 ]
	printf '%s\n' "$output" | jq .seq > "$BATS_TEST_TMPDIR/got"
	seq 1 1000 | grep -vx 77 | diff - "$BATS_TEST_TMPDIR/got"
}

@test "tasks: --keep-order holds a bounded window behind a slow task: RSS does not grow with the input" {
	lines 100000 > "$BATS_TEST_TMPDIR/big"
	head -n 10000 "$BATS_TEST_TMPDIR/big" > "$BATS_TEST_TMPDIR/small"
	# Task 3 blocks its worker 3 s: the others fill the window, then wait.
	SLOW=3 SLOW_MS=3000 peak_rss_kb "$IPCRUN" run -n 4 --tasks \
	    --keep-order --raw -- node "$TW" < "$BATS_TEST_TMPDIR/small" \
	    > "$BATS_TEST_TMPDIR/out1"
	small=$RSS_KB
	SLOW=3 SLOW_MS=3000 peak_rss_kb "$IPCRUN" run -n 4 --tasks \
	    --keep-order --raw -- node "$TW" < "$BATS_TEST_TMPDIR/big" \
	    > "$BATS_TEST_TMPDIR/out2"
	big=$RSS_KB
	jq .i "$BATS_TEST_TMPDIR/out2" | awk '$1 != NR { bad++ } END { exit bad > 0 }'
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out2")" -eq 100000 ]
	echo "peak RSS: $small KiB for 10k tasks, $big KiB for 100k"
	(( big <= small * 12 / 10 + 1024 ))
}

@test "tasks: the progress meter on a pty counts tasks done, not bytes" {
	lines 300 > "$BATS_TEST_TMPDIR/in"
	on_tty -- "'$IPCRUN' run -n 2 --tasks --progress -- node '$TW' < '$BATS_TEST_TMPDIR/in' > '$BATS_TEST_TMPDIR/out'"
	assert_success
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 300 ]
	# Tasks settled against those read (about, until the input ends).
	assert_output --regexp 'stdin +[0-9]+%  [0-9]+ tasks done of ~?[0-9]+  0 failed  0 retried  [0-9]+/s'
	refute_output --partial 'B/s'
	refute_output --partial ' lines '
}

@test "tasks: on a wide terminal the meter shows each child's tasks done and in flight" {
	lines 300 > "$BATS_TEST_TMPDIR/in"
	# Task 150 holds its worker a second: the meter is drawn meanwhile.
	cmd="'$IPCRUN' run -n 2 --tasks --progress -- node '$TW' < '$BATS_TEST_TMPDIR/in' > '$BATS_TEST_TMPDIR/out'"
	kids='  \|  task_worker\.1 [0-9]+/[0-9]+  task_worker\.2 [0-9]+/[0-9]+'
	SLOW=150 SLOW_MS=1000 on_tty 'cols 200' -- "$cmd"
	assert_success
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 300 ]
	assert_output --regexp "stdin +[0-9]+%  [0-9]+ tasks done of ~?[0-9]+  0 failed  0 retried  [0-9]+/s(  ETA [0-9:]+)?$kids"
	# The end is drawn: every task done, each child's count, none held.
	assert_output --regexp "stdin +100%  300 tasks done of 300  0 failed  0 retried  [0-9]+/s  \|  task_worker\.1 [0-9]+/0  task_worker\.2 [0-9]+/0"
	# Not on a narrow terminal, where the line would not fit.
	on_tty 'cols 80' -- "$cmd"
	assert_success
	assert_output --partial ' tasks done of '
	refute_output --partial '|  task_worker'
	# The meter's own rules: NO_COLOR keeps it; -q keeps it with
	# --progress, and without it there is no meter on a small input.
	on_tty 'cols 200' -- "NO_COLOR=1 $cmd"
	assert_output --regexp "$kids"
	on_tty 'cols 200' -- "${cmd/ run / run -q }"
	assert_output --regexp "$kids"
	on_tty 'cols 200' -- "${cmd/ --progress / -q }"
	refute_output --partial 'tasks done'
}

# okseqs LOG: the tasks a --tasklog calls ok, sorted, each once.
okseqs() {
	awk -F'\t' 'NR > 1 && $7 == "ok" { print $1 }' "$1" | sort -n | uniq
}

# logged LOG N: LOG calls at least N tasks ok.
logged() {
	[ -f "$1" ] && (( $(okseqs "$1" | wc -l) >= $2 ))
}

@test "tasks: --tasklog writes a TSV line per task; --resume-failed reruns only the failed" {
	lines 20 > "$BATS_TEST_TMPDIR/in"
	T=$BATS_TEST_TMPDIR/tl
	POISON=7 run -1 --separate-stderr "$IPCRUN" run -n 2 --tasks \
	    --retries 1 --restart on-failure --tasklog "$T" \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 19 ]
	# The header, then one line per task: 19 ok, 7 failed after 2 tries.
	assert_equal "$(head -n 1 "$T")" "$(printf 'seq\tchild\tpid\tstart\truntime\ttries\tstatus')"
	[ "$(wc -l < "$T")" -eq 21 ]
	run -0 awk -F'\t' -v now="$(date +%s)" 'NR > 1 && (NF != 7 ||
	    $2 !~ /^task_worker\.[12]$/ || $3 !~ /^[1-9][0-9]*$/ ||
	    $4 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $4 + 0 < now - 600 ||
	    $4 + 0 > now + 1 || $5 !~ /^[0-9]+\.[0-9][0-9][0-9]$/)' "$T"
	assert_output ""
	run -0 awk -F'\t' '$1 == 7 { print $6, $7 }' "$T"
	assert_output "2 failed"
	run -0 awk -F'\t' 'NR > 1 && $1 != 7 { print $6, $7 }' "$T"
	[ "$(sort -u <<<"$output")" = "1 ok" ]
	[ "$(okseqs "$T" | wc -l)" -eq 19 ]
	# The rerun: task 7 only, appended; the others are skipped.
	run -0 --separate-stderr "$IPCRUN" run -n 2 --tasks --tasklog "$T" \
	    --resume-failed --seq --stats -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	assert_equal "${#lines[@]}" 1
	assert_output -p '{"seq":7,'
	assert_output -p '"msg":{"i":7,'
	[[ $stderr == *"stats: tasks 1, done 1, failed 0,"* ]]
	[[ $stderr == *"stats: tasks skipped 19 (answered in '$T' before)"* ]]
	[ "$(wc -l < "$T")" -eq 22 ]
	[ "$(okseqs "$T")" = "$(seq 1 20)" ]
	# All answered: a third run has nothing to do.
	run -0 "$IPCRUN" run --tasks --tasklog "$T" --resume-failed \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	assert_output ""
	[ "$(wc -l < "$T")" -eq 22 ]
}

@test "tasks: the meter counts the tasks --resume-failed skips as settled, and reaches 100%" {
	lines 20 > "$BATS_TEST_TMPDIR/in"
	T=$BATS_TEST_TMPDIR/tl
	POISON=7 run -1 "$IPCRUN" run -n 2 --tasks --retries 0 \
	    --restart on-failure --tasklog "$T" -- node "$TW" \
	    < "$BATS_TEST_TMPDIR/in"
	# The rerun has task 7 only, which takes a second: drawn meanwhile.
	SLOW=7 SLOW_MS=1000 on_tty -- "'$IPCRUN' run -n 2 --tasks --tasklog '$T' --resume-failed --progress -- node '$TW' < '$BATS_TEST_TMPDIR/in' > '$BATS_TEST_TMPDIR/out'"
	assert_success
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 1 ]
	assert_output --regexp 'stdin +95%  0 tasks done of 20  19 skipped  0 failed  0 retried  0/s'
	assert_output --regexp 'stdin +100%  1 tasks done of 20  19 skipped  0 failed  0 retried  [0-9]+/s'
}

@test "tasks: ipcrun killed -9 mid-run: --resume-failed gives every task exactly once" {
	lines 3000 > "$BATS_TEST_TMPDIR/in"
	T=$BATS_TEST_TMPDIR/tl
	# Slow async workers, few tasks each: the kill lands mid-run.
	DELAY_MS=10 bg "$IPCRUN" run -n 2 --tasks --id .i --max-inflight 2 \
	    --tasklog "$T" -- node "$TW" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out1" 2> "$BATS_TEST_TMPDIR/err1"
	pid=$!
	wait_for 30 logged "$T" 300
	kill -9 "$pid"
	wait "$pid" || true
	n1=$(okseqs "$T" | wc -l)
	(( n1 >= 300 && n1 < 3000 ))
	# Every task the log calls ok has its reply out.
	jq .msg.i "$BATS_TEST_TMPDIR/out1" | sort -n > "$BATS_TEST_TMPDIR/got1"
	run -0 comm -23 <(okseqs "$T") "$BATS_TEST_TMPDIR/got1"
	assert_output ""
	"$IPCRUN" run -n 2 --tasks --id .i --tasklog "$T" --resume-failed \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out2"
	# Each task once across the two runs, and the log says so.
	cat "$BATS_TEST_TMPDIR/out1" "$BATS_TEST_TMPDIR/out2" | jq .msg.i |
	    sort -n > "$BATS_TEST_TMPDIR/all"
	seq 1 3000 | diff - "$BATS_TEST_TMPDIR/all"
	[ "$(okseqs "$T")" = "$(seq 1 3000)" ]
}

@test "tasks: --tasklog and --resume-failed refuse what they cannot use" {
	lines 3 > "$BATS_TEST_TMPDIR/in"
	T=$BATS_TEST_TMPDIR/tl
	run -125 "$IPCRUN" run --tasklog "$T" -- true
	assert_line -p "--tasklog and --resume-failed apply with --tasks"
	run -125 "$IPCRUN" run --tasks --resume-failed -- true
	assert_line "ipcrun: run: --resume-failed reads the log of --tasklog FILE: give it"
	run -125 "$IPCRUN" run --tasks --tasklog /nonexistent/dir/f -- true
	assert_line "ipcrun: run: --tasklog '/nonexistent/dir/f': No such file or directory"
	run -125 "$IPCRUN" run --tasks --tasklog /dev/null -- true
	assert_line "ipcrun: run: --tasklog '/dev/null': not a regular file"
	# A bad line is named; nothing runs.
	printf 'seq\tchild\tpid\tstart\truntime\ttries\tstatus\n1\tw\t1\t0\t0\t1\tok\n2\tw\t1\t0\t0\t1\tmaybe\n' > "$T"
	run -125 "$IPCRUN" run --tasks --tasklog "$T" --resume-failed \
	    -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	assert_output "ipcrun: run: --tasklog '$T':3: the status is not ok or failed"
	# A last line cut short by a crash: ignored, said, and cut off the
	# file, so that the log stays whole for the next resume.
	printf 'seq\tchild\tpid\tstart\truntime\ttries\tstatus\n1\tw\t1\t0\t0\t1\tok\n2\tw\t1\t0' > "$T"
	run -0 --separate-stderr "$IPCRUN" run --tasks --tasklog "$T" \
	    --resume-failed -- node "$TW" < "$BATS_TEST_TMPDIR/in"
	assert_equal "$stderr" "ipcrun: run: --tasklog '$T':3: no newline at the end (a line cut short, ignored)"
	assert_equal "${#lines[@]}" 2
	run -0 awk -F'\t' 'NR >= 2 { print $1, $7 }' "$T"
	assert_output "$(printf '1 ok\n2 ok\n3 ok')"
}

@test "tasks: --tasklog with --keep-order: a reply held in the window is logged once it is out" {
	lines 500 > "$BATS_TEST_TMPDIR/in"
	T=$BATS_TEST_TMPDIR/tl
	DELAY_MS=5 run -0 --separate-stderr "$IPCRUN" run -n 4 --tasks \
	    --keep-order --id .i --raw --tasklog "$T" -- node "$TW" \
	    < "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 500 ]
	[ "$(wc -l < "$T")" -eq 501 ]
	[ "$(okseqs "$T")" = "$(seq 1 500)" ]
}
