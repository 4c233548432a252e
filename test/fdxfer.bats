#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun send-fd and recv-fd: files, pipes, TCP and unix sockets passed
# between real processes, chainloading with a descriptor map, the header,
# and every error path with its message and exit status.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	S=$T/h.sock
}

# closed CMD...: exec CMD with every descriptor above 2 closed, so that
# what bats itself keeps open does not show in CMD's table. Only in a
# subshell already (with bg, & or in $(...)): the pid stays CMD's.
closed() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
	done
	exec "$@"
}

# fdlist: read `ls -l /proc/self/fd` on stdin and print the numbers, but
# not the one ls itself opened to read the directory, on one line.
fdlist() {
	sed -n 's/.* \([0-9]*\) -> \(.*\)/\1 \2/p' | grep -v ' /proc/' |
	    cut -d' ' -f1 | sort -n | tr '\n' ' '
}

# mode_is MODE: the socket file $S has permissions MODE (octal).
mode_is() {
	[ "$(stat -c %a "$S" 2>/dev/null)" = "$1" ]
}

# recv_bg ARGS...: start `ipcrun recv-fd ARGS` in the background, with its
# stdout in $T/out and stderr in $T/err; wait until it listens on $S.
recv_bg() {
	bg closed "$IPCRUN" recv-fd "$@" >"$T/out" 2>"$T/err"
	RECV_PID=$!
	wait_for 20 test -S "$S"
}

# recv_status: wait for the background recv-fd; its status in $status.
recv_status() {
	status=0
	wait "$RECV_PID" || status=$?
}

@test "send-fd of a file: recv-fd --as 0 chainloads wc -c with it" {
	printf 'hello world\n' >"$T/file"
	recv_bg "unix:$S" --as 0 -- wc -c
	run --separate-stderr "$IPCRUN" send-fd "unix:$S" 0 <"$T/file"
	assert_success
	assert_equal "$stderr" ""
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" 12
	assert_equal "$(cat "$T/err")" ""
	# The listening path is removed once the peer is in.
	[ ! -e "$S" ]
}

@test "send-fd of a pipe: recv-fd chainloads cat with it" {
	recv_bg "$S" --as 0 -- cat
	printf 'through a pipe\n' | "$IPCRUN" send-fd "$S" 0
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" "through a pipe"
}

@test "send-fd of a TCP socket: a python program uses it after recv-fd" {
	bg python3 "$F/fdtool.py" tcpserver "$T/port"
	wait_for 20 test -s "$T/port"
	recv_bg "unix:$S" --as 3 -- python3 "$F/fdtool.py" usefd 3
	run bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1; exec "$2" send-fd "$3" 3' \
	    _ "$(cat "$T/port")" "$IPCRUN" "unix:$S"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" $'fd 3: tcp4\nreply: tcp got ping'
}

@test "send-fd of a unix socket: a python program talks through it" {
	bg socat UNIX-LISTEN:"$T/echo.sock",fork EXEC:cat
	wait_for 20 listening "$T/echo.sock"
	recv_bg "unix:$S" --as 5 -- python3 "$F/fdtool.py" usefd 5
	run python3 "$F/fdtool.py" withconn "$T/echo.sock" 3 -- \
	    "$IPCRUN" send-fd "unix:$S" 3
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" $'fd 5: unix\nreply: ping'
}

@test "three descriptors at once land at the requested numbers" {
	printf 'file\n' >"$T/a"
	mkfifo "$T/fifo"
	recv_bg "unix:$S" --as 5,7,9 -- sh -c \
	    'cat <&5; cat <&7; echo sock >&9; readlink /proc/$$/fd/9 | cut -d: -f1'
	bg socat UNIX-LISTEN:"$T/u.sock",fork - >"$T/u.out"
	wait_for 20 listening "$T/u.sock"
	bg sh -c 'printf "fifo\n" >"$1"' sh "$T/fifo"
	run python3 "$F/fdtool.py" withconn "$T/u.sock" 6 -- bash -c \
	    'exec "$0" send-fd "$1" 3 4 6 3<"$2" 4<"$3"' \
	    "$IPCRUN" "unix:$S" "$T/a" "$T/fifo"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" $'file\nfifo\nsocket'
	wait_for 20 grep -q sock "$T/u.out"
}

@test "a swapped map (--as 1,0) works" {
	printf 'swap me\n' >"$T/in"
	recv_bg "unix:$S" --as 1,0 -- tr a-z A-Z
	bash -c 'exec "$0" send-fd "$1" 3 4 3>"$2" 4<"$3"' \
	    "$IPCRUN" "unix:$S" "$T/outfile" "$T/in"
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/outfile")" "SWAP ME"
	assert_equal "$(cat "$T/out")" ""
}

@test "without --as, the descriptors land at 3, 4, ..." {
	printf 'x\n' >"$T/a"
	recv_bg "unix:$S" -- ls -l /proc/self/fd
	bash -c 'exec "$0" send-fd "$1" 0 0 <"$2"' "$IPCRUN" "unix:$S" "$T/a"
	recv_status
	assert_equal "$status" 0
	assert_equal "$(fdlist <"$T/out")" "0 1 2 3 4 "
}

@test "CMD starts with SIGPIPE at its default, not ignored as in ipcrun" {
	recv_bg "unix:$S" --as 0 -- awk '/^SigIgn:/ { print $2 }' /proc/self/status
	"$IPCRUN" send-fd "unix:$S" 0 </dev/null
	recv_status
	assert_equal "$status" 0
	# Bit 13 (SIGPIPE) is 0x1000.
	(( (16#$(cat "$T/out") & 0x1000) == 0 ))
}

@test "without CMD, recv-fd prints the header with the names" {
	recv_bg "unix:$S"
	bash -c 'exec "$0" send-fd "$1" 3 4 --names log,db 3>"$2" 4<"$3"' \
	    "$IPCRUN" "unix:$S" "$T/log" /dev/null
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" '{"fds":2,"names":["log","db"]}'
	assert_equal "$(cat "$T/err")" ""
}

@test "send-fd -l listens and recv-fd -c connects" {
	printf 'reversed\n' >"$T/a"
	bg "$IPCRUN" send-fd -l "unix:$S" 0 <"$T/a" 2>"$T/serr"
	SEND_PID=$!
	wait_for 20 test -S "$S"
	run --separate-stderr "$IPCRUN" recv-fd -c "unix:$S" --as 0 -- cat
	assert_success
	assert_output reversed
	wait "$SEND_PID"
	[ ! -e "$S" ]
}

@test "an abstract address works both ways" {
	local name="ipcrun-test-$$-$RANDOM"
	bg "$IPCRUN" recv-fd "unix:@$name" --as 0 -- cat >"$T/out" 2>"$T/err"
	RECV_PID=$!
	# No file to wait for: retry the sender until it finds the listener.
	printf 'abstract\n' >"$T/a"
	wait_for 20 "$IPCRUN" send-fd "unix:@$name" 0 <"$T/a" 2>/dev/null
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" abstract
}

# abstract_listening NAME: something listens on unix:@NAME.
abstract_listening() {
	grep -q " @$1\$" /proc/net/unix
}

@test "recv-fd on an abstract address refuses a peer of another uid and waits for its own" {
	need_other_uid
	local name="ipcrun-test-$$-$RANDOM"
	printf 'from nobody\n' >"$T/evil"
	printf 'from us\n' >"$T/good"
	"$IPCRUN" recv-fd "unix:@$name" --as 0 -- cat >"$T/out" 2>"$T/err" &
	RECV_PID=$!
	BG_PIDS="$RECV_PID"
	wait_for 20 abstract_listening "$name"
	# The sender may or may not see the close; what matters is recv-fd.
	as_nobody "$IPCRUN" send-fd "unix:@$name" 0 <"$T/evil" 2>/dev/null || true
	wait_for 20 grep -q refused "$T/err"
	assert_regex "$(cat "$T/err")" "^ipcrun: recv-fd: unix:@$name: refused a peer of uid 65534 \(pid [0-9]+\); --allow-uid 65534 would admit it\$"
	# Still waiting: our own uid is served.
	kill -0 "$RECV_PID"
	run --separate-stderr "$IPCRUN" send-fd "unix:@$name" 0 <"$T/good"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" "from us"
}

@test "recv-fd --allow-uid admits a peer of that uid, by number or by name" {
	need_other_uid
	local name u
	printf 'from nobody\n' >"$T/a"
	for u in 65534 nobody; do
		name="ipcrun-test-$$-$RANDOM"
		"$IPCRUN" recv-fd --allow-uid 4242 --allow-uid "$u" "unix:@$name" \
		    --as 0 -- cat >"$T/out" 2>"$T/err" &
		RECV_PID=$!
		BG_PIDS="$RECV_PID"
		wait_for 20 abstract_listening "$name"
		run --separate-stderr as_nobody "$IPCRUN" send-fd "unix:@$name" 0 <"$T/a"
		assert_success
		recv_status
		assert_equal "$status" 0
		assert_equal "$(cat "$T/out")" "from nobody"
		assert_equal "$(cat "$T/err")" ""
	done
}

@test "recv-fd -c refuses a listener of another uid unless --allow-uid names it" {
	need_other_uid
	local name="ipcrun-test-$$-$RANDOM"
	printf 'from nobody\n' >"$T/a"
	as_nobody "$IPCRUN" send-fd -l "unix:@$name" 0 <"$T/a" 2>/dev/null &
	BG_PIDS="$!"
	wait_for 20 abstract_listening "$name"
	run --separate-stderr "$IPCRUN" recv-fd -c "unix:@$name" --as 0 -- cat
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "$stderr" "^ipcrun: recv-fd: unix:@$name: refused a peer of uid 65534 \(pid [0-9]+\); --allow-uid 65534 would admit it\$"
	wait "$BG_PIDS" || true

	name="ipcrun-test-$$-$RANDOM"
	as_nobody "$IPCRUN" send-fd -l "unix:@$name" 0 <"$T/a" 2>/dev/null &
	BG_PIDS="$!"
	wait_for 20 abstract_listening "$name"
	run --separate-stderr "$IPCRUN" recv-fd -c --allow-uid 65534 "unix:@$name" --as 0 -- cat
	assert_success
	assert_output "from nobody"
	wait "$BG_PIDS"
}

@test "send-fd -l sends only to a peer of its own uid or root; --allow-uid admits another" {
	need_other_uid
	local name="ipcrun-test-$$-$RANDOM"
	printf 'ours\n' >"$T/a"
	"$IPCRUN" send-fd -l "unix:@$name" 0 <"$T/a" 2>"$T/err" &
	SEND_PID=$!
	BG_PIDS="$SEND_PID"
	wait_for 20 abstract_listening "$name"
	# A stranger on the abstract name gets nothing: it is closed unread.
	run --separate-stderr as_nobody "$IPCRUN" recv-fd -c "unix:@$name" --as 0 -- cat
	assert_failure
	assert_output ""
	wait_for 20 grep -q refused "$T/err"
	assert_regex "$(cat "$T/err")" "^ipcrun: send-fd: unix:@$name: refused a peer of uid 65534 \(pid [0-9]+\); --allow-uid 65534 would admit it\$"
	# Still waiting: our own uid gets the descriptor.
	kill -0 "$SEND_PID"
	run --separate-stderr "$IPCRUN" recv-fd -c "unix:@$name" --as 0 -- cat
	assert_success
	assert_output "ours"
	wait "$SEND_PID"

	name="ipcrun-test-$$-$RANDOM"
	"$IPCRUN" send-fd -l --allow-uid nobody "unix:@$name" 0 <"$T/a" 2>"$T/err" &
	SEND_PID=$!
	BG_PIDS="$SEND_PID"
	wait_for 20 abstract_listening "$name"
	run --separate-stderr as_nobody "$IPCRUN" recv-fd -c "unix:@$name" --as 0 -- cat
	assert_success
	assert_output "ours"
	wait "$SEND_PID"
	assert_equal "$(cat "$T/err")" ""
}

@test "send-fd refuses a listener of another uid unless --allow-uid names it" {
	need_other_uid
	local name="ipcrun-test-$$-$RANDOM"
	printf 'ours\n' >"$T/a"
	as_nobody "$IPCRUN" recv-fd "unix:@$name" --as 0 -- cat >"$T/out" 2>/dev/null &
	RECV_PID=$!
	BG_PIDS="$RECV_PID"
	wait_for 20 abstract_listening "$name"
	run --separate-stderr "$IPCRUN" send-fd "unix:@$name" 0 <"$T/a"
	assert_failure 1
	assert_regex "$stderr" "^ipcrun: send-fd: unix:@$name: refused a peer of uid 65534 \(pid [0-9]+\); --allow-uid 65534 would admit it\$"
	# That listener took one peer, got no header and ended.
	recv_status
	[ "$status" -ne 0 ]
	[ ! -s "$T/out" ]

	name="ipcrun-test-$$-$RANDOM"
	as_nobody "$IPCRUN" recv-fd "unix:@$name" --as 0 -- cat >"$T/out" 2>/dev/null &
	RECV_PID=$!
	BG_PIDS="$RECV_PID"
	wait_for 20 abstract_listening "$name"
	run --separate-stderr "$IPCRUN" send-fd --allow-uid 65534 "unix:@$name" 0 <"$T/a"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" "ours"
}

@test "send-fd: a bad --allow-uid is a usage error, before anything is sent" {
	run --separate-stderr "$IPCRUN" send-fd --allow-uid nosuchuser "unix:$S" 0 </dev/null
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: send-fd: --allow-uid \'nosuchuser\': not a uid or a user name\nTry \'ipcrun send-fd --help\'.'
	[ ! -e "$S" ]
}

@test "recv-fd: our own uid needs no --allow-uid, and a bad --allow-uid is a usage error" {
	local name="ipcrun-test-$$-$RANDOM"
	printf 'ours\n' >"$T/a"
	"$IPCRUN" recv-fd "unix:@$name" --as 0 -- cat >"$T/out" 2>"$T/err" &
	RECV_PID=$!
	BG_PIDS="$RECV_PID"
	wait_for 20 abstract_listening "$name"
	run --separate-stderr "$IPCRUN" send-fd "unix:@$name" 0 <"$T/a"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" ours
	assert_equal "$(cat "$T/err")" ""
	for u in -1 4294967295 x1 '' 1x no-such-user-ipcrun; do
		run -125 --separate-stderr "$IPCRUN" recv-fd --allow-uid "$u" "unix:$S"
		assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: --allow-uid '$u': not a uid or a user name"
	done
	run -125 --separate-stderr "$IPCRUN" recv-fd $(printf -- '--allow-uid %d ' $(seq 1000 1032)) "unix:$S"
	assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: --allow-uid given more than 32 times"
}

@test "recv-fd fd:N uses an inherited connected socket" {
	run --separate-stderr python3 "$F/fdtool.py" pairsend -- \
	    "$IPCRUN" recv-fd fd:3 --as 0 -- cat
	assert_success
	assert_output "over a pair"
}

@test "CMD's own exit status, and 126 and 127 when it cannot run" {
	recv_bg "unix:$S" --as 0 -- sh -c 'exit 7'
	"$IPCRUN" send-fd "unix:$S" 0 </dev/null
	recv_status
	assert_equal "$status" 7

	recv_bg "unix:$S" --as 2 -- "$T/no-such-cmd"
	"$IPCRUN" send-fd "unix:$S" 0 </dev/null
	recv_status
	assert_equal "$status" 127
	# Reported on the original stderr, though --as replaced fd 2.
	assert_equal "$(cat "$T/err")" \
	    "ipcrun: recv-fd: '$T/no-such-cmd': No such file or directory"

	printf 'not a program\n' >"$T/noexec"
	recv_bg "unix:$S" --as 3 -- "$T/noexec"
	"$IPCRUN" send-fd "unix:$S" 0 </dev/null
	recv_status
	assert_equal "$status" 126
	assert_equal "$(cat "$T/err")" \
	    "ipcrun: recv-fd: '$T/noexec': Permission denied"
}

@test "no peer: send-fd and recv-fd -c exit 1" {
	run -1 --separate-stderr "$IPCRUN" send-fd "unix:$T/none.sock" 0
	assert_equal "$stderr" \
	    "ipcrun: send-fd: unix:$T/none.sock: connect: No such file or directory"
	python3 "$F/fdtool.py" stale "$T/stale.sock"
	run -1 --separate-stderr "$IPCRUN" recv-fd -c "$T/stale.sock"
	assert_equal "$stderr" \
	    "ipcrun: recv-fd: $T/stale.sock: connect: Connection refused"
}

# wrong_peer MODE STATUS MESSAGE: a python sender speaking MODE; recv-fd
# exits STATUS with MESSAGE on stderr.
wrong_peer() {
	recv_bg "unix:$S"
	python3 "$F/fdtool.py" sendraw "$1" "unix:$S"
	recv_status
	assert_equal "$status" "$2"
	assert_equal "$(cat "$T/err")" "ipcrun: recv-fd: unix:$S: $3"
	assert_equal "$(cat "$T/out")" ""
}

@test "wrong peers: no header, not a header, a cut header" {
	wrong_peer noheader 1 "the peer sent no header"
	wrong_peer garbage 1 "wrong peer: the header is not valid JSON"
	wrong_peer partial 1 "the peer closed the connection inside the header"
}

@test "wrong peers: headers that are not ours, and one too long" {
	wrong_peer 'line=[1]' 1 "wrong peer: the header is not a JSON object"
	wrong_peer 'line={"n":1}' 1 "wrong peer: the header has no \"fds\" count"
	wrong_peer 'line={"fds":"1"}' 1 \
	    "wrong peer: the header has no \"fds\" count"
	wrong_peer 'line={"fds":254}' 1 \
	    "wrong peer: the header's \"fds\" is not from 0 to 253"
	wrong_peer 'line={"fds":1,"names":["a","b"]}' 1 \
	    "wrong peer: the header's \"names\" is not an array of one string per descriptor"
	wrong_peer 'line={"fds":1,"names":[1]}' 1 \
	    "wrong peer: the header's \"names\" is not an array of one string per descriptor"
	wrong_peer 'line={"fds":1,"fds":1}' 1 \
	    "wrong peer: the header is not valid JSON"
	wrong_peer long 1 "wrong peer: no header line within 65536 bytes"
}

@test "a header announcing no descriptors is fine" {
	recv_bg "unix:$S"
	python3 "$F/fdtool.py" sendraw 'line={"fds":0}' "unix:$S"
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" '{"fds":0}'
}

@test "wrong peers: a byte without its descriptor, a descriptor with the header" {
	wrong_peer bytes 1 "wrong peer: a byte came without descriptor 1 of 1"
	wrong_peer fdheader 1 "wrong peer: a descriptor came with the header"
}

@test "fewer descriptors than announced" {
	wrong_peer fewer 1 "the peer sent 1 of 2 announced descriptors"
}

@test "truncated control data (MSG_CTRUNC) is an error" {
	wrong_peer many 1 \
	    "descriptor 1 of 1: control data truncated (MSG_CTRUNC)"
}

@test "the number of descriptors must match --as" {
	recv_bg "unix:$S" --as 0,5 -- cat
	# recv-fd may close before the descriptor is sent: 0 or 1 here.
	run "$IPCRUN" send-fd "unix:$S" 0 </dev/null
	[ "$status" -le 1 ]
	recv_status
	assert_equal "$status" 1
	assert_equal "$(cat "$T/err")" \
	    "ipcrun: recv-fd: unix:$S: the peer announced 1 descriptor, --as names 2"
}

# The descriptors CMD has, as a sorted list, from a recv-fd run against
# a python sender in MODE.
fds_of_cmd() {
	recv_bg "unix:$S" --as 4 -- sh -c 'cat <&4; exec ls -l /proc/self/fd'
	python3 "$F/fdtool.py" sendraw "$1" "unix:$S"
	recv_status
	head -1 "$T/out" >"$T/first"
	tail -n +2 "$T/out" | fdlist >"$T/fds"
}

@test "a peer sending 5 descriptors when 1 was announced leaks none into CMD" {
	fds_of_cmd fivemsgs
	assert_equal "$status" 0
	assert_equal "$(cat "$T/first")" first
	assert_equal "$(cat "$T/fds")" "0 1 2 4 "
	assert_equal "$(cat "$T/err")" ""

	fds_of_cmd five
	assert_equal "$status" 0
	assert_equal "$(cat "$T/first")" first
	assert_equal "$(cat "$T/fds")" "0 1 2 4 "
	assert_equal "$(cat "$T/err")" "ipcrun: recv-fd: unix:$S: the peer sent more than one descriptor with one byte; the extra ones were closed"
}

@test "1,000 transfers: the descriptor counts stay flat" {
	printf 'data\n' >"$T/a"
	# Each transfer is a new send-fd and recv-fd; CMD lists its table.
	run --separate-stderr python3 "$F/fdtool.py" loop 1000 "$IPCRUN" "$S" \
	    "$T/a"
	assert_success
	assert_output "0 1 2 3: 1000"
}

@test "a file that is not a socket is refused; a live socket is refused" {
	printf 'keep me\n' >"$S"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S"
	assert_equal "$stderr" \
	    "ipcrun: recv-fd: unix:$S: exists and is not a socket"
	assert_equal "$(cat "$S")" "keep me"
	rm "$S"
	bg socat UNIX-LISTEN:"$S",fork EXEC:cat
	wait_for 20 listening "$S"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S"
	assert_equal "$stderr" \
	    "ipcrun: recv-fd: unix:$S: a live socket is listening there"
	[ -S "$S" ]
}

@test "a stale socket is replaced; --mode sets the permissions" {
	python3 "$F/fdtool.py" stale "$S"
	chmod 755 "$S"
	bg closed "$IPCRUN" recv-fd "unix:$S" >"$T/out" 2>"$T/err"
	RECV_PID=$!
	# The stale file is there already: wait for the new one.
	wait_for 20 mode_is 600
	python3 "$F/fdtool.py" sendraw good "unix:$S"
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" '{"fds":1,"names":["p"]}'

	recv_bg --mode 640 "unix:$S"
	mode_is 640
	kill -TERM "$RECV_PID"
	recv_status
	assert_equal "$status" 143
	# Removed on SIGTERM too.
	[ ! -e "$S" ]
}

@test "send-fd: usage and set-up errors exit 125" {
	run -125 --separate-stderr "$IPCRUN" send-fd "unix:$S"
	assert_equal "${stderr%%$'\n'*}" "ipcrun: send-fd: no descriptor given"
	run -125 --separate-stderr "$IPCRUN" send-fd
	assert_equal "${stderr%%$'\n'*}" "ipcrun: send-fd: no address given"
	run -125 --separate-stderr "$IPCRUN" send-fd "unix:$S" x
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: 'x' is not a descriptor number"
	run -125 --separate-stderr "$IPCRUN" send-fd "unix:$S" 99999999999
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: '99999999999' is not a descriptor number"
	run -125 --separate-stderr "$IPCRUN" send-fd "unix:$S" 9
	assert_equal "$stderr" "ipcrun: send-fd: descriptor 9: Bad file descriptor"
	run -125 --separate-stderr "$IPCRUN" send-fd tcp:127.0.0.1:1 0
	assert_equal "${stderr%%$'\n'*}" "ipcrun: send-fd: address 'tcp:127.0.0.1:1': descriptors travel only over unix sockets"
	run -125 --separate-stderr "$IPCRUN" send-fd --names a "unix:$S" 0 1
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: --names gives 1 name for 2 descriptors"
	run -125 --separate-stderr "$IPCRUN" send-fd --mode 600 "unix:$S" 0
	assert_equal "${stderr%%$'\n'*}" "ipcrun: send-fd: --mode needs -l"
	run -125 --separate-stderr "$IPCRUN" send-fd -l --mode 9 "unix:$S" 0
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: --mode '9': not an octal mode from 0 to 777"
	run -125 --separate-stderr "$IPCRUN" send-fd "unix:$S" $(seq 0 253)
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: too many descriptors (254, at most 253)"
	run -125 --separate-stderr "$IPCRUN" send-fd "unix:$S" 0 -- x
	assert_equal "${stderr%%$'\n'*}" "ipcrun: send-fd: unexpected '--'"
	run -125 --separate-stderr "$IPCRUN" send-fd --names $'\xff' "unix:$S" 0
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: --names '"$'\xff'"': not valid UTF-8"
}

@test "send-fd --node refuses what a Node peer would abort on" {
	printf 'x\n' >"$T/a"
	run -125 --separate-stderr "$IPCRUN" send-fd --node "unix:$S" 0 <"$T/a"
	assert_equal "$stderr" "ipcrun: send-fd: descriptor 0 is a regular file, which a Node peer does not accept (--node)"
	run -125 --separate-stderr "$IPCRUN" send-fd --node "unix:$S" 0 </dev/null
	assert_equal "$stderr" "ipcrun: send-fd: descriptor 0 is a character device, which a Node peer does not accept (--node)"
	# A pipe is fine: it goes through.
	recv_bg "unix:$S" --as 0 -- cat
	printf 'pipe ok\n' | "$IPCRUN" send-fd --node "unix:$S" 0
	recv_status
	assert_equal "$(cat "$T/out")" "pipe ok"
}

@test "recv-fd: usage and set-up errors exit 125" {
	run -125 --separate-stderr "$IPCRUN" recv-fd
	assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: no address given"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" --as 0
	assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: --as needs a CMD to run"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" --as 1,1 -- cat
	assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: --as '1,1': 1 appears twice"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" --as 99999999 -- cat
	assert_regex "${stderr%%$'\n'*}" "^ipcrun: recv-fd: --as '99999999': '99999999' is not a descriptor number from 0 to [0-9]+$"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" \
	    --as "$(seq -s, 0 253)" -- cat
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: --as '$(seq -s, 0 253)': more than 253 numbers"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" --as 1,,2 -- cat
	assert_regex "${stderr%%$'\n'*}" "^ipcrun: recv-fd: --as '1,,2': '' is not a descriptor number"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" wc
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: unexpected operand 'wc' (put '--' before CMD)"
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S" --
	assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: no CMD after '--'"
	run -125 --separate-stderr "$IPCRUN" recv-fd -c --mode 600 "unix:$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: --mode is for listening, not with -c"
	run -125 --separate-stderr "$IPCRUN" recv-fd tcp:127.0.0.1:0
	assert_equal "${stderr%%$'\n'*}" "ipcrun: recv-fd: address 'tcp:127.0.0.1:0': descriptors travel only over unix sockets"
	run -125 --separate-stderr "$IPCRUN" recv-fd fd:9
	assert_equal "$stderr" "ipcrun: recv-fd: fd:9: descriptor: Bad file descriptor"
	run -125 --separate-stderr "$IPCRUN" recv-fd "$T/no/such/dir/s.sock"
	assert_equal "$stderr" "ipcrun: recv-fd: $T/no/such/dir/s.sock: bind: No such file or directory"
}

@test "every malformed address gets a one-line error naming the bad part" {
	bad_addr() {
		run -125 --separate-stderr "$IPCRUN" attach "$1"
		assert_equal "${stderr%%$'\n'*}" "ipcrun: attach: address '$1': $2"
		assert_equal "${stderr#*$'\n'}" "Try 'ipcrun attach --help'."
	}
	bad_addr "" "empty address"
	bad_addr unix: "socket path is empty"
	bad_addr unix:@ "abstract name is empty"
	bad_addr "unix:/$(printf 'a%.0s' {1..120})" \
	    "socket path is too long (121 bytes, at most 107)"
	bad_addr tcp:localhost "'localhost' lacks ':PORT'"
	bad_addr tcp::80 "host is missing in ':80'"
	bad_addr tcp:h:x "port 'x' is not a number from 0 to 65535"
	bad_addr tcp:h:65536 "port '65536' is not a number from 0 to 65535"
	bad_addr tcp:h: "port '' is not a number from 0 to 65535"
	bad_addr "tcp:[::1" "host '[::1' lacks its closing ']'"
	bad_addr "tcp:[::1]80" "'80' after ']' is not ':PORT'"
	bad_addr "tcp:[1.2.3.4]:80" "'[1.2.3.4]:80' in brackets is not an IPv6 address"
	bad_addr tcp:::1:80 "IPv6 host in '::1:80' needs brackets, as in tcp:[::1]:PORT"
	bad_addr fd:x "descriptor 'x' is not a number"
	bad_addr fd:99999999999 \
	    "descriptor '99999999999' is not a number from 0 to 2147483647"
	bad_addr udp:1.2.3.4:5 "unknown address type 'udp:' (use unix:, tcp: or fd:, or ./ before a path with ':')"
}

# --- readiness and retry (issue 30, item 5) ---

@test "send-fd -w waits for a recv-fd that starts after it" {
	printf 'hello world\n' >"$T/file"
	bg "$IPCRUN" send-fd -w 30s "unix:$S" 0 <"$T/file" 2>"$T/serr"
	spid=$!
	# The sender has tried and is waiting to try again (in
	# clock_nanosleep, 230 on x86-64) before the receiver exists.
	wait_for 20 grep -q '^230 ' "/proc/$spid/syscall"
	bg closed "$IPCRUN" recv-fd "unix:$S" --as 0 -- wc -c >"$T/out" \
	    2>"$T/err"
	RECV_PID=$!
	wait "$spid"
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" 12
	assert_equal "$(cat "$T/serr")" ""
}

@test "-w gives up after DUR with the last error; recv-fd -c -w too" {
	run -1 --separate-stderr "$IPCRUN" send-fd -w 0.3s "unix:$T/none.sock" 0
	assert_equal "$stderr" "ipcrun: send-fd: unix:$T/none.sock: connect: \
No such file or directory (still, after -w 0.300 s)"
	python3 "$F/fdtool.py" stale "$T/stale.sock"
	run -1 --separate-stderr "$IPCRUN" recv-fd -c --retry 0.2s \
	    "$T/stale.sock"
	assert_equal "$stderr" "ipcrun: recv-fd: $T/stale.sock: connect: \
Connection refused (still, after -w 0.200 s)"
}

@test "recv-fd --ready-fd writes ADDR when listening, and CMD does not get it" {
	printf 'abc\n' >"$T/file"
	# closed, then the ready file at 9 for recv-fd alone.
	bg closed sh -c 'exec "$@" 9>"$0"' "$T/ready" "$IPCRUN" recv-fd \
	    --ready-fd 9 -v "unix:$S" --as 0 -- \
	    sh -c 'if [ -e /proc/self/fd/9 ]; then echo leak; fi; wc -c' \
	    >"$T/out" 2>"$T/err"
	RECV_PID=$!
	wait_for 20 grep -q . "$T/ready"
	assert_equal "$(cat "$T/ready")" "unix:$S"
	# Written once listening: the socket is there and takes a peer.
	[ -S "$S" ]
	assert_equal "$(cat "$T/err")" "ipcrun: recv-fd: listening on unix:$S"
	run "$IPCRUN" send-fd "$(cat "$T/ready")" 0 <"$T/file"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" 4
}

@test "send-fd -l --ready-fd and -v; recv-fd -c takes the address written" {
	printf 'xyz\n' >"$T/file"
	bg closed sh -c 'exec "$@" 9>"$0"' "$T/ready" "$IPCRUN" send-fd -l -v \
	    --ready-fd 9 "unix:$S" 0 <"$T/file" 2>"$T/serr"
	spid=$!
	wait_for 20 grep -q . "$T/ready"
	assert_equal "$(cat "$T/serr")" "ipcrun: send-fd: listening on unix:$S"
	run "$IPCRUN" recv-fd -c "$(cat "$T/ready")" --as 0 -- wc -c
	assert_success
	assert_output 4
	wait "$spid"
}

@test "a second recv-fd's liveness probe does not end the first one's wait" {
	printf 'hello world\n' >"$T/file"
	recv_bg "unix:$S" --as 0 -- wc -c
	# The second listener finds the first alive, and leaves it be.
	run -125 --separate-stderr "$IPCRUN" recv-fd "unix:$S"
	assert_equal "$stderr" \
	    "ipcrun: recv-fd: unix:$S: a live socket is listening there"
	# (Were the first gone, this one would listen: not for ever.)
	run -125 --separate-stderr timeout 20 "$IPCRUN" send-fd -l "unix:$S" 0
	assert_equal "$stderr" \
	    "ipcrun: send-fd: unix:$S: a live socket is listening there"
	run "$IPCRUN" send-fd "unix:$S" 0 <"$T/file"
	assert_success
	recv_status
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" 12
	assert_equal "$(cat "$T/err")" ""
}

@test "the man page's example cannot race: recv-fd & then send-fd -w" {
	# As ipcrun-recv-fd(1) and ipcrun-send-fd(1) show it, five times.
	head -c 100000 /dev/zero >"$T/big.file"
	for i in 1 2 3 4 5; do
		( cd "$T" && closed "$IPCRUN" recv-fd "unix:$S" --as 0 -- wc -c \
		    >"$T/out.$i" ) &
		RECV_PID=$!
		run "$IPCRUN" send-fd -w 30s "unix:$S" 0 <"$T/big.file"
		assert_success
		recv_status
		assert_equal "$status" 0
		assert_equal "$(cat "$T/out.$i")" 100000
	done
}

@test "-w, -v and --ready-fd: usage errors name the flag" {
	run -125 --separate-stderr "$IPCRUN" send-fd -l -w 1s "unix:$S" 0
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: -w is for connecting: not with -l"
	run -125 --separate-stderr "$IPCRUN" recv-fd -w 1s "unix:$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: -w is for connecting: it needs -c"
	run -125 --separate-stderr "$IPCRUN" recv-fd -c --ready-fd 9 \
	    "unix:$S" 9>/dev/null
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: --ready-fd is for listening, not with -c"
	run -125 --separate-stderr "$IPCRUN" send-fd -v "unix:$S" 0
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: send-fd: -v is for listening: it needs -l"
	run -125 --separate-stderr "$IPCRUN" recv-fd --ready-fd 1 "unix:$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: --ready-fd '1': not a descriptor number from 3 up"
	run -125 --separate-stderr "$IPCRUN" recv-fd --ready-fd 57 "unix:$S"
	assert_equal "${stderr%%$'\n'*}" \
	    "ipcrun: recv-fd: --ready-fd 57: not a descriptor open for writing"
	run -125 --separate-stderr "$IPCRUN" send-fd -w soon "unix:$S" 0
	assert_equal "${stderr%%$'\n'*}" "ipcrun: send-fd: -w 'soon': not a \
duration (seconds, or with a unit: 500ms, 2s, 1m)"
	[ ! -e "$S" ]
}

@test "send-fd --msg: the message in the header, after the others; a bad one is a usage error" {
	bg sh -c 'exec "$@" 9>"$0"' "$T/ready" "$IPCRUN" send-fd -l \
	    --ready-fd 9 --names web --msg '{"port":80,"tags":["a"]}' \
	    "unix:$S" 0 </dev/null
	spid=$!
	wait_for 20 grep -q . "$T/ready"
	run python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
line = b""
while not line.endswith(b"\n"):
    line += s.recv(1)
print(line.decode(), end="")' "$S"
	assert_output '{"fds":1,"names":["web"],"msg":{"port":80,"tags":["a"]}}'
	wait "$spid" || true
	run -125 --separate-stderr "$IPCRUN" send-fd --msg '{"a":' "unix:$S" 0
	assert_equal "${stderr_lines[0]}" "ipcrun: send-fd: --msg '{\"a\":': not one JSON value on one line of at most 32768 bytes"
}
