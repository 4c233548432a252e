#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun check: every accept and reject rule, with the good lines around
# each bad one still arriving, every message and every exit status.

load helper

# good LINE: the line passes through unchanged, exit 0.
good() {
	printf '%s\n' "$1" > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$1"
}

# bad BYTES COLUMN REASON: BYTES (printf format) between two good lines is
# reported at line 2 with COLUMN and REASON; the good lines arrive.
bad() {
	printf '{"before":1}\n'"$1"'\n{"after":2}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" $'{"before":1}\n{"after":2}'
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:2:$2: $3"
}

@test "accepts every kind of JSON value" {
	good '{}'
	good '[]'
	good '{"a":[1,2,{"b":null}],"c":true,"d":false}'
	good '"str"'
	good '42'
	good '-0'
	good '-12.5e+3'
	good '0.5E-3'
	good 'null'
	good 'true'
	good '[[[[[[[[[[[]]]]]]]]]]]'
}

@test "accepts what JSON.parse accepts and other validators reject" {
	good '"\ud800"'
	good '"\udc00\ud800x"'
	good '"\u0000"'
	good '123456789012345678901234567890123456789012345678901234567890'
	good '1e400'
	good '-1e-400'
	good '{"a":1,"a":2}'
	good '"\/\b\f\n\r\t\\\""'
}

@test "accepts whitespace around the value and inside" {
	good '  { "a" : [ 1 , 2 ] }  '
	good $'\t{"a":\t1}\t'
	printf '{"a":1}\r\n' > "$BATS_TEST_TMPDIR/in"
	run "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$output" $'{"a":1}\r'
}

@test "accepts multi-byte UTF-8 and raw U+2028" {
	good '"é ü 中文 😀 € "'
	good "{\"k\":\"$(printf '\xe2\x80\xa8')\"}"
	good '{"😀":"\ud83d\ude00"}'
}

@test "keeps good lines byte for byte, CRLF included" {
	printf '{"a" : 1}\r\n[ 1,2 ]\n"x"\r\n' > "$BATS_TEST_TMPDIR/in"
	run "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_success
	"$IPCRUN" check "$BATS_TEST_TMPDIR/in" | cmp - "$BATS_TEST_TMPDIR/in"
}

@test "skips blank lines silently and counts them" {
	printf '\n \n\t\n\r\n \t\r\n{"a":1}\n\n{]\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" '{"a":1}'
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:8:2: expected a string key, found ']'"
}

@test "a blank-only input is good and prints nothing" {
	run --separate-stderr "$IPCRUN" check < <(printf '\n  \n\r\n')
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "checks a last line without a newline and gives it one" {
	printf '{"a":1}\n[2]' > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" check "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out"
	printf '{"a":1}\n[2]\n' | cmp - "$BATS_TEST_TMPDIR/out"
	printf '{"a":1}\n{"b"' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" '{"a":1}'
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:2:5: unexpected end of line"
}

@test "rejects structural errors at the first bad byte" {
	bad '{bad json}' 2 "expected a string key, found 'b'"
	bad '{"a" 1}' 6 "expected ':', found '1'"
	bad '{"a":1,}' 8 "expected a string key, found '}'"
	bad '[1,]' 4 "expected a value, found ']'"
	bad '[1 2]' 4 "expected ',' or ']', found '2'"
	bad '{"a":1]' 7 "expected ',' or '}', found ']'"
	bad '{"a":1}}' 8 "more than one value, found '}'"
	bad '{} {}' 4 "more than one value, found '{'"
	bad '1 2' 3 "more than one value, found '2'"
	bad "{'a':1}" 2 "expected a string key, found \"'\""
	bad 'undefined' 1 "expected a value, found 'u'"
}

@test "rejects truncated values with the line length + 1" {
	bad '{"a":1' 7 "unexpected end of line"
	bad '[' 2 "unexpected end of line"
	bad '"abc' 5 "unterminated string"
	bad '"ab\\' 5 "unterminated string"
	bad '"\\u12' 6 "unterminated string"
	bad 'tru' 4 "unexpected end of line"
	bad '-' 2 "unexpected end of line"
	bad '1.' 3 "unexpected end of line"
	bad '1e+' 4 "unexpected end of line"
	bad '{"a":1\r' 8 "unexpected end of line"
}

@test "rejects bad numbers and literals" {
	bad '01' 2 "leading zero in number, found '1'"
	bad '-01' 3 "leading zero in number, found '1'"
	bad '+1' 1 "expected a value, found '+'"
	bad '.5' 1 "expected a value, found '.'"
	bad '1.e5' 3 "invalid number, found 'e'"
	bad '1e' 3 "unexpected end of line"
	bad '1ex' 3 "invalid number, found 'x'"
	bad '-a' 2 "invalid number, found 'a'"
	bad 'NaN' 1 "expected a value, found 'N'"
	bad 'Infinity' 1 "expected a value, found 'I'"
	bad '0x10' 2 "more than one value, found 'x'"
	bad 'trUe' 3 "invalid literal, found 'U'"
	bad 'nul' 4 "unexpected end of line"
	bad 'falsey' 6 "more than one value, found 'y'"
}

@test "rejects bad escapes and raw control characters in strings" {
	bad '"\\x"' 3 "invalid escape '\\x'"
	bad '"\\u12g4"' 6 "invalid \\u escape, found 'g'"
	bad '"\\U0041"' 3 "invalid escape '\\U'"
	bad '"a\tb"' 3 "control character in string, found byte 0x09"
	bad '"a\001b"' 3 "control character in string, found byte 0x01"
	bad '"a\rb"' 3 "control character in string, found byte 0x0d"
	bad '{"k\001":1}' 4 "control character in string, found byte 0x01"
}

@test "rejects invalid UTF-8 of every kind, at the first byte of the bad sequence" {
	bad '"\300\200"' 2 "invalid UTF-8, found byte 0xc0"
	bad '"\301\277"' 2 "invalid UTF-8, found byte 0xc1"
	bad '"\340\200\200"' 2 "invalid UTF-8, found byte 0xe0"
	bad '"\355\240\200"' 2 "invalid UTF-8, found byte 0xed"
	bad '"\355\277\277"' 2 "invalid UTF-8, found byte 0xed"
	bad '"\364\220\200\200"' 2 "invalid UTF-8, found byte 0xf4"
	bad '"\365\200\200\200"' 2 "invalid UTF-8, found byte 0xf5"
	bad '"\377"' 2 "invalid UTF-8, found byte 0xff"
	bad '"\200"' 2 "invalid UTF-8, found byte 0x80"
	bad '"\342\202"' 2 "invalid UTF-8, found byte 0xe2"
	bad '"\342\202' 4 "unterminated string"
	bad '"\360\237\230"' 2 "invalid UTF-8, found byte 0xf0"
	bad '{"\303":1}' 3 "invalid UTF-8, found byte 0xc3"
	# Latin-1 text: the byte to fix, not the good one after it.
	bad '{"s":"caf\351!"}' 10 "invalid UTF-8, found byte 0xe9"
	bad '"ok \303\251 \303("' 8 "invalid UTF-8, found byte 0xc3"
	# The same column when the line comes in pieces (a byte at a time
	# from a pipe) and the sequence is cut between two reads, and over
	# the block scanner's lengths.
	run --separate-stderr bash -c '{ printf "\"ab\303"; sleep 0.2; printf "(\"\n"; } | "$IPCRUN" check'
	assert_failure 1
	assert_equal "$stderr" "ipcrun: check: -:1:4: invalid UTF-8, found byte 0xc3"
	for impl in avx512 avx2 sse42 sse2 scalar; do
		printf '"%s\303("\n' "$(printf 'x%.0s' {1..200})" |
		    IPCRUN_JSCAN=$impl "$IPCRUN" check 2>"$BATS_TEST_TMPDIR/err" && fail "$impl passed it"
		grep -q '^ipcrun: check: IPCRUN_JSCAN' "$BATS_TEST_TMPDIR/err" && continue
		assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "ipcrun: check: -:1:202: invalid UTF-8, found byte 0xc3"
	done
}

@test "rejects non-ASCII and non-JSON whitespace outside strings" {
	bad '\357\273\277{}' 1 "byte order mark"
	bad '\357\273\277' 1 "byte order mark"
	bad '{}\000' 3 "more than one value, found byte 0x00"
	bad '\000' 1 "expected a value, found byte 0x00"
	bad '\f{}' 1 "expected a value, found byte 0x0c"
	bad '{}\v' 3 "more than one value, found byte 0x0b"
	bad '\302\240{}' 1 "expected a value, found byte 0xc2"
	bad '[1,\302\240 2]' 4 "expected a value, found byte 0xc2"
	bad '\351' 1 "expected a value, found byte 0xe9"
}

@test "the scalar, SSE2, SSE4.2, AVX2 and AVX-512 paths give the same verdicts" {
	printf '"%s\\x"\n' "$(printf 'a%.0s' {1..100})" > "$BATS_TEST_TMPDIR/in"
	printf '"%s\300"\n' "$(printf 'b%.0s' {1..77})" >> "$BATS_TEST_TMPDIR/in"
	printf '"%s\001"\n' "$(printf 'c%.0s' {1..40})" >> "$BATS_TEST_TMPDIR/in"
	printf '"%s"\n' "$(printf 'é%.0s' {1..50})" >> "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" check "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/ref.out" 2> "$BATS_TEST_TMPDIR/ref.err" || true
	[ "$(wc -l < "$BATS_TEST_TMPDIR/ref.err")" -eq 3 ]
	for impl in scalar sse2 sse42 avx2 avx512; do
		if [ "$impl" = sse42 ] && ! grep -qw sse4_2 /proc/cpuinfo; then
			continue
		fi
		if [ "$impl" = avx2 ] && ! grep -qw avx2 /proc/cpuinfo; then
			continue
		fi
		if [ "$impl" = avx512 ] && ! grep -qw avx512bw /proc/cpuinfo; then
			continue
		fi
		IPCRUN_JSCAN=$impl "$IPCRUN" check "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/o" 2> "$BATS_TEST_TMPDIR/e" || true
		cmp "$BATS_TEST_TMPDIR/ref.out" "$BATS_TEST_TMPDIR/o"
		cmp "$BATS_TEST_TMPDIR/ref.err" "$BATS_TEST_TMPDIR/e"
	done
}

@test "IPCRUN_JSCAN names an unknown path: exit 125" {
	run --separate-stderr env IPCRUN_JSCAN=neon "$IPCRUN" check /dev/null
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: IPCRUN_JSCAN 'neon': not available on this CPU (use avx512, avx2, sse42, sse2 or scalar)"
}

@test "deep nesting is limited only by the line length" {
	node -e 'const n=200000; process.stdout.write("[".repeat(n)+"]".repeat(n)+"\n"+"{\"a\":".repeat(n)+"1"+"}".repeat(n)+"\n")' > "$BATS_TEST_TMPDIR/in"
	run "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#output}" $((200000 * 2 + 1 + 200000 * 6 + 1))
	# With a small --max-line the same line is simply too long.
	run --separate-stderr "$IPCRUN" check --max-line 1000 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	[[ "$stderr" == *":1:1001: line too long"* ]]
}

@test "--node refuses internal Node messages, escaped cmd included" {
	printf '%s\n' '{"cmd":"hello"}' '{"cmd":"NODE_HANDLE_ACK"}' \
	    '{"x":1,"cmd":"\u004eODE_HANDLE_ACK"}' '{"cmd":"NODE_"}' \
	    '{"cmd":"NODE_x","cmd":"user"}' '{"cmd":"user","cmd":"NODE_x"}' \
	    '{"\u0063md":"NODE_CLUSTER"}' '[{"cmd":"NODE_X"}]' \
	    '{"a":{"cmd":"NODE_X"}}' '{"cmd":["NODE_X"]}' '"NODE_X"' \
	    '{"cmd":"fooNODE_X"}' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --node "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" "$(printf '%s\n' '{"cmd":"hello"}' '{"cmd":"NODE_"}' \
	    '{"cmd":"NODE_x","cmd":"user"}' '[{"cmd":"NODE_X"}]' \
	    '{"a":{"cmd":"NODE_X"}}' '{"cmd":["NODE_X"]}' '"NODE_X"' '{"cmd":"fooNODE_X"}')"
	f=$BATS_TEST_TMPDIR/in
	assert_equal "$stderr" "ipcrun: check: $f:2:8: internal Node message (cmd \"NODE_HANDLE_ACK\")
ipcrun: check: $f:3:14: internal Node message (cmd \"NODE_HANDLE_ACK\")
ipcrun: check: $f:6:21: internal Node message (cmd \"NODE_x\")
ipcrun: check: $f:7:13: internal Node message (cmd \"NODE_CLUSTER\")"
	# Without --node they are ordinary valid JSON.
	run "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_success
}

@test "--strict stops at the first bad line, exit 1" {
	printf '1\n2\n{x\n3\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --strict "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" $'1\n2'
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:3:2: expected a string key, found 'x'"
}

@test "--max-line: exactly BYTES is allowed, one more is too long; CR counts" {
	printf '"%s"\n' "$(printf 'x%.0s' {1..8})" > "$BATS_TEST_TMPDIR/in"    # 10 bytes
	run "$IPCRUN" check --max-line 10 "$BATS_TEST_TMPDIR/in"
	assert_success
	run --separate-stderr "$IPCRUN" check --max-line 9 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:1:10: line too long: 10 bytes, more than the limit of 9"
	printf '"%s"\r\n' "$(printf 'x%.0s' {1..8})" > "$BATS_TEST_TMPDIR/in"  # 11 with CR
	run "$IPCRUN" check --max-line 10 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	run "$IPCRUN" check --max-line 11 "$BATS_TEST_TMPDIR/in"
	assert_success
}

@test "--max-line: an earlier error wins over the length" {
	printf '{"a":1,}%s\n' "$(printf ' %.0s' {1..100})" > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --max-line 20 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:1:8: expected a string key, found '}'"
}

@test "--max-line takes K, M and G suffixes and refuses nonsense" {
	run "$IPCRUN" check --max-line 1K /dev/null
	assert_success
	run "$IPCRUN" check --max-line=2M /dev/null
	assert_success
	run --separate-stderr "$IPCRUN" check --max-line 12q /dev/null
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: --max-line '12q': not a byte count"
	run --separate-stderr "$IPCRUN" check --max-line 0 /dev/null
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: --max-line '0': must be at least 1"
	run --separate-stderr "$IPCRUN" check --max-line
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: option '--max-line' needs a value"
}

@test "a 100 MB line is rejected without being buffered" {
	run --separate-stderr bash -c '{ echo "{\"a\":1}"; printf "\""; head -c 100000000 /dev/zero | tr "\0" x; printf "\"\n"; echo "[2]"; } |
	    /usr/bin/time -f "%M" -o "$0" "$IPCRUN" check --max-line 1M' "$BATS_TEST_TMPDIR/rss"
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n[2]'
	assert_equal "$stderr" "ipcrun: check: -:2:1048577: line too long: more than the limit of 1048576 bytes"
	rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	echo "peak RSS ${rss} KiB"
	[ "$rss" -lt 40000 ]
}

@test "an invalid 100 MB line costs no memory either, at the default limit" {
	run --separate-stderr bash -c '{ printf "[1,x"; head -c 100000000 /dev/zero | tr "\0" " "; printf "]\n"; echo "[2]"; } |
	    /usr/bin/time -f "%M" -o "$0" "$IPCRUN" check' "$BATS_TEST_TMPDIR/rss"
	assert_failure 1
	assert_equal "$output" '[2]'
	assert_equal "$stderr" "ipcrun: check: -:1:4: expected a value, found 'x'"
	rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	echo "peak RSS ${rss} KiB"
	[ "$rss" -lt 40000 ]
}

@test "memory stays flat over 200 MB of short lines" {
	run bash -c 'yes "{\"id\":1234567,\"payload\":\"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\"}" | head -c 200000000 |
	    /usr/bin/time -f "%M" -o "$0" "$IPCRUN" check | wc -l' "$BATS_TEST_TMPDIR/rss"
	assert_success
	rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	echo "peak RSS ${rss} KiB, lines ${output}"
	[ "$output" -eq 2500000 ]
	[ "$rss" -lt 40000 ]
}

@test "several FILE operands, - for stdin, line numbers restart per file" {
	printf '1\nx\n' > "$BATS_TEST_TMPDIR/a"
	printf '2\n\ny\n' > "$BATS_TEST_TMPDIR/b"
	run --separate-stderr bash -c 'printf "3\nz\n" | "$IPCRUN" check "$0/a" - "$0/b"' "$BATS_TEST_TMPDIR"
	assert_failure 1
	assert_equal "$output" $'1\n3\n2'
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/a:2:1: expected a value, found 'x'
ipcrun: check: -:2:1: expected a value, found 'z'
ipcrun: check: $BATS_TEST_TMPDIR/b:3:1: expected a value, found 'y'"
}

@test "a missing or unreadable FILE is reported, the others checked, 125 wins" {
	printf '1\nx\n' > "$BATS_TEST_TMPDIR/a"
	run --separate-stderr "$IPCRUN" check "$BATS_TEST_TMPDIR/nope" "$BATS_TEST_TMPDIR/a" /
	assert_failure 125
	assert_equal "$output" '1'
	[[ "$stderr" == *"ipcrun: check: $BATS_TEST_TMPDIR/nope: No such file or directory"* ]]
	[[ "$stderr" == *"ipcrun: check: $BATS_TEST_TMPDIR/a:2:1: expected a value, found 'x'"* ]]
	[[ "$stderr" == *"ipcrun: check: /: read error: Is a directory"* ]]
}

@test "exit 141, quietly, when the reader goes away" {
	run --separate-stderr bash -c 'yes "[1,2,3]" | head -n 2000000 | "$IPCRUN" check | head -n 1; echo "${PIPESTATUS[2]}" >&2'
	assert_success
	assert_equal "$output" "[1,2,3]"
	assert_equal "$stderr" "141"
}

@test "a write error on stdout (/dev/full) is reported, exit 125" {
	run --separate-stderr bash -c 'echo "[1]" | "$IPCRUN" check > /dev/full'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: write error on stdout: No space left on device"
}

@test "output is written as soon as each line is complete" {
	# A fifo keeps the input open: the first line must come out alone.
	held_fifo "$IPCRUN" check
	printf '{"first":1}\n{"partial":' >&7
	wait_for 10 grep -q first "$BATS_TEST_TMPDIR/out"
	printf '2}\n' >&7
	exec 7>&-
	wait "$ipid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" $'{"first":1}\n{"partial":2}'
}

@test "a line split across many small reads is validated once complete" {
	(for i in 1 2 3 4 5; do printf '{"k%d":' "$i"; sleep 0.01; done; printf '1'; printf '}}}}}\n') |
	    "$IPCRUN" check > "$BATS_TEST_TMPDIR/out"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"k1":{"k2":{"k3":{"k4":{"k5":1}}}}}'
}

@test "a non-blocking stdin, set by another process sharing it, is waited on" {
	# Node sets O_NONBLOCK on the pipe description it shares with us: the
	# second read finds the pipe empty and must wait, not fail.
	run --separate-stderr python3 - "$IPCRUN" "$BATS_TEST_TMPDIR/out" <<'EOF'
import os, subprocess, sys, time
ipcrun, out = sys.argv[1], sys.argv[2]
r, w = os.pipe()
os.set_blocking(r, False)
os.write(w, b'{"first":1}\n')
with open(out, 'wb') as f:
    p = subprocess.Popen([ipcrun, 'check'], stdin=r, stdout=f)
os.close(r)
deadline = time.monotonic() + 30
while b'first' not in open(out, 'rb').read():
    if p.poll() is not None or time.monotonic() > deadline:
        break
    time.sleep(0.02)
try:
    os.write(w, b'{"second":2}\n')
except BrokenPipeError:
    pass
os.close(w)
sys.exit(p.wait())
EOF
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" $'{"first":1}\n{"second":2}'
}

@test "a non-blocking stdout that fills up is waited on, not an error" {
	yes '{"a":[1,2,3],"b":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' | head -n 20000 > "$BATS_TEST_TMPDIR/in"
	# Nothing reads the pipe until check has either failed or waits in
	# poll(2) for room: without the wait, a full pipe gives EAGAIN.
	run --separate-stderr python3 - "$IPCRUN" "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" <<'EOF'
import os, subprocess, sys, time
ipcrun, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]
r, w = os.pipe()
os.set_blocking(w, False)
p = subprocess.Popen([ipcrun, 'check', inp], stdout=w)
os.close(w)
def polling():
    try:
        nr = open('/proc/%d/syscall' % p.pid).read().split()[0]
    except (OSError, IndexError):
        return False
    return nr in ('7', '271')       # poll, ppoll
deadline = time.monotonic() + 30
while p.poll() is None and not polling() and time.monotonic() < deadline:
    time.sleep(0.02)
with open(out, 'wb') as f:
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        f.write(b)
sys.exit(p.wait())
EOF
	assert_success
	assert_equal "$stderr" ""
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "good lines cut by blank and bad ones come out whole and in order" {
	# Hundreds of runs in one read: more than one writev(2) of them.
	for i in $(seq 1 600); do
		printf '{"n":%d}\n' "$i"
		case $((i % 3)) in
		0) printf '\n' ;;
		1) printf '{bad}\n' ;;
		esac
	done > "$BATS_TEST_TMPDIR/in"
	printf '[600]' >> "$BATS_TEST_TMPDIR/in"
	{ for i in $(seq 1 600); do printf '{"n":%d}\n' "$i"; done; printf '[600]\n'; } > "$BATS_TEST_TMPDIR/want"
	run --separate-stderr "$IPCRUN" check "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	"$IPCRUN" check "$BATS_TEST_TMPDIR/in" 2>/dev/null | cmp - "$BATS_TEST_TMPDIR/want"
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 200
}

@test "blank lines between runs of good ones are counted, bad ones at their line" {
	# Many reads of runs cut by blank, whitespace-only and bad lines:
	# the counts and line numbers agree with --node, which takes each
	# line alone.
	awk 'BEGIN { n = 0; for (i = 1; i <= 50000; i++) {
		printf "{\"i\":%d}\n", i; n++
		k = i % 5
		if (k == 0) { printf "\n"; n++ }
		else if (k == 1) { printf "  \t\n"; n++ }
		else if (k == 3) { printf "{x}\n"; n++; last = n }
		else if (k == 4) { printf "\r\n"; n++ }
	} print last > "/dev/stderr" }' > "$BATS_TEST_TMPDIR/in" \
	    2> "$BATS_TEST_TMPDIR/last"
	run --separate-stderr "$IPCRUN" check -c "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" "good 50000 bad 10000 blank 30000"
	run --separate-stderr "$IPCRUN" check --node -c "$BATS_TEST_TMPDIR/in"
	assert_equal "$output" "good 50000 bad 10000 blank 30000"
	run --separate-stderr "$IPCRUN" check --format gnu "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 50000
	assert_equal "${stderr##*$'\n'}" \
	    "$BATS_TEST_TMPDIR/in:$(cat "$BATS_TEST_TMPDIR/last"):2: expected a string key, found 'x'"
}

# --- reports, counts, rejects, excerpts and the meter (issue 18) ---

# The three kinds of bad line that need escaping, between good ones.
weird_input() {
	printf '{"a":1}\n' > "$1"
	printf '{"k":"tab\there"}\n' >> "$1"
	printf '{"k":"\300\200 bad utf-8"}\n' >> "$1"
	printf '["quote \\" and backslash \\\\", x]\n' >> "$1"
	printf '{"k":"\033[31mred"}\n' >> "$1"
	printf '[2]\n' >> "$1"
}

@test "--format gnu: exactly FILE:LINE:COL: message, which vim -q reads" {
	cd "$ROOT"
	run --separate-stderr "$IPCRUN" check --format gnu examples/events.ndjson
	assert_failure 1
	assert_equal "$stderr" "examples/events.ndjson:5:2: expected a string key, found \"'\"
examples/events.ndjson:7:47: expected a value, found '}'
examples/events.ndjson:9:44: invalid escape '\\x'
examples/events.ndjson:11:26: invalid UTF-8, found byte 0xc3"
	while IFS= read -r line; do
		[[ $line =~ ^[^:]+:[1-9][0-9]*:[1-9][0-9]*:\ [^\ ].*$ ]] ||
		    fail "not FILE:LINE:COL: message: $line"
	done <<<"$stderr"
	# The good lines are what they are without --format.
	assert_equal "$output" "$("$IPCRUN" check examples/events.ndjson 2>/dev/null)"
	if command -v vim >/dev/null; then
		printf '%s\n' "$stderr" > "$BATS_TEST_TMPDIR/errs"
		timeout 30 vim -N -u NONE -i NONE -es -q "$BATS_TEST_TMPDIR/errs" \
		    +"call writefile(map(getqflist(), {_, e -> bufname(e.bufnr) . ':' . e.lnum . ':' . e.col . ':' . e.valid}), '$BATS_TEST_TMPDIR/qf')" \
		    +'qa!' || true
		assert_equal "$(cat "$BATS_TEST_TMPDIR/qf")" "examples/events.ndjson:5:2:1
examples/events.ndjson:7:47:1
examples/events.ndjson:9:44:1
examples/events.ndjson:11:26:1"
	fi
}

@test "--format json: one valid object per bad line, whatever its bytes" {
	weird_input "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --format json "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n[2]'
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 4
	# jq takes every line, and each has the five members.
	run jq -c '[.file, .line, .column, .reason, .excerpt]' <<<"$stderr"
	assert_success
	f=$BATS_TEST_TMPDIR/in
	assert_line --index 0 "[\"$f\",2,10,\"control character in string, found byte 0x09\",\"{\\\"k\\\":\\\"tab\\there\\\"}\"]"
	r=$'\uFFFD'
	assert_line --index 1 "[\"$f\",3,7,\"invalid UTF-8, found byte 0xc0\",\"{\\\"k\\\":\\\"$r$r bad utf-8\\\"}\"]"
	assert_line --index 2 "[\"$f\",4,31,\"expected a value, found 'x'\",\"[\\\"quote \\\\\\\" and backslash \\\\\\\\\\\", x]\"]"
	assert_line --index 3 "[\"$f\",5,7,\"control character in string, found byte 0x1b\",\"{\\\"k\\\":\\\"\\u001b[31mred\\\"}\"]"
	# As written: bad bytes as \ufffd escapes, the raw line never.
	[[ $stderr == *'"excerpt":"{\"k\":\"\ufffd\ufffd bad utf-8\"}"'* ]]
	[[ $stderr != *$'\033'* && $stderr != *$'\t'* ]]
}

@test "--format json: a file name that is not UTF-8 and a long line stay valid JSON" {
	name=$BATS_TEST_TMPDIR/$'caf\351 "q"'
	{ printf '"%s\377' "$(printf 'é%.0s' {1..100})"; printf '\n'; } > "$name"
	run --separate-stderr "$IPCRUN" check --format json "$name"
	assert_failure 1
	run jq -r '.file, .line, .column, (.excerpt | length)' <<<"$stderr"
	assert_success
	assert_line --index 0 "$BATS_TEST_TMPDIR/caf"$'\uFFFD'' "q"'
	assert_line --index 1 1
	assert_line --index 2 202
	# 80 bytes: the quote and 39 two-byte characters, none cut in half.
	assert_line --index 3 40
}

@test "--format: an unknown value and --excerpt with json are usage errors" {
	run --separate-stderr "$IPCRUN" check --format xml /dev/null
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --format 'xml': not one of human, gnu or json
Try 'ipcrun check --help'."
	run --separate-stderr "$IPCRUN" check --format json --excerpt /dev/null
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: --excerpt cannot be used with --format json (its objects carry the excerpt)"
	run "$IPCRUN" check --format human --format gnu --excerpt --no-excerpt /dev/null
	assert_success
}

@test "-c prints the counts, per file and in total with several" {
	cd "$ROOT"
	run --separate-stderr "$IPCRUN" check -c examples/events.ndjson
	assert_failure 1
	assert_equal "$output" "good 6 bad 4 blank 1"
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 4
	run --separate-stderr "$IPCRUN" check --count examples/events.ndjson - examples/numbers.ndjson < examples/numbers.ndjson
	assert_failure 1
	assert_equal "$output" "good 6 bad 4 blank 1 examples/events.ndjson
good 5 bad 1 blank 1 -
good 5 bad 1 blank 1 examples/numbers.ndjson
good 16 bad 6 blank 3 total"
	run --separate-stderr "$IPCRUN" check -c < <(printf '1\n\n2\n')
	assert_success
	assert_equal "$output" "good 2 bad 0 blank 1"
	assert_equal "$stderr" ""
	# A missing FILE has no line, and 125 wins as usual.
	run --separate-stderr "$IPCRUN" check -c "$BATS_TEST_TMPDIR/nope" examples/numbers.ndjson
	assert_failure 125
	assert_equal "$output" "good 5 bad 1 blank 1 examples/numbers.ndjson
good 5 bad 1 blank 1 total"
}

@test "-q prints nothing, only the status tells; errors still show" {
	cd "$ROOT"
	run --separate-stderr "$IPCRUN" check -q examples/events.ndjson
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run --separate-stderr "$IPCRUN" check --quiet < <(printf '1\n')
	assert_success
	assert_equal "$output$stderr" ""
	run --separate-stderr "$IPCRUN" check -q "$BATS_TEST_TMPDIR/nope"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/nope: No such file or directory"
	# Not even on a terminal: no excerpt, no meter.
	on_tty -- "'$IPCRUN' check -q examples/events.ndjson"
	assert_failure 1
	assert_output ""
}

@test "-q with -c or -v is a usage error" {
	run --separate-stderr "$IPCRUN" check -q -c /dev/null
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: -q and -c cannot be used together
Try 'ipcrun check --help'."
	run --separate-stderr "$IPCRUN" check -qv /dev/null
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: -q and -v cannot be used together"
}

@test "-v prints a summary at the end" {
	cd "$ROOT"
	run --separate-stderr "$IPCRUN" check -v examples/numbers.ndjson examples/events.ndjson
	assert_failure 1
	assert_line --index 0 '{"n":1}'
	assert_regex "${stderr##*$'\n'}" '^ipcrun: check: 2 files, 18 lines \(11 good, 5 bad, 2 blank\), 593 bytes in [0-9]+\.[0-9]{3}s$'
	run --separate-stderr "$IPCRUN" check --verbose < <(printf '1\n')
	assert_success
	assert_regex "$stderr" '^ipcrun: check: 1 file, 1 line \(1 good, 0 bad, 0 blank\), 2 bytes in [0-9]+\.[0-9]{3}s$'
}

@test "--rejects keeps the bad lines byte for byte" {
	weird_input "$BATS_TEST_TMPDIR/in"
	printf '{"crlf":\r\n{"last":' >> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/bad" "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" $'{"a":1}\n[2]'
	{
		printf '{"k":"tab\there"}\n'
		printf '{"k":"\300\200 bad utf-8"}\n'
		printf '["quote \\" and backslash \\\\", x]\n'
		printf '{"k":"\033[31mred"}\n'
		printf '{"crlf":\r\n{"last":\n'
	} > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/bad"
	# The file is truncated, not appended to; no bad line, empty file.
	run "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/bad" < <(printf '1\n')
	assert_success
	[ ! -s "$BATS_TEST_TMPDIR/bad" ]
}

@test "--rejects writes a 100 MB line whole without holding it" {
	run --separate-stderr bash -c '{ echo "[1]"; printf "\"%s" "$(printf "\001")"; head -c 100000000 /dev/zero | tr "\0" x; printf "\"\n[2]\n"; } |
	    /usr/bin/time -f "%M" -o "$0" "$IPCRUN" check --max-line 1M --rejects "$1"' "$BATS_TEST_TMPDIR/rss" "$BATS_TEST_TMPDIR/bad"
	assert_failure 1
	assert_equal "$output" $'[1]\n[2]'
	assert_equal "$stderr" "ipcrun: check: -:2:2: control character in string, found byte 0x01"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/bad")" $((100000000 + 4))
	assert_equal "$(head -c 3 "$BATS_TEST_TMPDIR/bad" | od -An -tx1 | tr -d ' ')" 220178
	assert_equal "$(tail -c 3 "$BATS_TEST_TMPDIR/bad" | od -An -tx1 | tr -d ' ')" 78220a
	rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	echo "peak RSS ${rss} KiB"
	[ "$rss" -lt 40000 ]
}

@test "--rejects with --strict keeps the whole line that stopped it" {
	{ echo 1; printf '"%s' "$(head -c 3000000 /dev/zero | tr '\0' y)"; printf '\001"\n2\n'; } > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --strict --max-line 1M --rejects "$BATS_TEST_TMPDIR/bad" "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" 1
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:2:1048577: line too long: more than the limit of 1048576 bytes"
	sed -n 2p "$BATS_TEST_TMPDIR/in" | cmp - "$BATS_TEST_TMPDIR/bad"
}

@test "--rejects: a FILE that cannot be made or written is an error, 125" {
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/no/bad" < <(printf 'x\n')
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '$BATS_TEST_TMPDIR/no/bad': No such file or directory"
	assert_equal "$output" ""
	run --separate-stderr "$IPCRUN" check -q --rejects /dev/full < <(printf 'x\n1\n')
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '/dev/full': write error: No space left on device"
}

@test "--rejects: FILE that is also an input is refused, untouched, 125" {
	printf '1\nx\n' > "$BATS_TEST_TMPDIR/in"
	cp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/want"
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/in"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '$BATS_TEST_TMPDIR/in': is also the input '$BATS_TEST_TMPDIR/in'; write the bad lines elsewhere"
	assert_equal "$output" ""
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/in"
	# The same file by another name: a hard link, a symbolic link, among
	# other inputs.
	ln "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/hard"
	ln -s in "$BATS_TEST_TMPDIR/soft"
	printf '2\n' > "$BATS_TEST_TMPDIR/other"
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/hard" "$BATS_TEST_TMPDIR/other" "$BATS_TEST_TMPDIR/soft"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '$BATS_TEST_TMPDIR/hard': is also the input '$BATS_TEST_TMPDIR/soft'; write the bad lines elsewhere"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/in"
}

@test "--rejects: FILE that is also standard input is refused, untouched, 125" {
	printf '1\nx\n' > "$BATS_TEST_TMPDIR/in"
	cp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/want"
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/in" < "$BATS_TEST_TMPDIR/in"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '$BATS_TEST_TMPDIR/in': is also standard input; write the bad lines elsewhere"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/in" - < "$BATS_TEST_TMPDIR/in"
	assert_failure 125
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/in"
	# Named operands only: standard input is not read, so it may be FILE.
	printf '2\n' > "$BATS_TEST_TMPDIR/other"
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/other" < "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$output" 2
}

@test "--rejects: FILE that did not exist and is named as an input is refused and not left behind" {
	run --separate-stderr "$IPCRUN" check --rejects "$BATS_TEST_TMPDIR/new" "$BATS_TEST_TMPDIR/new"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '$BATS_TEST_TMPDIR/new': is also the input '$BATS_TEST_TMPDIR/new'; write the bad lines elsewhere"
	[ ! -e "$BATS_TEST_TMPDIR/new" ]
}

@test "standard output that is an input file is refused before reading (check F >> F grew F without end)" {
	d=$BATS_TEST_TMPDIR
	printf '{"a":1}\nx\n' > "$d/in"
	cp "$d/in" "$d/want"
	run --separate-stderr timeout 20 sh -c '"$1" check "$2" >> "$2"' sh "$IPCRUN" "$d/in"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: standard output is also the input '$d/in': what check writes would be read back"
	cmp "$d/want" "$d/in"
	run --separate-stderr timeout 20 sh -c '"$1" check < "$2" >> "$2"' sh "$IPCRUN" "$d/in"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: standard output is also standard input: what check writes would be read back"
	cmp "$d/want" "$d/in"
	# -q writes nothing there: allowed.
	run --separate-stderr timeout 20 sh -c '"$1" check -q "$2" >> "$2"' sh "$IPCRUN" "$d/in"
	assert_failure 1
	cmp "$d/want" "$d/in"
	# Another file as standard output: as ever.
	run --separate-stderr timeout 20 sh -c '"$1" check "$2" > "$3"' sh "$IPCRUN" "$d/in" "$d/out"
	assert_failure 1
	assert_equal "$(cat "$d/out")" '{"a":1}'
}

@test "--rejects: FILE that is also standard output is refused, 125" {
	d=$BATS_TEST_TMPDIR
	printf '{"a":1}\nx\n' > "$d/in"
	run --separate-stderr sh -c '"$1" check --rejects "$2" "$3" > "$2"' sh "$IPCRUN" "$d/rj" "$d/in"
	assert_failure 125
	assert_equal "$stderr" "ipcrun: check: --rejects '$d/rj': is also standard output; write the bad lines elsewhere"
}

@test "--rejects: a device that is also an input, such as /dev/null, is allowed" {
	run --separate-stderr "$IPCRUN" check --rejects /dev/null /dev/null
	assert_success
	assert_equal "$output" ""
}

@test "on a terminal: an excerpt with a caret, and lines in input order" {
	cd "$ROOT"
	# The layout; the colours have a test of their own.
	on_tty -- "'$IPCRUN' check --color never examples/numbers.ndjson"
	assert_failure 1
	assert_equal "${output//$'\r'/}" '{"n":1}
{"n":2,"tag":"two"}
ipcrun: check: examples/numbers.ndjson:4:7: unexpected end of line
    4 | {"n":3
      |       ^
{"cmd":"NODE_HANDLE_ACK"}
"not a number"
{"n":1e3}'
	on_tty -- "'$IPCRUN' check --no-excerpt examples/numbers.ndjson > /dev/null"
	assert_equal "${output//$'\r'/}" 'ipcrun: check: examples/numbers.ndjson:4:7: unexpected end of line'
	on_tty -- "'$IPCRUN' check --color never --format gnu examples/numbers.ndjson > /dev/null"
	assert_equal "${output//$'\r'/}" 'examples/numbers.ndjson:4:7: unexpected end of line
    4 | {"n":3
      |       ^'
	on_tty -- "'$IPCRUN' check --format json examples/numbers.ndjson > /dev/null"
	assert_equal "${output//$'\r'/}" '{"file":"examples/numbers.ndjson","line":4,"column":7,"reason":"unexpected end of line","excerpt":"{\"n\":3"}'
}

@test "no excerpt on a pipe unless --excerpt asks" {
	cd "$ROOT"
	run --separate-stderr "$IPCRUN" check examples/numbers.ndjson
	assert_equal "$stderr" "ipcrun: check: examples/numbers.ndjson:4:7: unexpected end of line"
	run --separate-stderr "$IPCRUN" check --excerpt examples/numbers.ndjson
	assert_equal "$stderr" 'ipcrun: check: examples/numbers.ndjson:4:7: unexpected end of line
    4 | {"n":3
      |       ^'
}

# caret_at: the display column of the caret under the excerpt in $1, and
# the text above it, in $col and $shown.
caret_at() {
	local rep
	shown=$(sed -n '2s/^ *[0-9]* | //p' <<<"$1")
	rep=$(sed -n '3s/^ *| //p' <<<"$1")
	col=$(( ${#rep} - 1 ))
}

@test "excerpt: control bytes and bad UTF-8 made printable, the caret under them" {
	weird_input "$BATS_TEST_TMPDIR/in"
	run --separate-stderr env LC_ALL=C.UTF-8 "$IPCRUN" check --excerpt "$BATS_TEST_TMPDIR/in"
	f=$BATS_TEST_TMPDIR/in
	assert_equal "$stderr" "ipcrun: check: $f:2:10: control character in string, found byte 0x09
    2 | {\"k\":\"tab<09>here\"}
      |          ^
ipcrun: check: $f:3:7: invalid UTF-8, found byte 0xc0
    3 | {\"k\":\"<c0><80> bad utf-8\"}
      |       ^
ipcrun: check: $f:4:31: expected a value, found 'x'
    4 | [\"quote \\\" and backslash \\\\\", x]
      |                               ^
ipcrun: check: $f:5:7: control character in string, found byte 0x1b
    5 | {\"k\":\"<1b>[31mred\"}
      |       ^"
	# No escape byte reaches the terminal.
	[[ $stderr != *$'\033'* ]]
}

@test "excerpt: the caret counts display columns, wide characters as two" {
	printf '{"k":"%s\001"}\n' 'é中😀' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr env LC_ALL=C.UTF-8 "$IPCRUN" check --excerpt "$BATS_TEST_TMPDIR/in"
	caret_at "$stderr"
	assert_equal "$shown" '{"k":"é中😀<01>"}'
	# {"k":" is 6 columns, é 1, 中 2, 😀 2.
	assert_equal "$col" 11
	# A locale without UTF-8 shows code points instead.
	run --separate-stderr env LC_ALL=C "$IPCRUN" check --excerpt "$BATS_TEST_TMPDIR/in"
	caret_at "$stderr"
	assert_equal "$shown" '{"k":"<U+00E9><U+4E2D><U+1F600><01>"}'
	assert_equal "$col" 31
}

@test "excerpt: a long line is cut around the column to the terminal's width" {
	{ printf '{"k":"%s' "$(printf 'a%.0s' {1..300})"; printf '\001%s"}\n' "$(printf 'b%.0s' {1..300})"; } > "$BATS_TEST_TMPDIR/in"
	on_tty "cols 60" -- "'$IPCRUN' check --color never '$BATS_TEST_TMPDIR/in'"
	assert_failure 1
	out=${output//$'\r'/}
	caret_at "$out"
	# The caret's character is still there, under the caret, both cuts
	# marked, and nothing is wider than the terminal.
	[[ $shown == ...a*'<01>'b*... ]]
	assert_equal "${shown:$col:4}" '<01>'
	while IFS= read -r line; do
		[ "${#line}" -le 60 ] || fail "wider than 60: $line"
	done < <(sed 1d <<<"$out")
	# The end of a line: the caret one past its last character.
	printf '{"k":"%s"' "$(printf 'c%.0s' {1..300})" > "$BATS_TEST_TMPDIR/in"
	on_tty "cols 60" -- "'$IPCRUN' check --color never '$BATS_TEST_TMPDIR/in'"
	caret_at "${output//$'\r'/}"
	[[ $shown == ...c*'"' ]]
	assert_equal "$col" "${#shown}"
}

# big_input FILE: 64 MiB of good lines, then a bad one.
big_input() {
	# 1242757 lines of 54 bytes: just over 64 MiB.
	yes '{"id":1234567,"payload":"abcdefghijklmnopqrstuvwxyz"}' | head -n 1242757 > "$1"
	printf '{bad}\n' >> "$1"
}

@test "progress: a large file on a terminal shows a meter, erased before reports and at the end" {
	big_input "$BATS_TEST_TMPDIR/big"
	on_tty -- "'$IPCRUN' check '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	# Drawn with the size known: percentage, total, lines, rate, ETA.
	assert_regex "$output" $'\r[^\r]*big +[0-9]+%  [0-9.]+ [KMG]?i?B of 64.0 MiB  [0-9]+ lines  0 bad  [0-9.]+ [KMG]?i?B/s  ETA [0-9]+:[0-9]{2}'
	# The report comes after the meter is blanked, never on its line.
	assert_regex "$output" $'\r +\ripcrun: check: [^\r]*big:1242758:2: expected a string key'
	# Erased at the end: blanks over it, the cursor back at the start.
	last=${output##*lines}
	assert_regex "$last" $'\r +\r'
}

@test "progress: never on a pipe, with TERM=dumb, or -q; --no-progress; NO_COLOR keeps it" {
	big_input "$BATS_TEST_TMPDIR/big"
	# Its 64 MiB of good lines to /dev/null, not into $output and $lines
	# (bash took half a minute of CPU to split them).
	run --separate-stderr bash -c '"$0" check "$1" > /dev/null' \
	    "$IPCRUN" "$BATS_TEST_TMPDIR/big"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/big:1242758:2: expected a string key, found 'b'"
	on_tty -- "TERM=dumb '$IPCRUN' check --no-excerpt '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	assert_equal "${output//$'\r'/}" "ipcrun: check: $BATS_TEST_TMPDIR/big:1242758:2: expected a string key, found 'b'"
	# NO_COLOR is about colour; the meter has none (issue 30 item 8).
	on_tty -- "NO_COLOR=1 '$IPCRUN' check --no-excerpt '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_failure 1
	assert_regex "$output" $'\r +\ripcrun: check: [^\r]*big:1242758:2: expected a string key'
	[[ $output == *lines* ]]
	on_tty -- "'$IPCRUN' check --no-progress --no-excerpt '$BATS_TEST_TMPDIR/big' > /dev/null"
	assert_equal "${output//$'\r'/}" "ipcrun: check: $BATS_TEST_TMPDIR/big:1242758:2: expected a string key, found 'b'"
	on_tty -- "'$IPCRUN' check -q '$BATS_TEST_TMPDIR/big'"
	assert_failure 1
	assert_output ""
	# A small file: no meter either.
	on_tty -- "'$IPCRUN' check '$ROOT/examples/numbers.ndjson' > /dev/null"
	[[ $output != *lines* ]]
}

@test "progress: --progress forces it, even on a pipe, without the size" {
	printf '1\n{x\n2\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr bash -c 'cat "$0" | NO_COLOR=1 TERM=dumb "$IPCRUN" check --progress' "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$output" $'1\n2'
	assert_regex "$stderr" $'\rstdin  [0-9]+ B  [0-9]+ lines  1 bad  [0-9.]+ [KMG]?i?B/s'
	assert_regex "$stderr" $'ipcrun: check: -:2:2: expected a string key'
	assert_regex "$stderr" $'\r +\r$'
	[[ $stderr != *%* ]]
	# -q with --progress: the meter, and nothing else.
	run --separate-stderr "$IPCRUN" check -q --progress "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_regex "$stderr" $'^\r[^\r]*in +100%  7 B of 7 B  3 lines  1 bad'
	[[ $stderr != *ipcrun:* ]]
}

@test "progress: live while a pipe trickles, erased for each report, then redrawn" {
	run python3 - "$IPCRUN" <<'PY'
import os, pty, select, sys, time
ipcrun = sys.argv[1]
r, w = os.pipe()
pid, fd = pty.fork()
if pid == 0:
    os.dup2(r, 0)
    os.environ['TERM'] = 'xterm'
    os.environ.pop('NO_COLOR', None)
    os.execv(ipcrun, [ipcrun, 'check', '--progress'])
os.close(r)
out = b''
def pump(until, secs=30):
    global out
    end = time.monotonic() + secs
    while until not in out and time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                b = os.read(fd, 65536)
            except OSError:
                return
            if not b:
                return
            out += b
    if until not in out:
        sys.exit('timed out waiting for %r in %r' % (until, out))
# The meter is due on the first read, and shows each new total once due.
os.write(w, b'{"n":1}\n')
pump(b' 1 lines  0 bad')
os.write(w, b'{bad}\n')
pump(b'expected a string key')
n = 2
while b' 1 bad' not in out[out.index(b'expected a string key'):]:
    n += 1
    os.write(w, b'{"n":%d}\n' % n)
    pump(b'{"n":%d}' % n)
os.close(w)
os.waitpid(pid, 0)
sys.stdout.write(repr(out))
PY
	assert_success
	# The report starts a blanked line; the meter comes back after it.
	assert_regex "$output" "\\\\r +\\\\ripcrun: check: -:2:2: expected a string key"
	assert_regex "$output" "expected a string key.* 1 bad "
}

@test "excerpts of random bytes: printable, valid UTF-8 and valid JSON (unit)" {
	b=build/release
	[ "${DEBUG:-0}" != 1 ] || b=build/debug
	"$ROOT/$b/test/unit/excerpt_random" > "$BATS_TEST_TMPDIR/js"
	run jq -e -c 'type == "string"' "$BATS_TEST_TMPDIR/js"
	assert_success
	assert_equal "$(grep -c true <<<"$output")" 20000
}

@test "--rejects: lines streamed in pieces, bad early or too long, come out whole and in order" {
	python3 - "$BATS_TEST_TMPDIR" <<'PY'
import random, sys
d = sys.argv[1]
random.seed(18)
lines, good, bad = [], [], []
for i in range(60):
    k = random.randrange(5)
    if k == 0:
        l = b'[%d]' % i; good.append(l)
    elif k == 1:      # bad at once, then long: dropped while streamed
        l = b'[%d,x' % i + b' ' * random.randrange(1, 400000) + b']'; bad.append(l)
    elif k == 2:      # too long for --max-line 300K
        l = b'"' + b'y' * random.randrange(300001, 700000) + b'"'; bad.append(l)
    elif k == 3:      # long and good
        l = b'"' + b'z' * random.randrange(130000, 290000) + b'"'; good.append(l)
    else:
        l = b'  '; # blank
    lines.append(l)
open(d + '/in', 'wb').write(b'\n'.join(lines) + b'\n')
open(d + '/want-good', 'wb').write(b''.join(l + b'\n' for l in good))
open(d + '/want-bad', 'wb').write(b''.join(l + b'\n' for l in bad))
PY
	# Through a pipe, in reads of whatever size cat makes.
	cat "$BATS_TEST_TMPDIR/in" | "$IPCRUN" check -q --max-line 300K --rejects "$BATS_TEST_TMPDIR/bad" > "$BATS_TEST_TMPDIR/good" || true
	[ ! -s "$BATS_TEST_TMPDIR/good" ]
	cmp "$BATS_TEST_TMPDIR/want-bad" "$BATS_TEST_TMPDIR/bad"
	run "$IPCRUN" check --max-line 300K --rejects "$BATS_TEST_TMPDIR/bad" "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	"$IPCRUN" check --max-line 300K "$BATS_TEST_TMPDIR/in" 2>/dev/null | cmp - "$BATS_TEST_TMPDIR/want-good"
	cmp "$BATS_TEST_TMPDIR/want-bad" "$BATS_TEST_TMPDIR/bad"
}

@test "--max-line beyond what memory can back: the error names the option, 125" {
	run --separate-stderr "$IPCRUN" check --max-line 4000000G <<<'{"a":1}'
	[ "$status" -eq 125 ]
	[ "$stderr" = "ipcrun: check: --max-line 4294967296000000: Cannot allocate memory" ] ||
	    { echo "$stderr"; false; }
	[ -z "$output" ]
}

@test "line too long gives the length and the limit, or only the limit when the rest is still to come" {
	printf '"%s"\n' "$(printf 'x%.0s' {1..8})" > "$BATS_TEST_TMPDIR/in"    # 10 bytes
	run --separate-stderr "$IPCRUN" check --max-line 9 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:1:10: line too long: 10 bytes, more than the limit of 9"
	# A line the limit stopped before its end: its length is not known.
	run --separate-stderr bash -c '{ printf "\"%0100000d\"\n" 0; echo 1; } | "$IPCRUN" check --max-line 1K'
	assert_failure 1
	assert_output 1
	assert_equal "$stderr" "ipcrun: check: -:1:1025: line too long: more than the limit of 1024 bytes"
}

@test "--max-errors N: N reports, then how many more; the counts, the status and --rejects see every bad line" {
	{ for i in 1 2 3 4 5; do echo '{"a":1}'; echo "{bad$i"; done; } > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$IPCRUN" check --max-errors 2 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 5
	assert_equal "$stderr" "ipcrun: check: $BATS_TEST_TMPDIR/in:2:2: expected a string key, found 'b'
ipcrun: check: $BATS_TEST_TMPDIR/in:4:2: expected a string key, found 'b'
ipcrun: check: 3 more bad lines not shown (--max-errors 2)"
	run --separate-stderr "$IPCRUN" check -c --max-errors 1 "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_output "good 5 bad 5 blank 0"
	assert_equal "${stderr##*$'\n'}" "ipcrun: check: 4 more bad lines not shown (--max-errors 1)"
	run --separate-stderr "$IPCRUN" check --max-errors 1 --rejects "$BATS_TEST_TMPDIR/bad" "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bad")" "$(grep bad "$BATS_TEST_TMPDIR/in")"
	# Over several files the limit is the run's; 0 is no limit; exactly
	# N bad lines need no note.
	run --separate-stderr "$IPCRUN" check --format gnu --max-errors 6 "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(grep -c ':2: expected' <<<"$stderr")" 6
	assert_equal "${stderr##*$'\n'}" "ipcrun: check: 4 more bad lines not shown (--max-errors 6)"
	run --separate-stderr "$IPCRUN" check --max-errors 0 "$BATS_TEST_TMPDIR/in"
	assert_equal "$(grep -c 'expected' <<<"$stderr")" 5
	run --separate-stderr "$IPCRUN" check --max-errors 5 "$BATS_TEST_TMPDIR/in"
	refute [ "$(grep -c 'not shown' <<<"$stderr")" -gt 0 ]
	run --separate-stderr "$IPCRUN" check --max-errors -1 "$BATS_TEST_TMPDIR/in"
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: --max-errors '-1': too small (0 or more; 0: no limit)"
}

@test "reports for editors: README and man page send editors to --format gnu, which the default is not" {
	# The default form starts with "ipcrun: check: ", for a person or a
	# log shared by a pipeline; an editor wants the file name first.
	run grep -A4 -i 'editor' "$ROOT/README.md"
	assert_output --partial -- '--format gnu'
	run grep -c -- 'ipcrun check --format gnu .* vim -q' "$ROOT/README.md"
	refute_output 0
	run bash -c "mandoc -Tascii '$ROOT/man/ipcrun-check.1' | col -b | grep -A12 -- '--format FORMAT' | tr -s ' \n' '  '"
	assert_output --partial 'Editors read the gnu form'
	command -v vim >/dev/null || skip "vim is not installed"
	cd "$ROOT"
	"$IPCRUN" check examples/events.ndjson 2>"$BATS_TEST_TMPDIR/errs" >/dev/null || :
	timeout 30 vim -N -u NONE -i NONE -es -q "$BATS_TEST_TMPDIR/errs" \
	    +"call writefile(map(getqflist(), {_, e -> bufname(e.bufnr)}), '$BATS_TEST_TMPDIR/qf')" \
	    +'qa!' || true
	# vim takes "ipcrun: check: FILE" for the file name: a new, empty
	# buffer, not the file.
	run cat "$BATS_TEST_TMPDIR/qf"
	assert_line 'ipcrun: check: examples/events.ndjson'
	refute_line 'examples/events.ndjson'
}

@test "color: excerpts coloured at a terminal, plain under NO_COLOR, TERM=dumb or --color never; --color always anywhere" {
	printf '{bad}\n' > "$BATS_TEST_TMPDIR/in"
	on_tty "TERM=xterm '$IPCRUN' check '$BATS_TEST_TMPDIR/in'"
	assert_output --partial $'\e[1;34m    1 |\e[0m {bad}'
	assert_output --partial $'\e[1;31m^\e[0m'
	on_tty "TERM=xterm NO_COLOR=1 '$IPCRUN' check '$BATS_TEST_TMPDIR/in'"
	assert_output --partial '    1 | {bad}'
	refute_output --partial $'\e['
	on_tty "TERM=dumb '$IPCRUN' check '$BATS_TEST_TMPDIR/in'"
	refute_output --partial $'\e['
	on_tty "TERM=xterm '$IPCRUN' check --color never '$BATS_TEST_TMPDIR/in'"
	refute_output --partial $'\e['
	run --separate-stderr "$IPCRUN" check --excerpt --color always "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	[[ $stderr == *$'\e[1;31m^\e[0m'* ]]
	run --separate-stderr "$IPCRUN" check --color sometimes "$BATS_TEST_TMPDIR/in"
	assert_failure 125
	[[ $stderr == *"--color 'sometimes': must be auto, always or never"* ]]
}
