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
	python3 - "$d/s.sock" > "$d/peer" <<'PY' &
import socket, sys
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[1]); l.listen(1)
print("ready", flush=True)
c, _ = l.accept(); c.settimeout(20)
print(c.recv(4096).decode(), end="", flush=True)
PY
	peer=$!
	wait_for 20 grep -q ready "$d/peer"
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
