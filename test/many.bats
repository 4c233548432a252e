#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run with many children: -n and -c, round robin, broadcast, key
# routing, envelopes, the {"from":...} wrapping, events, process hygiene
# and logs. Real children (node, cat, sh); waits have deadlines, nothing
# asserts a timing. (many-life.bats: restarts, deaths, exit status.)

load helper

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

@test "-n 3: runs dealt around a bad line, a blank one and one longer than a queue; each good line out once" {
	{ lines 2499; printf '{"bad":}\n'; seq 2501 2999 | sed 's/.*/{"i":&}/'
	  printf '  \n'; seq 3001 3999 | sed 's/.*/{"i":&}/'
	  printf '{"long":"%s"}\n' "$(head -c 300000 /dev/zero | tr '\0' x)"
	  seq 4001 5000 | sed 's/.*/{"i":&}/'; } > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" run -n 3 --raw --channel stdio -- cat \
	    < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: run: -:2500:8: expected a value, found '}'"
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 4998
	assert_equal "$(printf '%s\n' "$output" | sort)" \
	    "$(grep -v -e bad -e '^  $' "$BATS_TEST_TMPDIR/in" | sort)"
}

@test "a child that stops reading holds up no other; killed, its unread lines go to another" {
	lines 2000 > "$BATS_TEST_TMPDIR/in"
	held_fifo "$IPCRUN" run --channel stdio --events -v -c 'a=sleep 1000' \
	    -c 'b=cat'
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
	bg "$IPCRUN" run --channel stdio --route broadcast -c fast=cat \
	    -c "slow=sh -c 'while [ ! -e $T/go ]; do sleep 0.05; done; exec cat'" \
	    < "$T/in" > "$T/out" 2> "$T/err" 3>&-
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
	[[ "$stderr" == "ipcrun: run: -n '0': too small (1 to 1000, or auto)"* ]]
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
	held_fifo "$IPCRUN" run --channel stdio -n 8 -- sh -c \
	    'sleep 300 & echo "{\"sh\":$$,\"bg\":$!}"; wait'
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
	held_fifo setsid "$IPCRUN" run -n 3 --name s --route broadcast \
	    -- node "$F/signals.js"
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
	held_fifo "$IPCRUN" run --channel stdio --envelope --events -c 'a=cat' \
	    -c 'b=true'
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

@test "-n copies of an interpreter's script are named after the script (worker.1, as pm2), not node.1" {
	mkdir -p "$BATS_TEST_TMPDIR/srv"
	echo 'process.on("message", (m) => process.send(m));' \
	    > "$BATS_TEST_TMPDIR/srv/worker.js"
	run --separate-stderr "$IPCRUN" run -n 2 --events -- \
	    node --no-warnings "$BATS_TEST_TMPDIR/srv/worker.js" < <(lines 2)
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r 'select(.event == "spawn") | .name' | sort | paste -sd' ')" \
	    'worker.1 worker.2'
	assert_equal "$(printf '%s\n' "$output" | jq -r '.from // empty' | sort -u | paste -sd' ')" \
	    'worker.1 worker.2'
	# Python's too; inline code has no script: the command's name.
	printf 'import sys\nfor l in sys.stdin: print(l, end="", flush=True)\n' \
	    > "$BATS_TEST_TMPDIR/img.py"
	run --separate-stderr "$IPCRUN" run -n 2 --channel stdio --events -- \
	    python3 -u "$BATS_TEST_TMPDIR/img.py" < <(lines 2)
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r 'select(.event == "spawn") | .name' | sort | paste -sd' ')" \
	    'img.1 img.2'
	run --separate-stderr "$IPCRUN" run -n 2 --events -- \
	    node -e 'process.on("message", (m) => process.send(m))' < <(lines 2)
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r 'select(.event == "spawn") | .name' | sort | paste -sd' ')" \
	    'node.1 node.2'
}

@test "a mixed pool: -c NAME:stdio= puts one child on stdio beside Node children (the man page's example)" {
	cd "$BATS_TEST_TMPDIR"
	cat >db.js <<-'JS'
	process.on('message', (m) => process.send({ rows: [], q: m.q }));
	JS
	cat >img.py <<-'PY'
	import json, sys
	for line in sys.stdin:
	    print(json.dumps({"img": json.loads(line)["q"] * 2}), flush=True)
	PY
	printf '%s\n' '{"to":"db","msg":{"q":1}}' '{"to":"img","msg":{"q":21}}' \
	    '{"to":"db","msg":{"q":3}}' >in
	run --separate-stderr "$IPCRUN" run -c 'db=node db.js' \
	    -c 'img:stdio=python3 -u img.py' --envelope <in
	assert_success
	assert_equal "$stderr" ""
	assert_line --regexp '^\{"from":"db","pid":[0-9]+,"msg":\{"rows":\[\],"q":1\}\}$'
	assert_line --regexp '^\{"from":"db","pid":[0-9]+,"msg":\{"rows":\[\],"q":3\}\}$'
	assert_line --regexp '^\{"from":"img","pid":[0-9]+,"msg":\{"img": 42\}\}$'
	assert [ "${#lines[@]}" -eq 3 ]
	# And the other way round: :node= beside --channel stdio.
	run --separate-stderr "$IPCRUN" run --channel stdio \
	    -c 'db:node=node db.js' -c 'img=python3 -u img.py' --envelope <in
	assert_success
	assert [ "${#lines[@]}" -eq 3 ]
	# Without it, the Python child on the node channel is named, with
	# the way out for it alone.
	run --separate-stderr "$IPCRUN" run -c 'db=node db.js' \
	    -c 'img=python3 -u img.py' --envelope <in
	assert_failure 1
	[[ $stderr == *"'img' never read its channel: a program that reads NDJSON on its stdin needs --channel stdio, or -c 'img:stdio=CMD' for it alone"* ]]
}

@test "-c NAME:CHANNEL=: a bad channel and what needs Node's channel are usage errors" {
	run -125 --separate-stderr "$IPCRUN" run -c 'a:sdtio=cat'
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: -c 'a:sdtio=cat': after \
'a:' comes the child's channel, node or stdio, then '=' (column 3)"
	run -125 --separate-stderr "$IPCRUN" run -c 'a:stdio=cat' --eof idle
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: run: --eof applies to --channel node only"
	run -125 --separate-stderr "$IPCRUN" run --channel stdio --no-validate \
	    -c 'a=cat' -c 'b:node=node -e 0'
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --no-validate is for \
--channel stdio only: a Node child crashes on an invalid line"
	# A name with a ':' and no channel was never a name: still refused.
	run -125 --separate-stderr "$IPCRUN" run -c ':stdio=cat'
	[[ $stderr == *"expected NAME=CMD ARGS"* ]]
}
