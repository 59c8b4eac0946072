# pkgflat: plain Makefile. Dependencies come from pkg-config.
#   make            build libpkgflat.a, libpkgflat.so and pkgflat
#   make check      build and run every test (scripts/run-tests)
#   make deps-check the layering: no upward call, no cycle between files
#   make asan       the test suite under AddressSanitizer + UBSan
#   make ubsan      the test suite under UBSan alone
#   make fuzz       libFuzzer harnesses (clang, ASan+UBSan)
#   make fuzz-run   each harness for FUZZ_SECONDS (20); fuzz-long: an hour
#   make install    PREFIX=/usr/local DESTDIR= (LIBDIR, MANDIR, ... below)
#   make bench      benchmarks (see scripts/bench)

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
DESTDIR ?=
BUILD   ?= build

CC      ?= cc
PKG_CONFIG ?= pkg-config
DEPS    := libxml-2.0 libplist-2.0 libarchive libcrypto zlib liblzma libdeflate
# Headers only: src/lib/ops/net.c loads libcurl when a command first needs
# the network (dlopen), so that it and its ~25 libraries do not slow the
# start of every run; nothing links it.
HDR_DEPS := libcurl

ifeq ($(filter clean uninstall,$(MAKECMDGOALS)),)
MISSING := $(foreach d,$(DEPS) $(HDR_DEPS),$(if $(shell $(PKG_CONFIG) --exists $(d) && echo y),,$(d)))
# libbz2 has no .pc file on Debian 12: look for its header instead.
MISSING += $(if $(shell printf '\043include <bzlib.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo y),,libbz2-dev)
ifneq ($(strip $(MISSING)),)
$(error missing build dependencies (pkg-config): $(MISSING); run scripts/install-deps as root)
endif
# ISA-L inflates payloads about 2.4 times as fast as zlib (gzip_read.c);
# Debian builds it for amd64 and arm64 only, so elsewhere, or with
# PKGFLAT_NO_ISAL=1, zlib decodes.
ifeq ($(PKGFLAT_NO_ISAL),)
ifeq ($(shell $(PKG_CONFIG) --exists libisal && echo y),y)
DEPS += libisal
CPPFLAGS += -DPKGFLAT_HAVE_ISAL
endif
endif
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS) $(HDR_DEPS))
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS))
endif

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wvla
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -pthread $(WARN) $(EXTRA_CFLAGS)
CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude $(DEP_CFLAGS)
# libbz2 ships no .pc file on Debian 12.
LDLIBS  += $(DEP_LIBS) -lbz2 -pthread

# The library in layers, lowest first; a file may use only its own layer
# and those before it (scripts/deps-check, docs/ARCHITECTURE.md).
LIB_LAYERS := base format model ops
LIB_INC := $(LIB_LAYERS:%=-Isrc/lib/%)
LIB_SRC := $(sort $(foreach l,$(LIB_LAYERS),$(wildcard src/lib/$(l)/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

SONAME  := libpkgflat.so.0

all: $(BUILD)/pkgflat $(BUILD)/libpkgflat.a $(BUILD)/libpkgflat.so \
     $(BUILD)/unit-tests $(BUILD)/gzin-zlib-tests $(BUILD)/fuzz-replay $(BUILD)/pkgflat.pc $(BUILD)/xarcheck \
     $(BUILD)/faultinj.so

$(LIB_OBJ) $(PIC_OBJ): CPPFLAGS += $(LIB_INC)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The shared library exports only what include/pkgflat.h declares (the
# header sets default visibility for its declarations).
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

# Unit tests may look inside the library.
$(UNIT_OBJ): CPPFLAGS += $(LIB_INC)

$(BUILD)/libpkgflat.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libpkgflat.so: $(PIC_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)

$(BUILD)/pkgflat: $(CLI_OBJ) $(BUILD)/libpkgflat.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libpkgflat.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The gzip reader's zlib decoder, used where ISA-L is not built: its unit
# tests, against a gzip_read.o without ISA-L (the archive's is not pulled).
$(BUILD)/zlib/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIB_INC) -UPKGFLAT_HAVE_ISAL -DUNIT_LABEL='"unit-zlib"' \
	    $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gzin-zlib-tests: $(BUILD)/zlib/tests/unit/main.o \
    $(BUILD)/zlib/tests/unit/test_gzin.o $(BUILD)/zlib/src/lib/format/gzip_read.o \
    $(BUILD)/libpkgflat.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Replays every fuzz corpus file through every harness (no libFuzzer needed).
$(BUILD)/fuzz-replay: tests/fuzz/replay.c $(FUZZ_SRC) $(BUILD)/libpkgflat.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIB_INC) $(CFLAGS) -o $@ tests/fuzz/replay.c $(FUZZ_SRC) \
	    $(BUILD)/libpkgflat.a $(LDLIBS)

# A test-only XAR checker, independent of the library's writer.
$(BUILD)/xarcheck: tests/tools/xarcheck.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# The fault-injection shim (tests/cli/test_faults.sh): never instrumented,
# whatever the build, as it sits under the sanitizer's own interceptors.
$(BUILD)/faultinj.so: tests/tools/faultinj.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g $(WARN) $(EXTRA_CFLAGS) -fPIC -shared -o $@ $< -ldl

# Written again by install, so that it names the PREFIX installed to.
write_pc = printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
	  'Name: pkgflat' 'Description: legacy macOS bundle packages to flat product archives' \
	  'Version: 0.1.0' 'Requires.private: $(DEPS)' \
	  'Libs: -L$${libdir} -lpkgflat' 'Libs.private: -lbz2 -pthread' 'Cflags: -I$${includedir}' > $(1)

$(BUILD)/pkgflat.pc: Makefile
	@mkdir -p $(dir $@)
	$(call write_pc,$@)

check: all
	scripts/deps-check --build $(BUILD)
	scripts/run-tests

# The layering (docs/ARCHITECTURE.md): no call from a lower layer up, no
# cycle between files, the CLI on the public API only (scripts/deps-check).
deps-check: all
	scripts/deps-check --build $(BUILD)

# GCC leaves float-cast-overflow out of "undefined" (clang does not): name it.
SAN_UB := undefined,float-cast-overflow
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,$(SAN_UB) -fno-sanitize-recover=$(SAN_UB)
asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,$(SAN_UB)" all
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    BUILD=build-asan TEST_CFLAGS="-fsanitize=address,$(SAN_UB)" scripts/run-tests

ubsan:
	$(MAKE) BUILD=build-ubsan CFLAGS="-O1 -g -fsanitize=$(SAN_UB) -fno-sanitize-recover=$(SAN_UB)" \
	    LDFLAGS="-fsanitize=$(SAN_UB)" all
	BUILD=build-ubsan TEST_CFLAGS="-fsanitize=$(SAN_UB)" scripts/run-tests

# libFuzzer harnesses under ASan+UBSan: every tests/fuzz/fuzz_*.c, found
# by wildcard so that a new harness needs no edit here.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
fuzz:
	$(MAKE) CC=clang BUILD=build-fuzz CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	    LDFLAGS="$(FUZZ_SAN)" build-fuzz/libpkgflat.a
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$f -> build-fuzz/$$n"; \
	  clang $(CPPFLAGS) -DPKGFLAT_LIBFUZZER $(LIB_INC) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer \
	    -o build-fuzz/$$n $$f build-fuzz/libpkgflat.a $(LDLIBS) || exit 1; done

# Each harness for FUZZ_SECONDS from its corpus; a crash fails (scripts/fuzz).
FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz

fuzz-long:
	$(MAKE) fuzz-run FUZZ_SECONDS=$(if $(filter file,$(origin FUZZ_SECONDS)),3600,$(FUZZ_SECONDS))

bench: all
	scripts/bench
	[ "$(BENCH_IMAGE)" = 0 ] || scripts/bench-image

install: $(BUILD)/pkgflat $(BUILD)/libpkgflat.a $(BUILD)/libpkgflat.so install-docs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)
	install -m 755 $(BUILD)/pkgflat $(DESTDIR)$(BINDIR)/pkgflat
	install -m 644 $(BUILD)/libpkgflat.a $(DESTDIR)$(LIBDIR)/libpkgflat.a
	install -m 755 $(BUILD)/libpkgflat.so $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libpkgflat.so
	install -m 644 include/pkgflat.h $(DESTDIR)$(INCDIR)/pkgflat.h
	$(call write_pc,$(DESTDIR)$(LIBDIR)/pkgconfig/pkgflat.pc)

# --- man pages and shell completions -------------------------------------
MAN_SRC := $(sort $(wildcard docs/man/*.1))

install-docs:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 $(MAN_SRC) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 completions/pkgflat.bash $(DESTDIR)$(BASHCOMPDIR)/pkgflat
	install -m 644 completions/_pkgflat $(DESTDIR)$(ZSHCOMPDIR)/_pkgflat

uninstall-docs:
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_SRC))) \
	  $(DESTDIR)$(BASHCOMPDIR)/pkgflat $(DESTDIR)$(ZSHCOMPDIR)/_pkgflat
# --------------------------------------------------------------------------

uninstall: uninstall-docs
	rm -f $(DESTDIR)$(BINDIR)/pkgflat $(DESTDIR)$(LIBDIR)/libpkgflat.a \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libpkgflat.so \
	  $(DESTDIR)$(INCDIR)/pkgflat.h $(DESTDIR)$(LIBDIR)/pkgconfig/pkgflat.pc

clean:
	rm -rf build build-asan build-ubsan build-fuzz

.PHONY: all check deps-check asan ubsan fuzz fuzz-run fuzz-long bench install uninstall clean install-docs uninstall-docs

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(wildcard $(BUILD)/zlib/*/*/*.d $(BUILD)/zlib/*/*/*/*.d)
