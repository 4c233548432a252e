# Shared set-up for every bats file: the binary under test, bats-support
# and bats-assert, and small helpers that wait with a deadline.
bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
IPCRUN=${IPCRUN:-$ROOT/ipcrun}
PATH=$ROOT:$PATH
export IPCRUN ROOT PATH

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
