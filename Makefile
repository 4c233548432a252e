# SPDX-License-Identifier: ISC
# ipcrun: one hand-written Makefile.
#   make            build ./ipcrun
#   make demo       install what the demo needs if missing, build, run it
#   make check      the same plus the test tools; lint the man pages, run
#                   the whole test suite (TEST_JOBS=3 bats files at a time)
#   make DEBUG=1    the same with ASan and UBSan (objects kept apart)
#   make fuzz       build and run the libFuzzer targets (clang)
#   make bench      the benchmarks (simdjson, jansson, jq, socat, parallel;
#                   pm2, BullMQ, rsmq from npm, pinned, into build/bench/)
#   make deps       install every tool of all of the above (not the npm
#                   ones: only make bench and make deps-bench install them)
#   make install    PREFIX=/usr/local DESTDIR=
#   make V=1        print the commands, not one short line per step
#   make dist       ipcrun-VERSION.tar.gz, from the files git tracks
#
# CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS are the user's (a distribution's):
# they are added to ipcrun's own flags, never replace them.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
# The completions go where each shell looks by itself for this PREFIX
# (make install says how to enable the others):
#   bash   bash-completion's own directory when it has this PREFIX, else
#          PREFIX/share/bash-completion/completions, which bash-completion
#          searches for each directory of XDG_DATA_DIRS (by default
#          /usr/local/share:/usr/share).
#   zsh    the directory that zsh's built-in $fpath has for PREFIX:
#          site-functions (zsh's own, and /usr/local's on every system),
#          or Debian's vendor-completions for /usr.
#   fish   fish's own vendor directory when it has this PREFIX, else
#          PREFIX/share/fish/vendor_completions.d, which fish searches
#          only when XDG_DATA_DIRS names PREFIX/share.
# Each is asked for only when install or uninstall uses it.
pc_var	= $(shell $(PKG_CONFIG) --variable=$(2) $(1) 2>/dev/null)
# $(call pc_dir,PACKAGE,DEFAULT): PACKAGE's completionsdir if its prefix
# is PREFIX, else DEFAULT.
pc_dir	= $(if $(filter $(PREFIX),$(call pc_var,$(1),prefix)),$(or \
	  $(call pc_var,$(1),completionsdir),$(2)),$(2))
ZSH_FPATH = $(shell zsh -f -c 'print -rl -- $$fpath' 2>/dev/null)
BASHCOMPDIR ?= $(call pc_dir,bash-completion,$(PREFIX)/share/bash-completion/completions)
ZSHCOMPDIR ?= $(or $(firstword $(filter $(PREFIX)/share/zsh/site-functions \
	      $(PREFIX)/share/zsh/vendor-completions,$(ZSH_FPATH))),$(PREFIX)/share/zsh/site-functions)
FISHCOMPDIR ?= $(call pc_dir,fish,$(PREFIX)/share/fish/vendor_completions.d)

CC	?= cc
PKG_CONFIG ?= pkg-config
# libbsd (strtonum, reallocarray, closefrom) and jansson (the fd-passing
# header, ipcrun's own protocol and the control socket's; never user
# messages) and libedit (the REPL's line editing and history).
PKGS	= jansson libbsd-overlay libedit
DEBUG	?= 0
FUZZ_SECONDS ?= 30

WARN	= -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	  -Wstrict-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
	  -Wundef -Wvla -Wno-unused-parameter
# CI sets CI=true: warnings are errors there.
ifneq ($(filter true 1 yes,$(CI)),)
WARN	+= -Werror
endif
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

# Hardening, as a distribution would build it: stack protector and PIE
# always; _FORTIFY_SOURCE in the optimised build only (it needs -O, and
# ASan checks the same calls better), and not when the user sets it.
HARDEN	= -fstack-protector-strong -fPIE
LDHARDEN = -pie -Wl,-z,relro -Wl,-z,now
ifeq ($(DEBUG),1)
B	= build/debug
OPT	= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined
LDSAN	= -fsanitize=address,undefined
FORTIFY	=
else
B	= build/release
OPT	= -O2 -g
LDSAN	=
ifeq ($(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),)
# -U first: some compilers define it already, with another level.
FORTIFY	= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif

# One short line per step ("  CC      cmd/run.o"), as Linux and git print
# them; V=1 prints the whole commands instead, and make -s nothing.
V	?= 0
Q	= @
ifeq ($(V),1)
Q	=
quiet	=
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
quiet	= @
else
quiet	= @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# hiredis (the Redis bus) is optional: without it ipcrun builds, and a
# redis:// address says that this ipcrun was built without Redis. Only
# its --libs: its --cflags put hiredis/ on the include path, where its
# sds.h, read.h and alloc.h would shadow headers of ours
# (<hiredis/async.h> is included by its full name). REDIS=0 leaves it out.
REDIS	?= 1
ifeq ($(REDIS),1)
ifneq ($(shell $(PKG_CONFIG) --exists hiredis 2>/dev/null && echo y),)
PKG_CFLAGS += -DHAVE_HIREDIS
PKG_LIBS   += $(shell $(PKG_CONFIG) --libs hiredis 2>/dev/null)
endif
endif

VERSION	:= $(shell sed -n 's/^\#define IPCRUN_VERSION "\(.*\)"/\1/p' lib/version.h)

BASE_CPPFLAGS = -D_GNU_SOURCE -iquote lib -iquote cmd -iquote build/gen
ALL_CPPFLAGS = $(BASE_CPPFLAGS) $(FORTIFY) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(OPT) $(HARDEN) $(WARN) $(PKG_CFLAGS) $(CFLAGS)
# CFLAGS on the link line too, as make's own rules do (-flto needs it).
ALL_LDFLAGS = $(OPT) $(HARDEN) $(LDHARDEN) $(LDSAN) $(CFLAGS) $(LDFLAGS)

LIB_SRC	= $(wildcard lib/*.c)
CMD_SRC	= $(wildcard cmd/*.c)
OBJ	= $(patsubst %.c,$(B)/%.o,$(LIB_SRC) $(CMD_SRC))
LIB_OBJ	= $(patsubst %.c,$(B)/%.o,$(LIB_SRC))

.PHONY: all check demo deps deps-demo deps-check deps-fuzz deps-bench fuzz-run \
	install uninstall clean fuzz lint bench unit pkgcheck dist FORCE

all: ipcrun

# ./ipcrun is always the binary of the last mode built (release or DEBUG=1).
ipcrun: $(B)/ipcrun FORCE
	@cmp -s $(B)/ipcrun ipcrun || { cp $(B)/ipcrun ipcrun.tmp && mv -f ipcrun.tmp ipcrun; }

$(B)/ipcrun: $(OBJ)
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $(OBJ) $(PKG_LIBS) -lm $(LDLIBS)

# A missing library is named here, not found as an undefined symbol at
# link time.
pkgcheck:
	@$(PKG_CONFIG) --exists $(PKGS) || { \
	    echo "pkg-config: $(PKGS) not found: run 'make deps'" \
	    "(Debian: libjansson-dev libbsd-dev libedit-dev)" >&2; exit 1; }

$(OBJ): | pkgcheck

# The flags of the last build: a change of CFLAGS and the like rebuilds
# everything, as a distribution's flags must reach every object.
# The file is brought up to date as make reads this Makefile, and only
# touched when the flags changed, so that make -n and make -q see a plain
# file, not a target that is always remade.
# Only a make that can build records them: not one that only checks for
# the libraries (make PKG_CONFIG=false pkgcheck, in install.bats), lints
# or packs, and not without the libraries' flags, or the next real build
# would find the file changed and rebuild everything.
FLAGS_NOW = $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LDLIBS)
NO_FLAGS_GOALS = clean distclean uninstall deps deps-% pkgcheck lint dist
ifeq ($(filter $(NO_FLAGS_GOALS),$(MAKECMDGOALS)),)
ifneq ($(PKG_LIBS),)
FLAGS_SYNC := $(shell mkdir -p $(B) && { \
    echo '$(subst ','\'',$(FLAGS_NOW))' | cmp -s - $(B)/flags || \
    echo '$(subst ','\'',$(FLAGS_NOW))' > $(B)/flags; })
endif
endif
$(B)/flags:
	@mkdir -p $(@D)
	@echo '$(subst ','\'',$(FLAGS_NOW))' > $@

$(OBJ) $(B)/ipcrun: $(B)/flags

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(call quiet,CC,$(@:$(B)/%=%))$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d)

# The drain preload is embedded in the binary as a data: URL for
# NODE_OPTIONS=--import "...". Every byte that a URL or NODE_OPTIONS'
# double quotes would take for syntax (% # ? " \ space, control and
# non-ASCII bytes) is percent-encoded, one C string piece per source line.
build/gen/ipcrun-preload.h: share/ipcrun-preload.mjs
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)LC_ALL=C awk 'BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i; \
	    print "/* generated by make from $<: do not edit */" } \
	    { s = ""; for (i = 1; i <= length($$0); i++) { c = substr($$0, i, 1); \
	    if (ord[c] <= 32 || ord[c] >= 127 || index("%#?\"\\", c)) \
	    c = sprintf("%%%02X", ord[c]); s = s c }; printf "\"%s%%0A\"\n", s }' \
	    $< > $@.tmp && mv -f $@.tmp $@

# The first build needs the header before any .d file names it.
$(B)/lib/nodechan.o: build/gen/ipcrun-preload.h

# Debian packages, in layers: what the demo needs (building ipcrun and
# running it), then the test tools, the fuzzer's and the benchmarks'.
# Each target installs only what is missing, says what first, and runs
# apt-get as root or through sudo. Node is not among them: Debian 12's
# nodejs is v18, and ipcrun's tests and demo need v20.
DEPS_DEMO  = gcc make pkgconf libjansson-dev libbsd-dev libedit-dev libhiredis-dev
DEPS_CHECK = $(DEPS_DEMO) bats bats-support bats-assert parallel jq socat \
	     mandoc python3 time bsdutils bash-completion zsh fish openssl \
	     iproute2 redis-server redis-tools
DEPS_FUZZ  = $(DEPS_DEMO) clang libclang-rt-14-dev
DEPS_BENCH = $(DEPS_DEMO) g++ libsimdjson-dev jq socat time parallel \
	     redis-server redis-tools
NODE_HINT  = node v20 or later is needed: Debian 12's nodejs package is \
	     v18; get v20 from https://nodejs.org/en/download or the \
	     NodeSource packages (https://github.com/nodesource/distributions)

# $(call install_deps,WHAT,PACKAGES)
define install_deps
	@if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then \
	    echo "make $(1): not Debian: make sure these (or their like) are installed: $(sort $(2))"; \
	    exit 0; fi; \
	missing=$$(for p in $(sort $(2)); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make $(1): installing the missing Debian packages:" $$missing; \
	    if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	    $$sudo apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
endef

# The node on PATH, if any, must be v20 or later.
define need_node
	@v=$$(node -p 'process.versions.node' 2>/dev/null); \
	case $$v in \
	'') echo "make $(1): no node on PATH; $(NODE_HINT)" >&2; exit 1 ;; \
	[2-9][0-9].*|[1-9][0-9][0-9]*) ;; \
	*) echo "make $(1): node is v$$v; $(NODE_HINT)" >&2; exit 1 ;; \
	esac
endef

deps-demo:
	$(call install_deps,demo,$(DEPS_DEMO))
	$(call need_node,demo)

deps-check:
	$(call install_deps,check,$(DEPS_CHECK))
	$(call need_node,check)

deps-fuzz:
	$(call install_deps,fuzz,$(DEPS_FUZZ))

# pm2 (issue 25's reference), workerpool (issue 27's), BullMQ and rsmq
# (issue 28's) are npm packages, pinned in bench/run-serve, run-tasks and
# run-redis, installed under
# build/bench/ for the benchmark only
deps-bench:
	$(call install_deps,bench,$(DEPS_BENCH))
	$(call need_node,bench)
	@bench/run-serve deps
	@bench/run-redis deps
	@bench/run-tasks deps

deps:
	$(call install_deps,deps,$(DEPS_CHECK) $(DEPS_FUZZ) $(DEPS_BENCH))
	$(call need_node,deps)

demo:
	@$(MAKE) --no-print-directory deps-demo
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

lint:
	@out=$$(mandoc -Tlint -Wwarning man/*.[1-9] 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

# C programs that test lib/ pieces directly (test/unit/*.c), run by the
# bats suite from build/{release,debug}/test/unit/.
UNIT	= $(patsubst test/unit/%.c,$(B)/test/unit/%,$(wildcard test/unit/*.c))
$(B)/test/unit/%: test/unit/%.c test/unit/tap.h $(LIB_OBJ)
	@mkdir -p $(@D)
	$(call quiet,CC,$(@:$(B)/%=%))$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	    $(LIB_OBJ) $(PKG_LIBS) -lm $(LDLIBS)

unit: $(UNIT)

# TEST_JOBS: how many bats files run side by side (test/run; 1: one after
# the other).
check:
	@$(MAKE) --no-print-directory deps-check
	@$(MAKE) --no-print-directory all lint unit
	@DEBUG=$(DEBUG) test/run

FUZZ_TARGETS = $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/*_fuzz.c))
# The lib sources each target links. The scanner is jscan.c and the files
# beside it (its kernels and string decoding).
JSCAN_SRC = $(wildcard lib/jscan*.c)
FUZZ_SRC_jscan_fuzz = $(JSCAN_SRC) lib/frame.c
FUZZ_SRC_v8ser_fuzz = $(wildcard lib/v8ser*.c) lib/buf.c $(JSCAN_SRC)
FUZZ_SRC_v8tag_fuzz = $(wildcard lib/v8tag*.c lib/v8ser*.c) lib/buf.c $(JSCAN_SRC)
FUZZ_SRC_addr_fuzz = lib/addr.c
FUZZ_SRC_fdpass_fuzz = lib/fdpass.c
FUZZ_SRC_route_fuzz = lib/route.c lib/envelope.c lib/words.c $(JSCAN_SRC)
FUZZ_SRC_ctlproto_fuzz = lib/ctlproto.c
.SECONDEXPANSION:
build/fuzz/%: fuzz/%.c $$(FUZZ_SRC_$$*) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(call quiet,FUZZ,$@)clang $(BASE_CPPFLAGS) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(PKG_LIBS) -lm

fuzz:
	@$(MAKE) --no-print-directory deps-fuzz
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	    n=$$(basename $$t); mkdir -p build/fuzz/corpus-$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    dict=; [ -f fuzz/$$n.dict ] && dict=-dict=fuzz/$$n.dict; \
	    ASAN_OPTIONS=quarantine_size_mb=64 $$t $$dict \
		-max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
		build/fuzz/corpus-$$n fuzz/corpus/$$n 2>build/fuzz/$$n.log || \
		{ tail -40 build/fuzz/$$n.log; exit 1; }; \
	    grep -E '^#[0-9]+.*DONE' build/fuzz/$$n.log | tail -1; \
	done

bench:
	@$(MAKE) --no-print-directory deps-bench
	@$(MAKE) --no-print-directory all
	bench/run

# A directory of ours that a shell does not search by itself gets one line
# on how to enable it, for each shell installed. bash: bash-completion's
# directories (XDG_DATA_DIRS unset, and its own); zsh: its built-in $fpath;
# fish: its own vendor directory (XDG_DATA_DIRS unset).
BASH_SEARCHED = /usr/local/share/bash-completion/completions \
	/usr/share/bash-completion/completions \
	$(call pc_var,bash-completion,completionsdir)
FISH_SEARCHED = $(call pc_var,fish,completionsdir)
INSTALL_HINT = make install: $(1) does not look in $(2) by itself: add '$(3)' to $(4)

install: all
	$(call quiet,INSTALL,$(DESTDIR)$(PREFIX))install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(Q)install -m 755 ipcrun $(DESTDIR)$(BINDIR)/ipcrun
	$(Q)install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	$(Q)install -m 644 completions/ipcrun.bash $(DESTDIR)$(BASHCOMPDIR)/ipcrun
	$(Q)install -m 644 completions/_ipcrun $(DESTDIR)$(ZSHCOMPDIR)/_ipcrun
	$(Q)install -m 644 completions/ipcrun.fish $(DESTDIR)$(FISHCOMPDIR)/ipcrun.fish
	@$(if $(filter $(BASHCOMPDIR),$(BASH_SEARCHED)),:,echo "$(call INSTALL_HINT,bash,$(BASHCOMPDIR),source $(BASHCOMPDIR)/ipcrun,~/.bashrc)")
	@$(if $(or $(filter $(ZSHCOMPDIR),$(ZSH_FPATH)),$(if $(ZSH_FPATH),,none)),:,echo "$(call INSTALL_HINT,zsh,$(ZSHCOMPDIR),fpath=($(ZSHCOMPDIR) \$$fpath),~/.zshenv)")
	@$(if $(or $(filter $(FISHCOMPDIR),$(FISH_SEARCHED)),$(if $(shell command -v fish 2>/dev/null),,none)),:,echo "$(call INSTALL_HINT,fish,$(FISHCOMPDIR),set -p fish_complete_path $(FISHCOMPDIR),~/.config/fish/config.fish)")

# The files, then each directory on install's paths that is left empty,
# from the deepest up to PREFIX itself: never one above PREFIX, nor one
# that holds anything else. make keeps no record of what install made, so
# an empty directory that was there before goes too (as rmdir -p would).
uninstall:
	$(call quiet,RM,$(DESTDIR)$(PREFIX))rm -f $(DESTDIR)$(BINDIR)/ipcrun $(DESTDIR)$(BASHCOMPDIR)/ipcrun \
	    $(DESTDIR)$(ZSHCOMPDIR)/_ipcrun $(DESTDIR)$(FISHCOMPDIR)/ipcrun.fish
	$(Q)rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1))
	$(Q)rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))
	@top='$(DESTDIR)$(PREFIX)'; \
	for d in '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' \
	    '$(DESTDIR)$(MANDIR)/man7' '$(DESTDIR)$(BASHCOMPDIR)' \
	    '$(DESTDIR)$(ZSHCOMPDIR)' '$(DESTDIR)$(FISHCOMPDIR)'; do \
	    while case $$d in "$$top"|"$$top"/*) [ "$$d" != / ];; *) false;; esac; do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty -- "$$d"; \
		d=$${d%/*}; \
	    done; \
	done

# The tarball: the files git tracks, as they are in the work tree, under
# ipcrun-VERSION/, written to DIST_DIR. Nothing generated goes in: the
# build makes its one generated header (the preload) with awk.
DIST	= ipcrun-$(VERSION)
DIST_DIR ?= .
dist:
	@git ls-files >/dev/null || { echo "make dist: needs a git checkout" >&2; exit 1; }
	@rm -rf build/dist && mkdir -p build/dist/$(DIST)
	@git ls-files -z | xargs -0 cp -P --parents -t build/dist/$(DIST)
	@tar -C build/dist --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime=@$$(git log -1 --format=%ct) -cf - $(DIST) | \
	    gzip -9n > $(DIST_DIR)/$(DIST).tar.gz.tmp && \
	    mv -f $(DIST_DIR)/$(DIST).tar.gz.tmp $(DIST_DIR)/$(DIST).tar.gz
	@rm -rf build/dist
	@echo "$(DIST_DIR)/$(DIST).tar.gz"

clean:
	rm -rf build ipcrun ipcrun.tmp
