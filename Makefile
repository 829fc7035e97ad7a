# Makefile: the front door. Every target bootstraps (installs missing Debian
# packages), configures with CMake + Ninja, and builds before doing its job.
#   make demo     build and run the flagship demo
#   make test     build and run the whole test suite (CTest)
#   make check    the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    run the benchmarks
#   make fuzz     build the FIX libFuzzer target with clang and run it (FUZZ_TIME seconds);
#                 make fuzz-build builds every fuzz target, make fuzz-ticks etc. run one
#   make python   build the Python package (module, plugins) in build/python;
#                 install it with /usr/bin/python3 -m pip install --no-build-isolation ./python
#   make install PREFIX=/some/dir
PREFIX ?= /usr/local
BUILD ?= build
SANBUILD ?= build-san
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
WERROR ?= ON

.PHONY: all bootstrap configure build demo test check bench install clean fuzz-configure fuzz-build fuzz fuzz-ticks fuzz-binance fuzz-import fuzz-lua fuzz-wsgate fuzz-http fuzz-ws fuzz-wstls fuzz-config fuzz-audit fuzz-restart fuzz-report fuzz-sweep python

all: build

bootstrap:
	@scripts/bootstrap.sh all

$(BUILD)/build.ninja: | bootstrap
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOURSE_WERROR=$(WERROR) \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

configure: bootstrap $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The bourse Python package: the _bourse extension over bourse_core, staged with
# python/bourse/*.py in $(BUILD)/python (PYTHONPATH=$(BUILD)/python imports it);
# `pip install ./python` (docs/python.md) builds the same target and installs it.
python: configure
	cmake --build $(BUILD) -j $(JOBS) --target bourse_python

demo: build
	@scripts/demo.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

$(SANBUILD)/build.ninja: | bootstrap
	cmake -S . -B $(SANBUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBOURSE_SANITIZE=ON \
	      -DBOURSE_WERROR=$(WERROR) $(CMAKE_FLAGS)

check: bootstrap $(SANBUILD)/build.ninja
	cmake --build $(SANBUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SANBUILD) --output-on-failure -j $(JOBS) --timeout 1800 -LE nosan

bench: build
	@scripts/bench.sh $(BUILD)

# Fuzzing (docs/fuzzing.md). libFuzzer needs clang, so the fuzz targets have
# their own CMake build, $(FUZZ), of the same CMakeLists and source lists as
# $(BUILD), with BOURSE_FUZZ=ON: bourse_core instrumented (ASan + UBSan +
# libFuzzer's coverage), each harness tests/fuzz/fuzz_NAME.c linked against it
# as fuzz_NAME (tests/fuzz/CMakeLists.txt). A file added to or split in host/
# needs no edit here. `make fuzz-build` (run by .ci/run) builds every target;
# each target below runs one for FUZZ_TIME seconds on $(FUZZ)/CORPUS (what it
# finds) and tests/fuzz/CORPUS (the seeds, which `make test` also runs).
# FUZZ_FLAGS: extra compiler flags.
FUZZ ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_FLAGS ?=

# Configured every time (a few seconds) so that FUZZ_FLAGS always applies; CC
# counts only the first time. No -Werror: warnings are the gcc build's business.
fuzz-configure: bootstrap
	CC=clang cmake -S . -B $(FUZZ) -G Ninja -DBOURSE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug -DBOURSE_WERROR=OFF \
	      "-DCMAKE_C_FLAGS=$(FUZZ_FLAGS)" >/dev/null

fuzz-build: fuzz-configure
	cmake --build $(FUZZ) -j $(JOBS) --target fuzz_targets

# $(call fuzz_run,NAME,CORPUS,MAX_LEN[,MORE LIBFUZZER FLAGS]): run fuzz_NAME.
# Every target builds them all first (one ninja in $(FUZZ) at a time, so
# `make -j2 fuzz fuzz-http` is safe; the other targets cost a link each).
define fuzz_run
	mkdir -p $(FUZZ)/$(2)
	$(FUZZ)/fuzz_$(1) -max_total_time=$(FUZZ_TIME) -max_len=$(3) -print_final_stats=1 $(4) -artifact_prefix=$(FUZZ)/$(1)- $(FUZZ)/$(2) tests/fuzz/$(2)
endef

# FIX codec, session layer and application (tests/fuzz/fuzz_fix.c).
fuzz: fuzz-build
	$(call fuzz_run,fix,corpus,8192)

# Tick files: compact bar and event payloads, writer/reader round trips, whole files
# (tests/fuzz/fuzz_ticks.c).
fuzz-ticks: fuzz-build
	$(call fuzz_run,ticks,corpus-ticks,65536)

# The Binance feed: JSON scanner, decimals, snapshot/update sync, L2 book
# (tests/fuzz/fuzz_binance.c).
fuzz-binance: fuzz-build
	$(call fuzz_run,binance,corpus-binance,8192)

# The CSV importers: Yahoo, LOBSTER with its orderbook, mapped trades/quotes
# (tests/fuzz/fuzz_import.c).
fuzz-import: fuzz-build
	$(call fuzz_run,import,corpus-import,8192)

# The Lua sandbox: generated Lua source through the `strategy check` steps
# (tests/fuzz/fuzz_lua.c), with a dictionary of Lua tokens and library names.
# -timeout: 5x the wall time of the slowest input the harness's budgets allow
# (docs/lua-api.md, "Fuzzing the sandbox").
FUZZ_LUA_TIMEOUT ?= 10
fuzz-lua: fuzz-build
	$(call fuzz_run,lua,corpus-lua,8192,-dict=tests/fuzz/lua.dict -timeout=$(FUZZ_LUA_TIMEOUT))

# `bourse audit`'s readers over a damaged or hand-made state directory: the
# journal and a session store in, rows linked, ordered and printed
# (tests/fuzz/fuzz_audit.c).
fuzz-audit: fuzz-build
	$(call fuzz_run,audit,corpus-audit,65536)

# The FIX gateway's recovery (tests/fuzz/fuzz_restart.c): the same damaged
# state directories replayed as `bourse serve` does at start, then driven on.
fuzz-restart: fuzz-build
	$(call fuzz_run,restart,corpus-audit,65536)

# `bourse report` (tests/fuzz/fuzz_report.c): a run directory's files as a
# user may have edited them, and a sweep's results.csv, rendered.
fuzz-report: fuzz-build
	$(call fuzz_run,report,corpus-report,65536)

# `bourse sweep`'s axes and --where grammar (tests/fuzz/fuzz_sweep.c).
fuzz-sweep: fuzz-build
	$(call fuzz_run,sweep,corpus-sweep,4096)

# WebSocket order-entry messages (tests/fuzz/fuzz_wsgate_msg.c): JSON in,
# a checked request or a refusal naming the field.
fuzz-wsgate: fuzz-build
	$(call fuzz_run,wsgate,corpus-wsgate,65536)

# The operators' HTTP server's request parser (tests/fuzz/fuzz_http.c): bytes
# in, "more", a documented refusal or a request the routes can rely on.
fuzz-http: fuzz-build
	$(call fuzz_run,http,corpus-http,9280,-dict=tests/fuzz/http.dict)

# The WebSocket opening handshake on both ends and a server connection behind
# it (tests/fuzz/fuzz_ws.c): upgrade requests, 101 answers, then frames.
fuzz-ws: fuzz-build
	$(call fuzz_run,ws,corpus-ws,16384,-dict=tests/fuzz/http.dict)

# The same server connection over TLS (tests/fuzz/fuzz_wstls.c): a script of
# what a client does (raw bytes, a real handshake, records, frames, a
# renegotiation or key update, close_notify or not, the clock).
fuzz-wstls: fuzz-build
	$(call fuzz_run,wstls,corpus-wstls,16384)

# Configuration files (tests/fuzz/fuzz_config.c): any text through the JSON
# loader, then the validators of bourse serve, a book-mode backtest and
# bourse record/live; every refusal names the file.
fuzz-config: fuzz-build
	$(call fuzz_run,config,corpus-config,65536)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(SANBUILD)

