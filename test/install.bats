#!/usr/bin/env bats
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
