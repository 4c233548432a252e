#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Differential test: `ipcrun check` against Node's own JSON.parse plus the
# UTF-8 rule, over a generated corpus of valid and mutated lines, once per
# scanner path (test/diff/run-differential). Bigger runs: see fuzz/README.md.

load helper

DIFF=$ROOT/test/diff

# The reference validator as a column tool, built once for the file.
setup_file() {
	load helper
	REFCOL=$BATS_FILE_TMPDIR/refcol
	${CC:-cc} -std=c11 -O2 -I"$ROOT/lib" -DREF_COLUMNS_MAIN -o "$REFCOL" \
	    "$ROOT/fuzz/jscan_fuzz.c"
	export REFCOL
}

@test "agrees with JSON.parse on 20000 generated lines, every scanner path" {
	run "$DIFF/run-differential" 20000 1
	assert_success
	assert_line --index 0 --partial "seed 1, 20000 lines"
	local impl impls="scalar auto"
	grep -qw sse2 /proc/cpuinfo && impls="$impls sse2"
	grep -qw sse4_2 /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo &&
	    impls="$impls sse42"
	grep -qw avx2 /proc/cpuinfo && impls="$impls avx2"
	grep -qw avx512bw /proc/cpuinfo && impls="$impls avx512"
	for impl in $impls; do
		assert_line --regexp "^$impl: 20000 lines .*: all agree\$"
		assert_line --regexp "^$impl --node: 20000 lines .*: all agree\$"
	done
	refute_output --partial disagreement
	refute_output --partial 'no reference columns'
}

@test "a second seed agrees too" {
	run "$DIFF/run-differential" 5000 7
	assert_success
	assert_line --regexp '^scalar: 5000 lines .*: all agree$'
	refute_output --partial disagreement
}

@test "the corpus has every kind of line and is the same for the same seed" {
	node "$DIFF/gen.js" 3 3000 "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/o1"
	node "$DIFF/gen.js" 3 3000 "$BATS_TEST_TMPDIR/c2" "$BATS_TEST_TMPDIR/o2"
	cmp "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c2"
	cmp "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o2"
	run wc -l < "$BATS_TEST_TMPDIR/c1"
	assert_output 3000
	# Good, internal, bad and blank lines, each well represented.
	for v in g i b _; do
		n=$(tr -cd "$v" < "$BATS_TEST_TMPDIR/o1" | wc -c)
		(( n > 100 )) || fail "only $n lines of kind '$v'"
	done
	# A different seed gives different lines.
	node "$DIFF/gen.js" 4 3000 "$BATS_TEST_TMPDIR/c3" "$BATS_TEST_TMPDIR/o3"
	run cmp -s "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c3"
	assert_failure
}

# A stand-in for ipcrun that runs the real one and then spoils one thing,
# to show the comparer notices.
spoil() {
	cat > "$BATS_TEST_TMPDIR/fake" <<FAKE
#!/bin/sh
$1
FAKE
	chmod +x "$BATS_TEST_TMPDIR/fake"
}

@test "the comparer notices a bad line that was let through" {
	# Report every bad line except the first one.
	spoil "\"$IPCRUN\" \"\$@\" 2>&1 >/dev/null | sed 1d >&2; \"$IPCRUN\" \"\$@\" 2>/dev/null; exit 1"
	DIFF_IMPLS=scalar IPCRUN=$BATS_TEST_TMPDIR/fake run "$DIFF/run-differential" 500 1
	assert_failure
	assert_output --partial 'bad per oracle, not reported'
	assert_output --regexp 'line [0-9]+ \(oracle bad\): [0-9a-f]{2}'
}

@test "the comparer notices an internal Node message let through by --node" {
	spoil "if [ \"\$2\" = --node ]; then a=\$1; shift 2; set -- \"\$a\" \"\$@\"; fi; exec \"$IPCRUN\" \"\$@\""
	DIFF_IMPLS=scalar IPCRUN=$BATS_TEST_TMPDIR/fake run "$DIFF/run-differential" 2000 1
	assert_failure
	assert_line --regexp '^scalar: 2000 lines .*: all agree$'
	assert_line --regexp '^scalar --node: 2000 lines .*: [0-9]+ disagreements$'
	assert_output --partial '(oracle internal)'
}

@test "the comparer notices a wrong column" {
	# Every column one too far.
	spoil "{ \"$IPCRUN\" \"\$@\" 2>&1 1>&3 | awk -F: -v OFS=: '{ \$4 = \$4 + 1; print }' >&2; } 3>&1; exit 1"
	DIFF_IMPLS=scalar IPCRUN=$BATS_TEST_TMPDIR/fake run "$DIFF/run-differential" 500 1
	assert_failure
	assert_output --regexp 'line [0-9]+: column [0-9]+ .*the reference says [0-9]+'
}

@test "the comparer notices a good line that went missing" {
	spoil "\"$IPCRUN\" \"\$@\" | sed 1d; exit 1"
	DIFF_IMPLS=scalar IPCRUN=$BATS_TEST_TMPDIR/fake run "$DIFF/run-differential" 500 1
	assert_failure
	assert_output --partial 'stdout line 1 differs'
}

@test "the comparer notices a wrong exit status" {
	spoil "\"$IPCRUN\" \"\$@\"; exit 0"
	DIFF_IMPLS=scalar IPCRUN=$BATS_TEST_TMPDIR/fake run "$DIFF/run-differential" 500 1
	assert_failure
	assert_output --partial 'exit status 0, expected 1'
}
