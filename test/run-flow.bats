#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run: flow control with one child: backpressure both ways,
# bounded memory, no deadlock, and a slow reader of ipcrun's stdout.
# Nothing here sleeps blindly or asserts a timing: waits have deadlines.

load helper

# --- backpressure and memory -------------------------------------------------

@test "200 MB of input to a slower child with bounded RSS" {
	line="{\"p\":\"$(head -c 4000 /dev/zero | tr '\0' a)\"}"
	{ yes "$line" | head -n 50000; echo '{"end":true}'; } |
	    "$IPCRUN" run -- node "$F/rss.js" > "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	[[ "$output" =~ ^\{\"count\":50000,\"hwm\":([0-9]+)\}$ ]]
	echo "ipcrun peak RSS: ${BASH_REMATCH[1]} KiB"
	[ "${BASH_REMATCH[1]}" -lt 65536 ]
}

@test "an echoing child never deadlocks on a large input" {
	line="{\"p\":\"$(head -c 1000 /dev/zero | tr '\0' b)\"}"
	yes "$line" | head -n 20000 > "$BATS_TEST_TMPDIR/in"
	"$IPCRUN" run --channel stdio -- cat < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	"$IPCRUN" run -- node "$F/echo.js" < "$BATS_TEST_TMPDIR/in" \
	    > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "lines read in one large burst all go through while input stays open" {
	held_fifo "$IPCRUN" run -- node "$F/echo.js"
	# Far more than one queue's worth, in one write, then nothing more.
	line="{\"p\":\"$(head -c 90 /dev/zero | tr '\0' c)\"}"
	yes "$line" | head -n 20000 > "$BATS_TEST_TMPDIR/burst"
	cat "$BATS_TEST_TMPDIR/burst" >&7
	all() { [ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 20000 ]; }
	wait_for 30 all
	exec 7>&-
	wait "$ipid"
	cmp "$BATS_TEST_TMPDIR/burst" "$BATS_TEST_TMPDIR/out"
}

@test "a slow trickle is written as soon as each reply is complete" {
	held_fifo "$IPCRUN" run -- node "$F/echo.js"
	echo '{"n":1}' >&7
	wait_for 20 grep -q '{"n":1}' "$BATS_TEST_TMPDIR/out"
	echo '{"n":2}' >&7
	wait_for 20 grep -q '{"n":2}' "$BATS_TEST_TMPDIR/out"
	exec 7>&-
	wait "$ipid"
}

@test "a slow stdout reader after the child's exit loses nothing" {
	# The child is gone long before the reader takes the first line:
	# the time ipcrun spends waiting on its own stdout is not the
	# child's, and the channel is read to its end.
	yes '{"payload":"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"}' |
	    head -n 60000 > "$BATS_TEST_TMPDIR/in"
	run bash -c '"$IPCRUN" run --channel stdio --kill-timeout 0.2 -- cat "$0" < /dev/null |
	    { sleep 1; wc -l; }' "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output 60000
}

@test "a whole run of 256 KiB goes to a child in one send: ipcrun's end has the room" {
	# At the kernel's default send buffer (about 214 KiB taken) a run
	# went out in two sends, a poll between, its tail copied. The child
	# reads nothing until 256 KiB wait in its socket (or 20 s pass),
	# then echoes everything: nothing is lost either way.
	yes '{"payload":"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzab"}' |
	    head -n 20000 > "$BATS_TEST_TMPDIR/in"
	py='import fcntl, os, struct, sys, termios, time
end = time.monotonic() + 20
while True:
    n = struct.unpack("i", fcntl.ioctl(0, termios.FIONREAD, b"\0" * 4))[0]
    if n >= 262144 or time.monotonic() > end:
        break
    time.sleep(0.02)
open(sys.argv[1], "w").write("%d\n" % n)
os.execvp("cat", ["cat"])'
	"$IPCRUN" run --channel stdio -- python3 -c "$py" "$BATS_TEST_TMPDIR/n" \
	    < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	echo "waiting in the child's socket: $(cat "$BATS_TEST_TMPDIR/n") bytes"
	[ "$(cat "$BATS_TEST_TMPDIR/n")" -ge 262144 ]
}
