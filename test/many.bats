#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run with many children: -n and -c, round robin, broadcast, key
# routing, envelopes, the {"from":...} wrapping, events, the lines of a
# child that dies, exit status and process hygiene. Real children (node,
# cat, sh); waits have deadlines, nothing asserts a timing.

load helper

F=$BATS_TEST_DIRNAME/fixtures

# lines N: N small JSON lines {"i":1} to {"i":N}.
lines() {
	seq 1 "$1" | sed 's/.*/{"i":&}/'
}

@test "-n 4: round robin spreads 10,000 lines evenly, each exactly once" {
	lines 10000 > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio -n 4 -- cat \
	    < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 10000 ]
	# Each child within 10% of even (2,500); queues never filled here.
	printf '%s\n' "$output" | jq -r .from | sort | uniq -c |
	    awk '{ n++; if ($1 < 2250 || $1 > 2750) bad = 1 }
		END { exit !(n == 4 && !bad) }'
	# Every input line came back once, bytes unchanged.
	assert_equal "$(printf '%s\n' "$output" | jq -c .msg | sort)" \
	    "$(sort "$BATS_TEST_TMPDIR/in")"
	# Named after CMD's basename.
	printf '%s\n' "$output" | jq -r .from | sort -u |
	    grep -qx 'cat\.4'
}

@test "a child that stops reading holds up no other; killed, its unread lines go to another" {
	lines 2000 > "$BATS_TEST_TMPDIR/in"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$IPCRUN" run --channel stdio --events -v -c 'a=sleep 1000' -c 'b=cat' \
	    < "$BATS_TEST_TMPDIR/fifo" > "$BATS_TEST_TMPDIR/out" \
	    2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/fifo"
	cat "$BATS_TEST_TMPDIR/in" >&7
	# b answers its half while a reads nothing and input is still open.
	wait_for 20 bash -c '[ "$(grep -c "\"from\":\"b\"" '"$BATS_TEST_TMPDIR/out"')" -ge 1000 ]'
	apid=$(grep '"event":"spawn","t":[0-9.]*,"name":"a"' \
	    "$BATS_TEST_TMPDIR/out" | jq .pid)
	kill -KILL "$apid"
	wait_for 20 bash -c '[ "$(grep -c "\"from\":\"b\"" '"$BATS_TEST_TMPDIR/out"')" -ge 2000 ]'
	exec 7>&-
	st=0
	wait "$ipid" || st=$?
	# a died of a signal ipcrun did not send: its status decides.
	assert_equal "$st" 137
	grep '"event":"exit"' "$BATS_TEST_TMPDIR/out" | grep '"name":"a"' |
	    jq -e '.signal == "SIGKILL" and .rerouted == 1000 and
		.undelivered == 0 and .unanswered == 0'
	# Nothing lost, nothing twice.
	assert_equal "$(grep '"from"' "$BATS_TEST_TMPDIR/out" | jq -c .msg |
	    sort)" "$(sort "$BATS_TEST_TMPDIR/in")"
	grep -q "'a' (pid $apid) exited with 1000 input lines unread: sent to the other children" \
	    "$BATS_TEST_TMPDIR/err"
}

@test "--route broadcast: every child gets every line" {
	run --separate-stderr "$IPCRUN" run --channel stdio -n 3 \
	    --route broadcast -- cat < <(lines 5)
	assert_success
	for c in cat.1 cat.2 cat.3; do
		assert_equal "$(printf '%s\n' "$output" |
		    jq -c "select(.from == \"$c\") | .msg" | paste -sd' ')" \
		    "$(lines 5 | paste -sd' ')"
	done
}

@test "--route broadcast: a child that reads nothing stops the input in bounded memory; nothing lost" {
	T=$BATS_TEST_TMPDIR
	lines 3000000 > "$T/in"
	size=$(stat -c %s "$T/in")
	"$IPCRUN" run --channel stdio --route broadcast -c fast=cat \
	    -c "slow=sh -c 'while [ ! -e $T/go ]; do sleep 0.05; done; exec cat'" \
	    < "$T/in" > "$T/out" 2> "$T/err" 3>&- &
	ipid=$!
	# Every child must have room for a line: with slow's queue full,
	# ipcrun stops reading stdin (its offset stays put for a second).
	prev=-1 same=0
	for _ in $(seq 1 600); do
		pos=$(awk '/^pos:/ { print $2 }' /proc/$ipid/fdinfo/0)
		if [ "$pos" = "$prev" ]; then
			same=$((same + 1))
			[ "$same" -lt 5 ] || break
		else
			same=0
		fi
		prev=$pos
		sleep 0.2
	done
	hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/$ipid/status)
	# slow reads from here on, whatever the verdict: nothing is left behind.
	touch "$T/go"
	wait "$ipid"
	echo "stdin offset $pos of $size; peak RSS: $hwm KiB"
	[ "$pos" -lt "$size" ]
	limit=16384
	[ "${DEBUG:-0}" != 1 ] || limit=200000
	[ "$hwm" -lt "$limit" ]
	for c in fast slow; do
		[ "$(grep -c "^{\"from\":\"$c\"" "$T/out")" -eq 3000000 ]
	done
}

@test "--route key: stable across runs, strings compared decoded" {
	printf '%s\n' '{"u":{"id":"\u00e9"}}' '{"u":{"id":"é"}}' \
	    '{"u":{"id":"x"}}' '{"u":{"id":"y"}}' '{"u":{"id":"z"}}' \
	    '{"u":{"id":"x"}}' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio -n 4 \
	    --route key=.u.id -- cat < "$BATS_TEST_TMPDIR/in"
	assert_success
	first=$(printf '%s\n' "$output" | jq -c '[.from, .msg.u.id]' | sort)
	# "é" and "\u00e9" went to one child; so did both "x".
	[ "$(printf '%s\n' "$output" | jq -r 'select(.msg.u.id == "é") | .from' |
	    sort -u | wc -l)" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.msg.u.id == "x") | .from' |
	    sort -u | wc -l)" -eq 1 ]
	run --separate-stderr "$IPCRUN" run --channel stdio -n 4 \
	    --route key=.u.id -- cat < "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq -c '[.from, .msg.u.id]' |
	    sort)" "$first"
}

@test "--route key: a line without the key is reported, or goes to --route-default" {
	printf '%s\n' '{"k":1}' '{"other":2}' '[1]' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio -n 2 \
	    --route key=.k -- cat < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | jq -c .msg)" '{"k":1}'
	assert_equal "$stderr" "ipcrun: run: -:2:1: no member .k to route by (line not delivered)
ipcrun: run: -:3:1: no member .k to route by (line not delivered)"
	run --separate-stderr "$IPCRUN" run --channel stdio -n 2 \
	    --route key=.k --route-default cat.2 -- cat < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(printf '%s\n' "$output" |
	    jq -c 'select(.from == "cat.2") | .msg' | tail -n 2 | paste -sd' ')" \
	    '{"other":2} [1]'
}

@test "--envelope: to a name, a list and *; M's bytes come back unchanged" {
	m='{ "z" :1,"a":[1e400, "\ud800", 123456789012345678901 ] }'
	printf '%s\n' '{"to":"a","msg":'"$m"'}' \
	    '{"msg":"both","to":["a","b"]}' '{"to":"*","msg":[]}' \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio --envelope \
	    -c 'a=cat' -c 'b=cat' < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
	[ "$(printf '%s\n' "$output" | grep -c '"from":"a"')" -eq 3 ]
	[ "$(printf '%s\n' "$output" | grep -c '"from":"b"')" -eq 2 ]
	printf '%s\n' "$output" | grep -q '"from":"b","pid":[0-9]*,"msg":"both"}$'
	# a's first reply, whichever child answered first.
	run grep -m1 '"from":"a"' <<<"$output"
	assert_line --index 0 --regexp '^\{"from":"a","pid":[0-9]+,"msg":\{ "z" :1,"a":\[1e400, "\\ud800", 123456789012345678901 \] \}\}$'
}

@test "--envelope: an unknown name or a bad envelope is reported with its line number" {
	printf '%s\n' '{"to":"a","msg":1}' '{"to":"nobody","msg":2}' \
	    '{"to":"a"}' '[1]' '{"to":["a","zz"],"msg":3}' \
	    > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio --envelope \
	    -c 'a=cat' < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | jq -c .msg | paste -sd' ')" '1 3'
	assert_line --index 0 --regexp '^\{"from":"a","pid":[0-9]+,"msg":1\}$'
	[[ "$stderr" == *"ipcrun: run: -:2:7: no child named 'nobody' (line not delivered to it)"* ]]
	[[ "$stderr" == *"ipcrun: run: -:3:1: not an envelope: "*'"msg"'* ]]
	[[ "$stderr" == *"ipcrun: run: -:4:1: not an envelope: "* ]]
	[[ "$stderr" == *"ipcrun: run: -:5:12: no child named 'zz' (line not delivered to it)"* ]]
}

@test "Node workers over the node channel: from and pid name the sender; events in order" {
	w="$BATS_TEST_TMPDIR/w.js"
	echo 'process.on("message", (m) => process.send({pid: process.pid, m}));' > "$w"
	run --separate-stderr "$IPCRUN" run -n 2 --name w --events -- node "$w" \
	    < <(lines 4)
	assert_success
	assert_equal "$stderr" ""
	# Each reply's from/pid is the child that sent it.
	printf '%s\n' "$output" | jq -e -s '[.[] | select(.msg) |
	    .pid == .msg.pid] | length == 4 and all'
	for c in w.1 w.2; do
		assert_equal "$(printf '%s\n' "$output" |
		    jq -r "select(.name == \"$c\") | .event" | paste -sd' ')" \
		    'spawn ready exit'
	done
	printf '%s\n' "$output" | jq -e -s '[.[] | select(.event) | .t] |
	    . == sort'
	# --raw: the children's lines as they are; events then go to stderr.
	run --separate-stderr "$IPCRUN" run -n 2 --raw --events -- node "$w" \
	    < <(lines 2)
	assert_success
	printf '%s\n' "$output" | jq -e -s 'length == 2 and all(.m.i)'
	[ "$(printf '%s\n' "$stderr" | jq -r .event | grep -c exit)" -eq 2 ]
}

@test "--events-fd: events on a descriptor of the caller's" {
	run --separate-stderr "$IPCRUN" run --channel stdio --events-fd 3 \
	    -- cat 3> "$BATS_TEST_TMPDIR/ev" < <(lines 1)
	assert_success
	assert_output '{"i":1}'
	assert_equal "$(jq -r .event "$BATS_TEST_TMPDIR/ev" | paste -sd' ')" \
	    'spawn ready exit'
	jq -e 'select(.event == "exit") | .code == 0' "$BATS_TEST_TMPDIR/ev"
}

@test "exit status: the first failure in exit order, refused lines 1, stopped children 0" {
	run "$IPCRUN" run --channel stdio -c 'a=sh -c "exit 3"' -c 'b=true' \
	    < /dev/null
	assert_failure 3
	run "$IPCRUN" run --channel stdio -n 3 -- true < /dev/null
	assert_success
	run "$IPCRUN" run --channel stdio -n 2 -- cat < <(printf '{"a":1}\nbad\n')
	assert_failure 1
	# Children ipcrun ends itself (at --eof-timeout, here) do not decide
	# the status.
	run --separate-stderr "$IPCRUN" run --channel stdio --eof-timeout 0.1 \
	    --kill-timeout 0.1 -v -n 2 -- sleep 100 < /dev/null
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -c "was stopped by ipcrun with SIGTERM")" -eq 2 ]
}

@test "usage errors name what is wrong" {
	run --separate-stderr "$IPCRUN" run -c 'a=cat' -- cat
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: children come from -c or from one command after the options, not both
Try 'ipcrun run --help'."
	run --separate-stderr "$IPCRUN" run -c 'a=cat' -c 'a=true'
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: -c 'a=true': the name 'a' is given twice"* ]]
	run --separate-stderr "$IPCRUN" run -c 'a=cat | wc'
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: -c 'a=cat | wc': "*"needs a shell"* ]]
	run --separate-stderr "$IPCRUN" run -n 0 -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: -n '0': too small (1 to 1000)"* ]]
	run --separate-stderr "$IPCRUN" run --route sideways -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --route 'sideways': must be rr, broadcast or key=PATH"* ]]
	run --separate-stderr "$IPCRUN" run --route-default x -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --route-default applies to --route key=PATH only"* ]]
	run --separate-stderr "$IPCRUN" run -n 2 --route key=.k --route-default nope -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --route-default 'nope': no child of that name"* ]]
	run --separate-stderr "$IPCRUN" run --envelope --route broadcast -c 'a=cat'
	assert_failure 125
	run --separate-stderr "$IPCRUN" run --events-fd 1 -- cat
	assert_failure 125
	run --separate-stderr "$IPCRUN" run --events-fd 77 -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --events-fd '77': not an open descriptor"* ]]
	run --separate-stderr "$IPCRUN" run -n 2 --name x -c 'a=cat'
	assert_failure 125
}

@test "kill -9 of ipcrun with 8 children leaves none of them or their grandchildren" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --channel stdio -n 8 -- sh -c \
	    'sleep 300 & echo "{\"sh\":$$,\"bg\":$!}"; wait' \
	    < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	wait_for 30 bash -c '[ "$(grep -c "\"bg\"" '"$BATS_TEST_TMPDIR/out"')" -eq 8 ]'
	pids=$(jq -r '.msg.sh, .msg.bg' "$BATS_TEST_TMPDIR/out")
	for p in $pids; do kill -0 "$p"; done
	kill -KILL "$ipid"
	for p in $pids; do
		wait_for 20 bash -c '! kill -0 '"$p"' 2>/dev/null'
	done
	exec 7>&-
}

@test "256 cat children relay 100,000 lines with nothing lost, in little memory" {
	lines 100000 > "$BATS_TEST_TMPDIR/in"
	peak_rss_kb "$IPCRUN" run --channel stdio -n 256 -- cat \
	    < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out"
	echo "peak RSS: $RSS_KB KiB"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 100000 ]
	assert_equal "$(jq -c .msg "$BATS_TEST_TMPDIR/out" | sort | md5sum)" \
	    "$(sort "$BATS_TEST_TMPDIR/in" | md5sum)"
	limit=16384
	[ "${DEBUG:-0}" != 1 ] || limit=200000
	[ "$RSS_KB" -lt "$limit" ]
}

@test "--envelope: a name listed twice gets the line once" {
	run --separate-stderr "$IPCRUN" run --channel stdio --envelope \
	    -c 'a=cat' < <(printf '%s\n' '{"to":["a","a"],"msg":1}')
	assert_success
	assert_output --regexp '^\{"from":"a","pid":[0-9]+,"msg":1\}$'
}

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
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --restart on-failure --backoff 20ms:1s --events \
	    -c "w=node $BATS_TEST_TMPDIR/crash.js $BATS_TEST_TMPDIR/mark" \
	    --envelope < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" \
	    2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
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
	run --separate-stderr "$IPCRUN" run --channel stdio --restart always \
	    --backoff 1ms:2ms --max-restarts 2/1m --events-fd 3 \
	    -c 'w=sh -c "exit 4"' 3> "$BATS_TEST_TMPDIR/ev" < <(sleep 30)
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

@test "hundreds of children pass the soft limit of descriptors; the children keep it" {
	# 60 children need 304 descriptors: past a soft limit of 128,
	# which ipcrun raises for itself, not for them.
	p='import resource,json;print(json.dumps(resource.getrlimit(resource.RLIMIT_NOFILE)[0]))'
	run --separate-stderr bash -c 'ulimit -Sn 128 &&
	    "$0" run --channel stdio -n 60 --raw -- python3 -c "$1" </dev/null' \
	    "$IPCRUN" "$p"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(sort -u <<<"$output")" 128
	assert_equal "$(wc -l <<<"$output")" 60
	run --separate-stderr bash -c 'ulimit -Sn 128 && ulimit -Hn 128 &&
	    "$0" run --channel stdio -n 60 -- cat </dev/null' "$IPCRUN"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "ipcrun: run: 60 children need about 304 descriptors, more than the hard limit of 128 (ulimit -Hn)"
}

@test "--log prefix: each child's stderr line behind its name, whole; inherit as is" {
	run --separate-stderr "$IPCRUN" run --channel stdio -c \
	    "a=sh -c 'echo one >&2; printf \"two\" >&2; cat'" -c 'b=cat' \
	    < <(lines 2)
	assert_success
	assert_equal "$(printf '%s\n' "$stderr" | sort)" $'a| one\na| two'
	# Node's console.log is its stdout, which is stderr on the node channel.
	w="$BATS_TEST_TMPDIR/w.js"
	echo 'console.log("hello from", process.pid); process.on("message", (m) => process.send(m));' > "$w"
	run --separate-stderr "$IPCRUN" run -n 2 --name w -- node "$w" < <(lines 2)
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -cE '^w\.[12]\| hello from [0-9]+$')" -eq 2 ]
	run --separate-stderr "$IPCRUN" run -n 2 --log inherit --channel stdio -- \
	    sh -c 'echo plain >&2; cat' < /dev/null
	assert_success
	assert_equal "$stderr" $'plain\nplain'
	# One child: inherited unless asked.
	run --separate-stderr "$IPCRUN" run --log prefix --channel stdio -- \
	    sh -c 'echo solo >&2' < /dev/null
	assert_equal "$stderr" 'sh| solo'
	run --separate-stderr "$IPCRUN" run --log sideways -- cat
	assert_failure 125
	[[ "$stderr" == "ipcrun: run: --log 'sideways': must be prefix or inherit"* ]]
}

# --- a worker killed mid-stream (issue 19's tests, audited) ------------------

@test "kill -9 mid-stream: unread lines go to the other, read ones are counted" {
	# a reads exactly 10 lines, one byte at a time so that it takes no
	# more, answers the first 4 and stops reading; its other 990 lines
	# are unread. b (cat) answers everything it gets.
	cat > "$BATS_TEST_TMPDIR/a.py" <<'PY'
import os, sys, time
got, line = [], b""
while len(got) < 10:
    c = os.read(0, 1)
    if not c:
        break
    line += c
    if c == b"\n":
        got.append(line)
        line = b""
for l in got[:4]:
    os.write(1, l)
with open(sys.argv[1] + ".tmp", "wb") as f:
    f.write(b"".join(got[4:]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(60)
PY
	d=$BATS_TEST_TMPDIR
	lines 2000 > "$d/in"
	mkfifo "$d/fifo"
	"$IPCRUN" run --channel stdio --events \
	    -c "a=python3 $d/a.py $d/held" -c 'b=cat' \
	    < "$d/fifo" > "$d/out" 2> "$d/err" &
	ipid=$!
	exec 7> "$d/fifo"
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
	mkfifo "$d/fifo"
	"$IPCRUN" run --events -c "a=node $d/stop.js $d/stopped" \
	    -c "b=node $F/echo.js" < "$d/fifo" > "$d/out" 2> "$d/err" &
	ipid=$!
	exec 7> "$d/fifo"
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
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run --channel stdio --restart always \
	    --backoff 40ms:1s --max-restarts 4/1m --events-fd 3 \
	    -c 'w=sh -c "exit 4"' 3> "$BATS_TEST_TMPDIR/ev" < "$BATS_TEST_TMPDIR/in"
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
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<> "$BATS_TEST_TMPDIR/in"
	# 4 failures, then success. Within 1m: given up at the third death.
	s=$(flaky_sh "$BATS_TEST_TMPDIR/n1" 4 3)
	run --separate-stderr "$IPCRUN" run --channel stdio --restart on-failure \
	    --backoff 50ms:60ms --max-restarts 2/1m --events-fd 3 \
	    -c "w=sh $s" 3> "$BATS_TEST_TMPDIR/ev1" < "$BATS_TEST_TMPDIR/in"
	assert_failure 3
	assert_equal "$(jq -r .event "$BATS_TEST_TMPDIR/ev1" | grep -c spawn)" 3
	jq -e -s 'last | .event == "giveup"' "$BATS_TEST_TMPDIR/ev1"
	# Within 20 ms: two deaths are always further apart (the delay is at
	# least 50 ms), so none is given up; the fifth run succeeds.
	s=$(flaky_sh "$BATS_TEST_TMPDIR/n2" 4 3)
	run --separate-stderr "$IPCRUN" run --channel stdio --restart on-failure \
	    --backoff 50ms:60ms --max-restarts 2/20ms --events-fd 3 \
	    -c "w=sh $s" 3> "$BATS_TEST_TMPDIR/ev2" < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .event "$BATS_TEST_TMPDIR/ev2" | paste -sd' ')" \
	    "$(printf 'spawn ready exit restart %.0s' 1 2 3 4)spawn ready exit"
	jq -e -s '[.[] | select(.event == "exit") | .code] == [3, 3, 3, 3, 0]' \
	    "$BATS_TEST_TMPDIR/ev2"
	[[ "$stderr" != *"giving up"* ]]
	exec 7>&-
}

# --- routing to Node workers on the node channel (issue 19's tests) ----------

@test "--route broadcast and key=PATH with Node workers on the node channel" {
	w=$(node_worker 'process.on("message", (m) => process.send({pid: process.pid, m}));')
	run --separate-stderr "$IPCRUN" run -n 3 --name w --route broadcast \
	    -- node "$w" < <(lines 5)
	assert_success
	assert_equal "$stderr" ""
	for c in w.1 w.2 w.3; do
		assert_equal "$(printf '%s\n' "$output" |
		    jq -c "select(.from == \"$c\") | .msg.m" | paste -sd' ')" \
		    "$(lines 5 | paste -sd' ')"
	done
	# Key routing: "é" and "\u00e9" reach one worker, the same one in
	# a second run.
	printf '%s\n' '{"u":"\u00e9","n":1}' '{"u":"é","n":2}' '{"u":"x","n":3}' \
	    '{"u":"y","n":4}' '{"u":"x","n":5}' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -n 3 --name w --route key=.u \
	    -- node "$w" < "$BATS_TEST_TMPDIR/in"
	assert_success
	first=$(printf '%s\n' "$output" | jq -c '[.msg.m.n, .from]' | sort)
	[ "$(printf '%s\n' "$output" | jq -r 'select(.msg.m.u == "é") | .from' |
	    sort -u | wc -l)" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.msg.m.u == "x") | .from' |
	    sort -u | wc -l)" -eq 1 ]
	# Each reply names the worker that sent it.
	printf '%s\n' "$output" | jq -e -s 'length == 5 and
	    all(.pid == .msg.pid)'
	run --separate-stderr "$IPCRUN" run -n 3 --name w --route key=.u \
	    -- node "$w" < "$BATS_TEST_TMPDIR/in"
	assert_equal "$(printf '%s\n' "$output" | jq -c '[.msg.m.n, .from]' |
	    sort)" "$first"
}

# --- signals and gone children (issue 19's scope, items 3 and 5) -------------

@test "forwarded signals reach each child's group exactly once" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	setsid "$IPCRUN" run -n 3 --name s --route broadcast \
	    -- node "$F/signals.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	count() {
		[ "$(grep -c "$1" "$BATS_TEST_TMPDIR/out")" -eq "$2" ]
	}
	wait_for 30 count '"msg":{"pid"' 3
	# Ctrl-C reaches the whole foreground group: here, ipcrun's alone,
	# since each child has a group of its own.
	kill -INT -- -"$ipid"
	wait_for 20 count '"sig":"SIGINT"' 3
	for s in TERM HUP USR1 USR2; do
		kill -"$s" "$ipid"
		wait_for 20 count "\"sig\":\"SIG$s\"" 3
	done
	echo '{"q":1}' >&7
	wait_for 20 count '"seen"' 3
	exec 7>&-
	wait "$ipid"
	for c in s.1 s.2 s.3; do
		assert_equal "$(jq -c "select(.from == \"$c\" and .msg.seen) |
		    .msg.seen" "$BATS_TEST_TMPDIR/out")" \
		    '{"SIGINT":1,"SIGTERM":1,"SIGHUP":1,"SIGUSR1":1,"SIGUSR2":1}'
	done
	assert_equal "$(grep -c '"sig"' "$BATS_TEST_TMPDIR/out")" 15
}

@test "--envelope: a line for a child that has exited is reported with its line number" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --channel stdio --envelope --events -c 'a=cat' -c 'b=true' \
	    < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" \
	    2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	exec 7> "$BATS_TEST_TMPDIR/in"
	echo '{"to":"a","msg":1}' >&7
	wait_for 20 grep -q '"event":"exit".*"name":"b"' "$BATS_TEST_TMPDIR/out"
	printf '%s\n' '{"to":"b","msg":2}' '{"to":["a","b"],"msg":3}' >&7
	exec 7>&-
	st=0
	wait "$ipid" || st=$?
	assert_equal "$st" 1
	assert_equal "$(jq -c 'select(.from) | .msg' "$BATS_TEST_TMPDIR/out" |
	    paste -sd' ')" '1 3'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" \
"ipcrun: run: -:2:7: child 'b' has exited (line not delivered)
ipcrun: run: -:3:12: child 'b' has exited (line not delivered)"
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
	cat > "$d/w.py" <<'PY'
import os, sys, time
if os.path.exists(sys.argv[1]):
    while True:
        b = os.read(0, 65536)
        if not b:
            break
        os.write(1, b)
    sys.exit(0)
got, line = [], b""
while len(got) < 10:
    c = os.read(0, 1)
    if not c:
        break
    line += c
    if c == b"\n":
        got.append(line)
        line = b""
for l in got[:4]:
    os.write(1, l)
with open(sys.argv[1] + ".tmp", "wb") as f:
    f.write(b"".join(got[4:]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(60)
PY
	lines 1000 > "$d/in"
	mkfifo "$d/fifo"
	"$IPCRUN" run --channel stdio --restart on-failure --backoff 10ms \
	    --events-fd 3 -c "w=python3 $d/w.py $d/held" \
	    < "$d/fifo" > "$d/out" 2> "$d/err" 3> "$d/ev" &
	ipid=$!
	exec 7> "$d/fifo"
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
