#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The Redis bus: pub and sub against a real redis-server that each test
# starts on a unix socket in its own directory (no TCP unless the test is
# about TCP) and stops by pid; peers are plain redis-cli. Streams, lists
# and channels, the entry format, bad lines, every connection error with
# 125, the password kept out of ps, backpressure and a restart.

load helper
load redis_helper

# N lines of ~100 bytes: more than a pipe holds.
padded_lines() {
	lines "$1" | sed 's/}$/,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}/'
}

# sub URL into a fifo of which we read 300 lines into $T/o1 and then no
# more, until sub blocks writing (pid in $pid, the fifo's end on fd 8).
sub_blocked() {
	local i l
	mkfifo "$T/fifo"
	"$IPCRUN" sub "$1" > "$T/fifo" &
	pid=$!
	BG_PIDS="${BG_PIDS:-} $pid"
	exec 8< "$T/fifo"
	for i in $(seq 300); do
		read -t 30 -r l <&8
		echo "$l" >> "$T/o1"
	done
	wait_for 30 grep -q pipe "/proc/$pid/wchan"
}

@test "pub into a stream, sub from=0 until=now: the same lines, one entry each in field msg" {
	redis_start
	printf '{"a":1}\n[2,"x"]\n"s"\n' > "$T/in"
	run --separate-stderr "$IPCRUN" pub "$(U jobs)" < "$T/in"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(rcli XLEN jobs)" 3
	run rcli XRANGE jobs - + COUNT 1
	assert_line --index 1 msg
	assert_line --index 2 '{"a":1}'
	run --separate-stderr "$IPCRUN" sub "$(U 'jobs?from=0&until=now')"
	assert_success
	assert_output "$(cat "$T/in")"
}

@test "field= names the entry's field both ways; an entry without it is refused with its id" {
	redis_start
	echo '{"a":1}' | "$IPCRUN" pub "$(U 's?field=m')"
	run rcli XRANGE s - +
	assert_line --index 1 m
	id=$(rcli XADD s '*' other '{}')
	run --separate-stderr "$IPCRUN" sub "$(U 's?field=m&from=0&until=now')"
	assert_failure 1
	assert_output '{"a":1}'
	assert_equal "$stderr" "ipcrun: sub: $(U 's?field=m&from=0&until=now'): entry $id: no such field 'm'"
}

@test "pub refuses bad lines with their place, stores the rest, exits 1" {
	redis_start
	printf '{"a":1}\n{"b":\n\n[1]\n' > "$T/in"
	run --separate-stderr "$IPCRUN" pub "$(U jobs)" < "$T/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: pub: -:2:6: unexpected end of line"
	assert_equal "$(rcli XLEN jobs)" 2
}

@test "sub refuses an entry that is not one JSON line, with its id; the rest flows" {
	redis_start
	rcli XADD s 1-1 msg '{"ok":1}' > /dev/null
	rcli XADD s 2-1 msg 'not json' > /dev/null
	rcli XADD s 3-1 msg $'{"a":\n1}' > /dev/null
	rcli XADD s 4-1 msg '[4]' > /dev/null
	run --separate-stderr "$IPCRUN" sub "$(U 's?from=0&until=now')"
	assert_failure 1
	assert_output $'{"ok":1}\n[4]'
	[[ $stderr == *"entry 2-1: "* ]]
	[[ $stderr == *"entry 3-1: holds a newline: not one NDJSON line"* ]]
	assert_equal "$(echo "$stderr" | wc -l)" 2
}

@test "10000 lines through a stream: every one, in order, exactly once" {
	redis_start
	lines 10000 > "$T/in"
	"$IPCRUN" pub "$(U big)" < "$T/in"
	assert_equal "$(rcli XLEN big)" 10000
	"$IPCRUN" sub "$(U 'big?from=0&until=now&count=333')" > "$T/out"
	cmp "$T/in" "$T/out"
}

@test "sub without from= starts at the end: only what is added later, -n stops it" {
	redis_start
	echo '{"old":1}' | "$IPCRUN" pub "$(U s)"
	bg "$IPCRUN" sub -n 2 "$(U 's?block=100ms')" > "$T/out"
	spid=$!
	# Ready once its first XREAD blocks.
	wait_for 20 sh -c "redis-cli -s '$S' CLIENT LIST | grep -q 'cmd=xread'"
	printf '{"new":1}\n{"new":2}\n' | "$IPCRUN" pub "$(U s)"
	wait "$spid"
	run cat "$T/out"
	assert_output $'{"new":1}\n{"new":2}'
}

@test "list mode against redis-cli: pub LPUSHes for BRPOP, sub BRPOPs what LPUSH put" {
	redis_start
	printf '{"i":1}\n{"i":2}\n' | "$IPCRUN" pub "$(U 'q?mode=list')"
	run rcli BRPOP q 1
	assert_output $'q\n{"i":1}'
	run rcli BRPOP q 1
	assert_output $'q\n{"i":2}'
	rcli LPUSH q2 '{"j":1}' '{"j":2}' '{"j":3}' > /dev/null
	run --separate-stderr "$IPCRUN" sub -n 2 "$(U 'q2?mode=list')"
	assert_success
	assert_output $'{"j":1}\n{"j":2}'
	assert_equal "$(rcli LLEN q2)" 1
	run --separate-stderr "$IPCRUN" sub "$(U 'q2?mode=list&until=now')"
	assert_success
	assert_output '{"j":3}'
	assert_equal "$(rcli EXISTS q2)" 0
}

@test "pub/sub mode against redis-cli: SUBSCRIBE gets pub's lines, sub gets PUBLISH's" {
	redis_start
	bg timeout 20 redis-cli -s "$S" SUBSCRIBE ch > "$T/cli"
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' PUBSUB NUMSUB ch | tail -1)\" = 1 ]"
	printf '{"p":1}\n{"p":2}\n' | "$IPCRUN" pub "$(U 'ch?mode=pubsub')"
	wait_for 20 grep -q '{"p":2}' "$T/cli"
	run grep -c '^{"p":' "$T/cli"
	assert_output 2
	end_bg
	bg "$IPCRUN" sub -n 2 "$(U 'ch2?mode=pubsub')" > "$T/out"
	spid=$!
	wait_for 20 sh -c "[ \"\$(redis-cli -s '$S' PUBSUB NUMSUB ch2 | tail -1)\" = 1 ]"
	rcli PUBLISH ch2 '{"q":1}' > /dev/null
	rcli PUBLISH ch2 '{"q":2}' > /dev/null
	wait "$spid"
	run cat "$T/out"
	assert_output $'{"q":1}\n{"q":2}'
}

@test "pub to a channel nobody listens to says how many were unheard" {
	redis_start
	run --separate-stderr "$IPCRUN" pub "$(U 'nobody?mode=pubsub')" <<< '{"x":1}'
	assert_success
	assert_equal "$stderr" "ipcrun: pub: $(U 'nobody?mode=pubsub'): 1 message had no subscriber"
}

@test "a bad address is one line and 125, before any connection" {
	run --separate-stderr "$IPCRUN" pub 'redis://h:99999/x'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: pub: 'redis://h:99999/x': port '99999': not a number from 1 to 65535"
	run --separate-stderr "$IPCRUN" sub 'redis://h/x?colour=red'
	assert_failure 125
	[[ $stderr == "ipcrun: sub: 'redis://h/x?colour=red': unknown option 'colour' "* ]]
	run --separate-stderr "$IPCRUN" sub 'redis://h'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: sub: 'redis://h': no NAME (the key or channel)"
	run --separate-stderr "$IPCRUN" sub 'http://h/x'
	assert_failure 125
	assert_equal "$(echo "$stderr" | wc -l)" 1
}

@test "an unreachable port, a missing socket: one line naming the address, 125" {
	run --separate-stderr "$IPCRUN" sub 'redis://127.0.0.1:1/x'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: sub: redis://127.0.0.1:1/x: Connection refused"
	run --separate-stderr "$IPCRUN" pub "redis+unix://$T/none.sock/x" <<< '{}'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: pub: redis+unix://$T/none.sock/x: No such file or directory"
}

@test "a server that accepts but never answers: 125 after the connect deadline" {
	redis_start
	kill -STOP "$RPID"
	run --separate-stderr "$IPCRUN" sub "$(U s)"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: sub: $(U s): no answer within 5 s"
}

@test "wrong password, no password: one line each, 125; REDISCLI_AUTH is taken" {
	redis_start --requirepass sekret
	run --separate-stderr "$IPCRUN" sub "redis+unix://bad@$S/s"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: sub: redis+unix://***@$S/s: authentication failed: WRONGPASS invalid username-password pair or user is disabled."
	run --separate-stderr env -u REDISCLI_AUTH "$IPCRUN" pub "$(U s)" <<< '{}'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: pub: $(U s): NOAUTH Authentication required. (give the password in REDISCLI_AUTH or the address)"
	REDISCLI_AUTH=sekret run --separate-stderr "$IPCRUN" pub "$(U s)" <<< '{"ok":1}'
	assert_success
	assert_equal "$(REDISCLI_AUTH=sekret rcli XLEN s)" 1
}

@test "a password in the address is wiped from the command line ps shows" {
	redis_start --requirepass sekret
	bg "$IPCRUN" sub "redis+unix://sekret@$S/s"
	spid=$!
	wait_for 20 sh -c "REDISCLI_AUTH=sekret redis-cli -s '$S' CLIENT LIST | grep -q 'cmd=xread'"
	run tr '\0' ' ' < "/proc/$spid/cmdline"
	refute_output --partial sekret
	assert_output --partial "redis+unix://******@"
}

@test "backpressure: with redis-server stopped, pub stops reading and its RSS stays flat" {
	redis_start
	# 100000 lines of about 1 KiB: 100 MB, were it all buffered.
	pad=$(head -c 1000 /dev/zero | tr '\0' x)
	seq 1 100000 | sed "s/.*/{\"i\":&,\"p\":\"$pad\"}/" > "$T/in"
	kill -STOP "$RPID"
	bg "$IPCRUN" pub "$(U bp)" < "$T/in"
	ppid_=$!
	# It stalls: its read position stops moving, far from the end.
	pos() { awk '/^pos:/ { print $2 }' "/proc/$ppid_/fdinfo/0"; }
	stalled() {
		local a b
		a=$(pos); sleep 0.3; b=$(pos)
		[ -n "$a" ] && [ "$a" = "$b" ]
	}
	wait_for 20 stalled
	(( $(pos) < 20000000 ))
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$ppid_/status")
	echo "rss $rss KiB" >&3
	(( rss < 40000 ))
	kill -CONT "$RPID"
	wait "$ppid_"
	assert_equal "$(rcli XLEN bp)" 100000
}

@test "redis-server restarted with AOF under a running sub: it reconnects and resumes" {
	redis_start --appendonly yes
	printf '{"n":1}\n{"n":2}\n' | "$IPCRUN" pub "$(U s)"
	bg "$IPCRUN" sub -n 4 "$(U 's?from=0&block=100ms')" > "$T/out" 2> "$T/err"
	spid=$!
	wait_for 20 sh -c "[ \$(wc -l < '$T/out') = 2 ]"
	redis_stop
	redis-server --port 0 --unixsocket "$S" --save '' --appendonly yes \
	    --dir "$T" --daemonize no > "$T/redis.log" 2>&1 &
	RPID=$!
	wait_for 20 redis_up
	printf '{"n":3}\n{"n":4}\n' | "$IPCRUN" pub "$(U s)"
	wait "$spid"
	run cat "$T/out"
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}'
	run cat "$T/err"
	assert_output --partial "connection lost"
	assert_output --partial "reconnecting"
}

@test "sub in a consumer group acks what it printed; what it read past -n stays pending and comes again" {
	redis_start
	lines 1000 | "$IPCRUN" pub "$(U g)"
	"$IPCRUN" sub -n 300 "$(U 'g?group=w&consumer=a&count=70')" > "$T/o1"
	assert_equal "$(wc -l < "$T/o1")" 300
	# 5 reads of 70: 50 read past -n, never printed, still a's.
	run rcli XPENDING g w
	assert_line --index 0 50
	"$IPCRUN" sub -n 700 "$(U 'g?group=w&consumer=a&count=70&block=100ms')" > "$T/o2"
	run rcli XPENDING g w
	assert_line --index 0 0
	cat "$T/o1" "$T/o2" | sort > "$T/got"
	lines 1000 | sort > "$T/want"
	cmp "$T/want" "$T/got"
}

@test "two consumers of one group share a stream: every line once, none pending" {
	redis_start
	lines 2000 | "$IPCRUN" pub "$(U g)"
	bg "$IPCRUN" sub "$(U 'g?group=w&consumer=a&count=50&block=100ms')" > "$T/a"
	bg "$IPCRUN" sub "$(U 'g?group=w&consumer=b&count=50&block=100ms')" > "$T/b"
	wait_for 60 sh -c "[ \$(cat '$T/a' '$T/b' | wc -l) -ge 2000 ]"
	wait_for 20 sh -c "redis-cli -s '$S' XPENDING g w | head -1 | grep -qx 0"
	end_bg
	cat "$T/a" "$T/b" | sort > "$T/got"
	lines 2000 | sort > "$T/want"
	cmp "$T/want" "$T/got"
}

@test "sub with claim-idle= takes over a dead consumer's pending entries; each line once" {
	redis_start
	lines 1000 | "$IPCRUN" pub "$(U g)"
	# 5 reads of 70: 50 read past -n stay pending, a's.
	"$IPCRUN" sub -n 300 "$(U 'g?group=w&consumer=a&count=70')" > "$T/o1"
	run rcli XPENDING g w
	assert_line --index 0 50
	bg "$IPCRUN" sub "$(U 'g?group=w&consumer=b&block=100ms&claim-idle=200ms')" > "$T/o2"
	wait_for 30 sh -c "[ \$(wc -l < '$T/o2') -ge 700 ]"
	wait_for 20 sh -c "redis-cli -s '$S' XPENDING g w | head -1 | grep -qx 0"
	end_bg
	cat "$T/o1" "$T/o2" | sort > "$T/got"
	lines 1000 | sort > "$T/want"
	cmp "$T/want" "$T/got"
}

@test "sub: claim-idle= without a group, max-deliveries= without claim-idle=: one line, 125" {
	run --separate-stderr "$IPCRUN" sub "$(U 'g?claim-idle=1s')"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: sub: '$(U 'g?claim-idle=1s')': claim-idle= and max-deliveries= are for a group (group=)"
	run --separate-stderr "$IPCRUN" sub "$(U 'g?group=w&max-deliveries=1')"
	assert_failure 125
	assert_equal "$(echo "$stderr" | wc -l)" 1
}

@test "until=now with group=: two consumers drain the group's backlog and exit 0; each line once, none pending" {
	redis_start
	lines 3000 | "$IPCRUN" pub "$(U g)"
	# a takes 200 first: until=now goes on from where the group is.
	"$IPCRUN" sub -n 200 "$(U 'g?group=w&consumer=a&count=50')" > "$T/o0"
	timeout 60 "$IPCRUN" sub "$(U 'g?group=w&consumer=a&count=50&until=now')" > "$T/a" &
	pa=$!
	timeout 60 "$IPCRUN" sub "$(U 'g?group=w&consumer=b&count=50&until=now')" > "$T/b" &
	pb=$!
	wait $pa
	wait $pb
	run rcli XPENDING g w
	assert_line --index 0 0
	cat "$T/o0" "$T/a" "$T/b" | sort > "$T/got"
	lines 3000 | sort > "$T/want"
	cmp "$T/want" "$T/got"
}

@test "until=now with group=: it ends though entries keep coming; what it read past the start is printed and acked" {
	redis_start
	lines 2000 | "$IPCRUN" pub "$(U g)"
	# A producer that never stops, while the reader runs.
	bg sh -c "i=0; while :; do i=\$((i + 1)); redis-cli -s '$S' XADD g '*' msg \"{\\\"late\\\":\$i}\" > /dev/null; done"
	wait_for 10 sh -c "[ \$(redis-cli -s '$S' XLEN g) -gt 2000 ]"
	run --separate-stderr timeout 60 "$IPCRUN" sub "$(U 'g?group=w&consumer=a&count=100&until=now')"
	assert_success
	end_bg
	echo "$output" | grep -v late | sort > "$T/got"
	lines 2000 | sort > "$T/want"
	cmp "$T/want" "$T/got"
	# Nothing it read was left unacked.
	run rcli XPENDING g w
	assert_line --index 0 0
}

@test "sub from a list with ack=reply: an item leaves C's list once printed; kill -9 mid-write leaves it there, the next sub as C prints it" {
	redis_start
	# 2000 items of ~100 bytes: more than a pipe holds.
	padded_lines 2000 > "$T/want"
	"$IPCRUN" pub "$(U 'q?mode=list')" < "$T/want"
	# sub fills the pipe and blocks writing an item, which stays in
	# c1's list, not acked.
	sub_blocked "$(U 'q?mode=list&ack=reply&consumer=c1&block=100ms')"
	run rcli LLEN q:proc:c1
	assert_output 1
	kill -9 "$pid"
	wait "$pid" || true
	cat <&8 >> "$T/o1"
	exec 8<&-
	[ "$(rcli LLEN q)" -gt 0 ]
	# Another sub as c1 moves c1's item back to the queue, first out.
	run --separate-stderr "$IPCRUN" sub "$(U 'q?mode=list&ack=reply&consumer=c1&until=now')"
	assert_success
	echo "$output" > "$T/o2"
	run rcli LLEN q:proc:c1
	assert_output 0
	run rcli LLEN q
	assert_output 0
	# At least once: nothing lost.
	cat "$T/o1" "$T/o2" | sort -u > "$T/got"
	sort "$T/want" | cmp - "$T/got"
}

@test "sub: ack=reply on a stream is one line and 125" {
	run --separate-stderr "$IPCRUN" sub "$(U 'g?ack=reply')"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: sub: '$(U 'g?ack=reply')': ack=reply is for a list; a stream acks after the line is written with group="
}

@test "sub in a group acks only what it wrote: kill -9 mid-write, another consumer claims the rest; nothing lost" {
	redis_start
	padded_lines 2000 > "$T/want"
	"$IPCRUN" pub "$(U g)" < "$T/want"
	sub_blocked "$(U 'g?group=w&consumer=a&count=50')"
	# What a read and has not written is pending, a's.
	[ "$(rcli XPENDING g w | head -1)" -ge 1 ]
	kill -9 "$pid"
	wait "$pid" || true
	cat <&8 >> "$T/o1"
	exec 8<&-
	bg "$IPCRUN" sub "$(U 'g?group=w&consumer=b&block=100ms&claim-idle=200ms')" > "$T/o2"
	wait_for 60 sh -c "redis-cli -s '$S' XPENDING g w | head -1 | grep -qx 0"
	wait_for 60 sh -c "[ \$(sort -u '$T/o1' '$T/o2' | wc -l) -ge 2000 ]"
	end_bg
	# A read's lines go out in one write, which the kill can cut: the
	# cut line's entry was not acked, and comes whole from b.
	grep -h '}$' "$T/o1" "$T/o2" | sort -u > "$T/got"
	sort "$T/want" | cmp - "$T/got"
}

@test "sub in a group acks in batches, not one XACK per entry" {
	redis_start
	lines 3000 | "$IPCRUN" pub "$(U g)"
	run --separate-stderr "$IPCRUN" sub "$(U 'g?group=w&consumer=a&count=200&until=now')"
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 3000
	run rcli XPENDING g w
	assert_line --index 0 0
	calls=$(rcli INFO commandstats | sed -n 's/^cmdstat_xack:calls=\([0-9]*\),.*/\1/p')
	(( calls <= 30 ))
}
