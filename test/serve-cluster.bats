#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun serve --handoff cluster (the default for a Node command): ipcrun
# is the cluster primary of unmodified Node servers. A worker's listen()
# asks ipcrun for the socket (NODE-CLUSTER.md); with --sched rr ipcrun
# accepts and hands each connection to a free worker, with --sched shared
# the workers accept. Real Node workers, real TCP, UDP and unix sockets
# on loopback, port 0.

load helper

APP=$F/cluster_app.js

# listeners N FILE: N "listening" events of workers in FILE.
listeners() {
	[ "$(grep -c '"event":"listening","t":[0-9.]*,"name"' "$2")" -ge "$1" ]
}

# worker_port FILE: the port of the first worker's "listening" event.
worker_port() {
	grep '"event":"listening","t":[0-9.]*,"name"' "$1" | head -n 1 |
	    jq -r .port
}

# get ADDR N: N requests one after the other, each answer's body a line.
get() {
	python3 "$F/http_get.py" "$@"
}

@test "serve cluster: an unmodified http server on port 0, 4 workers, rr: 200 requests, exactly 50 each" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 4 --events -- node "$APP" http > "$d/out" 2> "$d/err"
	wait_for 60 listeners 4 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(worker_port "$d/out")
	# Every worker shares the one port (listen(0) is one key).
	[ "$(grep -c "\"port\":$port" "$d/out")" -eq 4 ]
	get "$port" 200 > "$d/answers"
	! grep ERROR "$d/answers"
	[ "$(wc -l < "$d/answers")" -eq 200 ]
	# NODE_UNIQUE_ID 1..4, and an exact split.
	run sh -c "jq -r .id '$d/answers' | sort | uniq -c | awk '{print \$1\" \"\$2}'"
	[ "$output" = "50 1
50 2
50 3
50 4" ]
}

@test "serve cluster --sched shared: the workers accept on the one socket; every request is answered" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 3 --sched shared --events -- node "$APP" http \
	    > "$d/out" 2> "$d/err"
	wait_for 60 listeners 3 "$d/out" || { cat "$d/out" "$d/err"; false; }
	get "$(worker_port "$d/out")" 100 > "$d/answers"
	! grep ERROR "$d/answers"
	[ "$(jq -r .id "$d/answers" | grep -c '^[123]$')" -eq 100 ]
}

@test "serve cluster --listen: ipcrun binds first and hands its socket to the worker's listen()" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -l tcp:127.0.0.1:0 -n 2 --events -- node "$APP" http \
	    > "$d/out" 2> "$d/err"
	wait_for 60 listeners 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	bound=$(sed -n 's/.*"event":"listening","t":0.000,"address":"tcp:127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$d/out")
	[ -n "$bound" ]
	[ "$(worker_port "$d/out")" = "$bound" ]
	get "$bound" 10 > "$d/answers"
	[ "$(jq -r .id "$d/answers" | sort -u | wc -l)" -eq 2 ]
}

@test "serve cluster: a unix socket path, bound by ipcrun, served, and removed at the end" {
	d=$BATS_TEST_TMPDIR
	SOCK=$d/http.sock bg "$IPCRUN" serve -n 2 --events -- node "$APP" unix \
	    > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 60 listeners 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	grep -q "\"address\":\"$d/http.sock\"" "$d/out"
	get "$d/http.sock" 12 > "$d/answers"
	! grep ERROR "$d/answers"
	[ "$(jq -r .id "$d/answers" | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "6 6 " ]
	kill -TERM "$srv"
	wait "$srv"
	[ ! -e "$d/http.sock" ]
}

@test "serve cluster: UDP is always shared; a datagram is answered" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 2 --events -- node "$APP" udp > "$d/out" 2> "$d/err"
	wait_for 60 listeners 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(worker_port "$d/out")
	run python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(20)
s.sendto(b"hi", ("127.0.0.1", int(sys.argv[1])))
print(s.recv(4096).decode(), end="")' "$port"
	[ "$status" -eq 0 ]
	[[ $output == '{"id":'[12]',"pid":'* ]]
}

@test "serve cluster: HTTPS workers share TLS ticket keys (the first data is echoed to all)" {
	d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
	    -keyout "$d/key.pem" -out "$d/cert.pem" 2> /dev/null
	KEY=$d/key.pem CERT=$d/cert.pem bg "$IPCRUN" serve -n 3 --events -- \
	    node "$APP" https > "$d/out" 2> "$d/err"
	wait_for 60 listeners 3 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(worker_port "$d/out")
	python3 - "$port" > "$d/answers" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for _ in range(9):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    print(out.partition(b"\r\n\r\n")[2].decode(), end="")
PY
	[ "$(jq -r .id "$d/answers" | sort -u | wc -l)" -eq 3 ]
	[ "$(jq -r .keys "$d/answers" | sort -u | wc -l)" -eq 1 ]
}

@test "serve cluster: a worker killed with -9 is started again; the connection it had not taken goes to another" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 2 --events -- node "$APP" http > "$d/out" 2> "$d/err"
	wait_for 60 listeners 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(worker_port "$d/out")
	pid1=$(grep -m1 '"name":"cluster_app.1"' "$d/out" | jq -r .pid)
	# Stopped, worker 1 cannot take the connection handed to it.
	kill -STOP "$pid1"
	get "$port" 1 > "$d/a1" &
	g1=$!
	get "$port" 1 > "$d/a2" &
	g2=$!
	# One of the two is answered by worker 2; the other waits on worker 1.
	wait_for 30 sh -c "cat '$d/a1' '$d/a2' | grep -q '\"id\":2'"
	kill -9 "$pid1"
	wait "$g1"
	wait "$g2"
	cat "$d/a1" "$d/a2"
	! grep -q ERROR "$d/a1" "$d/a2"
	[ "$(cat "$d/a1" "$d/a2" | wc -l)" -eq 2 ]
	# Started again, with a new NODE_UNIQUE_ID, and it serves.
	wait_for 60 listeners 3 "$d/out" || { cat "$d/out" "$d/err"; false; }
	grep -q '"event":"restart".*"name":"cluster_app.1"' "$d/out"
	get "$port" 20 > "$d/more"
	! grep ERROR "$d/more"
	jq -r .id "$d/more" | grep -q '^3$'
}

@test "serve cluster: SIGTERM sends disconnect; requests in flight complete and the workers end by themselves" {
	d=$BATS_TEST_TMPDIR
	DELAY_MS=1500 bg "$IPCRUN" serve -n 2 --events --kill-timeout 30s -- \
	    node "$APP" http > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 60 listeners 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(worker_port "$d/out")
	for i in 1 2 3 4; do
		get "$port" 1 > "$d/a$i" &
		eval "g$i=\$!"
	done
	# The four are in the workers' hands (Node's getConnections).
	wait_for 30 sh -c "ss -Htn state established '( sport = :$port )' | wc -l | grep -qx 4"
	kill -TERM "$srv"
	for i in 1 2 3 4; do
		eval "wait \$g$i"
		grep -q '"id":' "$d/a$i"
	done
	status=0
	wait "$srv" || status=$?
	cat "$d/err"
	[ "$status" -eq 0 ]
	! grep -q SIGTERM "$d/err"
	[ "$(grep -c '"event":"exit".*"code":0' "$d/out")" -eq 2 ]
	! grep -q '"event":"restart"' "$d/out"
	# Nothing listens any more.
	run get "$port" 1
	[[ $output == ERROR* ]]
}

@test "serve cluster: a worker held up by an open connection is sent SIGTERM after --kill-timeout" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 1 -v --events --kill-timeout 300ms -- \
	    node "$APP" hold 2> "$d/err"
	srv=$!
	wait_for 60 listeners 1 "$d/err" || { cat "$d/err"; false; }
	port=$(worker_port "$d/err")
	exec 8< <(python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
print(s.recv(4096).decode(), end="", flush=True)
time.sleep(60)' "$port")
	read -r -t 30 hello <&8
	[[ $hello == '{"id":1,'* ]]
	kill -TERM "$srv"
	status=0
	wait "$srv" || status=$?
	exec 8<&-
	cat "$d/err"
	[ "$status" -eq 0 ]
	grep -q "is still running; sending SIGTERM" "$d/err"
}

@test "serve cluster: a worker that leaves by itself (disconnect) is answered, ends with 0 and is started again" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 1 --events -- node "$APP" leave 2> "$d/err"
	wait_for 60 sh -c "grep -c '\"event\":\"spawn\"' '$d/err' | grep -q '^[2-9]'" ||
	    { cat "$d/err"; false; }
	grep -q '"event":"exit".*"code":0' "$d/err"
}

@test "serve cluster: the same port twice in one worker is EADDRINUSE, as under Node's primary" {
	d=$BATS_TEST_TMPDIR
	# One child: the events go to stderr.
	bg "$IPCRUN" serve -n 1 --events -- node "$APP" twice 2> "$d/err"
	wait_for 60 grep -q "second listen: EADDRINUSE" "$d/err" ||
	    { cat "$d/out" "$d/err"; false; }
	grep -q "asked to listen on 127.0.0.1:[0-9]*:4:undefined:0: Address already in use" "$d/err"
	# The first server still serves.
	get "$(worker_port "$d/err")" 3 > "$d/answers"
	! grep ERROR "$d/answers"
}

@test "serve cluster: no fd is left behind by 1000 connections" {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n 2 --events -- node "$APP" http > "$d/out" 2> "$d/err"
	srv=$!
	wait_for 60 listeners 2 "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(worker_port "$d/out")
	get "$port" 10 > /dev/null
	before=$(ls /proc/$srv/fd | wc -l)
	get "$port" 1000 > "$d/answers"
	[ "$(grep -c '"id":' "$d/answers")" -eq 1000 ]
	after=$(ls /proc/$srv/fd | wc -l)
	[ "$before" -eq "$after" ]
}

@test "serve cluster: usage errors are one line and 125, nothing started" {
	run "$IPCRUN" serve --channel stdio -- node app.js
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--handoff cluster: the workers ask for sockets on the node channel"* ]]
	run "$IPCRUN" serve -- node -e 'require("http").createServer().listen(0)'
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"a cluster worker is a script (node FILE); with -e its listen() never reaches ipcrun"* ]]
	run "$IPCRUN" serve -- node
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"with no script"* ]]
	run "$IPCRUN" serve --sched bogus -- node app.js
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--sched 'bogus': must be rr or shared"* ]]
	run "$IPCRUN" serve -l tcp:127.0.0.1:0 --handoff systemd --sched rr -- sleep 1
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--sched applies to --handoff cluster only"* ]]
	run "$IPCRUN" serve -- sleep 1
	[ "$status" -eq 125 ]
	[[ ${lines[0]} == *"--listen: at least one address"* ]]
}

# roll N: a rolling restart under a steady client refuses nothing.
roll() {
	d=$BATS_TEST_TMPDIR
	bg "$IPCRUN" serve -n "$1" -v --events-fd 3 -- node "$APP" http \
	    3> "$d/out" 2> "$d/err"
	srv=$!
	wait_for 60 listeners "$1" "$d/out" || { cat "$d/out" "$d/err"; false; }
	python3 "$F/http_load.py" "$(worker_port "$d/out")" "$d/stop" > "$d/load" &
	client=$!
	wait_for 30 sh -c "ss -Htn state time-wait | grep -q ."
	kill -HUP "$srv"
	wait_for 120 grep -q "rolling restart done" "$d/err" || { cat "$d/err"; false; }
	touch "$d/stop"
	wait "$client"
	cat "$d/load"
	# Every worker was replaced: new ids, one restart each, none refused.
	[ "$(grep -c '"event":"restart"' "$d/out")" -eq "$1" ]
	[ "$(grep -c '"event":"listening","t":[0-9.]*,"name"' "$d/out")" -eq $(( $1 * 2 )) ]
	read -r requests failed < "$d/load"
	[ "$requests" -gt 0 ]
	[ "$failed" -eq 0 ]
	kill -TERM "$srv"
	wait "$srv"
}

@test "serve cluster: SIGHUP restarts the workers one after the other; a steady client sees no failure (2 workers)" {
	roll 2
}

@test "serve cluster: SIGHUP with one worker: connections wait for the new one, none is refused" {
	roll 1
}

@test "serve cluster --ready-fd without --listen: written once every worker listens, with the real port" {
	d=$BATS_TEST_TMPDIR
	mkfifo "$d/rfifo"
	cat "$d/rfifo" > "$d/ready" &
	reader=$!
	bg "$IPCRUN" serve -n 2 --ready-fd 9 -- node "$APP" http \
	    > "$d/out" 2> "$d/err" 9> "$d/rfifo"
	wait_for 60 bash -c "! kill -0 $reader 2>/dev/null" || { cat "$d/err"; false; }
	run cat "$d/ready"
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]]
	# Both workers listen already: round robin splits evenly at once.
	get "${lines[0]#tcp:127.0.0.1:}" 10 > "$d/answers"
	run sh -c "jq -r .id '$d/answers' | sort | uniq -c | awk '{print \$1\" \"\$2}'"
	[ "$output" = "5 1
5 2" ]
}
