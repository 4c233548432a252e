#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun child --types tagged: every V8 type a real Node parent can send,
# through CMD as tagged NDJSON and back (issue 29, item 16). The parent is
# test/fixtures/tagged_parent.js, in advanced serialization; it compares
# with util.isDeepStrictEqual. Waits have deadlines, nothing sleeps.

load helper

# tagged MODE [ARG...] -- CHILD_ARGS...: the parent, stdout and stderr apart.
tagged() {
	run --separate-stderr timeout 60 node "$F/tagged_parent.js" "$@"
}

@test "tagged: each type of the table comes back deep-equal from cat" {
	tagged table -- --types tagged -- cat
	assert_success
	assert_equal "$stderr" "parent: exit 0 null"
	refute_output --partial DIFF
	# Every entry of the fixture's table, each once.
	[ "${#lines[@]}" -eq 52 ]
	assert_line "ok bigint negative"
	assert_line "ok type error with cause"
	assert_line "ok invalid date"
	assert_line "ok regexp"
	assert_line "ok dollar keys"
}

@test "tagged: what CMD reads, tag by tag" {
	tagged send '[[12n,undefined,-0,NaN,-Infinity,[1,,3]],
	    {b:Buffer.from("hi"),u:new Uint16Array([1,65535]),a:new Uint8Array([7]).buffer},
	    new Map([[1,new Set(["x"])]]),{d:new Date(0),n:new Date(NaN)},
	    /a+/gi,{e:Object.assign(new RangeError("r"),{stack:"st"})},
	    {s:new String("s"),z:Object(5n)},{$x:1,$$y:2,$:3}]' 8 \
	    -- --types tagged -- tee "$BATS_TEST_TMPDIR/seen"
	assert_success
	assert_equal "$stderr" "parent: exit 0 null"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/seen")" '[{"$bigint":"12"},{"$undefined":true},{"$number":"-0"},{"$number":"NaN"},{"$number":"-Infinity"},[1,{"$hole":true},3]]
{"b":{"$buffer":"aGk="},"u":{"$uint16array":"AQD//w=="},"a":{"$arraybuffer":"Bw=="}}
{"$map":[[1,{"$set":["x"]}]]}
{"d":{"$date":"1970-01-01T00:00:00.000Z"},"n":{"$date":null}}
{"$regexp":{"source":"a+","flags":"gi"}}
{"e":{"$error":{"message":"r","stack":"st","name":"RangeError"}}}
{"s":{"$object":"s"},"z":{"$object":{"$bigint":"5"}}}
{"$$x":1,"$$$y":2,"$$":3}'
	# All came back, the RegExp too: the parent sent it.
	assert_equal "$output" "[ 12n, undefined, -0, NaN, -Infinity, [ 1, <1 empty item>, 3 ] ]
{ b: <Buffer 68 69>, u: Uint16Array(2) [ 1, 65535 ], a: ArrayBuffer { [Uint8Contents]: <07>, byteLength: 1 } }
Map(1) { 1 => Set(1) { 'x' } }
{ d: 1970-01-01T00:00:00.000Z, n: Invalid Date }
/a+/gi
{ e: [st] }
{ s: [String: 's'], z: [BigInt: 5n] }
{ '\$x': 1, '\$\$y': 2, '\$': 3 }"
}

@test "tagged: 3 x 2,000 random values of every kind, nested, come back deep-equal" {
	for seed in 1 2 3; do
		tagged random "$seed" 2000 -- --types tagged -- cat
		assert_success
		assert_equal "$output" "random 2000 equal, 0 differ"
		assert_equal "$stderr" "parent: exit 0 null"
	done
}

@test "tagged: a Python CMD sends a BigInt, a Map, a Date, a Buffer and undefined" {
	cat > "$BATS_TEST_TMPDIR/w.py" <<-'EOF'
		import json, sys
		for line in sys.stdin:
		    m = json.loads(line)
		    n = int(m["id"]["$bigint"])
		    print(json.dumps({"id": {"$bigint": str(n * 10**30)},
		        "m": {"$map": [["at", {"$date": "2000-01-01T00:00:00.000Z"}]]},
		        "b": {"$buffer": "AQID"}, "u": {"$undefined": True},
		        "$$raw": True}), flush=True)
	EOF
	tagged send '[{id:7n}]' 1 -- --types tagged -- python3 -u "$BATS_TEST_TMPDIR/w.py"
	assert_success
	assert_equal "$stderr" "parent: exit 0 null"
	assert_equal "$output" "{ id: 7000000000000000000000000000000n, m: Map(1) { 'at' => 2000-01-01T00:00:00.000Z }, b: <Buffer 01 02 03>, u: undefined, '\$raw': true }"
}

@test "tagged: a wrong tag from CMD is refused with its place and reason; the parent lives" {
	cat > "$BATS_TEST_TMPDIR/bad" <<-'EOF'
		{"$nope":1}
		{"$bigint":"12","x":1}
		{"a":1,"$b":2}
		{"a":1,"b":{"c":2,"c":3}}
		{"$regexp":{"source":"(","flags":""}}
		{"$uint16array":"AQ=="}
		{"$date":"yesterday"}
		{"$hole":true}
		{"$number":"1"}
		{"$buffer":"!!"}
		{"$error":{"name":"AbortError"}}
		[{"$bigint":"7"},[{"$hole":true}],{"$$a":{"$date":"2020-02-29T12:00:00.000Z"}}]
	EOF
	tagged send '[1]' 1 -- --types tagged -- sh -c 'read -r l; cat "$0"' \
	    "$BATS_TEST_TMPDIR/bad"
	assert_success
	assert_equal "$output" "[ 7n, [ <1 empty item> ], { '\$a': 2020-02-29T12:00:00.000Z } ]"
	assert_equal "$stderr" "ipcrun: child: sh:1:2: an unknown \"\$\" tag (not sent)
ipcrun: child: sh:2:16: a \"\$\" tag with other keys beside it (not sent)
ipcrun: child: sh:3:8: a key that starts with '\$' among others (write '\$\$' for a '\$' of its own) (not sent)
ipcrun: child: sh:4:19: a key twice in an object (tagged types take each key once) (not sent)
ipcrun: child: sh:5:12: a RegExp the parent did not send (only JavaScript can check a pattern, and a bad one crashes the parent) (not sent)
ipcrun: child: sh:6:23: a byte count that is not a multiple of the element size (not sent)
ipcrun: child: sh:7:21: \$date takes null or a string as toISOString() writes it (not sent)
ipcrun: child: sh:8:10: \$hole outside an array (not sent)
ipcrun: child: sh:9:15: \$number takes \"NaN\", \"Infinity\", \"-Infinity\" or \"-0\" (not sent)
ipcrun: child: sh:10:16: invalid base64 (not sent)
ipcrun: child: sh:11:31: an Error name that V8 does not carry (not sent)
parent: exit 0 null"
}

@test "tagged: a cycle and an array with named properties are reported; the next message flows" {
	tagged send '[(()=>{const o={};o.o=o;return o})(),
	    Object.assign([1],{name:"n"}),{next:1n}]' 1 -- --types tagged -- cat
	assert_success
	assert_equal "$output" "{ next: 1n }"
	assert_equal "$stderr" "ipcrun: child: parent message 1: byte 6: a circular reference (not delivered)
ipcrun: child: parent message 2: byte 6: an array with named properties (not delivered)
parent: exit 0 null"
}

@test "tagged: without it, the JSON subset as before: a BigInt is refused" {
	tagged send '[{a:1n},{b:2}]' 1 -- cat
	assert_success
	assert_equal "$output" "{ b: 2 }"
	assert_equal "$stderr" "ipcrun: child: parent message 1: a BigInt is outside the JSON subset (not delivered)
parent: exit 0 null"
}

@test "--types: json or tagged; tagged under a json parent is an error, 125" {
	run --separate-stderr "$IPCRUN" child --types xml -- cat
	[ "$status" -eq 125 ]
	assert_equal "$stderr" $'ipcrun: child: --types \'xml\': not json or tagged\nTry \'ipcrun child --help\'.'
	run --separate-stderr timeout 20 node -e '
		const c = require("child_process").spawn(process.env.IPCRUN,
		    ["child", "--types", "tagged", "--", "cat"],
		    { stdio: ["ignore", "inherit", "inherit", "ipc"] });
		c.on("exit", (code) => console.log("exit", code));'
	assert_success
	assert_output "exit 125"
	assert_equal "$stderr" "ipcrun: child: --types tagged needs the parent's advanced serialization (NODE_CHANNEL_SERIALIZATION_MODE is json)"
}
