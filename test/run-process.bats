#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: process hygiene with one child: the child's descriptors,
# process group and signal mask, SIGTERM then SIGKILL, what is left of
# its group, and no orphan when ipcrun is killed.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

# --- process hygiene ---------------------------------------------------------

@test "the child sees only fds 0-2 and its channel" {
	# Lists its open fds (not the one listdir itself used) as JSON.
	lsfd='import os, sys
def is_open(f):
    try:
        os.fstat(f)
        return True
    except OSError:
        return False
fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
os.write(int(sys.argv[1]), (str([f for f in fds if is_open(f)]) + "\n").encode())'
	exec 5</dev/null 8>"$BATS_TEST_TMPDIR/leak"
	run --separate-stderr "$IPCRUN" run -- python3 -c "$lsfd" 3 < /dev/null
	assert_success
	assert_output '[0, 1, 2, 3]'
	run --separate-stderr "$IPCRUN" run --channel-fd 9 -- python3 -c "$lsfd" 9 \
	    < /dev/null
	assert_success
	assert_output '[0, 1, 2, 9]'
	run --separate-stderr "$IPCRUN" run --channel-fd 5 -- python3 -c "$lsfd" 5 \
	    < /dev/null
	assert_success
	assert_output '[0, 1, 2, 5]'
	run --separate-stderr "$IPCRUN" run --channel stdio -- python3 -c "$lsfd" 1 \
	    < /dev/null
	assert_success
	assert_output '[0, 1, 2]'
	exec 5<&- 8>&-
}

@test "a child that ignores SIGTERM after closing its channel gets SIGKILL" {
	run --separate-stderr "$IPCRUN" run --kill-timeout 0.2 -- sh -c \
	    'trap "" TERM; echo "{\"pid\":$$}" >&3; exec 3>&-; while :; do sleep 0.05; done' \
	    < /dev/null
	assert_success
	pid=$(sed -n 's/{"pid":\([0-9]*\)}/\1/p' <<<"$output")
	[ -n "$pid" ]
	assert_equal "$stderr" \
"ipcrun: run: 'sh' (pid $pid) is still running; sending SIGTERM
ipcrun: run: 'sh' (pid $pid) ignored SIGTERM; sending SIGKILL"
}

@test "a descendant holding the channel after the child's exit is not waited for forever" {
	run --separate-stderr "$IPCRUN" run --kill-timeout 0.3 -- sh -c \
	    'sleep 60 & echo "{\"gc\":$!}" >&3; exit 5' < /dev/null
	gc=$(sed -n 's/{"gc":\([0-9]*\)}/\1/p' <<<"$output")
	[ -z "$gc" ] || kill "$gc"
	assert_failure 5
	[ -n "$gc" ]
	[[ "$stderr" == "ipcrun: run: the channel stayed open after 'sh' exited (a descendant may hold it); closing it"$'\n'"ipcrun: run: sending SIGTERM to what is left of the process group of 'sh' ("[0-9]*")" ]]
}

@test "the child runs in its own process group with signals reset" {
	w=$(node_worker 'const f = require("fs").readFileSync("/proc/self/status", "utf8");
const st = require("fs").readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
process.send({ pgid: Number(st[2]), pid: process.pid, ppid: process.ppid,
    blk: /SigBlk:\s*(\S+)/.exec(f)[1], ign: /SigIgn:\s*(\S+)/.exec(f)[1] });')
	# ipcrun itself starts with SIGALRM and SIGQUIT ignored, SIGUSR1 blocked.
	run --separate-stderr bash -c 'trap "" ALRM QUIT; exec "$IPCRUN" run -- node "$1"' \
	    _ "$w" < /dev/null
	assert_success
	[[ "$output" =~ \"pgid\":([0-9]+),\"pid\":([0-9]+) ]]
	assert_equal "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	[[ "$output" == *'"blk":"0000000000000000"'* ]]
	[[ "$output" =~ \"ign\":\"([0-9a-f]+)\" ]]
	(( (16#${BASH_REMATCH[1]} & 0x2004) == 0 ))
}

@test "no orphan after kill -9 of ipcrun" {
	held_fifo "$IPCRUN" run -- node "$F/keepalive.js"
	wait_for 20 grep -q '"pid"' "$BATS_TEST_TMPDIR/out"
	cpid=$(sed -n 's/{"pid":\([0-9]*\)}/\1/p' "$BATS_TEST_TMPDIR/out")
	kill -0 "$cpid"
	kill -KILL "$ipid"
	gone() { ! kill -0 "$cpid" 2>/dev/null; }
	wait_for 20 gone
	exec 7>&-
}

@test "stdout shared with the child's stderr (2>&1) stays blocking for the child" {
	run bash -c '"$IPCRUN" run -- python3 -c "
for i in range(20000): print(\"log\", \"z\" * 100)" < /dev/null 2>&1 | { sleep 1; tr -cd z | wc -c; }'
	assert_success
	# ipcrun's own notes may land between two of the child's writes.
	assert_output 2000000
}

@test "what is left of the child's process group is ended with ipcrun" {
	run --separate-stderr "$IPCRUN" run --channel stdio --kill-timeout 0.2 \
	    -- sh -c 'sleep 60 & echo "{\"bg\":$!}"' < /dev/null
	assert_success
	bg=$(jq -r .bg <<<"$output")
	[[ "$stderr" == *"sending SIGTERM to what is left of the process group of 'sh'"* ]]
	wait_for 10 bash -c '! kill -0 '"$bg"' 2>/dev/null'
}

@test "an interrupt ends the wait for the channel after the child's exit" {
	bg "$IPCRUN" run --channel stdio --kill-timeout 60 \
	    -- sh -c 'sleep 60 & echo "{\"bg\":$!}"' < /dev/null \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
	pid=$!
	wait_for 10 grep -q bg "$BATS_TEST_TMPDIR/out"
	# The child (sh) has exited; its background job holds the channel.
	# (ipcrun keeps it as a zombie until it is done with its group)
	wait_for 10 bash -c '! ps --ppid '"$pid"' -o stat=,comm= | grep -q "^[^Z].* sh$"'
	kill -INT "$pid"
	wait_for 10 bash -c '! kill -0 '"$pid"' 2>/dev/null'
	bg=$(jq -r .bg "$BATS_TEST_TMPDIR/out")
	wait_for 10 bash -c '! kill -0 '"$bg"' 2>/dev/null'
}

@test "job control in a real shell on a pty: ^Z stops ipcrun and the child's group, bg and fg resume both" {
	# The child runs in a group of its own, which the terminal's ^Z
	# does not reach: ipcrun passes it on as SIGSTOP, and SIGCONT.
	node_worker 'require("fs").writeFileSync(process.argv[2],
	    String(process.pid)); setInterval(() => {}, 1000);' >/dev/null
	run python3 "$F/jobctl.py" "$IPCRUN" "$BATS_TEST_TMPDIR/w.js" \
	    "$BATS_TEST_TMPDIR/pid"
	assert_success
	assert_line 'ok: ^Z stopped ipcrun and the child'
	assert_line 'ok: bg continued both'
	assert_line 'ok: ^Z again stopped both'
	assert_line 'ok: fg continued both'
	assert_line 'ok: ^C ended both'
}

@test "^Z's signals stay ignored when the shell ignores them, caught otherwise" {
	# A shell without job control ignores SIGTSTP for its jobs: ipcrun
	# keeps that, so no signal stops a job nobody could resume.
	node_worker 'require("fs").writeFileSync(process.argv[2],
	    String(process.pid)); setInterval(() => {}, 1000);' >/dev/null
	# mask PID FIELD: SigIgn or SigCgt of PID, as a number.
	mask() { echo $((16#$(awk -v f="$2:" '$1 == f { print $2 }' \
	    "/proc/$1/status"))); }
	tstp=$((1 << 19)) ttin=$((1 << 20)) ttou=$((1 << 21))
	for ign in yes no; do
		rm -f "$BATS_TEST_TMPDIR/pid"
		if [ $ign = yes ]; then
			bg bash -c 'trap "" TSTP TTIN TTOU; exec "$@"' _ "$IPCRUN" \
			    run -- node "$BATS_TEST_TMPDIR/w.js" \
			    "$BATS_TEST_TMPDIR/pid"
		else
			bg "$IPCRUN" run -- node "$BATS_TEST_TMPDIR/w.js" \
			    "$BATS_TEST_TMPDIR/pid"
		fi
		pid=$!
		# The child runs: ipcrun's handlers are in place by then.
		wait_for 20 test -s "$BATS_TEST_TMPDIR/pid"
		if [ $ign = yes ]; then
			m=$(mask "$pid" SigIgn)
		else
			m=$(mask "$pid" SigCgt)
		fi
		(( (m & tstp) && (m & ttin) && (m & ttou) )) ||
		    fail "ignore=$ign: mask $m lacks TSTP, TTIN or TTOU"
		kill -TERM "$pid"
		wait "$pid" || true
	done
}
