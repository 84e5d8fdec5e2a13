# lsrec — build and test entry points (GNU make).
#
#   make lib          liblsrec.so linked against the Swift toolchain's runtime  -> build/lib/
#   make lib-static   liblsrec.so with the Swift runtime linked in statically   -> build/static/
#                     (needs only libc, libm, libstdc++, libgcc_s, libopenblas at run time)
#   make examples     the C example(s) in examples/c, linked against build/static
#   make test-c       C ABI tests (Tests/capi) and the C example on the fixture model
#   make test         swift test, then test-c  (the project's test command)
#   make cli          the `lsrec` command-line tool                           -> build/bin/lsrec
#   make demo         the main job (README): train, evaluate, recommend through the C API
#   make bench        C API latency table on MODEL (default: the fixture)
#   make install      build/static/liblsrec.so and lsrec.h into $(DESTDIR)$(PREFIX)/{lib,include}
#   make clean        remove build/ and the static-stdlib scratch directory
#   make distclean    clean, and SwiftPM's default scratch directory .build too
#
# Variables you may override: CC, CFLAGS, SWIFT, SWIFT_TEST_FLAGS, PREFIX, DESTDIR.

SWIFT            ?= swift
CC               ?= cc
PREFIX           ?= /usr/local
SWIFT_TEST_FLAGS ?=

# C code is held to a warning-free C11 standard.
CSTD     := -std=c11
CFLAGS   ?= -O2 -g
CWARN    := -Wall -Wextra -Werror
CPPFLAGS += -Iinclude

# The committed test model (300 items, d = 16, L = 20, random weights) the C tests expect.
FIXTURE  := Tests/Fixtures/tiny-random.lsrec

BUILD        := build
LIB_DIR      := $(BUILD)/lib
STATIC_DIR   := $(BUILD)/static
BIN_DIR      := $(BUILD)/bin

# SwiftPM scratch paths: the default one for the ordinary build (shared with `swift test`),
# a separate one for the static-stdlib build (its flags would otherwise invalidate the cache).
SCRATCH        := .build
SCRATCH_STATIC := .build-static
SWIFT_BUILD    := $(SWIFT) build -c release --product lsrec

# C programs link against the static-stdlib library, found at run time through an rpath.
LDFLAGS_LSREC := -L$(STATIC_DIR) -llsrec -Wl,-rpath,$(abspath $(STATIC_DIR)) -lpthread -lm
C_HEADERS     := include/lsrec.h

EXAMPLES  := $(BIN_DIR)/recommend
CAPI_TEST := $(BIN_DIR)/capi_test

.PHONY: all lib lib-static examples test test-c swift-test install clean distclean cli demo bench
.DELETE_ON_ERROR:

all: lib lib-static examples

# ---- Libraries -------------------------------------------------------------------------------
# Phony on purpose: SwiftPM knows when the Swift sources changed; a no-op build takes a second.

lib:
	$(SWIFT_BUILD) --scratch-path $(SCRATCH)
	@mkdir -p $(LIB_DIR)
	cp $(SCRATCH)/release/liblsrec.so $(LIB_DIR)/liblsrec.so
	@echo "built $(LIB_DIR)/liblsrec.so"

lib-static:
	$(SWIFT_BUILD) -Xswiftc -static-stdlib --scratch-path $(SCRATCH_STATIC)
	@mkdir -p $(STATIC_DIR)
	cp $(SCRATCH_STATIC)/release/liblsrec.so $(STATIC_DIR)/liblsrec.so
	@# The point of this library: it must not need the Swift toolchain at run time.
	@if ldd $(STATIC_DIR)/liblsrec.so | grep -E '/opt/swift|libswift|not found'; then \
	    echo "error: $(STATIC_DIR)/liblsrec.so still depends on the libraries above" >&2; \
	    rm -f $(STATIC_DIR)/liblsrec.so; exit 1; \
	fi
	@echo "built $(STATIC_DIR)/liblsrec.so (no Swift runtime dependency)"

# ---- C programs ------------------------------------------------------------------------------

examples: $(EXAMPLES)

# Each C program depends on lib-static (phony), so it is relinked whenever make runs it;
# that is cheap and never links against a stale library.
$(BIN_DIR)/recommend: examples/c/recommend.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/capi_test: Tests/capi/capi_test.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

# ---- Tests -----------------------------------------------------------------------------------

# The C ABI tests, then the example as a smoke/link test (it calls every function in lsrec.h).
test-c: $(CAPI_TEST) $(EXAMPLES)
	$(CAPI_TEST) $(FIXTURE)
	$(BIN_DIR)/recommend $(FIXTURE)

swift-test:
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

# Sequential on purpose (even under make -j): Swift tests first, then the C side.
test:
	$(MAKE) --no-print-directory swift-test
	$(MAKE) --no-print-directory test-c

# ---- Command-line tool, main job, benchmarks ---------------------------------------------------

# The `lsrec` tool (SwiftPM product lsrec-cli), release build, installed as build/bin/lsrec.
cli:
	$(SWIFT) build -c release --product lsrec-cli --scratch-path $(SCRATCH)
	@mkdir -p $(BIN_DIR)
	cp $(SCRATCH)/release/lsrec-cli $(BIN_DIR)/lsrec

# The main job (README): see scripts/demo.sh.
demo: cli examples
	bash scripts/demo.sh

# Latency of the C API on a model (default: the fixture; `make bench MODEL=out/model.lsrec`).
MODEL ?= $(FIXTURE)
$(BIN_DIR)/bench: bench/bench.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

bench: $(BIN_DIR)/bench
	$(BIN_DIR)/bench $(MODEL) 7

# ---- Install, clean --------------------------------------------------------------------------

install: lib-static
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(STATIC_DIR)/liblsrec.so $(DESTDIR)$(PREFIX)/lib/liblsrec.so
	install -m 0644 include/lsrec.h $(DESTDIR)$(PREFIX)/include/lsrec.h

clean:
	rm -rf $(BUILD) $(SCRATCH_STATIC)

distclean: clean
	rm -rf $(SCRATCH)
