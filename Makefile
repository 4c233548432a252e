# ipcrun: one hand-written Makefile.
#   make            build ./ipcrun
#   make demo       install deps if missing, build, run the bundled example
#   make check      build, lint the man pages, run the whole test suite
#   make DEBUG=1    the same with ASan and UBSan (objects kept apart)
#   make fuzz       build and run the libFuzzer targets (clang)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share/ipcrun
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC	?= cc
PKG_CONFIG ?= pkg-config
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

ifeq ($(DEBUG),1)
B	= build/debug
OPT	= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined
LDSAN	= -fsanitize=address,undefined
else
B	= build/release
OPT	= -O2 -g
LDSAN	=
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CPPFLAGS += -D_GNU_SOURCE -Ilib -Icmd -DIPCRUN_DATADIR='"$(DATADIR)"'
CFLAGS	?=
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(PKG_CFLAGS) $(CFLAGS)

LIB_SRC	= $(wildcard lib/*.c)
CMD_SRC	= $(wildcard cmd/*.c)
OBJ	= $(patsubst %.c,$(B)/%.o,$(LIB_SRC) $(CMD_SRC))
LIB_OBJ	= $(patsubst %.c,$(B)/%.o,$(LIB_SRC))

.PHONY: all check demo deps install uninstall clean fuzz lint bench FORCE

all: ipcrun

# ./ipcrun is always the binary of the last mode built (release or DEBUG=1).
ipcrun: $(B)/ipcrun FORCE
	@cmp -s $(B)/ipcrun ipcrun || { cp $(B)/ipcrun ipcrun.tmp && mv -f ipcrun.tmp ipcrun; }

$(B)/ipcrun: $(OBJ)
	$(CC) $(OPT) $(LDSAN) $(LDFLAGS) -o $@ $(OBJ) $(PKG_LIBS) $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d)

# Install the Debian packages the build, tests, fuzzing and benchmarks use,
# only when one is missing (as root, or through sudo).
DEB_PKGS = gcc make pkgconf libjansson-dev libbsd-dev libedit-dev \
	   bats bats-support bats-assert jq socat mandoc clang \
	   libclang-rt-14-dev libsimdjson-dev g++ zsh fish time python3
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	    $$sudo apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	@command -v node >/dev/null || { echo "node (v20) is needed: apt-get install nodejs" >&2; exit 1; }

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

lint:
	@out=$$(mandoc -Tlint -Wwarning man/*.[1-9] 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

check: all lint
	@DEBUG=$(DEBUG) test/run

FUZZ_TARGETS = $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/*_fuzz.c))
# The lib sources each target links: FUZZ_SRC_<target>.
FUZZ_SRC_jscan_fuzz = lib/jscan.c lib/frame.c
FUZZ_SRC_addr_fuzz = lib/addr.c
FUZZ_SRC_fdpass_fuzz = lib/fdpass.c
.SECONDEXPANSION:
build/fuzz/%: fuzz/%.c $$(FUZZ_SRC_$$*) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(PKG_LIBS)

fuzz: $(FUZZ_TARGETS)
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

bench: all
	bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 ipcrun $(DESTDIR)$(BINDIR)/ipcrun
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	if ls share/* >/dev/null 2>&1; then install -m 644 share/* $(DESTDIR)$(DATADIR)/; fi
	install -m 644 completions/ipcrun.bash $(DESTDIR)$(BASHCOMPDIR)/ipcrun
	install -m 644 completions/_ipcrun $(DESTDIR)$(ZSHCOMPDIR)/_ipcrun
	install -m 644 completions/ipcrun.fish $(DESTDIR)$(FISHCOMPDIR)/ipcrun.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ipcrun $(DESTDIR)$(BASHCOMPDIR)/ipcrun \
	    $(DESTDIR)$(ZSHCOMPDIR)/_ipcrun $(DESTDIR)$(FISHCOMPDIR)/ipcrun.fish
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build ipcrun
