#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# make install and uninstall honour PREFIX and DESTDIR and leave nothing
# behind; the installed binary runs from its new home.

load helper

@test "make install puts every file under DESTDIR/PREFIX; uninstall removes them" {
	d=$BATS_TEST_TMPDIR/root
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/opt/ipc DEBUG="${DEBUG:-0}"
	assert_success
	[ -x "$d/opt/ipc/bin/ipcrun" ]
	[ -f "$d/opt/ipc/share/man/man1/ipcrun.1" ]
	[ -f "$d/opt/ipc/share/man/man1/ipcrun-check.1" ]
	[ -f "$d/opt/ipc/share/man/man7/ipcrun.7" ]
	[ -f "$d/opt/ipc/share/bash-completion/completions/ipcrun" ]
	[ -f "$d/opt/ipc/share/zsh/vendor-completions/_ipcrun" ]
	[ -f "$d/opt/ipc/share/fish/vendor_completions.d/ipcrun.fish" ]
	run "$d/opt/ipc/bin/ipcrun" --version
	assert_success
	run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/opt/ipc
	assert_success
	assert_equal "$(find "$d" -type f | wc -l)" 0
}

@test "the installed binary keeps a reply sent 1 s after the end of input" {
	# The drain preload is inside the binary: nothing under share/ to
	# find, whatever PREFIX is and wherever the build tree is.
	p=$BATS_TEST_TMPDIR/p
	run make -s -C "$ROOT" install PREFIX="$p" DEBUG="${DEBUG:-0}"
	assert_success
	[ ! -e "$p/share/ipcrun" ]
	run --separate-stderr env -u IPCRUN_PRELOAD "$p/bin/ipcrun" run \
	    -- node "$ROOT/examples/slow.js" < <(printf '{"delay":1000}\n')
	assert_success
	assert_output '{"delay":1000}'
	assert_equal "$stderr" ""
}

@test "a missing library is named by the build, not found at link time" {
	run make -s -C "$ROOT" PKG_CONFIG=false pkgcheck
	assert_failure
	assert_output --partial "pkg-config: jansson libbsd-overlay not found: run 'make deps' (Debian: libjansson-dev libbsd-dev)"
	# The binary needs libbsd and jansson, and not libedit (no REPL yet).
	run ldd "$IPCRUN"
	assert_output --partial libbsd
	assert_output --partial jansson
	refute_output --partial libedit
}
