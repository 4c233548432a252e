#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun child: a real Node parent fork()s or spawn()s ipcrun, in both
# serialization modes, and everything it gets back is checked. Nothing
# here sleeps blindly or asserts a timing: waits have deadlines.

load helper

# parent OPTS_JSON [IPCRUN_CHILD_ARG...]: the Node parent fixture, with
# stdout (the messages it got) and stderr kept apart.
parent() {
	local opts=$1
	shift
	P_OPTS=$opts run --separate-stderr timeout 60 node "$F/parent.js" "$@"
}

# --- round trips ---------------------------------------------------------------

@test "fork() through execPath: 10,000 messages echoed by cat, in order" {
	node -e '
		const out = [];
		for (let i = 0; i < 10000; i++)
			out.push(JSON.stringify(i % 4 === 0 ? { i, s: "a\u2028b\u2029" } :
			    i % 4 === 1 ? "\u{1F600} \u{10348} \ud800 x\udc00" :
			    i % 4 === 2 ? [i, -i, i / 7, null, true] : { k: "\ud83d", n: i }));
		process.stdout.write(out.join("\n") + "\n");' > "$BATS_TEST_TMPDIR/in"
	parent "{\"file\":\"$BATS_TEST_TMPDIR/in\"}" -- cat
	assert_success
	assert_equal "$stderr" "parent: exit 0 null"
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/in")" ]
}

@test "fork() a Python script: python3 -u gets the module path" {
	parent "{\"module\":\"$F/pyfilter.py\",\"js\":\"[{a:1},'\\\\u00e9\\\\u2028',[1,2]]\"}" \
	    -- python3 -u
	assert_success
	assert_equal "$output" $'{"py":{"a":1}}\n{"py":"\u00e9\u2028"}\n{"py":[1,2]}'
	assert_equal "$stderr" "parent: exit 0 null"
}

@test "spawn() with an 'ipc' stdio entry, and the advanced serialization" {
	parent '{"spawn":true,"ser":"advanced","js":"[{a:1},[true,null]]"}' -- cat
	assert_success
	assert_equal "$output" $'{"a":1}\n[true,null]'
	assert_equal "$stderr" "parent: exit 0 null"
}

@test "-v, --trace and --stats: each frame both ways, Node's own marked, cut at -s; the counts at the end" {
	parent '{"js":"[{a:1},\"\\u00e9x\"]"}' -v --trace --stats -s 4 -- cat
	assert_success
	assert_equal "$output" $'{"a":1}\n"\u00e9x"'
	[[ $stderr == *'ipcrun: child: trace '*' -> cat 8 bytes'* ]]
	[[ $stderr == *' <- cat 6 bytes'* ]]
	[[ $stderr == *' cat > {"a"...'* ]]
	[[ $stderr == *' cat < "\xc3\xa9x...'* ]]
	[[ $stderr == *'ipcrun: child: stats: to cat 2 frames, 14 bytes (0 internal); from it 2 frames, 14 bytes (0 internal)'$'\n'* ]]
	[[ $stderr == *"parent: exit 0 null" ]]
	# A handle: Node's NODE_HANDLE one way, ipcrun's ACK the other.
	parent '{"handle":true,"js":"[{a:1}]","expect":2}' --trace --stats -- cat
	assert_success
	[[ $stderr == *' -> cat '*' bytes internal'* ]]
	[[ $stderr == *' <- cat '*' bytes internal'* ]]
	[[ $stderr == *'(1 internal); from it 3 frames'*'(1 internal)'* ]]
	run "$IPCRUN" child -s x -- cat
	assert_failure 125
	assert_output --partial "-s 'x': invalid"
}

@test "--trace-file: every frame both ways as spy writes them, Node's handle and ipcrun's ACK among them" {
	local t=$BATS_TEST_TMPDIR/trace
	parent '{"handle":true,"js":"[{a:1}]","expect":2}' --trace-file "$t" -- cat
	assert_success
	run node "$F/trace_lines.js" "$t"
	assert_success
	assert_line --index 0 'start child end'
	assert_line --regexp '^- parent [0-9]+ NODE_HANDLE/net.Server \{"cmd":"NODE_HANDLE".*\}$'
	assert_line '- child 26 NODE_HANDLE_ACK {"cmd":"NODE_HANDLE_ACK"}'
	assert_line '- parent 8 {"a":1}'
	assert_line '- child 8 {"a":1}'
	refute_output --partial error
}

@test "no CMD: spawn()ed, stdin lines are sent and messages printed" {
	parent '{"spawn":true,"js":"[{to:\"stdout\"}]","expect":-1,"lines":["{\"from\":\"stdin\"}","[1]"]}'
	assert_success
	assert_equal "$output" $'{"from":"stdin"}\n[1]'
	[[ "$stderr" == *'parent: stdout "{\"to\":\"stdout\"}\n"'* ]]
	[[ "$stderr" == *"parent: exit 0 null"* ]]
}

@test "no CMD: a shell script is the Node child (fork() with sh)" {
	cat > "$BATS_TEST_TMPDIR/echo.sh" <<-'EOF'
		f=$(mktemp -u) && mkfifo "$f" || exit 1
		ipcrun child < "$f" | sed -u 's/^/{"seen":/; s/$/}/' > "$f"
		rm -f "$f"
	EOF
	# fork() runs execPath (sh here) on the module.
	parent "{\"exec\":\"/bin/sh\",\"module\":\"$BATS_TEST_TMPDIR/echo.sh\",\"js\":\"[1,{b:2},'x']\"}"
	assert_success
	assert_equal "$output" $'{"seen":1}\n{"seen":{"b":2}}\n{"seen":"x"}'
	assert_equal "$stderr" "parent: exit 0 null"
}

@test "CMD's environment has no channel variables, and only fds 0-2" {
	parent '{"expect":1}' -- python3 -c '
import json, os
fds = []
for fd in range(3, 256):
    try:
        os.fstat(fd)
        fds.append(fd)
    except OSError:
        pass
print(json.dumps([os.environ.get("NODE_CHANNEL_FD", "unset"),
    os.environ.get("NODE_CHANNEL_SERIALIZATION_MODE", "unset"), fds]),
    flush=True)
import sys; sys.stdin.read()'
	assert_success
	assert_equal "$output" '["unset","unset",[]]'
	assert_equal "$stderr" "parent: exit 0 null"
}

# --- what CMD prints is checked -------------------------------------------------

@test "garbage, blank lines, a BOM and an internal message never reach the parent" {
	printf '{"good":1}\nnot json\n\n \t\r\n\357\273\277{"bom":1}\n{"cmd":"NODE_HANDLE_ACK"}\n"\377"\n{"good":2}\n{"last":"no newline"}' \
	    > "$BATS_TEST_TMPDIR/out"
	for ser in json advanced; do
		# fork() appends its module path: cat gets the file.
		parent "{\"expect\":-1,\"ser\":\"$ser\",\"module\":\"$BATS_TEST_TMPDIR/out\"}" -- cat
		assert_success
		assert_equal "$output" $'{"good":1}\n{"good":2}\n{"last":"no newline"}'
		assert_equal "$stderr" "ipcrun: child: cat:2:2: invalid literal, found 'o' (not sent)
ipcrun: child: cat:3:1: empty line (not sent)
ipcrun: child: cat:4:1: blank line (not sent)
ipcrun: child: cat:5:1: byte order mark (not sent)
ipcrun: child: cat:6:8: internal Node message (cmd \"NODE_HANDLE_ACK\") (not sent)
ipcrun: child: cat:7:2: invalid UTF-8, found byte 0xff (not sent)
parent: exit 0 null"
	done
}

@test "no CMD: a bad line on stdin is reported as -:LINE:COLUMN" {
	parent '{"spawn":true,"expect":-1,"lines":["{\"a\":1}","{x}","[2]"]}'
	assert_success
	assert_equal "$output" $'{"a":1}\n[2]'
	[[ "$stderr" == "ipcrun: child: -:2:2: expected a string key, found 'x' (not sent)"$'\n'* ]]
}

# --- the advanced serialization -------------------------------------------------

@test "advanced: integers, doubles, Latin-1 and UTF-16 strings, nesting, a 1 MB message" {
	js='[{a:1,b:[-1,-2147483648,2147483647,2147483648,-2147483649,4294967296,9007199254740993]},'
	js+='[0.1,-0,1e21,1.5e-7,123.456,-1e-7,5e-324,1.7976931348623157e308],'
	js+='"caf\u00e9 \u00ff","\u20ac \ud83d\ude00 \ud800 \u2028",{"\u00e9":{"x":[[[{}]]]}},'
	js+='{s:"x".repeat(1<<20)},[1,,3],{u:undefined,v:1},"",[],{}]'
	node -e "for (const m of $js) console.log(JSON.stringify(m))" > "$BATS_TEST_TMPDIR/want"
	parent "{\"ser\":\"advanced\",\"js\":\"$(printf '%s' "$js" | sed 's/\\/\\\\/g; s/"/\\"/g')\"}" -- cat
	assert_success
	assert_equal "$stderr" "parent: exit 0 null"
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/want")" ]
}

@test "advanced: what CMD prints arrives as the values JSON.parse gives" {
	printf '%s\n' '{"n":[0,-0,1,-1,2147483647,2147483648,-2147483649,12345678901234567890,1e400,0.5e-3,1E2]}' \
	    '"\u00e9\u0000\ud800\ud83d\ude00"' '{"a":{"b":[true,false,null]}}' > "$BATS_TEST_TMPDIR/lines"
	cat > "$BATS_TEST_TMPDIR/check.js" <<-EOF
		const want = require('fs').readFileSync('$BATS_TEST_TMPDIR/lines', 'utf8')
		    .trim().split('\n').map((l) => JSON.parse(l));
		const { fork } = require('child_process');
		const c = fork('$BATS_TEST_TMPDIR/lines', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--', 'cat'], serialization: 'advanced' });
		const got = [];
		c.on('message', (m) => got.push(m));
		c.on('exit', (code) => {
			require('assert').deepStrictEqual(got, want);
			console.log('same', got.length, Object.is(got[0].n[1], -0), code);
		});
	EOF
	run --separate-stderr node "$BATS_TEST_TMPDIR/check.js"
	assert_success
	assert_output "same 3 true 0"
	assert_equal "$stderr" ""
}

@test "advanced: duplicate keys: the last value at the first key's place, as JSON.parse; the parent lives" {
	# Nested, escaped, integer-like and __proto__ keys, and a 100,000-key
	# object whose every key comes twice (a quadratic check would not end
	# within the timeout).
	printf '%s\n' '{"a":1,"a":2}' '{"b":1,"a":2,"b":3,"c":4,"a":5}' \
	    '{"x":{"k":1,"k":[2]},"y":[{"z":1,"z":{"z":2,"z":3}}],"x":{"q":1,"q":2}}' \
	    '{"a":1,"\u0061":2,"\u00e9":3,"é":4,"\ud800":5,"\uD800":6}' \
	    '{"1":1,"b":2,"1":3,"__proto__":4,"__proto__":5}' \
	    '{"after":1}' > "$BATS_TEST_TMPDIR/lines"
	node -e '
		const o = [];
		for (let i = 0; i < 100000; i++) o.push(`"k${i}":${i}`);
		for (let i = 99999; i >= 0; i -= 2) o.push(`"k${i}":-${i}`);
		for (let i = 0; i < 100000; i += 2) o.push(`"k${i}":"${i}"`);
		console.log("{" + o.join(",") + "}");
		console.log("{\"after\":2}");
		// And 300 random ones, nested, keys spelled more than one way.
		const keys = ["\"a\"", "\"\\u0061\"", "\"b\"", "\"1\"", "\"\u00e9\"",
		    "\"\\u00e9\"", "\"__proto__\"", "\"\"", "\"\\ud83d\\ude00\"",
		    "\"\u{1F600}\""];
		const r = (n) => Math.floor(Math.random() * n);
		const val = (d) => d > 3 || r(3) > 0 ? String(r(100) - 50) : r(2) ?
		    obj(d + 1) : "[" + obj(d + 1) + "," + obj(d + 1) + "]";
		const obj = (d) => "{" + Array.from({ length: r(8) },
		    () => keys[r(keys.length)] + ":" + val(d)).join(",") + "}";
		for (let i = 0; i < 300; i++)
			console.log(obj(0));' >> "$BATS_TEST_TMPDIR/lines"
	cat > "$BATS_TEST_TMPDIR/check.js" <<-EOF
		const lines = require('fs').readFileSync('$BATS_TEST_TMPDIR/lines', 'utf8')
		    .trim().split('\n');
		const { fork } = require('child_process');
		const c = fork('$BATS_TEST_TMPDIR/lines', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--', 'cat'], serialization: 'advanced' });
		const got = [];
		c.on('message', (m) => got.push(m));
		c.on('exit', (code) => {
			let same = got.length === lines.length;
			for (let i = 0; same && i < lines.length; i++) {
				const want = JSON.parse(lines[i]);
				// The same value, and the same key order.
				same = require('util').isDeepStrictEqual(got[i], want) &&
				    JSON.stringify(got[i]) === JSON.stringify(want);
				if (!same)
					console.log('message', i, JSON.stringify(got[i]).slice(0, 200));
			}
			console.log(same ? 'same' : 'different', got.length, code);
		});
	EOF
	run --separate-stderr timeout 60 node "$BATS_TEST_TMPDIR/check.js"
	assert_success
	assert_output "same 308 0"
	assert_equal "$stderr" ""
}

@test "advanced: a Buffer, a Map and other types are reported; the next messages flow" {
	parent '{"ser":"advanced","js":"[Buffer.from(\"hi\"),{m:new Map([[1,2]])},{next:1},new Date(0),{b:10n},[1,undefined],new Set([1]),/x/,{next:2}]","expect":2}' -- cat
	assert_success
	assert_equal "$output" $'{"next":1}\n{"next":2}'
	assert_equal "$stderr" "ipcrun: child: parent message 1: a Buffer or another host object is outside the JSON subset (not delivered)
ipcrun: child: parent message 2: a Map is outside the JSON subset (not delivered)
ipcrun: child: parent message 4: a Date is outside the JSON subset (not delivered)
ipcrun: child: parent message 5: a BigInt is outside the JSON subset (not delivered)
ipcrun: child: parent message 6: undefined is outside the JSON subset (not delivered)
ipcrun: child: parent message 7: a Set is outside the JSON subset (not delivered)
ipcrun: child: parent message 8: a RegExp is outside the JSON subset (not delivered)
parent: exit 0 null"
}

@test "advanced: shared objects written out again, a cycle refused" {
	parent '{"ser":"advanced","js":"[(()=>{const s={x:[1]};return {a:s,b:s,c:s.x}})(),(()=>{const o={};o.o=o;return o})(),(()=>{const a=[1];a[5]=2;a.name=\"n\";return a})()]","expect":2}' -- cat
	assert_success
	assert_equal "$output" $'{"a":{"x":[1]},"b":{"x":[1]},"c":[1]}\n[1,null,null,null,null,2]'
	assert_equal "$stderr" "ipcrun: child: parent message 2: byte 6: a circular reference (not delivered)
parent: exit 0 null"
}

@test "advanced: exact bytes both ways, length prefixes split across reads" {
	# {a:1}; "hi"; a UTF-8 string after padding; a sparse array; an
	# unknown tag
	printf '%s\n' 0000000aff0f6f22016149027b01 00000006ff0f22026869 \
	    00000009ff0f0000530363c3a9 0000000bff0f610349024904400103 \
	    00000003ff0f01 > "$BATS_TEST_TMPDIR/frames"
	RAW_SHUT=1 run --separate-stderr python3 "$F/rawparent.py" "$IPCRUN" \
	    child -- sh -c 'cat > "$0"' "$BATS_TEST_TMPDIR/got" \
	    < "$BATS_TEST_TMPDIR/frames"
	assert_success
	assert_output ""
	assert_equal "$stderr" "ipcrun: child: parent message 5: byte 2: unknown tag 0x01 (not delivered)"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" $'{"a":1}\n"hi"\n"c\u00e9"\n[null,2,null]'
	# And what CMD prints, byte for byte as V8 writes it.
	run --separate-stderr python3 "$F/rawparent.py" "$IPCRUN" child -- \
	    printf '{"a":1}\n"hi"\n' < /dev/null
	assert_success
	assert_equal "$output" $'ff0f6f22016149027b01\nff0f22026869'
	assert_equal "$stderr" ""
}

# --- internal messages and handles ----------------------------------------------

@test "a net.Server handle is ACKed once; later messages arrive; no warning" {
	for ser in json advanced; do
		parent "{\"handle\":true,\"ser\":\"$ser\",\"js\":\"[{a:1},{b:2}]\",\"expect\":3}" -- cat
		assert_success
		assert_equal "$output" $'{"h":1}\n{"a":1}\n{"b":2}'
		assert_equal "$stderr" "ipcrun: child: the parent sent a handle: acknowledged and closed, not passed on to 'cat' (no --fd-as)
parent: exit 0 null"
	done
}

@test "NODE_HANDLE without a descriptor gets a NACK; GET_COUNT and NOTIFY_CLOSE are answered" {
	printf '%s\n' '{"cmd":"NODE_HANDLE","type":"net.Server","msg":1}' \
	    '{"cmd":"NODE_SOCKET_GET_COUNT","key":"k1"}' \
	    '{"cmd":"NODE_SOCKET_NOTIFY_CLOSE","key":"k2"}' '{"cmd":"NODE_OTHER"}' \
	    '{"plain":1}' > "$BATS_TEST_TMPDIR/in"
	IN=$BATS_TEST_TMPDIR/in run --separate-stderr python3 -c '
import os, socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], env=dict(os.environ, NODE_CHANNEL_FD="3"),
    pass_fds=(3,), preexec_fn=lambda: os.dup2(b.fileno(), 3))
b.close()
a.sendall(open(os.environ["IN"], "rb").read())
out = b""
while True:
    d = a.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
sys.exit(p.wait())' "$IPCRUN" child -- sh -c 'head -n 1 >&2' 
	assert_success
	assert_equal "$output" '{"cmd":"NODE_HANDLE_NACK"}
{"cmd":"NODE_SOCKET_COUNT","key":"k1","count":0}
{"cmd":"NODE_SOCKET_ALL_CLOSED","key":"k2"}'
	assert_equal "$stderr" 'ipcrun: child: the parent sent a handle without a descriptor: refused
{"plain":1}'
}

@test "a net.Socket from a server: getConnections() and close() get their answers" {
	# Without NODE_SOCKET_COUNT and NODE_SOCKET_ALL_CLOSED from the child,
	# both callbacks would wait until the channel closes (a timeout here).
	cat > "$BATS_TEST_TMPDIR/p.js" <<-'EOF'
		const { fork } = require('child_process');
		const net = require('net');
		const c = fork('-', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--', 'cat'], serialization: process.env.SER });
		process.on('warning', (w) => console.log('warning', w.name));
		// Disconnect once both the echo and the close are in: the echo
		// and the answers travel independently.
		let pending = 2;
		const done = () => { if (--pending === 0) c.disconnect(); };
		const srv = net.createServer((sock) => {
			c.send({ s: 1 }, sock, () => {
				srv.getConnections((err, n) => {
					console.log('connections', err, n);
					srv.close(() => { console.log('closed'); done(); });
				});
			});
		});
		c.on('message', (m) => { console.log('message', JSON.stringify(m)); done(); });
		c.on('exit', (code, sig) => console.log('exit', code, sig));
		srv.listen(0, '127.0.0.1', () => net.connect(srv.address().port,
		    '127.0.0.1').on('error', () => {}));
	EOF
	for ser in json advanced; do
		SER=$ser run --separate-stderr timeout 60 node "$BATS_TEST_TMPDIR/p.js"
		assert_success
		# The echo may come before or after the answers; exit is last.
		assert_equal "$(sort <<<"$output")" $'closed\nconnections null 0\nexit 0 null\nmessage {"s":1}'
		assert_line --index 3 'exit 0 null'
		assert_equal "$stderr" "ipcrun: child: the parent sent a handle: acknowledged and closed, not passed on to 'cat' (no --fd-as)"
	done
}

@test "child --fd-as: the parent's first handle (a connection, a server) is CMD's, at N, json and advanced" {
	for ser in json advanced; do
		for kind in socket server; do
			SER=$ser run --separate-stderr timeout 60 node "$F/fd_as_parent.js" \
			    "$kind" --fd-as 7 -- python3 "$F/fd_as.py"
			assert_success
			[ "$stderr" = "" ]
			msg='{"conn":1}' type=net.Socket
			[ "$kind" = server ] && msg='{"srv":1}' type=net.Server
			# CMD started with 0-2 and the handle alone; the notice in
			# the message's place, in order; CMD answered on the handle.
			assert_equal "$(grep -v client <<<"$output")" '{"msg":{"fds":[0,1,2,7]}}
{"msg":{"cmd_got":{"before":1}}}
{"msg":{"cmd_got":{"handle":"'$type'","fd":7,"msg":'$msg'}}}
{"msg":{"cmd_got":{"after":1}}}
{"exit":0,"signal":null}'
			assert_line '{"client":"answered by CMD at fd 7\n"}'
		done
	done
}

@test "child: a socket NACK'd once (its fd lost on the way) comes again from Node, wrapped: ACKed, its own message" {
	# strip_fd.py closes the first descriptor between the Node parent and
	# ipcrun: ipcrun NACKs, and Node sends the socket again as net.Native
	# around its first frame (NODE-IPC.md section 5).
	for ser in json advanced; do
		SER=$ser STRIP=$F/strip_fd.py run --separate-stderr timeout 60 \
		    node "$F/fd_as_parent.js" socket --fd-as 3 -- python3 "$F/fd_as.py"
		assert_success
		assert_equal "$stderr" "ipcrun: child: the parent sent a handle without a descriptor: refused"
		assert_line '{"msg":{"cmd_got":{"handle":"net.Socket","fd":3,"msg":{"conn":1}}}}'
		assert_line '{"client":"answered by CMD at fd 3\n"}'
		assert_line '{"exit":0,"signal":null}'
		refute_line --partial warning
	done
}

@test "child --fd-as: a parent that disconnects before a handle: CMD never started, 125" {
	cat > "$BATS_TEST_TMPDIR/p.js" <<-'EOF'
		const c = require('child_process').fork('-', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--fd-as', '3', '--', 'sh', '-c', 'echo started >&2'] });
		c.on('exit', (code, sig) => console.log('exit', code, sig));
		c.send({ a: 1 }, () => c.disconnect());
	EOF
	run --separate-stderr timeout 60 node "$BATS_TEST_TMPDIR/p.js"
	assert_success
	assert_output 'exit 125 null'
	assert_equal "$stderr" "ipcrun: child: --fd-as 3: the parent disconnected before it sent a handle: 'sh' not started"
}

@test "child --fd-as: a signal while it waits for the handle ends it by that signal" {
	# Without CMD, a signal has nobody to go to: ipcrun must not wait on.
	run timeout 60 python3 -c '
import os, signal, socket, subprocess, sys, time
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], env=dict(os.environ, NODE_CHANNEL_FD="3"),
    pass_fds=(3,), preexec_fn=lambda: os.dup2(b.fileno(), 3))
b.close()
a.sendall(b"{\"a\":1}\n")
# Once it catches SIGTERM (its handlers are in), not before.
deadline = time.time() + 30
while time.time() < deadline:
    st = open("/proc/%d/status" % p.pid).read()
    cgt = int(st.split("SigCgt:")[1].split()[0], 16)
    if cgt & (1 << (signal.SIGTERM - 1)):
        break
    time.sleep(0.02)
p.send_signal(signal.SIGTERM)
print(p.wait(timeout=20))' "$IPCRUN" child --fd-as 3 -- cat
	assert_success
	assert_output -- -15
}

@test "child --fd-as: usage errors" {
	run --separate-stderr "$IPCRUN" child --fd-as 2 -- cat
	assert_failure 125
	[[ $stderr == "ipcrun: child: --fd-as '2': too small (3 to 1023)"* ]]
	run --separate-stderr env NODE_CHANNEL_FD=0 "$IPCRUN" child --fd-as 3
	assert_failure 125
	[[ $stderr == "ipcrun: child: --fd-as needs a CMD"* ]]
}

# --- end of life ------------------------------------------------------------------

@test "CMD exits 3: everything it printed arrives, the parent sees 3" {
	parent '{"js":"[1,2]","expect":-1}' -- sh -c 'head -n 2; echo "\"bye\""; exit 3'
	assert_success
	assert_equal "$output" $'1\n2\n"bye"'
	assert_equal "$stderr" "parent: exit 3 null"
}

@test "CMD killed by SIGTERM: the parent sees the signal" {
	parent '{"js":"[1]","expect":1}' -- sh -c 'head -n 1; kill -TERM $$'
	assert_success
	assert_equal "$output" "1"
	assert_equal "$stderr" "parent: exit null SIGTERM"
}

@test "child.kill() reaches CMD, once; a CMD that handles it exits its own way" {
	parent '{"js":"[1]","expect":1,"kill":"SIGTERM"}' -- python3 -c '
import signal, sys
def term(*a):
    print("\"term\"", flush=True)
    sys.exit(7)
signal.signal(signal.SIGTERM, term)
print(sys.stdin.readline().strip(), flush=True)
while True:
    signal.pause()'
	assert_success
	assert_equal "$output" $'1\n"term"'
	assert_equal "$stderr" "parent: exit 7 null"
	parent '{"js":"[1]","expect":1,"kill":"SIGTERM"}' -- cat
	assert_success
	assert_equal "$stderr" "parent: exit null SIGTERM"
}

@test "disconnect: CMD's stdin closes; what it prints after is counted, not sent" {
	parent '{"js":"[1,2]"}' -- sh -c 'while read -r l; do echo "$l"; done; echo 3; echo 4; exit 5'
	assert_success
	assert_equal "$output" $'1\n2'
	assert_equal "$stderr" "ipcrun: child: 2 lines that 'sh' printed after the parent disconnected were not sent
parent: exit 5 null"
}

@test "CMD closes its stdout: the parent sees 'disconnect' as from process.disconnect(), CMD runs on" {
	# CMD answers the first message, closes its stdout, then keeps the
	# rest of its stdin (what the parent sent before it saw the end),
	# which closes once the parent has closed the channel. Even with
	# --disconnect-timeout, CMD is left to exit by itself.
	cat > "$BATS_TEST_TMPDIR/p.js" <<-'EOF'
		const { fork } = require('child_process');
		const c = fork('-', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', ...process.argv.slice(3), '--', 'sh', '-c',
		    'read -r l; echo "$l"; exec >&-; cat > "$0"; exit 7', process.argv[2]],
		    serialization: process.env.SER });
		c.on('message', (m) => console.log('message', JSON.stringify(m)));
		c.on('disconnect', () => console.log('disconnect', c.connected,
		    c.exitCode, c.signalCode));
		c.on('exit', (code, sig) => console.log('exit', code, sig));
		c.on('error', (e) => console.log('error', e.code));
		c.send({ a: 1 });
		c.send({ b: 2 });
		c.send([3]);
	EOF
	for ser in json advanced; do
		for opt in "" --disconnect-timeout=0; do
			SER=$ser run --separate-stderr timeout 60 node "$BATS_TEST_TMPDIR/p.js" \
			    "$BATS_TEST_TMPDIR/rest" $opt
			assert_success
			assert_output $'message {"a":1}\ndisconnect false null null\nexit 7 null'
			assert_equal "$stderr" ""
			assert_equal "$(cat "$BATS_TEST_TMPDIR/rest")" $'{"b":2}\n[3]'
		done
	done
}

@test "--disconnect-timeout: SIGTERM, then SIGKILL after --kill-timeout" {
	parent '{"js":"[1]"}' --disconnect-timeout 0.1 -- sh -c 'head -n 1; exec sleep 1000'
	assert_success
	[[ "$stderr" == *"is still running after the parent disconnected; sending SIGTERM"*"parent: exit null SIGTERM" ]]
	parent '{"js":"[1]"}' --disconnect-timeout 0 --kill-timeout 0.1 -- \
	    sh -c 'trap "" TERM; head -n 1; exec sleep 1000'
	assert_success
	[[ "$stderr" == *"ignored SIGTERM; sending SIGKILL"*"parent: exit null SIGKILL" ]]
}

@test "the parent is killed with SIGKILL: ipcrun and CMD end too" {
	cat > "$BATS_TEST_TMPDIR/p.js" <<-EOF
		const { fork } = require('child_process');
		const c = fork('-', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--', 'sh', '-c', 'echo \$\$; exec cat'] });
		c.on('message', (m) => { console.log(c.pid, m); });
	EOF
	bg node "$BATS_TEST_TMPDIR/p.js" > "$BATS_TEST_TMPDIR/pids"
	local np=$!
	got_pids() { [ -s "$BATS_TEST_TMPDIR/pids" ]; }
	wait_for 20 got_pids
	read -r ipid cpid < "$BATS_TEST_TMPDIR/pids"
	kill -0 "$ipid"
	kill -0 "$cpid"
	kill -KILL "$np"
	gone() { ! kill -0 "$ipid" 2>/dev/null && ! kill -0 "$cpid" 2>/dev/null; }
	wait_for 20 gone
}

@test "ipcrun is killed with SIGKILL: CMD dies with it" {
	cat > "$BATS_TEST_TMPDIR/p.js" <<-EOF
		const { fork } = require('child_process');
		const c = fork('-', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--', 'sh', '-c', 'echo \$\$; exec sleep 1000'] });
		c.on('message', (m) => { console.log(c.pid, m); });
		c.on('exit', (code, sig) => console.log('exit', code, sig));
	EOF
	bg node "$BATS_TEST_TMPDIR/p.js" > "$BATS_TEST_TMPDIR/pids"
	got_pids() { [ -s "$BATS_TEST_TMPDIR/pids" ]; }
	wait_for 20 got_pids
	read -r ipid cpid < "$BATS_TEST_TMPDIR/pids"
	kill -KILL "$ipid"
	gone() { ! kill -0 "$cpid" 2>/dev/null; }
	wait_for 20 gone
	wait
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")" "exit null SIGKILL"
}

@test "ipcrun is killed with SIGKILL: CMD's whole process group dies too" {
	cat > "$BATS_TEST_TMPDIR/p.js" <<-EOF
		const { fork } = require('child_process');
		const c = fork('-', [], { execPath: process.env.IPCRUN,
		    execArgv: ['child', '--', 'sh', '-c', 'sleep 1000 & echo \$!; wait'] });
		c.on('message', (m) => { console.log(c.pid, m); });
		c.on('exit', (code, sig) => console.log('exit', code, sig));
	EOF
	bg node "$BATS_TEST_TMPDIR/p.js" > "$BATS_TEST_TMPDIR/pids"
	got_pids() { [ -s "$BATS_TEST_TMPDIR/pids" ]; }
	wait_for 20 got_pids
	read -r ipid bg < "$BATS_TEST_TMPDIR/pids"
	kill -0 "$bg"
	kill -KILL "$ipid"
	# PR_SET_PDEATHSIG reaches sh only; the watchdog ends its group.
	gone() { ! kill -0 "$bg" 2>/dev/null; }
	wait_for 20 gone
	wait
}

@test "a parent that sends 200 MB does not grow ipcrun's memory" {
	parent "{\"module\":\"$F/pyfilter.py\",\"js\":\"Array.from({length:50000},()=>({p:'a'.repeat(4000)})).concat([{end:true}])\",\"expect\":1}" \
	    -- python3 -u
	assert_success
	[[ "$output" =~ ^\{\"count\":50000,\"hwm\":([0-9]+)\}$ ]]
	echo "ipcrun peak RSS: ${BASH_REMATCH[1]} KiB"
	[ "${BASH_REMATCH[1]}" -lt 65536 ]
}

# --- errors -------------------------------------------------------------------------

@test "no channel, a bad or closed descriptor, a non-socket, an unknown mode: 125" {
	run --separate-stderr env -u NODE_CHANNEL_FD "$IPCRUN" child -- cat
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_FD is not set: start ipcrun child from a Node parent with an 'ipc' stdio entry"
	NODE_CHANNEL_FD= run --separate-stderr "$IPCRUN" child
	assert_failure 125
	[[ "$stderr" == "ipcrun: child: NODE_CHANNEL_FD is not set"* ]]
	NODE_CHANNEL_FD=3x run --separate-stderr "$IPCRUN" child
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_FD '3x': not a file descriptor number"
	NODE_CHANNEL_FD=-1 run --separate-stderr "$IPCRUN" child
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_FD '-1': not a file descriptor number"
	NODE_CHANNEL_FD=77 run --separate-stderr "$IPCRUN" child -- cat
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_FD '77': not an open descriptor"
	NODE_CHANNEL_FD=5 run --separate-stderr "$IPCRUN" child -- cat 5</dev/null
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_FD '5': not a socket"
	NODE_CHANNEL_FD=5 NODE_CHANNEL_SERIALIZATION_MODE=bogus run --separate-stderr \
	    "$IPCRUN" child -- cat 5</dev/null
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_SERIALIZATION_MODE 'bogus': must be json or advanced"
}

@test "the channel on fd 0 without CMD is refused" {
	run --separate-stderr python3 -c '
import os, socket, subprocess, sys
a, b = socket.socketpair()
sys.exit(subprocess.call(sys.argv[1:], stdin=b, env=dict(os.environ, NODE_CHANNEL_FD="0")))' \
	    "$IPCRUN" child
	assert_failure 125
	assert_equal "$stderr" "ipcrun: child: NODE_CHANNEL_FD '0': ipcrun child without CMD needs fds 0-2 for itself"
}

@test "CMD not found: 127; not executable: 126; the parent sees the code" {
	parent '{"expect":-1}' -- /nonexistent/cmd
	assert_success
	assert_equal "$stderr" "ipcrun: child: '/nonexistent/cmd': No such file or directory
parent: exit 127 null"
	parent '{"expect":-1}' -- /dev/null
	assert_success
	assert_equal "$stderr" "ipcrun: child: '/dev/null': Permission denied
parent: exit 126 null"
}

@test "usage errors: bad durations, --disconnect-timeout without CMD, unknown option" {
	run --separate-stderr "$IPCRUN" child --disconnect-timeout x -- cat
	assert_failure 125
	[ "${stderr%%$'\n'*}" = "ipcrun: child: --disconnect-timeout 'x': not a duration (seconds, or with a unit: 500ms, 2s, 1m)" ]
	run --separate-stderr "$IPCRUN" child --kill-timeout -1 -- cat
	assert_failure 125
	[ "${stderr%%$'\n'*}" = "ipcrun: child: --kill-timeout '-1': not a duration (seconds, or with a unit: 500ms, 2s, 1m)" ]
	run --separate-stderr "$IPCRUN" child --disconnect-timeout 1
	assert_failure 125
	[ "${stderr%%$'\n'*}" = "ipcrun: child: --disconnect-timeout needs a CMD" ]
	run --separate-stderr "$IPCRUN" child --frob
	assert_failure 125
	[ "${stderr%%$'\n'*}" = "ipcrun: child: unknown option '--frob'" ]
	[ "${stderr#*$'\n'}" = "Try 'ipcrun child --help'." ]
	run "$IPCRUN" child --help
	assert_success
	assert_line --index 0 "usage: ipcrun child [--disconnect-timeout DUR] [--fd-as N] [--kill-timeout DUR]"
	assert_line --index 1 "                    [-s N] [--stats] [--trace] [--trace-file FILE]"
	assert_line --index 2 "                    [--types json|tagged] [--verbose] [--] [CMD [ARG ...]]"
	assert_output --partial "      --fd-as N             run CMD with the parent's first handle at fd N"
	assert_output --partial "      --kill-timeout DUR    wait before SIGKILL after SIGTERM (default: 5s)"
	# Durations take units.
	run --separate-stderr "$IPCRUN" child --disconnect-timeout 500ms
	assert_failure 125
	[ "${stderr%%$'\n'*}" = "ipcrun: child: --disconnect-timeout needs a CMD" ]
}

# --- more reports -------------------------------------------------------------------

# rawjson ARGS...: a json-mode parent that is not Node: writes $IN to the
# channel (with the fds named in $FDS attached to the first byte, all in
# one sendmsg), closes its end if $SHUT is set, prints what comes back.
rawjson() {
	python3 -c '
import array, os, socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], env=dict(os.environ, NODE_CHANNEL_FD="3"),
    pass_fds=(3,), preexec_fn=lambda: os.dup2(b.fileno(), 3))
b.close()
data = open(os.environ["IN"], "rb").read()
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(int(os.environ.get("FDS", "0")))]
if fds:
    a.sendmsg([data[:1]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    data = data[1:]
a.sendall(data)
if os.environ.get("SHUT"):
    a.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = a.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
sys.exit(p.wait())' "$@"
}

@test "json: a bad frame and one cut short by the end of the channel are reported" {
	# The piece cut short is said so, whether or not it parses.
	printf '{"a":1}\n{bad}\n{"b":2}\n{"cut":1}' > "$BATS_TEST_TMPDIR/in"
	IN=$BATS_TEST_TMPDIR/in SHUT=1 run --separate-stderr rawjson "$IPCRUN" \
	    child -- sh -c 'cat > "$0"' "$BATS_TEST_TMPDIR/got"
	assert_success
	assert_equal "$stderr" "ipcrun: child: parent message 2:2: expected a string key, found 'b' (not delivered)
ipcrun: child: parent message 4: cut short by the end of the channel (not delivered)"
	printf '{"a":1}\n{bad}\n{"b":2}\n{"cut":"x' > "$BATS_TEST_TMPDIR/in"
	IN=$BATS_TEST_TMPDIR/in SHUT=1 run --separate-stderr rawjson "$IPCRUN" \
	    child -- sh -c 'cat > "$0"' "$BATS_TEST_TMPDIR/got"
	assert_success
	assert_output ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" $'{"a":1}\n{"b":2}'
	assert_equal "$stderr" "ipcrun: child: parent message 2:2: expected a string key, found 'b' (not delivered)
ipcrun: child: parent message 4: cut short by the end of the channel (not delivered)"
}

@test "more descriptors than a frame can carry: reported, one ACK" {
	printf '%s\n' '{"cmd":"NODE_HANDLE","type":"net.Server","msg":{"m":1}}' > "$BATS_TEST_TMPDIR/in"
	IN=$BATS_TEST_TMPDIR/in FDS=6 run --separate-stderr rawjson "$IPCRUN" child -- head -n 1
	assert_success
	assert_output '{"cmd":"NODE_HANDLE_ACK"}
{"m":1}'
	assert_equal "$stderr" "ipcrun: child: descriptors from the parent were cut short (MSG_CTRUNC)
ipcrun: child: the parent sent a handle: acknowledged and closed, not passed on to 'head' (no --fd-as)"
}

@test "advanced: a frame longer than 64 MiB is refused without reading it whole" {
	printf '%s\n' 00000006ff0f22026869 7fffffff0000 > "$BATS_TEST_TMPDIR/frames"
	RAW_SHUT=1 run --separate-stderr python3 "$F/rawparent.py" "$IPCRUN" \
	    child -- sh -c 'cat > "$0"' "$BATS_TEST_TMPDIR/got" \
	    < "$BATS_TEST_TMPDIR/frames"
	assert_success
	assert_equal "$stderr" "ipcrun: child: parent message 2: 2147483647 bytes, longer than 67108864 (not delivered)"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" '"hi"'
}

@test "CMD exits with messages still queued for it: counted in one report" {
	# CMD waits until its stdin pipe is (about) full, so that more is
	# queued behind it in ipcrun.
	parent '{"js":"Array.from({length:40},(_, i)=>({i,p:\"y\".repeat(65536)}))","expect":-1}' -- python3 -c '
import fcntl, os, sys, termios, time, array
size = fcntl.fcntl(0, 1032)  # F_GETPIPE_SZ
while True:
    n = array.array("i", [0])
    fcntl.ioctl(0, termios.FIONREAD, n)
    if n[0] >= size - 65536:
        break
    time.sleep(0.01)
sys.exit(3)'
	assert_success
	[[ "$stderr" =~ ^"ipcrun: child: "[0-9]+" messages from the parent were not delivered: 'python3' stopped reading its stdin"$'\n'"parent: exit 3 null"$ ]]
}

@test "CMD exits with messages unread in its stdin pipe: counted in one report" {
	# All ten lines ({"i":1} to {"i":10}, 81 bytes) are in the pipe
	# before CMD reads three, byte by byte, and exits: in both modes, and
	# after the parent disconnected (ipcrun's end of the pipe closed).
	# The pipe is looked at, never read: nothing is taken from a
	# descendant that might share it.
	cat > "$BATS_TEST_TMPDIR/read3.py" <<-'EOF'
		import array, fcntl, os, sys, termios, time
		end = time.monotonic() + 30
		while time.monotonic() < end:
		    n = array.array("i", [0])
		    fcntl.ioctl(0, termios.FIONREAD, n)
		    if n[0] >= int(sys.argv[1]):
		        break
		    time.sleep(0.01)
		for _ in range(int(sys.argv[2])):
		    line = b""
		    while not line.endswith(b"\n"):
		        line += os.read(0, 1)
		    os.write(1, line)
	EOF
	local ten='"js":"Array.from({length:10},(_, i)=>({i:i+1}))"'
	for opts in "{\"ser\":\"json\",$ten,\"expect\":-1}" \
	    "{\"ser\":\"advanced\",$ten,\"expect\":-1}" "{$ten,\"expect\":0}"; do
		parent "$opts" -- python3 "$BATS_TEST_TMPDIR/read3.py" 81 3
		assert_success
		if [[ $opts == *'"expect":0'* ]]; then
			assert_output ""
			assert_equal "$stderr" "ipcrun: child: 7 messages from the parent were not delivered: 'python3' stopped reading its stdin
ipcrun: child: 3 lines that 'python3' printed after the parent disconnected were not sent
parent: exit 0 null"
		else
			assert_output $'{"i":1}\n{"i":2}\n{"i":3}'
			assert_equal "$stderr" "ipcrun: child: 7 messages from the parent were not delivered: 'python3' stopped reading its stdin
parent: exit 0 null"
		fi
	done
	parent '{"js":"[1]","expect":-1}' -- python3 "$BATS_TEST_TMPDIR/read3.py" 2 0
	assert_success
	assert_output ""
	assert_equal "$stderr" "ipcrun: child: 1 message from the parent was not delivered: 'python3' stopped reading its stdin
parent: exit 0 null"
}

@test "a descendant keeps CMD's stdout open: read for --kill-timeout, then its group ends" {
	parent '{"expect":1}' --kill-timeout 0.2 -- sh -c 'echo "\"bye\""; sleep 1000 & exit 4'
	assert_success
	assert_output '"bye"'
	assert_equal "$stderr" "ipcrun: child: the stdout of 'sh' stayed open after it exited (a descendant may hold it); not read further
ipcrun: child: sending SIGTERM to what is left of the process group of 'sh' (${stderr##*of \'sh\' (}"
	[[ "$stderr" == *"parent: exit 4 null" ]]
}

@test "no CMD: the reader of stdout went away: 141" {
	cat > "$BATS_TEST_TMPDIR/p.js" <<-'EOF'
		const { spawn } = require('child_process');
		const c = spawn(process.env.IPCRUN, ['child'],
		    { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
		c.stdout.destroy();
		c.on('error', () => {});	// EPIPE once ipcrun has gone
		c.on('exit', (code, sig) => console.log('exit', code, sig));
		for (let i = 0; i < 100; i++)
			c.send({ i, p: 'z'.repeat(10000) });
	EOF
	run --separate-stderr timeout 60 node "$BATS_TEST_TMPDIR/p.js"
	assert_success
	assert_output "exit 141 null"
	assert_equal "$stderr" ""
}

@test "run -- ipcrun child -- CMD: a CMD that answers after 1.5 s loses nothing; child announces itself and ends CMD's input on run's notice" {
	run --separate-stderr timeout 60 "$IPCRUN" run -- "$IPCRUN" child -- \
	    sh -c 'sleep 1.5; cat' <<<$'{"a":1}\n{"b":2}'
	echo "$stderr"
	assert_success
	assert_output $'{"a":1}\n{"b":2}'
}

@test "run --no-preload -- ipcrun child -- CMD: the half-close ends CMD's input, not the replies" {
	# Without the preload's variables child does not announce itself, and
	# run ends its input with a half-close after its settling time.
	run --separate-stderr timeout 60 "$IPCRUN" run --no-preload -- "$IPCRUN" \
	    child -- sh -c 'cat > "$0"; sleep 1; cat "$0"; echo "{\"late\":true}"' \
	    "$BATS_TEST_TMPDIR/held" <<<$'{"a":1}'
	echo "$stderr"
	assert_success
	assert_output $'{"a":1}\n{"late":true}'
}

@test "job control in a real shell on a pty: ^Z stops the parent, ipcrun child and CMD's group; bg and fg resume them" {
	# CMD runs in a group of its own, which the terminal's ^Z does not
	# reach: ipcrun child passes it on as SIGSTOP, and SIGCONT (issue 30).
	printf '%s\n' 'require("fs").writeFileSync(process.argv[2],
	    String(process.pid)); setInterval(() => {}, 1000);' \
	    > "$BATS_TEST_TMPDIR/w.js"
	printf '%s\n' 'require("child_process").spawn(process.argv[2],
	    ["child", "--", "node", ...process.argv.slice(3)],
	    { stdio: ["inherit", "inherit", "inherit", "ipc"] });' \
	    > "$BATS_TEST_TMPDIR/parent.js"
	run python3 "$F/jobctl.py" "$IPCRUN" "$BATS_TEST_TMPDIR/w.js" \
	    "$BATS_TEST_TMPDIR/pid" "node '$BATS_TEST_TMPDIR/parent.js' \
'$IPCRUN' '$BATS_TEST_TMPDIR/w.js' '$BATS_TEST_TMPDIR/pid'"
	assert_success
	assert_line 'ok: ^Z stopped ipcrun and the child'
	assert_line 'ok: bg continued both'
	assert_line 'ok: ^Z again stopped both'
	assert_line 'ok: fg continued both'
	assert_line 'ok: ^C ended both'
}

@test "child: CMD hands a listening socket to the Node parent through IPCRUN_HANDLE_SOCK (send-fd --msg)" {
	d=$BATS_TEST_TMPDIR
	mkdir "$d/tmp"
	TMPDIR=$d/tmp bg timeout 60 node "$F/handle_parent.js" python3 \
	    "$F/hand_up.py" > "$d/out" 2> "$d/err"
	wait_for 30 grep -q '"handed"' "$d/out" || { cat "$d/out" "$d/err"; false; }
	port=$(jq -r 'select(.got) | .got.port' "$d/out")
	# Its socket, in a directory of its own under TMPDIR, mode 0700.
	[ "$(stat -c %a "$d"/tmp/ipcrun-child.*)" = 700 ]
	# The handle, a net.Server, with its message, and CMD's line. Node
	# emits a server's message only once it listens again, so CMD's
	# later line may come first: the order is Node's, not ipcrun's.
	grep -qxF '{"got":{"port":'"$port"'},"type":"server"}' "$d/out"
	grep -qxF '{"msg":{"handed":'"$port"'}}' "$d/out"
	# CMD closed its copy: the parent serves on the one it got.
	run python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
print(s.recv(4096).decode(), end="")' "$port"
	[ "$output" = "served by the parent" ]
	wait_for 30 grep -q '"exit":0' "$d/out"
	[ ! -s "$d/err" ]
	# The socket's directory went with ipcrun child.
	[ -z "$(ls -A "$d/tmp")" ]
}

@test "child: a socket of CMD's that the Node parent NACKs (its fd lost on the way) goes again, and arrives once" {
	# strip_fd.py closes the first descriptor between ipcrun and the Node
	# parent, which NACKs; ipcrun sends the socket again, as Node would.
	STRIP=$F/strip_fd.py STRIP_FROM=child run --separate-stderr timeout 60 \
	    node "$F/handle_parent.js" python3 "$F/hand_sock.py"
	assert_success
	assert_output $'{"got":{"sock":1},"type":"socket"}\n{"exit":0,"signal":null}'
	# The parent wrote into the socket it got: CMD read it at its end.
	assert_equal "$stderr" "read: 'written by the parent\n'"
}

@test "child: IPCRUN_HANDLE_SOCK refuses what Node would abort on, and a header that is not one descriptor" {
	d=$BATS_TEST_TMPDIR
	echo data > "$d/file"
	cat > "$d/cmd.sh" <<'SH'
ipcrun send-fd "$IPCRUN_HANDLE_SOCK" 3 --msg 1 3< "$0"
ipcrun send-fd "$IPCRUN_HANDLE_SOCK" 0 1 < /dev/null
echo '{"after":1}'
SH
	run --separate-stderr timeout 60 node "$F/handle_parent.js" sh "$d/cmd.sh"
	assert_success
	assert_output $'{"msg":{"after":1}}\n{"exit":0,"signal":null}'
	[[ ${stderr_lines[0]} == "ipcrun: child: IPCRUN_HANDLE_SOCK: Node aborts on this kind of descriptor"*": refused" ]]
	[ "${stderr_lines[1]}" = 'ipcrun: child: IPCRUN_HANDLE_SOCK: not a header of one descriptor ({"fds":1,"msg":M}): refused' ]
}
