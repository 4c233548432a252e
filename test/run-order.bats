#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: the order of what it reports against the data, and reports
# that never hold the data up. A child's exit event follows the last line
# it wrote, however late stdout is read; a reader of --events-fd that
# never reads loses events (counted), never the relay. Real children,
# real pipes; waits have deadlines, no verdict depends on speed.

load helper

# zombie PID: the process has exited and is not reaped yet.
zombie() {
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# replies_of NAME N FILE: FILE has N lines from child NAME, at least.
replies_of() {
	[ "$(grep -c "\"from\":\"$1\"" "$3")" -ge "$2" ]
}

# late_reader DIR: wait until both children of the exit-order test have
# written all their lines and exited, then read stdout into DIR/out.
late_reader() {
	local d=$1
	wait_for 60 test -s "$d/a.pid" -a -s "$d/b.pid" || return 1
	wait_for 60 zombie "$(cat "$d/a.pid")" || return 1
	wait_for 60 zombie "$(cat "$d/b.pid")" || return 1
	cat > "$d/out"
}

@test "--events: a child's exit event comes after the last line it wrote, with stdout read late" {
	d=$BATS_TEST_TMPDIR
	# 2 x 12000 lines, wrapped: more than stdout's pipe and ipcrun's queue hold, so
	# that part is still in the channels when the children have exited.
	"$IPCRUN" run --channel stdio --events \
	    -c "a=sh -c 'seq -f \"{\\\"i\\\":%g}\" 1 12000; echo \$\$ > $d/a.pid'" \
	    -c "b=sh -c 'seq -f \"{\\\"i\\\":%g}\" 1 12000; echo \$\$ > $d/b.pid'" \
	    < /dev/null 2> "$d/err" | late_reader "$d"
	[ "${PIPESTATUS[1]}" -eq 0 ]
	[ "$(grep -c '"from":"a"' "$d/out")" -eq 12000 ]
	[ "$(grep -c '"from":"b"' "$d/out")" -eq 12000 ]
	for n in a b; do
		last=$(grep -n "\"from\":\"$n\"" "$d/out" | tail -n 1 | cut -d: -f1)
		ex=$(grep -n "\"event\":\"exit\".*\"name\":\"$n\"" "$d/out" |
		    cut -d: -f1)
		[ -n "$ex" ] || { cat "$d/err"; false; }
		echo "$n: last line $last, exit event $ex" >&2
		[ "$ex" -gt "$last" ]
	done
	# The last line of each is its 12000th.
	grep '"from":"a"' "$d/out" | tail -n 1 | grep -q '"msg":{"i":12000}'
	grep '"from":"b"' "$d/out" | tail -n 1 | grep -q '"msg":{"i":12000}'
}

@test "--restart: the exit event of a restarted child comes before its restart event, after its data" {
	d=$BATS_TEST_TMPDIR
	# The first life writes 12000 lines and fails; the second exits 0.
	cat > "$d/w.sh" <<SH
if [ -e "$d/once" ]; then exit 0; fi
seq -f '{"i":%g}' 1 12000
echo \$\$ > "$d/a.pid"
: > "$d/once"
exit 3
SH
	# Input that has not ended: a child is restarted only before its end.
	mkfifo "$d/in"
	exec 5<> "$d/in"
	"$IPCRUN" run --channel stdio --events --restart on-failure \
	    --backoff 1ms:2ms -c "a=sh $d/w.sh" -c "z=sh -c 'exit 0'" \
	    < "$d/in" 2> "$d/err" | {
		wait_for 60 test -s "$d/a.pid" &&
		wait_for 60 zombie "$(cat "$d/a.pid")" ||
		wait_for 60 test -e "$d/once"
		cat > "$d/out"
	}
	exec 5>&-
	[ "$(grep -c '"from":"a"' "$d/out")" -eq 12000 ]
	last=$(grep -n '"from":"a"' "$d/out" | tail -n 1 | cut -d: -f1)
	ex=$(grep -n '"event":"exit".*"name":"a".*"code":3' "$d/out" | cut -d: -f1)
	rs=$(grep -n '"event":"restart".*"name":"a"' "$d/out" | head -n 1 | cut -d: -f1)
	[ -n "$ex" ] && [ -n "$rs" ]
	echo "last line $last, exit $ex, restart $rs" >&2
	[ "$ex" -gt "$last" ]
	[ "$rs" -gt "$ex" ]
}

@test "--events-fd: a reader that never reads loses events, counted, not the replies of the others; SIGTERM ends the run" {
	d=$BATS_TEST_TMPDIR
	seq 1 20000 | sed 's/.*/{"to":"e","msg":{"i":&}}/' > "$d/in"
	# Input that does not end: f is restarted for as long as it lasts.
	mkfifo "$d/fifo"
	exec 5<> "$d/fifo"
	# f fails at once, for ever; e echoes. Events go to a 4 KiB pipe
	# that nobody reads.
	STALLED_PID=$d/pid "$BATS_TEST_DIRNAME/fixtures/stalled_fd.py" 4096 3 \
	    "$IPCRUN" run --channel stdio --envelope --events-fd 3 \
	    --restart always --backoff 1ms:2ms --max-restarts 10000 \
	    -c 'e=cat' -c "f=sh -c 'exit 1'" \
	    < "$d/fifo" > "$d/out" 2> "$d/err" &
	bg=$!
	wait_for 60 test -s "$d/pid" || { kill "$bg"; exec 5>&-; false; }
	# The events' pipe is full before any input is sent.
	wait_for 60 test -e "$d/pid.full" || {
		kill -KILL "$(cat "$d/pid")"
		exec 5>&-
		false
	}
	cat "$d/in" >&5 &
	feeder=$!
	# Every reply of e's, whatever the events do.
	if ! wait_for 60 replies_of e 20000 "$d/out"; then
		kill -KILL "$(cat "$d/pid")" "$feeder" 2>/dev/null
		exec 5>&-
		echo "replies: $(grep -c '"from":"e"' "$d/out")" >&2
		cat "$d/err" >&2
		false
	fi
	wait "$feeder"
	# f flaps on: only a signal ends the run, and it must.
	kill -0 "$(cat "$d/pid")"
	kill -TERM "$(cat "$d/pid")"
	wait_for 30 sh -c "! kill -0 $bg 2>/dev/null" || {
		kill -KILL "$(cat "$d/pid")" 2>/dev/null
		exec 5>&-
		echo "SIGTERM did not end the run" >&2
		false
	}
	wait "$bg" || true
	exec 5>&-
	[ "$(grep -c '"from":"e"' "$d/out")" -eq 20000 ]
	# The loss is said, with a count.
	grep -E '[0-9]+ events lost: --events-fd 3 was not read' "$d/err" ||
	    { cat "$d/err" >&2; false; }
}

@test "stderr that nobody reads: reports are lost, not the data; SIGTERM ends the wait for it" {
	d=$BATS_TEST_TMPDIR
	# 10,000 good lines, each after a bad one: 10,000 reports, far more
	# than a 4 KiB pipe and ipcrun's queue hold.
	seq 1 10000 | sed 's/.*/bad &\n{"i":&}/' > "$d/in"
	STALLED_PID=$d/pid "$BATS_TEST_DIRNAME/fixtures/stalled_fd.py" 4096 2 \
	    "$IPCRUN" run --channel stdio -- cat < "$d/in" > "$d/out" &
	bg=$!
	wait_for 60 test -s "$d/pid" || { kill "$bg"; false; }
	# Every good line comes through, whatever stderr does.
	if ! wait_for 60 sh -c "[ \$(grep -c '\"i\"' '$d/out') -ge 10000 ]"; then
		kill -KILL "$(cat "$d/pid")" 2>/dev/null
		echo "lines out: $(grep -c '"i"' "$d/out")" >&2
		false
	fi
	# Its end waits for stderr's reader; a stop signal ends that wait.
	kill -TERM "$(cat "$d/pid")"
	wait_for 30 sh -c "! kill -0 $bg 2>/dev/null" || {
		kill -KILL "$(cat "$d/pid")" 2>/dev/null
		echo "SIGTERM did not end the run" >&2
		false
	}
	wait "$bg" || true
	[ "$(grep -c '"i"' "$d/out")" -eq 10000 ]
}

# late_err DIR: read stderr into DIR/err only once the last good line
# is out, so that the reports pile up meanwhile.
late_err() {
	wait_for 60 grep -q '"end"' "$1/out" || return 1
	cat > "$1/err"
}

@test "stderr read late: every report arrives or is counted as lost, exactly" {
	d=$BATS_TEST_TMPDIR
	seq 1 20000 | sed 's/.*/bad &/' > "$d/in"
	echo '{"end":1}' >> "$d/in"
	mkfifo "$d/errpipe"
	late_err "$d" < "$d/errpipe" &
	reader=$!
	status=0
	"$IPCRUN" run --channel stdio -- cat < "$d/in" > "$d/out" \
	    2> "$d/errpipe" || status=$?
	wait "$reader"
	[ "$status" -eq 1 ]
	grep -q '"end"' "$d/out"
	got=$(grep -c "^ipcrun: run: -:[0-9]*:1: " "$d/err")
	lost=$(sed -n 's/^ipcrun: run: \([0-9]*\) lines of reports and logs lost: stderr was not read fast enough$/\1/p' "$d/err")
	echo "reports got $got, lost $lost" >&2
	[ -n "$lost" ] || { tail -n 5 "$d/err" >&2; false; }
	[ "$lost" -gt 0 ]
	[ $((got + lost)) -eq 20000 ]
}
