#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The bash, zsh and fish completions load, ask the binary (`ipcrun
# commands`) for commands and options, and offer them. A fake binary with a
# command that does not exist yet shows that no script needs an edit when a
# command or option is added.

bats_require_minimum_version 1.5.0

load helper

setup() {
	COMP=$ROOT/completions
	# The freshly built binary comes first in PATH, whatever else is there.
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -sf "$IPCRUN" "$BATS_TEST_TMPDIR/bin/ipcrun"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH
	export PATH
}

# A stand-in binary whose table has a command "zap" that ipcrun lacks, with
# a one-of option, a free-valued option and a short flag.
fake_ipcrun() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	cat >"$BATS_TEST_TMPDIR/fake/ipcrun" <<-'EOF'
	#!/bin/sh
	[ "$1" = commands ] || exit 125
	printf 'ipcrun\tglobal options\t--help --version -h -V\n'
	printf 'check\tvalidate NDJSON\t--node --strict --max-line=\n'
	printf 'help\tshow the usage\t\n'
	printf 'zap\ta command from the future\t--colour=red|green|blue --to= -q\n'
	EOF
	chmod +x "$BATS_TEST_TMPDIR/fake/ipcrun"
	PATH=$BATS_TEST_TMPDIR/fake:$PATH
}

# bash_complete WORD...: complete the last WORD of "ipcrun WORD..." as bash
# does, printing COMPREPLY one per line. '=' is split off as bash's
# COMP_WORDBREAKS does.
bash_complete() {
	local line="ipcrun $*"
	bash --norc --noprofile -c '
		source "$1" || exit 2
		shift
		COMP_LINE=$1
		COMP_POINT=${#COMP_LINE}
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_ipcrun || exit 3
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$COMP/ipcrun.bash" "$line" ipcrun "$@"
}

# zsh_complete LINE: press TAB after LINE in an interactive zsh (zpty), with
# compadd wrapped to print every match offered, one per line.
zsh_complete() {
	cat >"$BATS_TEST_TMPDIR/zc.zsh" <<-'EOF'
	zmodload zsh/zpty || exit 2
	zpty z zsh -f -i || exit 2
	zpty -w z "fpath=(${(q)1} \$fpath)"
	zpty -w z 'PROMPT=""; RPROMPT=""'
	zpty -w z 'autoload -Uz compinit && compinit -u -D'
	zpty -w z 'bindkey "^I" complete-word'
	zpty -w z 'zstyle ":completion:*" list-grouped false'
	zpty -w z '__mark() { print -r -- "<<""END>>" }'
	zpty -w z 'comppostfuncs=(__mark exit)'
	zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __h; builtin compadd -A __h "$@"; (( $#__h )) && print -rl -- "${(@)__h/#/<<""HIT>>}"; builtin compadd "$@" }'
	zpty -w -n z "$2"$'\t'
	out=
	integer deadline=$(( SECONDS + 20 ))
	while (( SECONDS < deadline )); do
		if zpty -r -t z chunk 2>/dev/null; then
			out+=$chunk
			[[ $out == *'<<END>>'* ]] && break
		else
			sleep 0.05
		fi
	done
	zpty -d z
	[[ $out == *'<<END>>'* ]] || { print -u2 "no completion result"; exit 3; }
	for l in "${(@f)out}"; do
		l=${l%$'\r'}
		[[ $l == *'<<HIT>>'* ]] && print -r -- ${l##*'<<HIT>>'}
	done
	exit 0
	EOF
	zsh -f "$BATS_TEST_TMPDIR/zc.zsh" "$COMP" "$1"
}

# fish_complete LINE: what fish offers for LINE, descriptions stripped.
fish_complete() {
	fish --no-config -c 'source $argv[1]; or exit 2; complete -C $argv[2]' \
	    "$COMP/ipcrun.fish" "$1" | cut -f1
}

# The options `ipcrun commands` lists for command $1, names only.
options_of() {
	"$IPCRUN" commands | awk -F '\t' -v c="$1" '$1 == c { print $3 }' |
	    tr ' ' '\n' | sed 's/=.*//' | grep .
}

# --- bash ---

@test "bash: the script registers _ipcrun for ipcrun" {
	run bash --norc --noprofile -c 'source "$1"; complete -p ipcrun' _ \
	    "$COMP/ipcrun.bash"
	assert_success
	assert_output --partial '-F _ipcrun'
	assert_output --regexp ' ipcrun$'
}

@test "bash: offers the commands, not the hidden one" {
	run bash_complete ""
	assert_success
	assert_line check
	assert_line help
	refute_line commands
}

@test "bash: a prefix completes to its command" {
	run bash_complete che
	assert_success
	assert_output check
}

@test "bash: offers the global options" {
	run bash_complete -
	assert_success
	assert_line -- --help
	assert_line -- --version
}

@test "bash: offers check's options, also after a command prefix" {
	run bash_complete check --
	assert_success
	assert_line -- --strict
	assert_line -- --max-line
	assert_line -- --node
	run bash_complete che --s
	assert_success
	assert_output -- --strict
}

@test "bash: offers every option that 'ipcrun commands' lists for check" {
	local opt
	run bash_complete check -
	assert_success
	for opt in $(options_of check); do
		assert_line -- "$opt"
	done
}

@test "bash: check --format offers its values" {
	run bash_complete check --format ""
	assert_success
	assert_equal "$output" $'human\ngnu\njson'
	run bash_complete check --format=g
	assert_success
	assert_output gnu
}

@test "bash: help offers command names" {
	run bash_complete help ""
	assert_success
	assert_line check
}

@test "bash: no options after --, no check options on a value" {
	run bash_complete check -- --
	assert_success
	assert_output ""
	run bash_complete check --max-line --
	assert_success
	assert_output ""
}

@test "bash: a new command and its values need no edit (fake binary)" {
	fake_ipcrun
	run bash_complete z
	assert_output zap
	run bash_complete zap -
	assert_line -- --colour
	assert_line -- --to
	assert_line -- -q
	run bash_complete zap --colour ""
	assert_output "red
green
blue"
	# --colour=g, split at '=' as bash does.
	run bash_complete zap --colour = g
	assert_output green
}

@test "bash: uses the binary named by path when it is not in PATH" {
	run bash --norc --noprofile -c '
		PATH=/usr/bin:/bin
		source "$1"
		COMP_WORDS=("$2" check --st); COMP_CWORD=2
		_ipcrun; printf "%s\n" "${COMPREPLY[@]}"' _ \
	    "$COMP/ipcrun.bash" "$IPCRUN"
	assert_success
	assert_output -- --strict
}

# --- zsh ---

@test "zsh: compinit picks up _ipcrun for ipcrun" {
	run zsh -f -c 'fpath=($1 $fpath); autoload -Uz compinit
		compinit -u -D; print -r -- $_comps[ipcrun]' _ "$COMP"
	assert_success
	assert_output _ipcrun
}

@test "zsh: offers the commands" {
	run zsh_complete 'ipcrun '
	assert_success
	assert_line check
	assert_line help
	refute_line commands
}

@test "zsh: a prefix completes to its command" {
	run zsh_complete 'ipcrun che'
	assert_success
	assert_line check
	refute_line help
}

@test "zsh: offers check's options, also after a command prefix" {
	run zsh_complete 'ipcrun check --'
	assert_success
	assert_line -- --strict
	assert_line -- --max-line
	assert_line -- --node
	run zsh_complete 'ipcrun che --'
	assert_success
	assert_line -- --strict
	assert_line -- --max-line
}

@test "zsh: a new command and its values need no edit (fake binary)" {
	fake_ipcrun
	run zsh_complete 'ipcrun '
	assert_line zap
	run zsh_complete 'ipcrun zap --'
	assert_line -- --colour
	assert_line -- --to
	run zsh_complete 'ipcrun zap --colour='
	assert_line red
	assert_line green
	assert_line blue
}

@test "zsh: check --format offers its values" {
	run zsh_complete 'ipcrun check --format '
	assert_success
	assert_line human
	assert_line gnu
	assert_line json
}

# --- fish ---

@test "fish: offers the commands with their summaries" {
	run fish --no-config -c 'source $argv[1]; complete -C "ipcrun "' \
	    "$COMP/ipcrun.fish"
	assert_success
	assert_line --regexp $'^check\tvalidate '
	assert_line --regexp $'^help\t'
	refute_line --regexp '^commands'
}

@test "fish: offers check's options, also after a command prefix" {
	run fish_complete 'ipcrun check --'
	assert_success
	assert_line -- --strict
	assert_line -- --max-line
	assert_line -- --node
	run fish_complete 'ipcrun che --s'
	assert_success
	assert_output -- --strict
}

@test "fish: offers global options and file operands" {
	run fish_complete 'ipcrun -'
	assert_line -- --help
	assert_line -- --version
	touch "$BATS_TEST_TMPDIR/events.ndjson"
	run fish_complete "ipcrun check $BATS_TEST_TMPDIR/ev"
	assert_output "$BATS_TEST_TMPDIR/events.ndjson"
}

@test "fish: a new command and its values need no edit (fake binary)" {
	fake_ipcrun
	run fish_complete 'ipcrun z'
	assert_output zap
	run fish_complete 'ipcrun zap --colour '
	assert_line red
	assert_line green
	assert_line blue
	assert [ "${#lines[@]}" -eq 3 ]
	run fish_complete 'ipcrun zap --colour=g'
	assert_output -- --colour=green
}

@test "fish: check --format offers its values" {
	run fish_complete 'ipcrun check --format '
	assert_success
	assert_line human
	assert_line gnu
	assert_line json
	assert [ "${#lines[@]}" -eq 3 ]
}
