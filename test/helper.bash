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
