#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The man pages: lint-clean, and in step with the binary. Every command
# that `ipcrun commands` lists has a page whose SYNOPSIS is its usage string
# and which documents each of its options.

bats_require_minimum_version 1.5.0

load helper

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	MAN=$ROOT/man
	command -v mandoc >/dev/null || fail "mandoc is not installed (make deps)"
}

# The rendered text of a page, one synopsis per line (no wrapping).
render() {
	MANWIDTH=1000 mandoc -Tascii -O width=1000 "$1" | col -bx
}

# The lines of section $2 of rendered page $1, leading blanks removed.
section() {
	render "$1" | awk -v sec="$2" '
		/^[A-Z][A-Z ]*$/ { on = ($0 == sec); next }
		on && NF { sub(/^[ \t]+/, ""); print }'
}

# The page that documents command $1.
page_of() {
	if [ "$1" = help ]; then
		echo "$MAN/ipcrun.1"
	else
		echo "$MAN/ipcrun-$1.1"
	fi
}

# NAME<TAB>OPTIONS for every command `ipcrun commands` lists.
commands_table() {
	"$IPCRUN" commands | awk -F '\t' '{ print $1 "\t" $3 }'
}

@test "man: mandoc -Tlint -Wwarning prints nothing" {
	run mandoc -Tlint -Wwarning "$MAN"/*.[1-9]
	assert_success
	assert_output ""
}

@test "man: the pages of the foundation exist" {
	[ -f "$MAN/ipcrun.1" ]
	[ -f "$MAN/ipcrun-check.1" ]
	[ -f "$MAN/ipcrun.7" ]
}

@test "man: every command has a page" {
	local name opts
	while IFS=$'\t' read -r name opts; do
		[ "$name" = ipcrun ] && continue
		[ -f "$(page_of "$name")" ] ||
		    fail "command '$name' has no page $(page_of "$name")"
	done < <(commands_table)
}

@test "man: every option that 'ipcrun commands' lists is documented" {
	local name opts tok opt page text
	while IFS=$'\t' read -r name opts; do
		if [ "$name" = ipcrun ]; then
			page=$MAN/ipcrun.1
		else
			page=$(page_of "$name")
		fi
		text=$(section "$page" DESCRIPTION)
		for tok in $opts; do
			opt=${tok%%=*}
			grep -qE -- "(^|[^[:alnum:]-])$opt([^[:alnum:]-]|$)" \
			    <<<"$text" ||
			    fail "option '$opt' of '$name' is not in $page"
		done
	done < <(commands_table)
}

@test "man: option values listed as one-of are documented" {
	local name opts tok val page text
	while IFS=$'\t' read -r name opts; do
		[ "$name" = ipcrun ] && continue
		page=$(page_of "$name")
		text=$(section "$page" DESCRIPTION)
		for tok in $opts; do
			[[ $tok == *=?* ]] || continue
			IFS='|' read -ra vals <<<"${tok#*=}"
			for val in "${vals[@]}"; do
				grep -qw -- "$val" <<<"$text" ||
				    fail "value '$val' of '${tok%%=*}' is not in $page"
			done
		done
	done < <(commands_table)
}

@test "man: SYNOPSIS of each command page is its usage string" {
	local name opts usage synopsis
	while IFS=$'\t' read -r name opts; do
		[ "$name" = ipcrun ] || [ "$name" = help ] && continue
		# The synopsis is wrapped: its lines up to the first blank one.
		usage=$("$IPCRUN" help "$name" | awk 'NF == 0 { exit }
		    { $1 = $1; printf "%s%s", (NR > 1 ? " " : ""), $0 }' |
		    sed -n '1s/^usage: //p')
		[ -n "$usage" ] || fail "no usage line for '$name'"
		synopsis=$(section "$(page_of "$name")" SYNOPSIS | tr -s ' ')
		[ "$synopsis" = "$usage" ] ||
		    fail "ipcrun-$name.1 SYNOPSIS '$synopsis' is not '$usage'"
	done < <(commands_table)
}

@test "man: SYNOPSIS of ipcrun.1 is the global usage and help's usage" {
	local global help
	global=$("$IPCRUN" --help | sed -n '1s/^usage: //p')
	help=$("$IPCRUN" help help | sed -n '1s/^usage: //p')
	[ -n "$global" ] && [ -n "$help" ]
	run section "$MAN/ipcrun.1" SYNOPSIS
	assert_success
	assert_output "$global
$help"
}

@test "man: ipcrun.1 lists every command and refers to its page" {
	local name opts list seealso
	list=$(section "$MAN/ipcrun.1" DESCRIPTION)
	seealso=$(section "$MAN/ipcrun.1" "SEE ALSO")
	while IFS=$'\t' read -r name opts; do
		[ "$name" = ipcrun ] && continue
		grep -qE "^$name( |$)" <<<"$list" ||
		    fail "ipcrun.1 does not list command '$name'"
		[ "$name" = help ] && continue
		grep -qF "ipcrun-$name(1)" <<<"$seealso" ||
		    fail "ipcrun.1 SEE ALSO lacks ipcrun-$name(1)"
	done < <(commands_table)
}

@test "man: ipcrun.1 documents no command the binary lacks" {
	local cmd
	# Commands are the tagged items of the list, "NAME [ARGS]" lines
	# whose first word is a command the binary must know.
	while read -r cmd; do
		"$IPCRUN" help "$cmd" >/dev/null 2>&1 ||
		    fail "ipcrun.1 documents '$cmd', which ipcrun does not have"
	done < <(grep -E '^\.It Cm [a-z-]+' "$MAN/ipcrun.1" |
	    awk '{ print $3 }')
}

@test "man: section 1 pages have their sections in the house order" {
	local page want got
	want="NAME SYNOPSIS DESCRIPTION ENVIRONMENT EXIT STATUS EXAMPLES SEE ALSO"
	for page in "$MAN"/*.1; do
		got=$(render "$page" | grep -E '^[A-Z][A-Z ]*$' |
		    grep -xE 'NAME|SYNOPSIS|DESCRIPTION|ENVIRONMENT|EXIT STATUS|EXAMPLES|SEE ALSO' |
		    tr '\n' ' ')
		[ "$got" = "$want " ] ||
		    fail "$page sections are '$got', want '$want'"
	done
}

@test "man: options are in a sorted list" {
	local page got sorted
	for page in "$MAN"/*.1; do
		# The option items of the first list after "options are".
		got=$(awk '/^The (global )?options/ { on = 1 } on && /^\.El/ { exit }
		    on && /^\.It Fl/ { print }' "$page" |
		    sed -E 's/^\.It Fl -?([A-Za-z0-9-]+).*/\1/')
		sorted=$(LC_ALL=C sort -f <<<"$got")
		[ "$got" = "$sorted" ] ||
		    fail "$page options are not sorted: $(echo $got)"
	done
}

@test "man: the exit statuses of ipcrun-check.1 are those check uses" {
	run section "$MAN/ipcrun-check.1" "EXIT STATUS"
	assert_success
	for st in 0 1 125 141; do
		assert_line --regexp "^$st( |$)"
	done
	refute_line --regexp '^(126|127)( |$)'
}

@test "man: the environment variable ipcrun reads is documented" {
	run section "$MAN/ipcrun-check.1" ENVIRONMENT
	assert_output --partial IPCRUN_JSCAN
	# And it does what the page says: an unknown value is an error.
	run -125 --separate-stderr env IPCRUN_JSCAN=bogus "$IPCRUN" check </dev/null
	[[ $stderr == *IPCRUN_JSCAN* ]]
	for impl in avx512 avx2 sse42 sse2 scalar; do
		section "$MAN/ipcrun-check.1" ENVIRONMENT | grep -qw "$impl"
	done
}

@test "man: an error message quoted in a page keeps its 'No' (not read as the mdoc macro)" {
	for f in "$ROOT"/man/*.[17]; do
		out=$(mandoc -Tutf8 "$f" | col -b)
		if grep -nE ': (such file or directory|space left on device)' <<<"$out"; then
			fail "$(basename "$f") lost a 'No' before an error message"
		fi
	done
}

@test "man: DIAGNOSTICS of ipcrun-run.1 has every message cmd/run.c prints" {
	local msg missing=
	# The longest fixed part of each format string of a report call.
	python3 - "$ROOT/cmd/run.c" >"$BATS_TEST_TMPDIR/msgs" <<-'PY'
	import re, sys
	src = open(sys.argv[1]).read()
	call = r'cmd_(?:warnx?|usage_error)\(\s*[\w>.-]+,\s*((?:"(?:[^"\\]|\\.)*"\s*(?:PRI\w+\s*)?)+)'
	for m in re.finditer(call, src):
	    fmt = re.sub(r'"\s*PRI\w+\s*"', 'llu', m.group(1))
	    fmt = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', fmt))
	    parts = re.split(r"%[-0-9.*]*(?:ll|l|z|j|h)?[a-zA-Z]", fmt)
	    parts = [p.strip(" :;,.'()") for p in parts]
	    parts = [p for p in parts if len(p) >= 4]
	    if parts:
	        print(max(parts, key=len))
	PY
	[ "$(wc -l <"$BATS_TEST_TMPDIR/msgs")" -gt 30 ]
	section "$MAN/ipcrun-run.1" DIAGNOSTICS | tr -s ' \n' '  ' \
	    >"$BATS_TEST_TMPDIR/diag"
	while IFS= read -r msg; do
		grep -qF -- "$msg" "$BATS_TEST_TMPDIR/diag" || missing+=" '$msg'"
	done <"$BATS_TEST_TMPDIR/msgs"
	[ -z "$missing" ] || fail "ipcrun-run.1 DIAGNOSTICS lacks:$missing"
}

@test "man: ipcrun-run.1 has its options near the top, and CAVEATS after SEE ALSO" {
	local secs
	# The option list comes before the first subsection, as in nc(1).
	run awk '/^The options are as follows:/ { print "options"; exit }
	    /^\.Ss / { print "subsection"; exit }' "$MAN/ipcrun-run.1"
	assert_output options
	secs=$(render "$MAN/ipcrun-run.1" | grep -E '^[A-Z][A-Z ]*$' | tr '\n' ' ')
	[[ $secs == *"EXAMPLES DIAGNOSTICS SEE ALSO CAVEATS "* ]] ||
	    fail "sections: $secs"
	run section "$MAN/ipcrun-run.1" CAVEATS
	assert_output --partial -- '--channel stdio'
	assert_output --partial npx
}

@test "man: no word of prose rendered as a flag (Fl running on: '-on -exit', '-and')" {
	local f out bad=
	for f in "$MAN"/*.[17]; do
		out=$(mandoc -Tutf8 "$f" | col -b |
		    grep -nE -- '(^|[[:space:](])-(and|on|or|to|with|see|in|of|the|for|then|is|exit|at|after|before|when|if)([^[:alnum:]-]|$)') &&
		    bad+=$'\n'"$(basename "$f"): $out"
	done
	[ -z "$bad" ] || fail "prose as flags:$bad"
}
