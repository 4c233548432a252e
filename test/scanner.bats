#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Scanner regressions: exact byte strings that the fuzzer (fuzz/jscan_fuzz.c)
# or the differential test (test/diff/) once disagreed on, and the SIMD
# block edges they taught us to pin, each checked on every scanner path.

load helper

impls() {
	echo scalar
	grep -qw sse2 /proc/cpuinfo && echo sse2
	grep -qw sse4_2 /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo &&
	    echo sse42
	grep -qw avx2 /proc/cpuinfo && echo avx2
	grep -qw avx512bw /proc/cpuinfo && echo avx512
	echo auto
}

# expect FORMAT COLUMN: add the line printf FORMAT makes (a '\n' is added)
# to the input; it must be good when COLUMN is "good", blank (skipped) when
# "blank", else bad at that 1-based COLUMN. check_all then runs every
# scanner path once over it.
expect() {
	printf "$1"'\n' >> "$BATS_TEST_TMPDIR/in"
	NLINES=$((${NLINES:-0} + 1))
	if [ "$2" = blank ]; then
		:
	elif [ "$2" = good ]; then
		printf "$1"'\n' >> "$BATS_TEST_TMPDIR/want.out"
	else
		printf 'ipcrun: check: %s:%d:%d:\n' "$BATS_TEST_TMPDIR/in" \
		    "$NLINES" "$2" >> "$BATS_TEST_TMPDIR/want.err"
	fi
}

check_all() {
	local impl st
	touch "$BATS_TEST_TMPDIR/want.out" "$BATS_TEST_TMPDIR/want.err"
	for impl in $(impls); do
		st=0
		if [ "$impl" = auto ]; then
			env -u IPCRUN_JSCAN "$IPCRUN" check "$BATS_TEST_TMPDIR/in" \
			    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || st=$?
		else
			IPCRUN_JSCAN=$impl "$IPCRUN" check "$BATS_TEST_TMPDIR/in" \
			    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || st=$?
		fi
		if [ -s "$BATS_TEST_TMPDIR/want.err" ]; then
			[ "$st" -eq 1 ] || fail "$impl: exit status $st, expected 1"
		else
			[ "$st" -eq 0 ] || fail "$impl: exit status $st, expected 0"
		fi
		cmp "$BATS_TEST_TMPDIR/want.out" "$BATS_TEST_TMPDIR/out" ||
		    fail "$impl: good lines differ"
		# Compare FILE:LINE:COLUMN:, not the reason's wording.
		sed 's/^\(ipcrun: check: .*:[0-9][0-9]*:[0-9][0-9]*:\) .*/\1/' \
		    "$BATS_TEST_TMPDIR/err" > "$BATS_TEST_TMPDIR/err.pos"
		diff "$BATS_TEST_TMPDIR/want.err" "$BATS_TEST_TMPDIR/err.pos" ||
		    fail "$impl: reports differ"
	done
}

# pad N: N bytes of 'a', to put what follows at a chosen offset.
pad() {
	printf 'a%.0s' $(seq 1 "$1")
}

@test "fuzz: a NUL after a backslash is an invalid escape at the NUL" {
	# Found by jscan_fuzz (the reference validator took strchr's NUL
	# terminator for a valid escape letter; the scanner was right).
	expect '"\\\000"' 3
	expect '"\\\000' 3
	expect '{"cmd":"\\\000"}' 10
	check_all
}

@test "escaped quotes and backslash runs across 16- and 32-byte blocks" {
	local k
	for k in 13 14 15 16 29 30 31 32 33 62 63 64; do
		expect '"'"$(pad $k)"'\\""' good
		expect '"'"$(pad $k)"'\\\\"' good
		expect '"'"$(pad $k)"'\\\\\\""' good
		expect '"'"$(pad $k)"'\\\\""' $((k + 5))
	done
	check_all
}

@test "multi-byte characters across 16- and 32-byte blocks" {
	local k
	for k in 13 14 15 29 30 31 61 62 63; do
		expect '"'"$(pad $k)"'\342\202\254"' good
		expect '"'"$(pad $k)"'\360\237\230\200"' good
		# Bad at the sequence's first byte, the byte after the pad.
		expect '"'"$(pad $k)"'\355\240\200"' $((k + 2))
		expect '"'"$(pad $k)"'\360\217\277\277"' $((k + 2))
		expect '"'"$(pad $k)"'\342\202"' $((k + 2))
	done
	check_all
}

@test "control characters and stray bytes right at a block edge" {
	local k
	for k in 14 15 30 31 62 63; do
		expect '"'"$(pad $k)"'\037"' $((k + 2))
		expect '"'"$(pad $k)"'\200"' $((k + 2))
		expect '"'"$(pad $k)"'\177"' good
	done
	check_all
}

@test "block scanner: tokens, escapes and strings across 64-byte blocks" {
	local k
	for k in 60 61 62 63 64 65 125 126 127 128 129; do
		# Backslash runs ending at, and running over, a block edge.
		expect '"'"$(pad $k)"'\\\\\\\\\\\\\\""' good
		expect '"'"$(pad $k)"'\\\\\\\\\\\\""' $((k + 9))
		# A \u escape cut by the edge, good and bad.
		expect '"'"$(pad $k)"'\\u20ac"' good
		expect '"'"$(pad $k)"'\\u20g"' $((k + 6))
		# Numbers and literals cut by the edge.
		expect '["'"$(pad $((k - 4)))"'",-12.5e+3,true,false,null]' good
		expect '["'"$(pad $((k - 4)))"'",-012]' $((k + 3))
		expect '["'"$(pad $((k - 4)))"'",tru]' $((k + 4))
		expect '["'"$(pad $((k - 4)))"'",1x]' $((k + 2))
		# Inside a long string: control characters, quotes, the end.
		expect '"'"$(pad $k)"'\001'"$(pad 70)"'"' $((k + 2))
		expect '["'"$(pad $k)"'"'"$(pad 70)"'"]' $((k + 4))
		expect '"'"$(pad $k)"'' $((k + 2))
		expect '{"'"$(pad $k)"'":1}' good
	done
	check_all
}

@test "block scanner: a bad line does not spoil the lines after it" {
	expect '{"' 3
	expect '{"cm' 5
	expect '"ok"' good
	expect '"'"$(pad 200)" 202
	expect '{"cmd":[1,2,{"a":"'"$(pad 100)"'"}]}' good
	check_all
}

@test "block scanner: UTF-8 sequences cut by 64-byte blocks" {
	local k
	for k in 59 60 61 62 63 64 123 124 125 126 127; do
		expect '"'"$(pad $k)"'\342\202\254"' good
		expect '"'"$(pad $k)"'\360\237\230\200"' good
		# Bad at the sequence's first byte, the byte after the pad,
		# also when the block that shows it is a later one.
		expect '"'"$(pad $k)"'\355\240\200"' $((k + 2))
		expect '"'"$(pad $k)"'\340\200\200"' $((k + 2))
		expect '"'"$(pad $k)"'\364\220\200\200"' $((k + 2))
		expect '"'"$(pad $k)"'\342\202"' $((k + 2))
		expect '"'"$(pad $k)"'\360\237\230'"$(pad 70)"'"' $((k + 2))
		expect '"'"$(pad $k)"'\200'"$(pad 70)"'"' $((k + 2))
	done
	check_all
}

@test "block scanner across lines: each fault right before or after a newline" {
	# Lines are framed by stage 1 over the whole buffer: a line's end is a
	# newline event, and a fault in a later line of the same 64-byte block
	# must not spoil the good lines before it. Short lines, so that many
	# share a block, at every offset.
	local k
	for k in 0 1 2 3 5 8 13 21 34 55 61 62 63; do
		expect '"'"$(pad $k)"'"' good
		expect '1' good
		expect '' blank
		expect ' \r' blank
		expect 'true ' good
		expect '\055' 2
		expect '1.' 3
		expect '"a\\"' 5
		expect '"a\\' 4
		expect '"\342' 3
		expect '[1,' 4
		expect '{"a":' 6
		expect 'nul' 4
		expect '"\001"' 2
		expect '{} x' 4
		expect '[]' good
		expect '"\342\202\254"' good
	done
	check_all
}

@test "block scanner: each closer must match its container, at every depth" {
	# Stage 2 keeps the kind of the open container in where its code is
	# (a value in an object or elsewhere), and asks the stack only when a
	# container closes: every mismatch, at every depth, must still be
	# refused, and the good lines around them kept. Padded so that the
	# tokens fall at other offsets of a 64-byte block each time.
	local k p
	for k in 0 7 29 58; do
		p=$(pad $k)
		expect '{"'"$p"'":[1,{"b":[]},[{}]],"c":{"d":[true]}}' good
		expect '[[],{},[{}],{"a":[]},"'"$p"'"]' good
		expect '{"a":{"b":{"c":1}},"d":["'"$p"'",{"e":null}]}' good
		expect '[{"a":1},2,[3,[4,{"f":-0.5e1}]]]' good
		expect '[1}' 3
		expect '{"a":1]' 7
		expect '[{"a":1]]' 8
		expect '{"a":[}' 7
		expect '[{]' 3
		expect '{"a":[1,2}}' 10
		expect '[1,]' 4
		expect '{"a":1,}' 8
		expect '[[1],[2}]' 8
		expect '{"a":{"b":[1]],"c":2}' 14
		expect '{"a":[{"b":1}},"c":2}' 14
		expect '[{},{}}' 7
		expect '{"'"$p"'":[{"b":1}}' $((${#p} + 13))
	done
	check_all
}
