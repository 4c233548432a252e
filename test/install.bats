#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# make install and uninstall honour PREFIX and DESTDIR and leave nothing
# behind; the installed binary runs from its new home.

load helper

@test "make install puts every file under DESTDIR/PREFIX; uninstall removes them and the directories it made" {
	d=$BATS_TEST_TMPDIR/root
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/opt/ipc DEBUG="${DEBUG:-0}"
	assert_success
	[ -x "$d/opt/ipc/bin/ipcrun" ]
	[ -f "$d/opt/ipc/share/man/man1/ipcrun.1" ]
	[ -f "$d/opt/ipc/share/man/man1/ipcrun-check.1" ]
	[ -f "$d/opt/ipc/share/man/man7/ipcrun.7" ]
	[ -f "$d/opt/ipc/share/bash-completion/completions/ipcrun" ]
	[ -f "$d/opt/ipc/share/zsh/site-functions/_ipcrun" ]
	[ -f "$d/opt/ipc/share/fish/vendor_completions.d/ipcrun.fish" ]
	run "$d/opt/ipc/bin/ipcrun" --version
	assert_success
	run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/opt/ipc
	assert_success
	assert_equal "$(find "$d" -type f | wc -l)" 0
	# Every directory under PREFIX was made by install, and is empty now.
	[ ! -e "$d/opt/ipc" ]
	[ -d "$d/opt" ]
	# A directory that holds something else stays, with what it holds.
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/opt/ipc DEBUG="${DEBUG:-0}"
	assert_success
	touch "$d/opt/ipc/share/man/man1/other.1"
	run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/opt/ipc
	assert_success
	assert_equal "$(cd "$d" && find . | LC_ALL=C sort | tr '\n' ' ')" \
	    ". ./opt ./opt/ipc ./opt/ipc/share ./opt/ipc/share/man ./opt/ipc/share/man/man1 ./opt/ipc/share/man/man1/other.1 "
}

# The line make install printed for shell $1: the code it says to add.
enable_line() {
	sed -n "s/^make install: $1 does not look in .*: add '\(.*\)' to .*/\1/p" \
	    <<<"$output"
}

@test "make install PREFIX=/usr/local: bash and zsh find the completions with no set-up; fish is told how" {
	local d=$BATS_TEST_TMPDIR/root found out
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr/local DEBUG="${DEBUG:-0}"
	assert_success
	out=$output
	# bash-completion looks in DIR/bash-completion/completions for each
	# DIR of XDG_DATA_DIRS, /usr/local/share:/usr/share when unset: the
	# same, under DESTDIR, in a clean shell.
	if [ -r /usr/share/bash-completion/bash_completion ]; then
		run env XDG_DATA_DIRS="$d/usr/local/share:$d/usr/share" \
		    bash --norc --noprofile -c '
			. /usr/share/bash-completion/bash_completion
			__load_completion ipcrun && complete -p ipcrun'
		assert_success
		assert_output --partial '-F _ipcrun'
	fi
	# zsh: a directory of its own $fpath, with no rc file read.
	if command -v zsh >/dev/null; then
		found=$(zsh -f -c 'for p in $fpath; do
			[[ -f $1$p/_ipcrun ]] && print -r -- $p; done; :' _ "$d")
		assert_equal "$found" /usr/local/share/zsh/site-functions
	fi
	# fish searches PREFIX/share/fish/vendor_completions.d only when
	# XDG_DATA_DIRS names PREFIX/share, unless PREFIX is fish's own.
	if command -v fish >/dev/null &&
	    [ "$(pkg-config --variable=prefix fish 2>/dev/null)" != /usr/local ]; then
		[ -f "$d/usr/local/share/fish/vendor_completions.d/ipcrun.fish" ]
		output=$out
		run enable_line fish
		assert_output "set -p fish_complete_path /usr/local/share/fish/vendor_completions.d"
	fi
	output=$out
	run enable_line zsh
	assert_output ""
	output=$out
	run enable_line bash
	assert_output ""
}

@test "make install PREFIX=DIR: a clean shell finds each completion once the line make install printed is added" {
	local p=$BATS_TEST_TMPDIR/p h=$BATS_TEST_TMPDIR/home out code
	mkdir -p "$h/.config/fish"
	run make -s -C "$ROOT" install PREFIX="$p" DEBUG="${DEBUG:-0}"
	assert_success
	out=$output
	# bash, with no bash-completion: the rc file sources the script.
	output=$out
	code=$(enable_line bash)
	assert_equal "$code" "source $p/share/bash-completion/completions/ipcrun"
	printf '%s\n' "$code" >"$h/.bashrc"
	run --separate-stderr env -i HOME="$h" PATH="$PATH" TERM=dumb \
	    bash -i -c 'complete -p ipcrun'
	assert_success
	assert_output --partial '-F _ipcrun'
	if command -v zsh >/dev/null; then
		output=$out
		code=$(enable_line zsh)
		assert_equal "$code" "fpath=($p/share/zsh/site-functions \$fpath)"
		# Debian's /etc/zsh/zshrc runs compinit before ~/.zshrc; a
		# user's own compinit comes in ~/.zshrc.
		printf '%s\n' "$code" >"$h/.zshenv"
		printf 'autoload -Uz compinit && compinit -u\n' >"$h/.zshrc"
		run --separate-stderr env -i HOME="$h" PATH="$PATH" TERM=dumb \
		    zsh -i -c 'print -r -- $_comps[ipcrun]'
		assert_success
		assert_output _ipcrun
	fi
	if command -v fish >/dev/null; then
		run env -i HOME="$h" PATH="$PATH" fish -c 'complete -C "ipcrun che"'
		refute_output --partial check
		output=$out
		code=$(enable_line fish)
		assert_equal "$code" "set -p fish_complete_path $p/share/fish/vendor_completions.d"
		printf '%s\n' "$code" >"$h/.config/fish/config.fish"
		run env -i HOME="$h" PATH="$PATH" fish -c 'complete -C "ipcrun che"'
		assert_success
		assert_output --partial check
	fi
}

@test "make install PREFIX=/usr DESTDIR=... gives a package's tree: exactly these files, these modes" {
	local d=$BATS_TEST_TMPDIR/pkg name summary opts operands zdir
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr DEBUG="${DEBUG:-0}"
	assert_success
	# One page per command the binary lists (help's is ipcrun.1).
	{
		echo "755 usr/bin/ipcrun"
		echo "644 usr/share/man/man1/ipcrun.1"
		while IFS=$'\t' read -r name summary opts operands; do
			case $name in ipcrun|help) continue ;; esac
			echo "644 usr/share/man/man1/ipcrun-$name.1"
		done < <("$IPCRUN" commands)
		echo "644 usr/share/man/man7/ipcrun.7"
		echo "644 usr/share/bash-completion/completions/ipcrun"
		# zsh's own directory for /usr: Debian's vendor-completions,
		# or zsh's site-functions elsewhere (and without zsh).
		zdir=$(zsh -f -c 'print -rl -- $fpath' 2>/dev/null |
		    grep -xE '/usr/share/zsh/(site-functions|vendor-completions)' |
		    head -n 1)
		echo "644 ${zdir:-/usr/share/zsh/site-functions}/_ipcrun" |
		    sed 's| /| |'
		echo "644 usr/share/fish/vendor_completions.d/ipcrun.fish"
	} | LC_ALL=C sort >"$BATS_TEST_TMPDIR/want"
	(cd "$d" && find . -type f -printf '%m %P\n' -o ! -type d -printf '? %P\n') |
	    LC_ALL=C sort >"$BATS_TEST_TMPDIR/got"
	run diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	assert_success
	# Nothing outside usr/: no directory of our own anywhere else.
	assert_equal "$(cd "$d" && ls -A)" usr
}

@test "the default build is hardened: PIE, full RELRO, stack protector, _FORTIFY_SOURCE" {
	command -v readelf >/dev/null || skip "readelf (binutils) is not installed"
	run readelf -h "$IPCRUN"
	assert_output --regexp 'Type: +DYN'
	run readelf -d "$IPCRUN"
	assert_output --partial BIND_NOW
	assert_output --regexp 'FLAGS_1.*PIE'
	run nm -D "$IPCRUN"
	assert_output --partial __stack_chk_fail
	# Under DEBUG=1, ASan checks the calls instead of _FORTIFY_SOURCE.
	if [ "${DEBUG:-0}" != 1 ]; then
		assert_output --regexp '__(snprintf|printf|fprintf)_chk'
	fi
}

@test "make dist: a tarball that builds out of the tree with a distribution's flags and passes cli.bats" {
	git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 ||
	    skip "not a git checkout (make dist lists the files git tracks)"
	local d=$BATS_TEST_TMPDIR/dist version cppflags cflags ldflags
	version=$("$IPCRUN" --version | awk '{ print $2 }')
	mkdir -p "$d/out"
	run make -s -C "$ROOT" dist DIST_DIR="$d/out"
	assert_success
	assert_output "$d/out/ipcrun-$version.tar.gz"
	# Every file git tracks, under ipcrun-VERSION/, and nothing else.
	tar -tzf "$d/out/ipcrun-$version.tar.gz" | grep -v '/$' | LC_ALL=C sort >"$d/got"
	git -C "$ROOT" ls-files | sed "s|^|ipcrun-$version/|" | LC_ALL=C sort >"$d/want"
	run diff "$d/want" "$d/got"
	assert_success
	tar -xzf "$d/out/ipcrun-$version.tar.gz" -C "$d/out"
	cd "$d/out/ipcrun-$version"
	# Debian's own flags when dpkg-buildflags is there, else the like.
	cppflags=$(dpkg-buildflags --get CPPFLAGS 2>/dev/null) ||
	    cppflags=-D_FORTIFY_SOURCE=2
	cflags=$(dpkg-buildflags --get CFLAGS 2>/dev/null) ||
	    cflags="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
	ldflags=$(dpkg-buildflags --get LDFLAGS 2>/dev/null) ||
	    ldflags=-Wl,-z,relro
	run make -j2 CPPFLAGS="$cppflags" CFLAGS="$cflags" LDFLAGS="$ldflags" all
	assert_success
	refute_output --partial warning
	run ./ipcrun --version
	assert_output "ipcrun $version"
	nm -D ./ipcrun | grep -q __stack_chk_fail
	nm -D ./ipcrun | grep -qE '__(snprintf|printf|fprintf)_chk'
	# The fast part of the suite, from the tarball's own tree and binary.
	run env -u IPCRUN test/run test/cli.bats
	assert_success
	assert_line --regexp '^[1-9][0-9]* passed, 0 failed'
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
	assert_output --partial "pkg-config: jansson libbsd-overlay libedit not found: run 'make deps' (Debian: libjansson-dev libbsd-dev libedit-dev)"
	# The binary needs libbsd, jansson and libedit (ctl's REPL).
	run ldd "$IPCRUN"
	assert_output --partial libbsd
	assert_output --partial jansson
	assert_output --partial libedit
}

@test "make prints one short line per step (CC lib/units.o); V=1 prints the commands" {
	local d=$BATS_TEST_TMPDIR/src
	mkdir -p "$d"
	(cd "$ROOT" && git ls-files -z 2>/dev/null || find . -path ./build -prune -o -type f -print0) |
	    (cd "$ROOT" && xargs -0 cp -P --parents -t "$d")
	# The release mode's paths, whatever mode the suite runs in.
	run make -C "$d" --no-print-directory DEBUG=0 build/release/lib/units.o \
	    build/gen/ipcrun-preload.h
	assert_success
	assert_line '  CC      lib/units.o'
	assert_line '  GEN     build/gen/ipcrun-preload.h'
	refute_output --partial -Wall
	run make -C "$d" --no-print-directory DEBUG=0 V=1 build/release/lib/buf.o
	assert_success
	assert_output --regexp '-Wall.* -c -o build/release/lib/buf.o lib/buf.c'
	refute_line --partial '  CC '
}
