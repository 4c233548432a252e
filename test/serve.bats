#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun serve: sockets bound before any child starts, and shared with
# every child: a net.Server handle to unmodified Node workers (the
# source's worker.js), or systemd's LISTEN_FDS to any program. Restarts
# get the sockets again; a stop signal is a graceful stop. Real Node and
# Python workers, real TCP and unix sockets on loopback, port 0.

load helper

# events_port FILE: the port of the first "listening" event in FILE.
events_port() {
	sed -n 's/.*"event":"listening".*"address":"tcp:127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$1" | head -n 1
}

# ask PORT: one connection, its answer on stdout.
ask() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
PY
}

# handles N FILE: N children took their handle (the "handle" events).
handles() {
	[ "$(grep -c '"event":"handle"' "$2")" -ge "$1" ]
}

@test "serve --handoff server: the source's worker.js, unchanged, serves on the port ipcrun bound" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve --events -l tcp:127.0.0.1:0 --handoff server -n 2 \
	    -- node "$BATS_TEST_DIRNAME/fixtures/seed_worker.js" > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 handles 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(events_port "$d/out")
	[ -n "$port" ]
	# The listening event comes first, before any child.
	head -n 1 "$d/out" | grep -q '"event":"listening"'
	for i in $(seq 1 10); do
		ask "$port" >> "$d/answers"
	done
	[ "$(grep -c '^handled by child [0-9]*$' "$d/answers")" -eq 10 ]
	# Every answer comes from one of the two children.
	pids=$(sed -n 's/.*"event":"spawn".*"pid":\([0-9]*\).*/\1/p' "$d/out" | sort)
	for p in $(awk '{print $4}' "$d/answers" | sort -u); do
		grep -qx "$p" <<< "$pids"
	done
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve: a worker killed with -9 is started again and gets the socket again" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve --events -l tcp:127.0.0.1:0 --handoff server -n 2 \
	    --backoff 10ms:20ms -- node "$BATS_TEST_DIRNAME/fixtures/seed_worker.js" \
	    > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 handles 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(events_port "$d/out")
	victim=$(sed -n 's/.*"event":"spawn","t":[0-9.]*,"name":"seed_worker.1","pid":\([0-9]*\).*/\1/p' "$d/out")
	kill -KILL "$victim"
	wait_for 30 handles 3 "$d/out" || { cat "$d/out" "$d/err"; false; }
	grep -q '"event":"restart".*"name":"seed_worker.1"' "$d/out"
	new=$(sed -n 's/.*"event":"spawn","t":[0-9.]*,"name":"seed_worker.1","pid":\([0-9]*\).*/\1/p' "$d/out" | tail -n 1)
	[ "$new" != "$victim" ]
	# The port never closed: every connection is answered.
	for i in $(seq 1 10); do
		ask "$port" >> "$d/answers"
	done
	[ "$(grep -c '^handled by child' "$d/answers")" -eq 10 ]
	! grep -q "child $victim\$" "$d/answers"
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve: SIGTERM is a graceful stop: no restart, SIGTERM after --kill-timeout, exit 0, the port closed" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -v --events -l tcp:127.0.0.1:0 --handoff server -n 2 \
	    --kill-timeout 200ms -- node "$BATS_TEST_DIRNAME/fixtures/seed_worker.js" \
	    > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 handles 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(events_port "$d/out")
	kill -TERM "$srv"
	status=0
	wait "$srv" || status=$?
	cat "$d/err"
	[ "$status" -eq 0 ]
	grep -q "was stopped by ipcrun with SIGTERM" "$d/err"
	! grep -q '"event":"restart"' "$d/out"
	[ "$(grep -c '"event":"exit"' "$d/out")" -eq 2 ]
	# Nothing listens any more.
	! ask "$port" 2> /dev/null
}

@test "serve --handoff systemd: LISTEN_FDS, LISTEN_PID (each child's own) and LISTEN_FDNAMES, tcp and unix" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -v --events -l web=tcp:127.0.0.1:0 -l "admin=unix:$d/a.sock" \
	    -n 2 -- python3 "$BATS_TEST_DIRNAME/fixtures/listen_fds.py" \
	    > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 test -S "$d/a.sock"
	wait_for 30 grep -q '"event":"spawn".*"name":"listen_fds.2"' "$d/out"
	grep -q "listening on tcp:127.0.0.1:" "$d/err"
	port=$(events_port "$d/out")
	answer=$(ask "$port")
	# pid, the socket's name, the count of sockets
	[[ $answer =~ ^[0-9]+\ web\ 2$ ]] || { echo "$answer"; cat "$d/err"; false; }
	answer=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
print(s.recv(100).decode().strip())' "$d/a.sock")
	[[ $answer =~ ^[0-9]+\ admin\ 2$ ]]
	# A LISTEN_PID not its own would have made the children exit 3.
	! grep -q '"event":"exit"' "$d/out"
	kill -TERM "$srv"
	wait "$srv"
	# The unix socket's file goes with the server.
	[ ! -e "$d/a.sock" ]
}

@test "serve --handoff systemd: the child holds 0-2, the sockets at 3 and up, its channel above them, nothing else" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve --events-fd 3 -l tcp:127.0.0.1:0 -l tcp:127.0.0.1:0 \
	    --handoff systemd -- sleep 1000 > "$d/out" 2> "$d/err" 3> "$d/ev"
	srv=$!
	wait_for 30 grep -q '"event":"spawn"' "$d/ev"
	pid=$(sed -n 's/.*"event":"spawn".*"pid":\([0-9]*\).*/\1/p' "$d/ev")
	wait_for 30 sh -c "readlink /proc/$pid/exe | grep -q sleep"
	fds=$(ls /proc/"$pid"/fd | sort -n | tr '\n' ' ')
	[ "$fds" = "0 1 2 3 4 5 " ] || { echo "fds: $fds"; false; }
	[[ $(readlink /proc/"$pid"/fd/3) == socket:* ]]
	[[ $(readlink /proc/"$pid"/fd/4) == socket:* ]]
	tr '\0' '\n' < /proc/"$pid"/environ | grep -qx 'NODE_CHANNEL_FD=5'
	tr '\0' '\n' < /proc/"$pid"/environ | grep -qx 'LISTEN_FDS=2'
	tr '\0' '\n' < /proc/"$pid"/environ | grep -qx "LISTEN_PID=$pid"
	tr '\0' '\n' < /proc/"$pid"/environ | grep -qx 'LISTEN_FDNAMES=unknown:unknown'
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve: bad addresses, a port in use, missing or unknown handoffs: one line each, 125, nothing started" {
	run "$IPCRUN" serve -- ./server
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--listen: at least one address"* ]]
	run "$IPCRUN" serve -l tcp:127.0.0.1:0 --handoff bogus -- node app.js
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--handoff 'bogus': must be cluster, server, socket or systemd"* ]]
	run "$IPCRUN" serve -l tcp:127.0.0.1 -- sleep 1
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--listen 'tcp:127.0.0.1': '127.0.0.1' lacks ':PORT'"* ]]
	run "$IPCRUN" serve -l fd:3 -- sleep 1
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"fd: is not an address to listen on"* ]]
	run "$IPCRUN" serve -l 'b@d=tcp:127.0.0.1:0' -- sleep 1
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"the name before '=' must be"* ]]
	run "$IPCRUN" serve -l tcp:127.0.0.1:0 --handoff server --message '{bad' -- node w.js
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--message '{bad': not one JSON value"* ]]
	run "$IPCRUN" serve -l tcp:127.0.0.1:0 --handoff server --channel stdio -- node w.js
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--handoff server: the handles go on the node channel"* ]]
	run "$IPCRUN" serve -l tcp:127.0.0.1:0 --message 1 -- sleep 1
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--message applies to --handoff server or socket only"* ]]
	# A port in use: said at once, before any child.
	python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(60)' > "$BATS_TEST_TMPDIR/port" &
	holder=$!
	wait_for 20 test -s "$BATS_TEST_TMPDIR/port"
	run "$IPCRUN" serve --events -l "tcp:127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")" -- sleep 1
	kill "$holder"
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"Address already in use"* ]]
	[[ $output != *'"event":"spawn"'* ]]
}

@test "serve --message: the message that comes with the server, as given" {
	d=$BATS_TEST_TMPDIR
	cat > "$d/w.js" <<'JS'
process.on('message', (m, server) => {
	server.on('connection', (s) => s.end(JSON.stringify(m) + '\n'));
});
JS
	# One child: the events go to stderr.
	bg "$IPCRUN" serve --events -l tcp:127.0.0.1:0 --handoff server \
	    --message '{"role":"web","n":[1,2]}' -- node "$d/w.js" > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 handles 1 "$d/err" || { cat "$d/out" "$d/err"; false; }
	[ "$(ask "$(events_port "$d/err")")" = '{"role":"web","n":[1,2]}' ]
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve: kill -9 of ipcrun leaves no worker behind, and the port closes" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve --events -l tcp:127.0.0.1:0 --handoff server -n 3 \
	    -- node "$BATS_TEST_DIRNAME/fixtures/seed_worker.js" > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 handles 3 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(events_port "$d/out")
	pids=$(sed -n 's/.*"event":"spawn".*"pid":\([0-9]*\).*/\1/p' "$d/out")
	[ "$(wc -w <<< "$pids")" -eq 3 ]
	kill -KILL "$srv"
	for p in $pids; do
		wait_for 20 bash -c "! kill -0 $p 2>/dev/null"
	done
	! ask "$port" 2> /dev/null
}

@test "serve: a worker given up fails the serve with 1, even when each of its runs exited 0" {
	d=$BATS_TEST_TMPDIR
	run --separate-stderr timeout 60 "$IPCRUN" serve -l tcp:127.0.0.1:0 \
	    --handoff systemd --max-restarts 2/1m --backoff 1ms:2ms -- true
	assert_failure 1
	[[ "$stderr" == *"exited 3 times within the window: giving up (--max-restarts)"* ]]
	# One that exits non-zero: its own status, as before.
	run --separate-stderr timeout 60 "$IPCRUN" serve -l tcp:127.0.0.1:0 \
	    --handoff systemd --max-restarts 1/1m --backoff 1ms:2ms -- sh -c 'exit 5'
	assert_failure 5
}

@test "serve --handoff server: SIGHUP restarts the children one after the other, each getting the server again" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -v --events -l tcp:127.0.0.1:0 --handoff server -n 2 \
	    --kill-timeout 200ms -- node "$BATS_TEST_DIRNAME/fixtures/seed_worker.js" \
	    > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 handles 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	kill -HUP "$srv"
	wait_for 60 grep -q "rolling restart done" "$d/err" || { cat "$d/err"; false; }
	[ "$(grep -c '"event":"restart"' "$d/out")" -eq 2 ]
	handles 4 "$d/out"
	ask "$(events_port "$d/out")" | grep -q .
}

@test "serve --handoff socket: ipcrun accepts and hands each connection to the next child as a net.Socket" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve --events -l tcp:127.0.0.1:0 --handoff socket -n 2 \
	    --message '{"kind":"conn"}' -- node "$BATS_TEST_DIRNAME/fixtures/conn_worker.js" \
	    > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 30 sh -c "grep -c '\"event\":\"spawn\"' '$d/out' | grep -qx 2" ||
	    { cat "$d/out" "$d/err"; false; }
	port=$(events_port "$d/out")
	for i in $(seq 20); do
		ask "$port"
	done > "$d/answers"
	cat "$d/err"
	[ "$(grep -c '"m":{"kind":"conn"}' "$d/answers")" -eq 20 ]
	# Both children took connections.
	[ "$(jq -r .pid "$d/answers" | sort -u | wc -l)" -eq 2 ]
	# No descriptor is kept for a connection handed out.
	before=$(ls /proc/$srv/fd | wc -l)
	for i in $(seq 50); do ask "$port"; done > /dev/null
	[ "$(ls /proc/$srv/fd | wc -l)" -eq "$before" ]
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve --ready-fd: every --listen address, one a line, then the descriptor closes; a client connecting at once is served" {
	d=$BATS_TEST_TMPDIR
	mkfifo "$d/rfifo"
	# The reader ends when ipcrun closes fd 9: no child holds it.
	cat "$d/rfifo" > "$d/ready" &
	reader=$!
	bg "$IPCRUN" serve --events -l tcp:127.0.0.1:0 -l "unix:$d/s.sock" \
	    --handoff server -n 2 --ready-fd 9 \
	    -- node "$F/seed_worker.js" > "$d/out" 2> "$d/err" 9> "$d/rfifo"
	srv=$!
	wait_for 30 bash -c "! kill -0 $reader 2>/dev/null" || { cat "$d/err"; false; }
	run cat "$d/ready"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]]
	[ "${lines[1]}" = "unix:$d/s.sock" ]
	# The same port as the listening event, and served, with no wait.
	[ "${lines[0]#tcp:127.0.0.1:}" = "$(events_port "$d/out")" ]
	[[ $(ask "${lines[0]#tcp:127.0.0.1:}") == "handled by child "* ]]
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve --ready-fd: usage errors name the flag" {
	run -125 --separate-stderr "$IPCRUN" serve --ready-fd 1 \
	    -l tcp:127.0.0.1:0 -- sleep 1
	assert_equal "$stderr" $'ipcrun: serve: --ready-fd \'1\': not a descriptor number from 3 up\nTry \'ipcrun serve --help\'.'
	run -125 --separate-stderr "$IPCRUN" serve --ready-fd 57 \
	    -l tcp:127.0.0.1:0 -- sleep 1
	[[ ${stderr_lines[0]} == "ipcrun: serve: --ready-fd 57: not a descriptor open for writing" ]]
}
