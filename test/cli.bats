#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The command table: help, version, prefixes, unknown commands and
# options, and the hidden `commands` listing the completions use.

load helper

@test "--version and -V print the version" {
	run "$IPCRUN" --version
	assert_success
	assert_output --regexp '^ipcrun [0-9]+\.[0-9]+\.[0-9]+$'
	run "$IPCRUN" -V
	assert_success
	assert_output --regexp '^ipcrun [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help lists the commands on stdout" {
	run --separate-stderr "$IPCRUN" --help
	assert_success
	assert_line --index 0 'usage: ipcrun [--help] [--version] COMMAND [ARGS]'
	assert_line --regexp '^  check +validate NDJSON'
	refute_line --regexp '^  commands'
	assert_equal "$stderr" ""
}

@test "help CMD, CMD --help and CMD -h print the command's help" {
	run --separate-stderr "$IPCRUN" help check
	assert_success
	assert_equal "$stderr" ""
	assert_output "usage: ipcrun check [--node] [--strict] [--max-line BYTES] [--max-errors N]
                    [--count] [--quiet] [--verbose] [--format FORMAT]
                    [--color auto|always|never] [--excerpt] [--no-excerpt]
                    [--rejects FILE] [--progress] [--no-progress] [FILE ...]

  -h, --help                print this help and exit
      --node                also refuse Node's internal messages
      --strict              stop at the first bad line
      --max-line BYTES      longest line, with K, M or G (default: 64M)
      --max-errors N        report only the first N bad lines (default: 0, all)
  -c, --count               print counts of good, bad, blank lines instead
  -q, --quiet               print nothing, only set the exit status
  -v, --verbose             print a summary on stderr at the end
      --format FORMAT       reports as human, gnu or json (default: human)
      --color auto|always|never
                            colour the excerpts (default: auto)
      --excerpt             show each bad line under its report (default: tty)
      --no-excerpt          never show the bad line
      --rejects FILE        write the bad lines to FILE, byte for byte
      --progress            show a meter on stderr (default: tty, file >= 64M)
      --no-progress         never show the progress meter"
	help=$output
	run --separate-stderr "$IPCRUN" check --help
	assert_success
	assert_equal "$output" "$help"
	run --separate-stderr "$IPCRUN" check -h
	assert_success
	assert_equal "$output" "$help"
	run --separate-stderr "$IPCRUN" help nosuch
	assert_failure 125
	assert_equal "$stderr" "ipcrun: help: unknown command 'nosuch'
Try 'ipcrun help --help'."
}

@test "a unique prefix of a command is accepted" {
	run "$IPCRUN" che --help
	assert_success
	assert_output --partial 'usage: ipcrun check'
	run "$IPCRUN" help che
	assert_success
	assert_output --partial 'usage: ipcrun check'
}

@test "no command: one-line error and where to look, exit 125" {
	run --separate-stderr "$IPCRUN"
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: no command given\nTry \'ipcrun --help\'.'
}

@test "unknown command: one-line error and where to look, exit 125" {
	run --separate-stderr "$IPCRUN" frobnicate
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: unknown command \'frobnicate\'\nTry \'ipcrun --help\'.'
	assert_equal "$output" ""
}

@test "unknown global option: one-line error and where to look, exit 125" {
	run --separate-stderr "$IPCRUN" --frob
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: unknown option \'--frob\'\nTry \'ipcrun --help\'.'
}

@test "unknown command option: one-line error and the command's help to try, exit 125" {
	run --separate-stderr "$IPCRUN" check --frob
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: check: unknown option \'--frob\'\nTry \'ipcrun check --help\'.'
	assert_equal "$output" ""
	run --separate-stderr "$IPCRUN" check -z
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: check: unknown option \'-z\'\nTry \'ipcrun check --help\'.'
}

@test "--help and --version report a write error on stdout" {
	run --separate-stderr bash -c '"$IPCRUN" --help > /dev/full'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: write error on stdout: No space left on device"
	run --separate-stderr bash -c '"$IPCRUN" --version > /dev/full'
	assert_failure 125
}

@test "commands lists every visible command with its options and operands, tab-separated" {
	run "$IPCRUN" commands
	assert_success
	assert_line --index 0 $'ipcrun\tglobal options\t--version -V --help -h\tCOMMAND [ARGS]'
	assert_line --regexp $'^check\tvalidate NDJSON as a Node IPC peer would\t.*--help -h\t\\[FILE \\.\\.\\.\\]$'
	assert_line $'attach\tan NDJSON-aware nc: send validated lines to a socket, print its replies\t-k -l -s --allow-uid= --idle-timeout= --mode= --node --quit-after= -q --ready-fd= --retry= -w --rs= --stats --trace --trace-file= --verbose -v --help -h\tADDR'
	assert_line $'recv-fd\treceive descriptors over a unix socket, and run CMD with them\t-c --allow-uid= --as= --mode= --ready-fd= --retry= -w --verbose -v --help -h\tADDR [-- CMD [ARG ...]]'
	assert_line --regexp $'^run\t.*\t\\[--\\] \\[CMD \\[ARG \\.\\.\\.\\]\\]$'
	refute_line --regexp $'^commands\t'
	# Every line has exactly four fields.
	while IFS= read -r line; do
		[ "$(awk -F'\t' '{print NF}' <<< "$line")" -eq 4 ]
	done <<< "$output"
}

@test "commands COMMAND describes each option: long, short, value, values, help" {
	run --separate-stderr "$IPCRUN" commands attach
	assert_success
	assert_equal "${lines[0]}" $'--help\t-h\t\t\tprint this help and exit'
	assert_line $'\t-l\t\t\tlisten on ADDR instead of connecting'
	assert_line --regexp $'^--idle-timeout\t\tDUR\t\t'
	run --separate-stderr "$IPCRUN" commands run
	assert_line --regexp $'^--channel\t\tnode\\|stdio\tnode\\|stdio\tNode\'s IPC channel'
	run --separate-stderr "$IPCRUN" commands ipcrun
	assert_output $'--help\t-h\t\t\tprint this help and exit\n--version\t-V\t\t\tprint the version and exit'
	# A prefix names its command, as everywhere.
	run --separate-stderr "$IPCRUN" commands recv
	assert_line --regexp $'^--as\t'
	# Each line has five fields, and every option --help shows is there
	# with the same text.
	local name summary opts operands
	while IFS=$'\t' read -r name summary opts operands; do
		[ "$name" = ipcrun ] && continue
		run --separate-stderr "$IPCRUN" commands "$name"
		assert_success
		while IFS=$'\t' read -r long short arg vals help; do
			[ "$(awk -F'\t' '{print NF}' <<<"$long	$short	$arg	$vals	$help")" -eq 5 ]
			"$IPCRUN" help "$name" | grep -qF -- "$help" ||
			    fail "'$name --help' lacks '$help'"
		done <<<"$output"
	done < <("$IPCRUN" commands)
	run --separate-stderr "$IPCRUN" commands nosuch
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: commands: unknown command \'nosuch\'\nTry \'ipcrun commands --help\'.'
}

@test "every command's help: the synopsis wrapped at 80 columns, a blank line, its options" {
	local name summary opts tok synopsis
	while IFS=$'\t' read -r name summary opts operands; do
		[ "$name" = ipcrun ] && continue
		run --separate-stderr "$IPCRUN" help "$name"
		assert_success
		assert_line --index 0 --regexp "^usage: ipcrun $name( |\$)"
		# No line is wider than 80 columns.
		while IFS= read -r line; do
			[ "${#line}" -le 80 ] || fail "'$name' help line too long: $line"
		done <<<"$output"
		# The synopsis ends at the first blank line; then every
		# option 'ipcrun commands' lists has a line of its own.
		synopsis=$(awk 'NF == 0 { exit } { print }' <<<"$output")
		[ "$(wc -l <<<"$synopsis")" -lt "${#lines[@]}" ]
		grep -qx '  -h, --help  *print this help and exit' <<<"$output" ||
		    fail "'$name --help' lacks -h, --help"
		for tok in $opts; do
			tok=${tok%%=*}
			grep -qE -- "^  (-[a-zA-Z], |    )?$tok( |\$)|^  $tok, " \
			    <<<"$output" || fail "'$name --help' lacks '$tok'"
		done
		# And CMD --help prints the same.
		help=$output
		run --separate-stderr "$IPCRUN" "$name" --help
		assert_success
		assert_equal "$output" "$help"
	done < <("$IPCRUN" commands)
}

@test "the help of a command with an ADDR operand shows ADDR's forms" {
	local cmd
	for cmd in attach send-fd recv-fd; do
		run --separate-stderr "$IPCRUN" "$cmd" --help
		assert_success
		assert_line 'ADDR is one of:'
		assert_line --regexp '^  unix:PATH, PATH +a unix socket$'
		assert_line --regexp '^  unix:@NAME +an abstract unix socket$'
		assert_line --regexp '^  tcp:HOST:PORT +TCP; .*tcp:\[::1\]:80$'
		assert_line --regexp '^  fd:N +a socket ipcrun inherited as descriptor N$'
	done
	# A command without an address has no such part.
	run --separate-stderr "$IPCRUN" check --help
	refute_line 'ADDR is one of:'
}

@test "run's help: wrapped synopsis lined up after the name, one line per option with its default" {
	run --separate-stderr "$IPCRUN" run --help
	assert_success
	assert_line --index 0 'usage: ipcrun run [--channel node|stdio] [--channel-fd N]'
	assert_line --index 1 '                  [--eof auto|idle[:DUR]|wait|close] [--eof-timeout DUR]'
	assert_line --index 3 '                  [--no-preload] [--no-validate] [--strict] [--trace]'
	assert_line --index 4 '                  [--trace-file FILE] [--quiet] [--verbose] [-s N] [--stats]'
	# The operands end the synopsis and the options follow at once; at
	# no fixed line, as every new option of run moves them.
	local i
	for ((i = 1; i < ${#lines[@]}; i++)); do
		[[ ${lines[i]} == "  -h, --help"* ]] && break
	done
	[[ ${lines[i - 1]} == '                  ['*'[CMD [ARG ...]]' ]]
	assert_equal "${lines[i]}" "  -h, --help                print this help and exit"
	assert_line '  -n, --copies N            run N copies of CMD, NAME.1 to NAME.N (or auto)'
	assert_line '  -c, --child NAME=CMD      child NAME runs CMD ARGS (NAME:stdio=: on stdio)'
	assert_line '  -q, --quiet               no warnings or notices on stderr, only errors'
	assert_line '  -v, --verbose             show frames (first 64 bytes) and notices on stderr'
	assert_line '      --kill-timeout DUR    wait before SIGTERM, then SIGKILL (default: 5s)'
	assert_line '      --max-line BYTES      longest line, with K, M or G (default: 64M)'
	# An option too wide for the column has its description below it.
	assert_line '      --eof auto|idle[:DUR]|wait|close'
	assert_line '                            end of input policy (default: auto; DUR: 0.5s)'
	help=$output
	run "$IPCRUN" run -h
	assert_equal "$output" "$help"
	run "$IPCRUN" help run
	assert_equal "$output" "$help"
	run "$IPCRUN" help --help
	assert_success
	assert_output $'usage: ipcrun help [COMMAND]\n\n  -h, --help                print this help and exit'
}

@test "a usage error of a command is one line and the help to try, never the synopsis" {
	run --separate-stderr "$IPCRUN" run
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: run: no command given\nTry \'ipcrun run --help\'.'
	run --separate-stderr "$IPCRUN" help check run
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: help: too many operands\nTry \'ipcrun help --help\'.'
	run --separate-stderr "$IPCRUN" commands run extra
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: commands: too many operands\nTry \'ipcrun commands --help\'.'
	run --separate-stderr "$IPCRUN" check --max-line 12q
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: check: --max-line \'12q\': not a byte count\nTry \'ipcrun check --help\'.'
}

@test "a flag given a value says so, naming the option" {
	run --separate-stderr "$IPCRUN" check --strict=yes
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: check: option \'--strict\' doesn\'t allow an argument\nTry \'ipcrun check --help\'.'
	run --separate-stderr "$IPCRUN" run --trace=1 -- true
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: run: option \'--trace\' doesn\'t allow an argument\nTry \'ipcrun run --help\'.'
	# No control byte in any of it (getopt's own message had a tab).
	[[ ${stderr//$'\n'/} != *[[:cntrl:]]* ]]
	# An abbreviation is named by the option it stands for.
	run --separate-stderr "$IPCRUN" run --stri= -- true
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: option '--strict' doesn't allow an argument"
	run --separate-stderr "$IPCRUN" run --max-l
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: option '--max-line' needs a value"
}

@test "an ambiguous option prefix lists its candidates; a unique one is taken" {
	run --separate-stderr "$IPCRUN" run --chan stdio -- cat
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: run: option \'--chan\' is ambiguous, could be \'--channel\' or \'--channel-fd\'\nTry \'ipcrun run --help\'.'
	run --separate-stderr "$IPCRUN" run --no-v=1 -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: option '--no-validate' doesn't allow an argument"
	run --separate-stderr "$IPCRUN" run --no -- cat
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: option '--no' is ambiguous, could be '--no-preload', '--no-validate', '--no-progress', '--no-control' or '--no-repl'"
	# An exact name wins over the longer names it is a prefix of.
	run --separate-stderr "$IPCRUN" run --channel stdio -- true < /dev/null
	assert_success
	run --separate-stderr bash -c 'echo "[1]" | "$IPCRUN" check --str'
	assert_success
	assert_output '[1]'
}

@test "a mistyped command or option gets a suggestion" {
	run --separate-stderr "$IPCRUN" chek
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: unknown command \'chek\'; did you mean \'check\'?\nTry \'ipcrun --help\'.'
	run --separate-stderr "$IPCRUN" rnu -- true
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: unknown command 'rnu'; did you mean 'run'?"
	run --separate-stderr "$IPCRUN" help hlep
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: help: unknown command \'hlep\'; did you mean \'help\'?\nTry \'ipcrun help --help\'.'
	run --separate-stderr "$IPCRUN" check --stirct
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: check: unknown option \'--stirct\'; did you mean \'--strict\'?\nTry \'ipcrun check --help\'.'
	run --separate-stderr "$IPCRUN" run --kill-timout=1 -- true
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: run: unknown option '--kill-timout'; did you mean '--kill-timeout'?"
	# Nothing close: no guess. Hidden commands are never suggested.
	run --separate-stderr "$IPCRUN" xyzzy
	assert_equal "${stderr%%$'\n'*}" "ipcrun: unknown command 'xyzzy'"
	run --separate-stderr "$IPCRUN" comands
	assert_equal "${stderr%%$'\n'*}" "ipcrun: unknown command 'comands'"
}

@test "an ambiguous command prefix lists its candidates" {
	local names a b p=
	# Two visible commands sharing a first letter (check and child
	# once child exists); before that there is nothing to test.
	names=$("$IPCRUN" commands | awk -F '\t' 'NR > 1 { print $1 }')
	read -r a b < <(sort <<<"$names" | awk 'prev != "" &&
	    substr(prev, 1, 1) == substr($0, 1, 1) { print prev, $0; exit }
	    { prev = $0 }') || true
	[ -n "$a" ] || skip "no two commands share a prefix yet"
	while [ "${a:0:${#p}+1}" = "${b:0:${#p}+1}" ]; do
		p=${a:0:${#p}+1}
	done
	run --separate-stderr "$IPCRUN" "$p"
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: ambiguous command '$p', could be '$a' or '$b'"
}

@test "the manual documents no command prefix as an example" {
	! grep -nE "Ql ipcrun (ch|c|r|h|he)\$" "$ROOT"/man/*.1
	! grep -nE 'ipcrun (ch|c|che|r|ru|h|he) ' "$ROOT/README.md"
}

@test "durations take ms, s and m, or a plain number of seconds" {
	local dur ms
	# The idle rule's trace line shows the value in milliseconds. The
	# child waits for that line, so nothing depends on speed.
	for dur in 1m:60000 2s:2000 2:2000 0.5s:500 .25:250 1.5m:90000 500ms:500 0.0005m:30 1234:1234000; do
		ms=${dur#*:}
		dur=${dur%%:*}
		"$IPCRUN" run --trace --eof "idle:$dur" -- sh -c \
		    'i=0; until grep -q "idle rule" "$0"; do
			i=$((i + 1)); [ $i -lt 2000 ] || exit 3; sleep 0.02
		    done' "$BATS_TEST_TMPDIR/err" < /dev/null 2> "$BATS_TEST_TMPDIR/err" ||
		    fail "--eof idle:$dur: $(cat "$BATS_TEST_TMPDIR/err")"
		grep -qF "idle rule: closing after $ms ms of quiet" "$BATS_TEST_TMPDIR/err" ||
		    fail "--eof idle:$dur is not $ms ms: $(cat "$BATS_TEST_TMPDIR/err")"
	done
	# Every duration option takes the units.
	run --separate-stderr "$IPCRUN" run --channel stdio --eof-timeout 1m --kill-timeout 500ms -- true < /dev/null
	assert_success
	run --separate-stderr "$IPCRUN" run --eof-timeout 2s --kill-timeout 0.5s -- true < /dev/null
	assert_success
}

@test "a bad duration is one line naming the option and the value" {
	local bad
	for bad in 5x 1h 2S '1 s' ' 1' 1e3 0x10 -1 +1 ms s . 1.5.2 inf nan '' 1sm; do
		for opt in --eof-timeout --kill-timeout; do
			run --separate-stderr "$IPCRUN" run "$opt" "$bad" -- true
			assert_failure 125
			assert_equal "$stderr" "ipcrun: run: $opt '$bad': not a duration (seconds, or with a unit: 500ms, 2s, 1m)
Try 'ipcrun run --help'."
		done
		run --separate-stderr "$IPCRUN" run --eof "idle:$bad" -- true
		assert_failure 125
		assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --eof 'idle:$bad': not a duration (seconds, or with a unit: 500ms, 2s, 1m)"
	done
	for bad in 1000001 16667m 1000000001ms 99999999999999999999999; do
		run --separate-stderr "$IPCRUN" run --kill-timeout "$bad" -- true
		assert_failure 125
		assert_equal "${stderr%%$'\n'*}" "ipcrun: run: --kill-timeout '$bad': too large (at most 1000000 seconds)"
	done
	run --separate-stderr "$IPCRUN" run --kill-timeout 1000000 --channel stdio -- true < /dev/null
	assert_success
}

@test "the license: ISC, the ipcrun authors, 2026, and the README says so" {
	run cat "$ROOT/LICENSE"
	assert_line --index 0 'Copyright (c) 2026 the ipcrun authors'
	assert_line 'Permission to use, copy, modify, and distribute this software for any'
	run grep -A3 '^## License' "$ROOT/README.md"
	assert_success
	assert_output --partial 'ISC'
	assert_output --partial '[LICENSE](LICENSE)'
	assert_output --partial '2026 the ipcrun authors'
}

@test "a mistyped or misused global option says what was meant" {
	run --separate-stderr "$IPCRUN" --hlep
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: unknown option \'--hlep\'; did you mean \'--help\'?\nTry \'ipcrun --help\'.'
	run --separate-stderr "$IPCRUN" --vresion
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: unknown option '--vresion'; did you mean '--version'?"
	run --separate-stderr "$IPCRUN" --version=2
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: option '--version' doesn't allow an argument"
	assert_equal "$output" ""
}

@test "the README opens with a console example that is exactly what ipcrun prints" {
	local block cmd want
	# The first console block: "$ COMMAND", then what it prints.
	block=$(awk '/^```console$/ { on = 1; next } on && /^```$/ { exit }
	    on { print }' "$ROOT/README.md")
	cmd=$(head -n 1 <<<"$block")
	want=$(tail -n +2 <<<"$block")
	[[ $cmd == '$ '*'ipcrun run'* ]] || fail "no ipcrun run example first: $cmd"
	[ -n "$want" ]
	# The README's 'ipcrun' is the one just built.
	run --separate-stderr bash -c "cd \"\$ROOT\" && ${cmd#\$ }"
	assert_success
	assert_equal "$output" "$want"
	assert_equal "$stderr" ""
}
