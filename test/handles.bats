#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# run --handles: descriptors to Node children, from the shell
# ({"handle":ADDR,"listen":BOOL,"msg":M} lines) and from child to child
# (a handle whose message is {"to":NAME,"msg":M}). Real Node children,
# real TCP and unix sockets on loopback; what Node would abort on is
# refused before it is sent, and the child lives on.

load helper

# ask_port PORT: what a connection to 127.0.0.1:PORT is sent.
ask_port() {
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
print(s.recv(4096).decode(), end="")' "$1"
}

# A unix listener at PATH that prints what its one client sends into OUT;
# its pid in $peer, ready once this returns.
unix_peer() {
	python3 - "$1" > "$2" <<'PY' &
import socket, sys
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[1]); l.listen(1)
print("ready", flush=True)
c, _ = l.accept(); c.settimeout(20)
print(c.recv(4096).decode(), end="", flush=True)
PY
	peer=$!
	wait_for 20 grep -q ready "$2"
}

@test "--handles: a line asks for a listening socket; the child gets a net.Server and serves on it" {
	d=$BATS_TEST_TMPDIR
	held_fifo "$IPCRUN" run --handles -- node "$F/handle_child.js"
	# A line before the handle: the descriptor still goes with its frame.
	echo '{"n":0}' >&7
	echo '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":{"n":1}}' >&7
	wait_for 30 grep -q '"port"' "$d/out" || { cat "$d/out" "$d/err"; false; }
	run ask_port "$(jq -r 'select(.port) | .port' "$d/out")"
	[ "$output" = served ]
	# A line after the handle is delivered after it, in order.
	echo '{"n":2}' >&7
	echo '"bye"' >&7
	exec 7>&-
	wait "$ipid"
	run cat "$d/out"
	[ "${lines[0]}" = '{"got":{"n":0}}' ]
	[ "${lines[1]}" = '{"got":{"n":1},"port":'"$(jq -r 'select(.port) | .port' "$d/out")"'}' ]
	[ "${lines[2]}" = '{"got":{"n":2}}' ]
}

@test "--handles: unix:PATH connected, and fd:N inherited, go as net.Socket" {
	d=$BATS_TEST_TMPDIR
	unix_peer "$d/s.sock" "$d/peer"
	# fd 5: one end of a socket pair made by Python, the other read here.
	printf '%s\n' '{"handle":"unix:'"$d"'/s.sock","msg":"sock"}' |
	    "$IPCRUN" run --handles -- node "$F/handle_pair.js" worker > "$d/out" 2> "$d/err"
	wait "$peer"
	cat "$d/err"
	[ "$(cat "$d/out")" = '{"got":"sock","type":"socket"}' ]
	grep -q "written by the worker" "$d/peer"
}

@test "--handles: a file, a bad address and a port in use are refused before sending; the child lives on" {
	d=$BATS_TEST_TMPDIR
	echo data > "$d/file"
	python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' > "$d/busy" &
	holder=$!
	wait_for 20 test -s "$d/busy"
	run --separate-stderr "$IPCRUN" run --handles -- node "$F/handle_child.js" 3< "$d/file" <<EOF2
{"handle":"fd:3","msg":1}
{"handle":"tcp:nowhere","msg":2}
{"handle":"tcp:127.0.0.1:$(cat "$d/busy")","listen":true,"msg":3}
{"handle":7,"msg":4}
{"n":5}
EOF2
	kill "$holder"
	assert_failure 1
	assert_output '{"got":{"n":5}}'
	[[ ${stderr_lines[0]} == "ipcrun: run: -:1:11: handle 'fd:3' for 'node': Node aborts on this kind of descriptor; it takes TCP, UDP and unix stream sockets and pipes (line not delivered)" ]]
	[[ ${stderr_lines[1]} == "ipcrun: run: -:2:11: handle 'tcp:nowhere': 'nowhere' lacks ':PORT' (line not delivered)" ]]
	[[ ${stderr_lines[2]} == "ipcrun: run: -:3:11: handle 'tcp:127.0.0.1:"*"Address already in use (line not delivered)" ]]
	[[ ${stderr_lines[3]} == "ipcrun: run: -:4:11: \"handle\" must be a string: fd:N, tcp:HOST:PORT or unix:PATH (line not delivered)" ]]
}

@test "--handles: a terminal, a unix datagram socket and a character device are refused before sending; the child lives on" {
	run --separate-stderr python3 "$F/odd_fds.py" "$IPCRUN" run --handles \
	    -- node "$F/handle_child.js" <<EOF2
{"handle":"fd:3","msg":1}
{"handle":"fd:4","msg":2}
{"handle":"fd:5","msg":3}
{"n":4}
EOF2
	assert_failure 1
	assert_output '{"got":{"n":4}}'
	[[ ${stderr_lines[0]} == "ipcrun: run: -:1:11: handle 'fd:3' for 'node': Node aborts on this kind of descriptor; it takes TCP, UDP and unix stream sockets and pipes (line not delivered)" ]]
	[[ ${stderr_lines[1]} == "ipcrun: run: -:2:11: handle 'fd:4' for 'node': Node refuses this kind of descriptor, and every handle after it; it takes TCP, UDP and unix stream sockets and pipes (line not delivered)" ]]
	[[ ${stderr_lines[2]} == "ipcrun: run: -:3:11: handle 'fd:5' for 'node': Node aborts on this kind of descriptor; it takes TCP, UDP and unix stream sockets and pipes (line not delivered)" ]]
	[ "${#stderr_lines[@]}" -eq 3 ]
}

@test "--handles: 100 handoffs leave ipcrun holding no more descriptors than one did" {
	d=$BATS_TEST_TMPDIR
	held_fifo "$IPCRUN" run --handles -- node "$F/handle_child.js"
	echo '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":0}' >&7
	wait_for 30 grep -q '"port"' "$d/out" || { cat "$d/out" "$d/err"; false; }
	before=$(ls "/proc/$ipid/fd" | wc -l)
	for ((i = 1; i <= 100; i++)); do
		echo '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":'"$i"'}'
	done >&7
	wait_for 60 bash -c '[ "$(grep -c "\"port\"" "$1")" -eq 101 ]' _ "$d/out" ||
	    { cat "$d/err"; false; }
	after=$(ls "/proc/$ipid/fd" | wc -l)
	assert_equal "$after" "$before"
	# Nothing refused or lost on the way.
	assert_equal "$(cat "$d/err")" ""
	exec 7>&-
	end_bg
}

@test "--handles: more handle lines than ipcrun holds for a child that is busy wait for its answers; none is refused" {
	d=$BATS_TEST_TMPDIR
	# The child answers nothing for its first 2 s: ipcrun holds at
	# most 64 handles for it (CHAN_MAXMARKS), so input waits, not refused.
	held_fifo "$IPCRUN" run --handles -- node -e '
const t = Date.now(); while (Date.now() - t < 2000);
require(process.argv[1]);' "$F/handle_child.js"
	for ((i = 1; i <= 150; i++)); do
		echo '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":'"$i"'}'
	done >&7
	wait_for 60 bash -c '[ "$(grep -c "\"port\"" "$1")" -eq 150 ]' _ "$d/out" ||
	    { cat "$d/err"; false; }
	assert_equal "$(cat "$d/err")" ""
	# In input order: each line waited for its turn.
	assert_equal "$(jq -r .got "$d/out" | tr '\n' ' ')" "$(seq -s ' ' 150) "
	exec 7>&-
	end_bg
}

@test "--handles: a child hands its server to another child by name; that child serves on it" {
	d=$BATS_TEST_TMPDIR
	held_fifo "$IPCRUN" run --handles --envelope \
	    -c "acceptor=node $F/handle_pair.js acceptor" \
	    -c "worker=node $F/handle_pair.js worker"
	wait_for 30 grep -q '"type":"server"' "$d/out" || { cat "$d/out" "$d/err"; false; }
	wait_for 30 grep -q '"handed"' "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(grep handed "$d/out" | jq -r .msg.handed)
	run ask_port "$port"
	[ "$output" = "served by the worker" ]
	grep -q '"from":"worker".*"msg":{"got":{"port":'"$port"'},"type":"server"}' "$d/out"
	exec 7>&-
	end_bg
}

@test "--handles: a child that exits right after sending a handle: ipcrun's ACK left unread is no lost input line" {
	run --separate-stderr "$IPCRUN" run --handles -- node "$F/handle_exit.js" < /dev/null
	assert_success
	[ "$output" = '{"h":1}' ]
	[[ "$stderr" == *"sent a handle: acknowledged and closed"* ]]
	[[ "$stderr" != *"not delivered"* ]]
	[[ "$stderr" != *"never read"* ]]
}

@test "--handles: usage: the node channel only, not broadcast" {
	run "$IPCRUN" run --handles --channel stdio -- cat
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--handles: handles go on the node channel, not with --channel stdio"* ]]
	run "$IPCRUN" run --handles -n 2 --route broadcast -- node x.js
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"a descriptor goes to one child, not --route broadcast"* ]]
}

@test "--handle-timeout: a handle never answered is given up on, said, and the lines after it go on" {
	d=$BATS_TEST_TMPDIR
	printf '%s\n' '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":1}' \
	    '{"n":2}' '{"n":3}' > "$d/in"
	run -0 --separate-stderr timeout 60 "$IPCRUN" run --handles \
	    --handle-timeout 200ms -- python3 "$F/no_ack.py" < "$d/in"
	assert_output $'{"n":2}\n{"n":3}'
	assert_equal "$stderr" "ipcrun: run: 'python3' did not answer a handle within 200ms (no NODE_HANDLE_ACK): given up on, the lines after it go on"
}

@test "--handle-timeout: a late answer is taken for the handle given up on, not for the next one" {
	d=$BATS_TEST_TMPDIR
	# The child owes the first handle's answer until {"n":2} comes, and
	# the second's until {"n":3}: each must be given up on by itself.
	printf '%s\n' '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":1}' \
	    '{"n":2}' '{"handle":"tcp:127.0.0.1:0","listen":true,"msg":3}' \
	    '{"n":3}' > "$d/in"
	run -0 --separate-stderr timeout 60 "$IPCRUN" run --handles \
	    --handle-timeout 200ms -- python3 "$F/no_ack.py" late < "$d/in"
	assert_output $'{"n":2}\n{"n":3}'
	[ "$(grep -c "did not answer a handle within 200ms" <<< "$stderr")" -eq 2 ]
	[ "$(grep -c "answered a handle given up on (--handle-timeout) late" <<< "$stderr")" -eq 2 ]
}

@test "--handle-timeout: usage: a duration above 0, with --handles" {
	run -125 --separate-stderr "$IPCRUN" run --handles --handle-timeout 0 -- node x.js
	[[ ${stderr_lines[0]} == "ipcrun: run: --handle-timeout '0': must be more than 0" ]]
	run -125 --separate-stderr "$IPCRUN" run --handles --handle-timeout soon -- node x.js
	[[ ${stderr_lines[0]} == "ipcrun: run: --handle-timeout 'soon': "* ]]
	run -125 --separate-stderr "$IPCRUN" run --handle-timeout 1s -- node x.js
	[[ ${stderr_lines[0]} == "ipcrun: run: --handle-timeout applies with --handles" ]]
}

@test "--handle-sink unix:PATH: a child's handle that names no child goes on with send-fd's wire, its message as data" {
	d=$BATS_TEST_TMPDIR
	python3 "$F/handle_sink.py" "$d/sink.sock" 1 serve > "$d/sink" &
	sink=$!
	wait_for 20 grep -q ready "$d/sink"
	held_fifo "$IPCRUN" run --handle-sink "unix:$d/sink.sock" \
	    -- node "$F/handle_pair.js" acceptor
	wait_for 30 grep -q '"handed"' "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(jq -r 'select(.handed) | .handed' "$d/out")
	wait_for 30 grep -q '"fds"' "$d/sink"
	grep -qx '{"fds":1,"from":"node","type":"net.Server","msg":{"to":"worker","msg":{"port":'"$port"'}}}' "$d/sink"
	# The acceptor closed its copy: the sink's is the one that serves.
	run ask_port "$port"
	[ "$output" = "served by the sink" ]
	wait "$sink"
	[ "$(head -n 1 "$d/out")" = '{"to":"worker","msg":{"port":'"$port"'}}' ]
	! grep -q handle "$d/err"
	exec 7>&-
	end_bg
}

@test "--handle-sink fd:N: every handle on one connection, in order; a sink that is gone is said and counted" {
	d=$BATS_TEST_TMPDIR
	# One end of a socket pair at the sink's fd 3, the other at ipcrun's 5.
	run --separate-stderr timeout 60 python3 - "$F" "$IPCRUN" <<'PY'
import os, socket, subprocess, sys
f, ipcrun = sys.argv[1], sys.argv[2]
a, b = socket.socketpair()
os.dup2(a.fileno(), 3)
sink = subprocess.Popen([sys.executable, f + "/handle_sink.py", "-", "4"],
    pass_fds=(3,))
os.close(3)
os.dup2(b.fileno(), 5)
run = subprocess.run([ipcrun, "run", "--handle-sink", "fd:5", "--", "node",
    f + "/send_handles.js"], pass_fds=(5,), stdin=subprocess.DEVNULL,
    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
sink.wait()
sys.stdout.write(run.stdout.decode())
sys.stderr.write(run.stderr.decode())
sys.exit(run.returncode)
PY
	[ -z "$stderr" ] || { echo "$stderr"; false; }
	assert_success
	[ "${lines[0]}" = ready ]
	[ "${lines[1]}" = '{"fds":1,"from":"node","type":"net.Server","msg":{"n":1}}' ]
	[ "${lines[2]}" = '{"fds":1,"from":"node","type":"net.Socket","msg":{"n":2}}' ]
	[ "${lines[3]}" = '{"fds":1,"from":"node","type":"dgram.Socket","msg":{"n":3}}' ]
	[ "${lines[4]}" = '{"fds":1,"from":"node","type":"net.Socket","msg":{"n":5,"accepted":true}}' ]
	# Nobody at the address: the handle is closed, said, counted (1).
	run --separate-stderr timeout 60 "$IPCRUN" run --eof-timeout 5 \
	    --handle-sink "unix:$d/nobody.sock" -- node "$F/sendhandle.js" < /dev/null
	assert_failure 1
	assert_output $'{"h":1}\n{"after":1,"err":null}'
	assert_equal "$stderr" "ipcrun: run: 'node' sent a handle: --handle-sink 'unix:$d/nobody.sock': connect: No such file or directory (closed)"
}

@test "--handle-sink: usage: a unix socket, on the node channel" {
	run -125 --separate-stderr "$IPCRUN" run --handle-sink tcp:127.0.0.1:9 -- node x.js
	[[ ${stderr_lines[0]} == "ipcrun: run: --handle-sink 'tcp:127.0.0.1:9': descriptors travel only over unix sockets" ]]
	run -125 --separate-stderr "$IPCRUN" run --handle-sink fd:57 -- node x.js
	[[ ${stderr_lines[0]} == "ipcrun: run: --handle-sink 'fd:57': "* ]]
	run -125 --separate-stderr "$IPCRUN" run --handle-sink "unix:x" --channel stdio -- cat
	[[ ${stderr_lines[0]} == "ipcrun: run: --handle-sink: handles come on the node channel, not with --channel stdio" ]]
}

@test "--handles: a socket the Node child NACKs (its fd lost on the way) goes again, and arrives once" {
	d=$BATS_TEST_TMPDIR
	unix_peer "$d/s.sock" "$d/peer"
	# strip_fd.py, between ipcrun and node, loses the first descriptor.
	printf '%s\n' '{"handle":"unix:'"$d"'/s.sock","msg":"sock"}' |
	    "$IPCRUN" run --channel node --handles -- python3 "$F/strip_fd.py" \
	    node "$F/handle_pair.js" worker > "$d/out" 2> "$d/err"
	wait "$peer"
	[ "$(cat "$d/out")" = '{"got":"sock","type":"socket"}' ] || { cat "$d/err"; false; }
	# Not refused. (stderr may say more: the drain's look finds Node on a
	# channel strip_fd.py made, not run's, when it comes before the
	# preload's announcement, as under load.)
	! grep -q refused "$d/err"
	grep -q "written by the worker" "$d/peer"
}

@test "a Node child's socket sent again after ipcrun's NACK (net.Native around its first frame) goes out as its own message" {
	cat > "$BATS_TEST_TMPDIR/c.js" <<-'EOF'
		const net = require('net');
		const srv = net.createServer((s) => {
			process.send({ s: 1 }, s);
			srv.close();
		}).listen(0, '127.0.0.1', () => {
			// ipcrun closes the socket it got: the client's end comes.
			net.connect(srv.address().port, '127.0.0.1').on('end',
			    () => process.disconnect()).resume();
		});
	EOF
	# --eof wait: the child ends itself, and no look at it can take the
	# Node on strip_fd.py's channel for one without the preload.
	STRIP_FROM=child run --separate-stderr timeout 60 "$IPCRUN" run --channel node --eof wait \
	    -- python3 "$F/strip_fd.py" node "$BATS_TEST_TMPDIR/c.js" < /dev/null
	# 1: the frame without its descriptor was refused, as run counts it.
	assert_failure 1
	assert_output '{"s":1}'
	assert_equal "$stderr" "ipcrun: run: 'python3' sent a handle without a descriptor: refused"
}
