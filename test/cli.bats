#!/usr/bin/env bats
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

@test "help CMD and CMD --help show the command's usage" {
	run "$IPCRUN" help check
	assert_success
	assert_line --index 0 'usage: ipcrun check [--node] [--strict] [--max-line BYTES] [FILE ...]'
	run "$IPCRUN" check --help
	assert_success
	assert_output 'usage: ipcrun check [--node] [--strict] [--max-line BYTES] [FILE ...]'
	run --separate-stderr "$IPCRUN" help nosuch
	assert_failure 125
	[[ "$stderr" == "ipcrun: help: unknown command 'nosuch'"* ]]
}

@test "a unique prefix of a command is accepted" {
	run "$IPCRUN" che --help
	assert_success
	assert_output --partial 'usage: ipcrun check'
}

@test "no command: one-line error and usage, exit 125" {
	run --separate-stderr "$IPCRUN"
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: no command given\nusage: ipcrun [--help] [--version] COMMAND [ARGS]'
}

@test "unknown command: one-line error and usage, exit 125" {
	run --separate-stderr "$IPCRUN" frobnicate
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: unknown command \'frobnicate\'\nusage: ipcrun [--help] [--version] COMMAND [ARGS]'
	assert_equal "$output" ""
}

@test "unknown global option: one-line error and usage, exit 125" {
	run --separate-stderr "$IPCRUN" --frob
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: unknown option \'--frob\'\nusage: ipcrun [--help] [--version] COMMAND [ARGS]'
}

@test "unknown command option: one-line error and the command's usage, exit 125" {
	run --separate-stderr "$IPCRUN" check --frob
	assert_failure 125
	assert_equal "$stderr" $'ipcrun: check: unknown option \'--frob\'\nusage: ipcrun check [--node] [--strict] [--max-line BYTES] [FILE ...]'
	run --separate-stderr "$IPCRUN" check -q
	assert_failure 125
	assert_equal "${stderr%%$'\n'*}" "ipcrun: check: unknown option '-q'"
}

@test "--help and --version report a write error on stdout" {
	run --separate-stderr bash -c '"$IPCRUN" --help > /dev/full'
	assert_failure 125
	assert_equal "$stderr" "ipcrun: write error on stdout: No space left on device"
	run --separate-stderr bash -c '"$IPCRUN" --version > /dev/full'
	assert_failure 125
}

@test "commands lists every visible command with its options, tab-separated" {
	run "$IPCRUN" commands
	assert_success
	assert_line --index 0 $'ipcrun\tglobal options\t--help --version -h -V'
	assert_line $'check\tvalidate NDJSON as a Node IPC peer would\t--node --strict --max-line= --help -h'
	refute_line --regexp $'^commands\t'
	# Every line has exactly three fields.
	while IFS= read -r line; do
		[ "$(awk -F'\t' '{print NF}' <<< "$line")" -eq 3 ]
	done <<< "$output"
}
