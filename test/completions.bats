#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The bash, zsh and fish completions load, ask the binary (`ipcrun
# commands`) for commands and options, and offer them. A fake binary with a
# command that does not exist yet shows that no script needs an edit when a
# command or option is added. The tests at the end drive each shell in a
# pseudo-terminal as a person presses TAB (test/fixtures/tabcomplete.py).

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
# a one-of option, a numeric option, a file option, a short flag and a CMD
# operand after "--".
fake_ipcrun() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	cat >"$BATS_TEST_TMPDIR/fake/ipcrun" <<-'EOF'
	#!/bin/sh
	[ "$1" = commands ] || exit 125
	h='--help	-h			print this help and exit'
	case $2 in
	'')
		printf 'ipcrun\tglobal options\t--help --version -h -V\tCOMMAND\n'
		printf 'check\tvalidate NDJSON\t--node --strict --max-line= --help -h\t[FILE ...]\n'
		printf 'help\tshow the usage\t--help -h\t[COMMAND]\n'
		printf 'zap\ta command from the future\t--colour=red|green|blue --to= --log= -q --help -h\tADDR [-- CMD [ARG ...]]\n' ;;
	ipcrun)
		printf '%s\n--version\t-V\t\t\tprint the version\n' "$h" ;;
	check)
		printf '%s\n--node\t\t\t\tNode too\n--strict\t\t\t\tstop\n--max-line\t\tBYTES\t\tlongest line\n' "$h" ;;
	help)
		printf '%s\n' "$h" ;;
	zap)
		printf '%s\n' "$h"
		printf -- '--colour\t\tCOLOUR\tred|green|blue\tpaint it\n'
		printf -- '--to\t\tN\t\tsend it to N\n'
		printf -- '--log\t\tLOGFILE\t\tlog to LOGFILE\n'
		printf -- '\t-q\t\t\tquietly\n' ;;
	*)	exit 125 ;;
	esac
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
	run bash_complete check --max-e
	assert_success
	assert_output -- --max-errors
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

@test "zsh: ctl completes the runs' names, the commands, then the children and all" {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
	held_fifo "$IPCRUN" run -n 2 --name zpool -- node "$F/echo.js"
	wait_for 20 "$IPCRUN" ctl zpool info
	run zsh_complete 'ipcrun ctl '
	assert_success
	assert_line zpool
	run zsh_complete 'ipcrun ctl --timeout 5s zpool '
	assert_line ps
	assert_line restart
	assert_line scale
	run zsh_complete 'ipcrun ctl zpool restart '
	assert_line all
	assert_line zpool.1
	assert_line zpool.2
	# An option's value and the options themselves, as before.
	run zsh_complete 'ipcrun ctl --color '
	assert_line always
	run zsh_complete 'ipcrun ctl -'
	assert_line -- --names
	exec 7>&-
	wait "$ipid"
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
	run fish_complete 'ipcrun check --max-e'
	assert_success
	assert_output -- --max-errors
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

# --- every shell in a pty, as a person presses TAB ---
#
# tabcomplete.py starts the shell in a pseudo-terminal with an rc that loads
# only ipcrun's completion (and bash-completion for bash), types the line,
# presses TAB and prints what the shell drew, then "LINE: " and the edit
# buffer. "zork" is a command made up here, with a completion of its own
# for each shell, so that handing over to CMD's completion is tested
# whatever packages are installed.

# need_shell SHELL: skip, naming it, when SHELL is not installed (make
# check's DEPS_CHECK installs zsh, fish and bash-completion).
need_shell() {
	command -v "$1" >/dev/null || skip "$1 is not installed"
}

# The bash tests that hand over to CMD's completion need bash-completion's
# _command_offset.
need_bash_completion() {
	need_shell bash
	[[ -f /usr/share/bash-completion/bash_completion ]] ||
	    skip "bash-completion is not installed"
}

# tab SHELL LINE [driver options]: what SHELL draws for LINE and TAB, run in
# a directory holding one file, afile.txt, so that a file name offered
# shows.
tab() {
	local sh=$1 line=$2
	shift 2
	mkdir -p "$BATS_TEST_TMPDIR/cwd"
	touch "$BATS_TEST_TMPDIR/cwd/afile.txt"
	(cd "$BATS_TEST_TMPDIR/cwd" &&
	    python3 "$ROOT/test/fixtures/tabcomplete.py" \
	    --setup "$BATS_TEST_TMPDIR/zork.$sh" "$@" "$COMP" "$sh" "$line")
}

# zork, a command with a completion of its own in each shell: its words are
# frobnicate, fizzle and xyzzy.
make_zork() {
	printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/bin/zork"
	chmod +x "$BATS_TEST_TMPDIR/bin/zork"
	cat >"$BATS_TEST_TMPDIR/zork.bash" <<-'EOF'
	_zork() { COMPREPLY=($(compgen -W 'frobnicate fizzle xyzzy' -- "$2")); }
	complete -F _zork zork
	EOF
	cat >"$BATS_TEST_TMPDIR/zork.zsh" <<-'EOF'
	_zork() { compadd frobnicate fizzle xyzzy }
	compdef _zork zork
	EOF
	cat >"$BATS_TEST_TMPDIR/zork.fish" <<-'EOF'
	complete -c zork -f -a 'frobnicate fizzle xyzzy'
	EOF
}

# The part of tab's output the shell drew, without the LINE: line.
drawn() {
	sed '/^LINE: /d' <<<"$output"
}

# Item 5: past CMD, CMD's own completion; at CMD, command names.
handover() {
	local sh=$1
	need_shell "$sh"
	[[ $sh != bash ]] || need_bash_completion
	make_zork
	run tab "$sh" 'ipcrun run -- zork '
	assert_success
	assert_output --partial frobnicate
	assert_output --partial fizzle
	assert_output --partial xyzzy
	run tab "$sh" 'ipcrun run --kill-timeout=3 zork f'
	assert_success
	assert_output --partial frobnicate
	refute_output --partial xyzzy
	run tab "$sh" 'ipcrun child --kill-timeout 3 -- zork xy' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun child --kill-timeout 3 -- zork xyzzy '
	run tab "$sh" 'ipcrun recv-fd -c sock -- zork xy' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun recv-fd -c sock -- zork xyzzy '
	run tab "$sh" 'ipcrun spy --trace-file t.log -s 0 -- zork xy' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun spy --trace-file t.log -s 0 -- zork xyzzy '
	# recv-fd's CMD comes only after "--": before, ADDR's file names.
	run tab "$sh" 'ipcrun recv-fd -c sock zork af' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun recv-fd -c sock zork afile.txt '
	# The command word itself, after run's options and their values.
	run tab "$sh" 'ipcrun run -n 2 --name=w zor' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun run -n 2 --name=w zork '
	run tab "$sh" 'ipcrun run -c "a=x y" -- zor' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun run -c "a=x y" -- zork '
}

# Item 6: no file names for numbers, sizes, durations, names and free
# strings; file names for a FILE; the values of an enumerated option.
values() {
	local sh=$1 line
	need_shell "$sh"
	make_zork
	for line in 'ipcrun run --max-line ' 'ipcrun run --kill-timeout=' \
	    'ipcrun run -n ' 'ipcrun run -c ' \
	    'ipcrun child --disconnect-timeout ' 'ipcrun spy -s '; do
		run tab "$sh" "$line"
		assert_success
		refute_output --partial afile.txt
		assert_line "LINE: $line"
	done
	# The control: a FILE gets file names, so the test above can fail.
	run tab "$sh" 'ipcrun check --rejects ' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun check --rejects afile.txt '
	run tab "$sh" 'ipcrun spy --trace-file ' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun spy --trace-file afile.txt '
	for cmd in run serve child attach; do
		run tab "$sh" "ipcrun $cmd --trace-file " --tabs 1
		assert_success
		assert_line "LINE: ipcrun $cmd --trace-file afile.txt "
	done
	run tab "$sh" 'ipcrun run --channel '
	assert_success
	assert_output --partial node
	assert_output --partial stdio
	refute_output --partial afile.txt
	run tab "$sh" 'ipcrun run --restart=on' --tabs 1
	assert_success
	assert_line --regexp '^LINE: ipcrun run --restart=on-failure ?$'
	# "key=" wants the rest of its value: no space after it.
	run tab "$sh" 'ipcrun run --route k' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun run --route key='
}

# Item 6: every option of run and check shown with its help, -h and --help
# on one line.
described() {
	local sh=$1 cmd long short argname vals help
	need_shell "$sh"
	make_zork
	for cmd in run check; do
		run tab "$sh" "ipcrun $cmd -"
		assert_success
		while IFS=$'\x1f' read -r long short argname vals help; do
			assert_output --partial "$help"
		done < <("$IPCRUN" commands $cmd | tr '\t' '\037')
		assert_line --regexp \
		    '(^| )(-h +--help|--help +-h) .*print this help and exit'
	done
}

@test "bash pty: command names at CMD, then CMD's own completion" {
	handover bash
}

@test "bash pty: no bash-completion: command names, then file names" {
	need_shell bash
	make_zork
	run tab bash 'ipcrun run -n 2 zor' --tabs 1 --no-bash-completion
	assert_success
	assert_line 'LINE: ipcrun run -n 2 zork '
	run tab bash 'ipcrun run zork af' --tabs 1 --no-bash-completion
	assert_success
	assert_line 'LINE: ipcrun run zork afile.txt '
}

@test "bash pty: no file names for numbers, values of one-of options" {
	values bash
}

@test "zsh pty: command names at CMD, then CMD's own completion" {
	handover zsh
}

@test "zsh pty: no file names for numbers, values of one-of options" {
	values zsh
}

@test "zsh pty: every option described, -h and --help together" {
	described zsh
}

@test "fish pty: command names at CMD, then CMD's own completion" {
	handover fish
}

@test "fish pty: no file names for numbers, values of one-of options" {
	values fish
}

@test "fish pty: every option described, -h and --help together" {
	described fish
}

# A command ipcrun lacks, from the fake binary: its CMD, FILE and number
# need no edit in the scripts.
fake_pty() {
	local sh=$1
	need_shell "$sh"
	[[ $sh != bash ]] || need_bash_completion
	fake_ipcrun
	make_zork
	run tab "$sh" 'ipcrun zap --to '
	assert_success
	refute_output --partial afile.txt
	run tab "$sh" 'ipcrun zap --log af' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun zap --log afile.txt '
	run tab "$sh" 'ipcrun zap -q sock -- zork xy' --tabs 1
	assert_success
	assert_line 'LINE: ipcrun zap -q sock -- zork xyzzy '
}

@test "bash pty: a new command's CMD, FILE, N need no edit (fake)" {
	fake_pty bash
}

@test "zsh pty: a new command's CMD, FILE, N need no edit (fake)" {
	fake_pty zsh
}

@test "fish pty: a new command's CMD, FILE, N need no edit (fake)" {
	fake_pty fish
}

# --- ADDR operands (attach, send-fd, recv-fd) ---

# A directory with a socket, a subdirectory and a plain file, as cwd.
addr_dir() {
	mkdir -p "$BATS_TEST_TMPDIR/a/sub"
	touch "$BATS_TEST_TMPDIR/a/plain"
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	    "$BATS_TEST_TMPDIR/a/app.sock"
	cd "$BATS_TEST_TMPDIR/a"
}

@test "bash: ADDR offers unix:, tcp:, fd:, then socket files, not others" {
	addr_dir
	run bash_complete attach ""
	assert_success
	assert_line unix:
	assert_line tcp:
	assert_line fd:
	assert_line app.sock
	assert_line sub/
	refute_line plain
	# bash splits "unix:app" at ':' and replaces only what follows it.
	run bash_complete attach unix : a
	assert_success
	assert_output app.sock
	run bash_complete recv-fd un
	assert_output unix:
	run bash_complete attach tcp : ""
	assert_output ""
	# send-fd's FD after its ADDR is no address.
	run bash_complete send-fd unix : app.sock ""
	assert_success
	refute_output --partial unix:
}

@test "zsh: ADDR offers unix:, tcp:, fd:, then socket files, not others" {
	addr_dir
	run zsh_complete 'ipcrun attach '
	assert_success
	assert_line unix:
	assert_line tcp:
	assert_line fd:
	assert_line app.sock
	refute_line plain
	run zsh_complete 'ipcrun recv-fd unix:'
	assert_success
	assert_line app.sock
	refute_line plain
}

@test "fish: ADDR offers unix:, tcp:, fd:, then socket files, not others" {
	addr_dir
	run fish_complete 'ipcrun attach '
	assert_success
	assert_line unix:
	assert_line tcp:
	assert_line fd:
	assert_line app.sock
	assert_line sub/
	refute_line plain
	run fish_complete 'ipcrun send-fd unix:a'
	assert_output unix:app.sock
	run fish_complete 'ipcrun attach tcp:'
	assert_output ""
}
