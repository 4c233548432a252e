#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ipcrun run at a terminal: the REPL (ctl's, on the run's own pipes and
# a control connection of its own), driven through a pseudo-terminal as
# a person would type: the prompt, a pasted multi-line value sent as one
# line, replies coloured or plain, the caret under a bad value, the
# history file, .to and .restart, Ctrl-D that ends the input and shows
# what still comes; --no-repl keeps plain lines. Real Node children.

load helper

setup() {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/rt XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
}

# repl KEYS...: ipcrun run ARGS (in $RUN) on a pseudo-terminal, each KEYS
# typed in turn; the screen in $output, ipcrun's status in $status.
repl() {
	local k
	for k in "$@"; do printf '%s\n' "$k"; done > "$BATS_TEST_TMPDIR/keys"
	run python3 "$F/repl_drive.py" "$IPCRUN" run "${RUN[@]}" < "$BATS_TEST_TMPDIR/keys"
}

@test "run REPL: a prompt; a pasted multi-line object is one line; the reply coloured; history; Ctrl-D shows what still comes" {
	# Each reply 700 ms after its message: later than the REPL waits
	# after a value, so the second one comes only after Ctrl-D.
	w=$(node_worker 'process.on("message", (m) => setTimeout(() => process.send(m), 700));')
	RUN=(--name slow -- node "$w")
	repl '"{\"a\": {\r"' '"  \"b\": [1, 2]\r"' '"}}\r"' '"{\"late\": true}\r"' '"\x04"'
	assert_success
	assert_output --partial 'ipcrun run slow: .help for the commands, Ctrl-D to end the input'
	assert_output --partial $'\e[2mslow>\e[0m'
	assert_output --partial '...>'
	# The reply, pretty and coloured: a key in cyan, a number in yellow.
	assert_output --partial $'\e[36m"b"\e[0m: ['
	assert_output --partial $'\e[33m1\e[0m'
	# The late reply is shown after Ctrl-D, before ipcrun ends.
	[[ ${output#*^D} == *$'\e[36m"late"\e[0m'* ]]
	grep -q '^{"a":\\040{\\040\\040\\040"b":\\040\[1,\\0402\]\\040}}$' "$XDG_STATE_HOME/ipcrun/history"
}

@test "run REPL: plain under NO_COLOR; a bad value gets a caret; .to, .restart and .scale with two children" {
	export NO_COLOR=1
	RUN=(-n 2 --name pool -- node "$F/echo.js")
	repl '"{\"x\": tru}\r"' '".to pool.2\r"' '"{\"v\": 1}\r"' '".to nosuch\r"' '".restart pool.1\r"' '".scale 1\r"' '".ps\r"' '"\x04"'
	assert_success
	refute_output --partial $'\e['
	assert_output --partial 'pool> '
	assert_output --partial 'error: invalid JSON at line 1, column 10'
	assert_output --partial '  {"x": tru}'
	assert_output --regexp $'\n +\\^'
	assert_output --partial 'pool.2> '
	# The reply of pool.2 alone, under its name.
	assert_output --regexp $'pool.2:\r?\n\\{\r?\n  "v": 1'
	assert_output --partial 'error: no child named "nosuch"'
	assert_output --partial '"restarting": ['
	assert_output --partial '"scale": 1'
	assert_output --partial '"name": "pool.1"'
}

@test "run --no-repl at a terminal: plain lines, no prompt; --color is checked" {
	RUN=(--no-repl -- node "$F/echo.js")
	repl '"{\"a\":1}\r"' '"\x04"'
	assert_success
	refute_output --partial 'node>'
	assert_output --partial '{"a":1}'
	run "$IPCRUN" run --color sometimes -- true
	[ "$status" = 125 ]
	assert_output --partial "--color 'sometimes': must be auto, always or never"
}

@test "run REPL: ^Z and fg give libedit its raw terminal back (an arrow key edits) and draw the prompt and the typed half again; a child started just before is not left stopped" {
	run python3 "$F/repl_tstp.py" "$IPCRUN" "$F/echo.js"
	assert_success
	assert_line 'ok: ^Z: the job stopped, the shell'"'"'s prompt back'
	assert_line 'ok: after fg, the terminal raw again for libedit'
	assert_line 'ok: after fg, the prompt and the typed half shown again'
	assert_line 'ok: the arrow key was libedit'"'"'s, the reply shown'
	assert_line 'ok: ^D ended ipcrun, the shell'"'"'s prompt back'
}
