# Makefile: the front door. Every target bootstraps (installs missing Debian
# packages), configures with CMake + Ninja, and builds before doing its job.
#   make demo     build and run the flagship demo
#   make test     build and run the whole test suite (CTest)
#   make check    the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    run the benchmarks
#   make fuzz     build the FIX libFuzzer target with clang and run it (FUZZ_TIME seconds)
#   make python   build the Python package (module, plugins) in build/python;
#                 install it with /usr/bin/python3 -m pip install --no-build-isolation ./python
#   make install PREFIX=/some/dir
PREFIX ?= /usr/local
BUILD ?= build
SANBUILD ?= build-san
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
WERROR ?= ON

.PHONY: all bootstrap configure build demo test check bench install clean fuzz-build fuzz fuzz-ticks fuzz-binance fuzz-import fuzz-lua fuzz-wsgate fuzz-http fuzz-ws fuzz-config python

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

# libFuzzer needs clang; this path is separate from the gcc build on purpose.
# Each target: build NAME from its sources with ASan + UBSan, then run it for
# FUZZ_TIME seconds on build-fuzz/CORPUS (what it finds) and tests/fuzz/CORPUS
# (the seeds, also run by `make test`). Unreached code is dropped at link time,
# so a target may name a file for the one function it needs; a file the
# target reaches but does not name is a link error, so `make fuzz-build`
# (run by .ci/run) compiles and links every target without running it.
FUZZ ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_FLAGS ?=
FUZZ_CC = clang -g -O1 -std=c11 -D_GNU_SOURCE -Ihost -Iapi -I/usr/include/cjson \
          -I/usr/include/lua5.4 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
          -ffunction-sections -fdata-sections -Wl,--gc-sections $(FUZZ_FLAGS)
# $(call fuzz_run,NAME,CORPUS,SOURCES,LIBRARIES,MAX_LEN[,MORE LIBFUZZER FLAGS])
define fuzz_run
	mkdir -p $(FUZZ)/$(2)
	$(FUZZ_CC) $(3) -o $(FUZZ)/fuzz_$(1) $(4)
	$(if $(FUZZ_BUILD_ONLY),,$(FUZZ)/fuzz_$(1) -max_total_time=$(FUZZ_TIME) -max_len=$(5) -print_final_stats=1 $(6) -artifact_prefix=$(FUZZ)/$(1)- $(FUZZ)/$(2) tests/fuzz/$(2))
endef
FUZZ_TARGETS = fuzz fuzz-ticks fuzz-binance fuzz-import fuzz-lua fuzz-wsgate fuzz-http fuzz-ws fuzz-config fuzz-audit
fuzz-build:
	$(MAKE) $(FUZZ_TARGETS) FUZZ_BUILD_ONLY=1

# FIX codec, session layer and application (tests/fuzz/fuzz_fix.c).
FUZZ_SRC = tests/fuzz/fuzz_fix.c host/fix/codec.c host/fix/dict.c host/fix/dict_fix44.c \
           host/fix/session.c host/fix/session_resend.c host/fix/session_cfg.c host/fix/wal.c host/fix/store.c host/fix/access.c host/core/log.c \
           host/fix/app.c host/fix/app_table.c host/fix/app_journal.c host/fix/app_setup.c \
           host/fix/app_masscancel.c host/fix/app_checkpoint.c host/fix/archive.c host/fix/clset.c \
           host/fix/app_md.c host/fix/app_er.c host/fix/app_reports.c host/fix/app_events.c host/fix/app_forget.c host/fix/app_replay.c host/fix/app_snapshot.c host/fix/app_records.c \
           host/book/engine.c host/book/levels.c host/book/match.c host/book/farlevels.c host/book/view.c host/risk/risk.c \
           host/runtime/rt_config.c host/runtime/rt_queue.c host/runtime/rt_venues.c \
           host/runtime/rt_route.c host/runtime/rt_books.c host/runtime/exec_stats.c host/sor/manager.c host/sor/route.c host/sor/route_lp.c host/sor/route_mixed.c \
           host/plugin/loader.c host/plugin/search.c host/plugin/venue_host.c host/plugin/json_params.c \
           plugins/venues/sim/sim.c plugins/venues/sim/sim_market.c plugins/venues/sim/queue.c plugins/venues/sim/scale.c tests/fuzz/touch_builtin.c host/feeds/l2book.c \
           host/strategy/runtime.c host/strategy/runtime_orders.c host/strategy/runtime_host.c \
           host/core/error.c host/core/fsutil.c host/core/clock.c host/core/config.c \
           host/core/interrupt.c host/core/suggest.c
fuzz:
	$(call fuzz_run,fix,corpus,$(FUZZ_SRC) -Dbrs_plugin_entry=brs__sim_builtin_entry -DBRS_FUZZ_NO_LIVE,-lcjson -lm -ldl,8192)

# Tick files: compact bar and event payloads, writer/reader round trips, whole files
# (tests/fuzz/fuzz_ticks.c).
FUZZ_TICKS_SRC = tests/fuzz/fuzz_ticks.c host/ticks/barblock.c host/ticks/evblock.c host/ticks/format.c \
           host/ticks/reader.c host/ticks/writer.c host/ticks/l3check.c host/core/error.c \
           host/core/fsutil.c host/core/clock.c host/core/interrupt.c
fuzz-ticks:
	$(call fuzz_run,ticks,corpus-ticks,$(FUZZ_TICKS_SRC),-lzstd -lpthread -lm,65536)

# The Binance feed: JSON scanner, decimals, snapshot/update sync, L2 book
# (tests/fuzz/fuzz_binance.c).
FUZZ_BINANCE_SRC = tests/fuzz/fuzz_binance.c host/feeds/binance.c host/feeds/binance_scan.c host/feeds/l2book.c \
           host/core/error.c
fuzz-binance:
	$(call fuzz_run,binance,corpus-binance,$(FUZZ_BINANCE_SRC),-lm,8192)

# The CSV importers: Yahoo, LOBSTER with its orderbook, mapped trades/quotes
# (tests/fuzz/fuzz_import.c; import.c brings its command's helpers along).
FUZZ_IMPORT_SRC = tests/fuzz/fuzz_import.c host/ticks/import.c host/ticks/sink.c host/ticks/lobster.c \
           host/ticks/csvread.c host/ticks/lbook.c host/ticks/binance_import.c \
           host/ticks/writer.c host/ticks/barblock.c host/ticks/evblock.c host/ticks/format.c host/ticks/cmd_gen.c \
           host/ticks/gen.c host/strategy/bars.c host/feeds/binance.c host/feeds/binance_scan.c host/feeds/l2book.c \
           host/cli/cli.c host/core/error.c host/core/fsutil.c host/core/clock.c \
           host/core/config.c host/core/progress.c host/core/log.c host/core/suggest.c \
           host/core/interrupt.c host/ticks/reader.c \
           host/ticks/l3check.c
fuzz-import:
	$(call fuzz_run,import,corpus-import,$(FUZZ_IMPORT_SRC),-lcjson -lcsv -lzstd -lpthread -lm,8192)

# The Lua sandbox: generated Lua source through the `strategy check` steps
# (tests/fuzz/fuzz_lua.c), with a dictionary of Lua tokens and library names.
# -timeout: 5x the wall time of the slowest input the harness's budgets allow
# (docs/lua-api.md, "Fuzzing the sandbox").
FUZZ_LUA_SRC = tests/fuzz/fuzz_lua.c host/strategy/lua_sandbox.c host/strategy/lua_safelib.c \
           host/strategy/lua_pattern.c host/strategy/lua_strategy.c host/strategy/lua_indicators.c \
           host/strategy/lua_ctx.c host/strategy/lua_load.c host/strategy/runtime_orders.c host/strategy/runtime_host.c \
           host/strategy/runtime.c host/strategy/simfill.c host/strategy/bars.c \
           host/core/error.c host/core/fsutil.c host/core/clock.c host/core/interrupt.c
FUZZ_LUA_TIMEOUT ?= 10
fuzz-lua:
	$(call fuzz_run,lua,corpus-lua,$(FUZZ_LUA_SRC),-l:liblua5.4.a -lcjson -lm,8192,-dict=tests/fuzz/lua.dict -timeout=$(FUZZ_LUA_TIMEOUT))

# `bourse audit`'s readers over a damaged or hand-made state directory: the
# journal and a session store in, rows linked, ordered and printed
# (tests/fuzz/fuzz_audit.c).
FUZZ_AUDIT_SRC = tests/fuzz/fuzz_audit.c host/ops/audit.c host/ops/audit_read.c host/fix/codec.c \
                 host/fix/dict.c host/fix/dict_fix44.c host/core/error.c
fuzz-audit:
	$(call fuzz_run,audit,corpus-audit,$(FUZZ_AUDIT_SRC),-lcjson,65536)

# WebSocket order-entry messages (tests/fuzz/fuzz_wsgate_msg.c): JSON in,
# a checked request or a refusal naming the field.
FUZZ_WSGATE_SRC = tests/fuzz/fuzz_wsgate_msg.c host/wsgate/msg.c host/core/error.c
fuzz-wsgate:
	$(call fuzz_run,wsgate,corpus-wsgate,$(FUZZ_WSGATE_SRC),-lcjson,65536)

# The operators' HTTP server's request parser (tests/fuzz/fuzz_http.c): bytes
# in, "more", a documented refusal or a request the routes can rely on.
FUZZ_HTTP_SRC = tests/fuzz/fuzz_http.c host/ops/http_req.c host/ws/http_head.c host/ws/http_body.c host/core/error.c
fuzz-http:
	$(call fuzz_run,http,corpus-http,$(FUZZ_HTTP_SRC),,9280,-dict=tests/fuzz/http.dict)

# The WebSocket opening handshake on both ends and a server connection behind
# it (tests/fuzz/fuzz_ws.c): upgrade requests, 101 answers, then frames.
FUZZ_WS_SRC = tests/fuzz/fuzz_ws.c host/ws/upgrade.c host/ws/http_head.c host/ws/http_body.c host/ws/ws_server.c host/ws/frame.c \
              host/ws/ws.c host/ws/net.c host/core/error.c host/core/clock.c
fuzz-ws:
	$(call fuzz_run,ws,corpus-ws,$(FUZZ_WS_SRC),-lwslay -lssl -lcrypto,16384,-dict=tests/fuzz/http.dict)

# Configuration files (tests/fuzz/fuzz_config.c): any text through the JSON
# loader, then the validators of bourse serve, a book-mode backtest and
# bourse record/live; every refusal names the file. The validators reach most
# of the host, hence the long list (what they reach but it lacks fails to link).
FUZZ_CONFIG_SRC = tests/fuzz/fuzz_config.c host/core/config.c host/core/error.c host/fix/server_cfg.c \
                  host/backtest/book_mode.c host/record/feed_config.c host/analytics/benchmark.c \
                  host/analytics/csv_table.c host/analytics/metrics.c host/analytics/plots.c host/analytics/recorder.c \
                  host/analytics/report.c host/analytics/report_data.c host/analytics/rundir.c host/analytics/stats.c \
                  host/book/engine.c host/book/farlevels.c host/book/view.c host/book/levels.c host/book/match.c host/core/clock.c \
                  host/core/fsutil.c host/core/interrupt.c host/core/log.c host/core/progress.c host/core/suggest.c \
                  host/feeds/binance.c host/feeds/binance_live.c host/feeds/binance_scan.c host/feeds/l2book.c \
                  host/fix/access.c host/fix/codec.c host/fix/dict.c host/fix/dict_fix44.c host/fix/session_cfg.c \
                  host/fix/session_log.c host/ops/http.c host/ops/http_req.c host/ops/metrics.c host/ops/run_metrics.c \
                  host/plugin/json_params.c host/plugin/loader.c host/plugin/search.c host/plugin/venue_host.c \
                  host/risk/risk.c host/runtime/exec_stats.c host/runtime/rt_config.c host/runtime/rt_feed.c \
                  host/runtime/rt_hosted.c host/runtime/rt_queue.c host/runtime/rt_route.c host/runtime/rt_strategy.c \
                  host/runtime/rt_venues.c host/runtime/rt_books.c host/sor/manager.c host/sor/route.c host/sor/route_lp.c \
                  host/sor/route_mixed.c host/strategy/lua_ctx.c host/strategy/lua_indicators.c \
                  host/strategy/lua_load.c host/strategy/lua_pattern.c host/strategy/lua_safelib.c \
                  host/strategy/lua_sandbox.c host/strategy/lua_strategy.c host/strategy/reload_watch.c \
                  host/strategy/runtime.c host/strategy/runtime_host.c host/strategy/runtime_orders.c \
                  host/strategy/source.c host/ticks/barblock.c host/ticks/evblock.c host/ticks/format.c \
                  host/ticks/l3check.c host/ticks/merge.c host/ticks/reader.c host/ws/frame.c host/ws/http_head.c host/ws/http_body.c \
                  host/ws/net.c host/ws/upgrade.c host/ws/ws.c host/ws/ws_server.c host/wsgate/msg.c \
                  host/wsgate/wsgate.c host/wsgate/wsgate_orders.c plugins/venues/sim/queue.c \
                  plugins/venues/sim/scale.c plugins/venues/sim/sim.c plugins/venues/sim/sim_market.c \
                  tests/fuzz/touch_builtin.c tests/fuzz/no_assets.c
fuzz-config:
	$(call fuzz_run,config,corpus-config,$(FUZZ_CONFIG_SRC) -Dbrs_plugin_entry=brs__sim_builtin_entry,-lcjson -lcsv -lzstd -lssl -lcrypto -lwslay -l:liblua5.4.a -lpthread -lm -ldl,65536)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(SANBUILD)

