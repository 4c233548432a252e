#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# run --from and --to: Redis as the ends of run's relay, with real Node
# and cat workers and a real redis-server (see redis_helper.bash); peers
# are redis-cli. Streams, lists and channels, bad entries, a consumer
# group's acks (after the reply with --tasks, a worker killed mid-task),
# the refusals, connection errors before any child starts, backpressure
# from a stalled Redis, and a restart under a running sink.

load helper
load redis_helper

@test "10000 lines: stream -> 3 Node workers -> stream, each exactly once" {
	redis_start
	lines 10000 | "$IPCRUN" pub "$(U jobs)"
	w=$(node_worker 'process.on("message", m => process.send({done: m.i}))')
	run --separate-stderr "$IPCRUN" run -n 3 --raw \
	    --from "$(U 'jobs?from=0&until=now&count=500')" --to "$(U results)" \
	    -- node "$w"
	assert_success
	assert_equal "$stderr" ""
	assert_output ""
	assert_equal "$(rcli XLEN results)" 10000
	"$IPCRUN" sub "$(U 'results?from=0&until=now')" > "$T/out"
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | uniq | wc -l"
	assert_output 10000
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | tail -1"
	assert_output 10000
}

@test "--from a stream to stdout, and stdin to --to a stream, one child each" {
	redis_start
	printf '{"a":1}\n{"a":2}\n' | "$IPCRUN" pub "$(U in)"
	run --separate-stderr "$IPCRUN" run --channel stdio \
	    --from "$(U 'in?from=0&until=now')" -- cat
	assert_success
	assert_output $'{"a":1}\n{"a":2}'
	printf '{"b":1}\n' | "$IPCRUN" run --channel stdio --to "$(U out)" -- cat
	run "$IPCRUN" sub "$(U 'out?from=0&until=now')"
	assert_output '{"b":1}'
}

@test "list mode as a service against redis-cli LPUSH and BRPOP, stopped by SIGTERM" {
	redis_start
	rcli LPUSH q '{"n":1}' '{"n":2}' > /dev/null
	bg "$IPCRUN" run --channel stdio --from "$(U 'q?mode=list&block=100ms')" \
	    --to "$(U 'r?mode=list')" -- cat
	rpid=$!
	run rcli BRPOP r 20
	assert_output $'r\n{"n":1}'
	run rcli BRPOP r 20
	assert_output $'r\n{"n":2}'
	# More while it runs: it waits for more until it is stopped.
	rcli LPUSH q '{"n":3}' > /dev/null
	run rcli BRPOP r 20
	assert_output $'r\n{"n":3}'
	kill -TERM "$rpid"
	run wait "$rpid"
	assert_equal "$(rcli EXISTS q)" 0
}

@test "--to a channel: redis-cli SUBSCRIBE gets the children's lines" {
	redis_start
	bg timeout 20 redis-cli -s "$S" SUBSCRIBE ch > "$T/cli"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' PUBSUB NUMSUB ch | tail -1)\" = 1 ]"
	printf '{"p":1}\n{"p":2}\n' |
	    "$IPCRUN" run --channel stdio --to "$(U 'ch?mode=pubsub')" -- cat
	wait_for 20 grep -q '{"p":2}' "$T/cli"
	run grep -c '^{"p":' "$T/cli"
	assert_output 2
}

@test "a bad entry is refused with the address and its place; the rest is processed, exit 1" {
	redis_start
	rcli XADD in '*' msg '{"ok":1}' > /dev/null
	rcli XADD in '*' msg '{"bad":' > /dev/null
	rcli XADD in '*' msg '{"ok":2}' > /dev/null
	run --separate-stderr "$IPCRUN" run --channel stdio \
	    --from "$(U 'in?from=0&until=now')" -- cat
	assert_failure 1
	assert_output $'{"ok":1}\n{"ok":2}'
	assert_equal "$stderr" "ipcrun: run: $(U 'in?from=0&until=now'):2:8: unexpected end of line"
}

@test "ack=reply on a stream: one line, 125, no child started" {
	run --separate-stderr "$IPCRUN" run --tasks --from "$(U 'q?ack=reply')" -- touch "$T/ran"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: --from '$(U 'q?ack=reply')': ack=reply is for a list; a stream acks after the reply with group="
	[ ! -e "$T/ran" ]
}

@test "a list with ack=reply: BLMOVE into NAME:proc:C, LREM after the reply; kill -9 leaves them there, the next run with C does them" {
	redis_start
	for i in 1 2 3 4 5; do rcli LPUSH q "{\"i\":$i}" > /dev/null; done
	stuck=$(node_worker 'process.on("message", m => { if (m.i < 3) process.send({done: m.i}) })')
	bg "$IPCRUN" run --tasks --from "$(U 'q?mode=list&ack=reply&consumer=c1&block=100ms')" \
	    -- node "$stuck" > "$T/o1"
	apid=$!
	wait_for 20 sh -c "[ \$(wc -l < '$T/o1') = 2 ]"
	# 1 and 2 answered and removed; 3 to 5 held, in c1's list.
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' LLEN q:proc:c1)\" = 3 ]"
	assert_equal "$(rcli LLEN q)" 0
	kill -KILL "$apid"
	wait "$apid" || true
	w=$T/ok.js
	echo 'process.on("message", m => process.send({done: m.i}))' > "$w"
	run --separate-stderr "$IPCRUN" run --tasks \
	    --from "$(U 'q?mode=list&ack=reply&consumer=c1&until=now')" -- node "$w"
	assert_success
	# Put back in order, the oldest first.
	assert_output $'{"done":3}\n{"done":4}\n{"done":5}'
	assert_equal "$(rcli LLEN q:proc:c1)" 0
	assert_equal "$(rcli LLEN q)" 0
	assert_equal "$(cat "$T/o1")" $'{"done":1}\n{"done":2}'
}

@test "a list with ack=reply to --to a list: every item once, none left in the consumer's list" {
	redis_start
	lines 2000 | "$IPCRUN" pub "$(U 'q?mode=list')"
	w=$(node_worker 'process.on("message", m => process.send({done: m.i}))')
	run --separate-stderr "$IPCRUN" run -n 2 --tasks \
	    --from "$(U 'q?mode=list&ack=reply&consumer=c&until=now')" \
	    --to "$(U 'r?mode=list')" -- node "$w"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(rcli LLEN r)" 2000
	assert_equal "$(rcli LLEN q:proc:c)" 0
	assert_equal "$(rcli EXISTS q)" 0
}

# pending: how many entries of stream $1 group $2 are not acknowledged.
pending() {
	rcli XPENDING "$1" "$2" | head -1
}

# xacks: how many XACK commands the server has run (each may name many
# entries).
xacks() {
	rcli INFO commandstats | sed -n 's/^cmdstat_xack:calls=\([0-9]*\),.*/\1/p'
}

@test "--tasks from a group: 3000 entries, 3 Node workers, each once to --to, acked in batches" {
	redis_start
	lines 3000 | "$IPCRUN" pub "$(U jobs)"
	w=$(node_worker 'process.on("message", m => process.send({done: m.i}))')
	bg "$IPCRUN" run -n 3 --tasks \
	    --from "$(U 'jobs?group=g&block=100ms&count=200')" --to "$(U res)" \
	    -- node "$w" 2> "$T/err"
	rpid=$!
	wait_for 60 sh -c "[ \"\$(redis-cli -s '$S' XLEN res)\" = 3000 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$rpid"
	wait "$rpid" || true
	# Acked in batches, not one XACK per entry.
	(( $(xacks) < 3000 ))
	"$IPCRUN" sub "$(U 'res?from=0&until=now')" > "$T/out"
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | uniq | wc -l"
	assert_output 3000
	run grep -v -e 'no child left' "$T/err"
	assert_output ""
}

@test "--tasks from a group, two ipcrun processes (two hosts) of 2 workers: 10000 entries each done once, none pending" {
	redis_start
	lines 10000 | "$IPCRUN" pub "$(U jobs)"
	w=$(node_worker 'process.on("message", m => process.send({done: m.i}))')
	for h in a b; do
		bg "$IPCRUN" run -n 2 --tasks \
		    --from "$(U "jobs?group=g&consumer=$h&block=100ms&count=100")" \
		    --to "$(U res)" -- node "$w"
	done
	wait_for 90 sh -c "[ \"\$(redis-cli -s '$S' XLEN res)\" -ge 10000 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	end_bg
	assert_equal "$(rcli XLEN res)" 10000
	"$IPCRUN" sub "$(U 'res?from=0&until=now')" > "$T/out"
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | uniq | wc -l"
	assert_output 10000
}

@test "--tasks from a group: a worker killed mid-task leaves its entry pending; it is done again" {
	redis_start
	lines 20 | "$IPCRUN" pub "$(U jobs)"
	# The first worker to get {"i":7} keeps it and answers nothing more.
	w=$(node_worker "const fs = require('fs'); let hung = false;
process.on('message', m => {
	if (hung) return;
	if (m.i === 7 && !fs.existsSync('$T/hung')) {
		fs.writeFileSync('$T/hung', String(process.pid));
		hung = true;
		return;
	}
	process.send({done: m.i});
});")
	bg "$IPCRUN" run -n 2 --tasks --max-inflight 1 \
	    --from "$(U 'jobs?group=g&block=100ms')" -- node "$w" > "$T/out"
	rpid=$!
	wait_for 30 sh -c "[ \$(wc -l < '$T/out') = 19 ]"
	# Every answered entry is acked; 7's, held by the hung worker, is not.
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 1 ]"
	id7=$(rcli XRANGE jobs - + | grep -B2 -x '{"i":7}' | head -1)
	run rcli XPENDING jobs g - + 10
	assert_line --index 0 "$id7"
	kill -KILL "$(cat "$T/hung")"
	wait_for 30 sh -c "[ \$(wc -l < '$T/out') = 20 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$rpid"
	wait "$rpid" || true
	run grep -c '"done":7}' "$T/out"
	assert_output 1
}

@test "without --tasks, a group's entry is acked once it is handed to a child" {
	redis_start
	lines 100 | "$IPCRUN" pub "$(U jobs)"
	bg "$IPCRUN" run --channel stdio \
	    --from "$(U 'jobs?group=g&block=100ms')" -- cat > "$T/out"
	rpid=$!
	wait_for 30 sh -c "[ \$(wc -l < '$T/out') = 100 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$rpid"
	wait "$rpid" || true
	lines 100 | cmp - "$T/out"
}

@test "--tasks from a group: a refused entry is reported with its id and acked; the rest flows" {
	redis_start
	rcli XADD jobs '*' msg '{"ok":1}' > /dev/null
	bad=$(rcli XADD jobs '*' msg '{"bad":')
	nl=$(rcli XADD jobs '*' msg $'{"a":\n1}')
	rcli XADD jobs '*' other 1 > /dev/null
	rcli XADD jobs '*' msg '{"ok":2}' > /dev/null
	bg "$IPCRUN" run --tasks --channel stdio \
	    --from "$(U 'jobs?group=g&block=100ms')" -- cat > "$T/out" 2> "$T/err"
	rpid=$!
	wait_for 30 sh -c "[ \$(wc -l < '$T/out') = 2 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$rpid"
	wait "$rpid" || true
	assert_equal "$(cat "$T/out")" $'{"ok":1}\n{"ok":2}'
	run cat "$T/err"
	assert_line --partial "jobs?group=g&block=100ms:2:8: unexpected end of line"
	assert_line --partial "entry $nl: holds a newline"
	assert_line --partial "no such field 'msg'"
}

@test "a poison entry: given up each time, claimed again after claim-idle, moved to NAME:dead after max-deliveries" {
	redis_start
	printf '{"i":1}\n{"poison":true}\n{"i":3}\n' | "$IPCRUN" pub "$(U jobs)"
	w=$(node_worker 'process.on("message", m => { if (m.poison) process.exit(3); process.send({done: m.i}) })')
	bg "$IPCRUN" run --tasks --retries 0 --restart always \
	    --from "$(U 'jobs?group=g&block=100ms&claim-idle=1s&max-deliveries=3')" \
	    -- node "$w" > "$T/out" 2> "$T/err"
	rpid=$!
	wait_for 60 sh -c "[ \"\$(redis-cli -s '$S' XLEN jobs:dead)\" = 1 ]" ||
	    { cat "$T/err"; rcli XPENDING jobs g - + 10; false; }
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$rpid"
	wait "$rpid" || true
	id=$(rcli XRANGE jobs - + | grep -B2 -x '{"poison":true}' | head -1)
	run rcli XRANGE jobs:dead - +
	assert_line --index 1 msg
	assert_line --index 2 '{"poison":true}'
	assert_line --index 3 id
	assert_line --index 4 "$id"
	assert_line --index 5 deliveries
	assert_line --index 6 3
	assert_equal "$(sort "$T/out")" $'{"done":1}\n{"done":3}'
	# Each delivery failed; a claim while the child was still starting
	# counts as one too, so not always three tries.
	grep -q 'task given up' "$T/err"
	run grep "moved to" "$T/err"
	assert_output "ipcrun: run: $(U 'jobs?group=g&block=100ms&claim-idle=1s&max-deliveries=3'): entry $id delivered 3 times and not done: moved to 'jobs:dead'"
}

@test "kill -9 of one ipcrun in a group: another claims its pending entries after claim-idle; each done once" {
	redis_start
	lines 50 | "$IPCRUN" pub "$(U jobs)"
	# Host A's worker takes its tasks and never answers.
	stuck=$(node_worker 'process.on("message", m => {})')
	bg "$IPCRUN" run --tasks --from "$(U 'jobs?group=g&consumer=a&block=100ms')" \
	    -- node "$stuck"
	apid=$!
	wait_for 20 sh -c "redis-cli -s '$S' XPENDING jobs g | sed -n 4,5p | tr '\n' ' ' | grep -q '^a 50'"
	kill -KILL "$apid"
	wait "$apid" || true
	w=$T/ok.js
	echo 'process.on("message", m => process.send({done: m.i}))' > "$w"
	bg "$IPCRUN" run -n 2 --tasks \
	    --from "$(U 'jobs?group=g&consumer=b&block=100ms&claim-idle=500ms')" \
	    -- node "$w" > "$T/out"
	bpid=$!
	wait_for 30 sh -c "[ \$(wc -l < '$T/out') -ge 50 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$bpid"
	wait "$bpid" || true
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | uniq | wc -l"
	assert_output 50
	assert_equal "$(wc -l < "$T/out")" 50
}

@test "claim-idle= and max-deliveries= need a group, max-deliveries= needs claim-idle=: one line, 125" {
	run --separate-stderr "$IPCRUN" run --tasks --from "$(U 'in?claim-idle=1s')" -- touch "$T/ran"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: --from '$(U 'in?claim-idle=1s')': claim-idle= and max-deliveries= are for a group (group=)"
	run --separate-stderr "$IPCRUN" run --tasks --from "$(U 'in?group=g&max-deliveries=2')" -- touch "$T/ran"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: --from '$(U 'in?group=g&max-deliveries=2')': max-deliveries= needs claim-idle=: entries are counted when they are claimed again"
	[ ! -e "$T/ran" ]
}

@test "an unreachable --from or --to: one line, 125, before any child starts" {
	run --separate-stderr "$IPCRUN" run --from 'redis://127.0.0.1:1/x' -- touch "$T/ran"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: redis://127.0.0.1:1/x: Connection refused"
	run --separate-stderr "$IPCRUN" run --to "redis+unix://$T/none.sock/x" -- touch "$T/ran"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: redis+unix://$T/none.sock/x: No such file or directory"
	run --separate-stderr "$IPCRUN" run --to 'redis://h:0/x' -- touch "$T/ran"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: 'redis://h:0/x': port '0': not a number from 1 to 65535"
	[ ! -e "$T/ran" ]
}

@test "a wrong password for --to: one line, 125" {
	redis_start --requirepass sekret
	REDISCLI_AUTH=nope run --separate-stderr "$IPCRUN" run --to "$(U out)" -- cat
	assert_failure 125
	assert_equal "$stderr" "ipcrun: run: $(U out): authentication failed: WRONGPASS invalid username-password pair or user is disabled."
}

@test "backpressure: --to a stopped redis-server holds stdin back, RSS flat; all arrive after SIGCONT" {
	redis_start
	pad=$(head -c 1000 /dev/zero | tr '\0' x)
	seq 1 100000 | sed "s/.*/{\"i\":&,\"p\":\"$pad\"}/" > "$T/in"
	kill -STOP "$RPID"
	bg "$IPCRUN" run --channel stdio --to "$(U bp)" -- cat < "$T/in"
	rpid=$!
	pos() { awk '/^pos:/ { print $2 }' "/proc/$rpid/fdinfo/0"; }
	stalled() {
		local a b
		a=$(pos); sleep 0.3; b=$(pos)
		[ -n "$a" ] && [ "$a" = "$b" ]
	}
	wait_for 20 stalled
	(( $(pos) < 20000000 ))
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$rpid/status")
	echo "rss $rss KiB" >&3
	(( rss < 40000 ))
	kill -CONT "$RPID"
	wait "$rpid"
	assert_equal "$(rcli XLEN bp)" 100000
}

@test "redis-server restarted with AOF under run --to: it reconnects, resends, nothing lost" {
	redis_start --appendonly yes
	held_fifo "$IPCRUN" run --channel stdio --to "$(U out)" -- cat
	rpid=$ipid
	printf '{"n":1}\n' >&7
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XLEN out)\" = 1 ]"
	redis_stop
	printf '{"n":2}\n' >&7
	# Not with the fifo's write end: it would hold run's input open.
	redis-server --port 0 --unixsocket "$S" --save '' --appendonly yes \
	    --dir "$T" --daemonize no > "$T/redis.log" 2>&1 7>&- &
	RPID=$!
	wait_for 20 redis_up
	printf '{"n":3}\n' >&7
	exec 7>&-
	wait "$rpid"
	run "$IPCRUN" sub "$(U 'out?from=0&until=now')"
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
	run cat "$T/err"
	assert_output --partial "connection lost"
}

@test "redis-server restarted with AOF under run --tasks --from a group: it reconnects, each entry done once, none pending" {
	redis_start --appendonly yes
	lines 20 | "$IPCRUN" pub "$(U jobs)"
	# The worker answers 1-10 at once, the rest only once told to go.
	w=$(node_worker "const fs = require('fs'); const held = [];
process.on('message', m => {
	fs.appendFileSync('$T/got', m.i + '\\n');
	if (m.i <= 10) return process.send({done: m.i});
	held.push(m.i);
	if (held.length === 10) {
		const t = setInterval(() => {
			if (!fs.existsSync('$T/go')) return;
			clearInterval(t);
			for (const i of held) process.send({done: i});
		}, 20);
	}
});")
	bg "$IPCRUN" run --tasks --from "$(U 'jobs?group=g&consumer=c&block=100ms')" \
	    -- node "$w" > "$T/out" 2> "$T/err"
	rpid=$!
	wait_for 20 sh -c "[ \$(wc -l < '$T/out') = 10 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 10 ]"
	redis_stop
	redis-server --port 0 --unixsocket "$S" --save '' --appendonly yes \
	    --dir "$T" --daemonize no > "$T/redis.log" 2>&1 &
	RPID=$!
	wait_for 20 redis_up
	# The 10 held are still pending, ours, after the restart.
	assert_equal "$(rcli XPENDING jobs g | head -1)" 10
	wait_for 20 grep -q "connection lost" "$T/err"
	# Reconnected, its own pending entries read again, and blocked on new
	# ones: only then do the held ones get their answers.
	wait_for 20 sh -c "redis-cli -s '$S' CLIENT LIST | grep -q 'cmd=xreadgroup'"
	touch "$T/go"
	wait_for 20 sh -c "[ \$(wc -l < '$T/out') = 20 ]"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' XPENDING jobs g | head -1)\" = 0 ]"
	kill -TERM "$rpid"
	wait "$rpid" || true
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | uniq | wc -l"
	assert_output 20
	assert_equal "$(wc -l < "$T/out")" 20
	# Its pending entries read again after the reconnection were held
	# here: not sent to the worker a second time.
	assert_equal "$(wc -l < "$T/got")" 20
}

@test "until=now with group=: two ipcrun --tasks processes (two hosts) drain the group's backlog and exit 0; each entry done once, none pending" {
	redis_start
	lines 4000 | "$IPCRUN" pub "$(U jobs)"
	w=$(node_worker 'process.on("message", m => process.send({done: m.i}))')
	timeout 120 "$IPCRUN" run -n 2 --tasks \
	    --from "$(U 'jobs?group=g&consumer=a&count=100&until=now')" \
	    --to "$(U res)" -- node "$w" 2> "$T/err.a" &
	pa=$!
	timeout 120 "$IPCRUN" run -n 2 --tasks \
	    --from "$(U 'jobs?group=g&consumer=b&count=100&until=now')" \
	    --to "$(U res)" -- node "$w" 2> "$T/err.b" &
	pb=$!
	wait "$pa"
	wait "$pb"
	run cat "$T/err.a" "$T/err.b"
	assert_output ""
	assert_equal "$(rcli XLEN res)" 4000
	run rcli XPENDING jobs g
	assert_line --index 0 0
	"$IPCRUN" sub "$(U 'res?from=0&until=now')" > "$T/out"
	run sh -c "sed 's/[^0-9]//g' '$T/out' | sort -n | uniq | wc -l"
	assert_output 4000
}
