# Shared set-up for every bats file: the binary under test, bats-support
# and bats-assert, and small helpers that wait with a deadline.
bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
IPCRUN=${IPCRUN:-$ROOT/ipcrun}
PATH=$ROOT:$PATH
export IPCRUN ROOT PATH

# python3 as the interpreter itself, found once per run: where python3 is
# a version manager's shim (pyenv's is a bash script that runs several
# more), each start cost ten times Python's own, half a second of CPU,
# and the suite starts Python some 150 times.
if [ ! -x "$BATS_RUN_TMPDIR/bin/python3" ] &&
    py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) &&
    [ -x "$py" ]; then
	mkdir -p "$BATS_RUN_TMPDIR/bin" &&
	    ln -sf "$py" "$BATS_RUN_TMPDIR/bin/python3.$$" &&
	    mv -f "$BATS_RUN_TMPDIR/bin/python3.$$" "$BATS_RUN_TMPDIR/bin/python3"
fi
PATH=$BATS_RUN_TMPDIR/bin:$PATH

# A test reads no one's terminal: its stdin is /dev/null (as under CI)
# unless it says otherwise.
exec </dev/null

# Under DEBUG=1 (ASan), keep the quarantine small so that RSS checks mean
# something, and fail on any leak.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=1:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# wait_for DEADLINE_SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	until "$@"; do
		if (( $(date +%s%N) > deadline )); then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# node_worker SOURCE: write a Node one-liner worker, for cases too small
# for a fixture file, and print its path.
node_worker() {
	printf '%s\n' "$1" > "$BATS_TEST_TMPDIR/w.js"
	echo "$BATS_TEST_TMPDIR/w.js"
}

# peak_rss_kb COMMAND...: run COMMAND, print its peak RSS in KiB on fd 3.
peak_rss_kb() {
	/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$@"
	local rc=$?
	RSS_KB=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	return $rc
}

# The fixtures: the Node, Python and shell programs the tests run.
F=$ROOT/test/fixtures

# lines N: N small JSON lines {"i":1} to {"i":N}.
lines() {
	seq 1 "$1" | sed 's/.*/{"i":&}/'
}

# listening PATH: something accepts connections on unix PATH (socat binds
# before it listens, so the file alone does not say so). Only for
# servers that fork, which a probe does not use up.
listening() {
	socat -u /dev/null UNIX-CONNECT:"$1" 2>/dev/null
}

# on_tty [[STTY-ARGS] --] COMMAND: run COMMAND (a string for sh) with its
# stdin, stdout and stderr on a pseudo-terminal set by `stty STTY-ARGS`
# (sane by default), as a person at a terminal would; what it wrote,
# carriage returns kept, is in $output.
on_tty() {
	local stty=sane
	if [ $# -gt 1 ]; then
		[ "$1" = -- ] || { stty=$1; shift; }
		shift
	fi
	run script -qec "stty $stty; $1" /dev/null < /dev/null
}

# bg CMD...: start CMD in the background ($! is its pid) and remember it:
# teardown ends it if the test has not. Redirections on the call are
# CMD's, stdin too (a plain & would give it /dev/null); they are made by
# the test's shell before CMD starts: not for a fifo, whose open would
# wait for its other end.
bg() {
	"$@" <&0 &
	BG_PIDS="${BG_PIDS:-} $!"
}

# end_bg: end, with SIGTERM, what bg (or held_fifo) started and is still
# running: only this shell's own jobs, never a pid that one of them had
# once it is gone (pids are reused). Every file's teardown; a file with a
# teardown of its own calls it.
end_bg() {
	local p running
	running=" $(jobs -rp | tr '\n' ' ') "
	for p in ${BG_PIDS:-}; do
		if [[ $running == *" $p "* ]]; then
			kill "$p" 2>/dev/null || true
		fi
	done
	BG_PIDS=
}

teardown() {
	end_bg
}

# held_fifo CMD...: start CMD in the background (its pid in $ipid) with
# its stdin the fifo $BATS_TEST_TMPDIR/fifo, which the test holds open for
# writing on fd 7: CMD's input stays open, and the test writes it with >&7,
# until `exec 7>&-`. CMD's stdout goes to $BATS_TEST_TMPDIR/out and its
# stderr to $BATS_TEST_TMPDIR/err; redirections on the call (3>FILE) are
# CMD's too. teardown ends CMD if the test has not.
held_fifo() {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$@" < "$BATS_TEST_TMPDIR/fifo" > "$BATS_TEST_TMPDIR/out" \
	    2> "$BATS_TEST_TMPDIR/err" &
	ipid=$!
	BG_PIDS="${BG_PIDS:-} $ipid"
	exec 7> "$BATS_TEST_TMPDIR/fifo"
}

# endless_fifo: make the fifo $BATS_TEST_TMPDIR/fifo and hold it open on
# fd 7, for reading and writing (so that the open waits for no reader):
# an input that ends only when the test closes fd 7 (`exec 7<&-`).
endless_fifo() {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<> "$BATS_TEST_TMPDIR/fifo"
}

# as_nobody CMD...: run CMD as uid and gid 65534, no other groups.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# need_other_uid: the tests of a peer of another uid run it as nobody,
# which only root can do.
need_other_uid() {
	[ "$(id -u)" = 0 ] || skip "needs root to run a peer as uid 65534 (setpriv)"
	command -v setpriv >/dev/null || skip "needs setpriv(1) to run a peer as uid 65534"
}
