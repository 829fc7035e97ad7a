# Makefile: the front door. Every target bootstraps (installs missing Debian
# packages), configures with CMake + Ninja, and builds before doing its job.
#   make demo     build and run the flagship demo
#   make test     build and run the whole test suite (CTest)
#   make check    the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    run the benchmarks
#   make fuzz     build the FIX libFuzzer target with clang and run it (FUZZ_TIME seconds)
#   make install PREFIX=/some/dir
PREFIX ?= /usr/local
BUILD ?= build
SANBUILD ?= build-san
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
WERROR ?= ON

.PHONY: all bootstrap configure build demo test check bench install clean fuzz fuzz-ticks fuzz-binance fuzz-import

all: build

bootstrap:
	@scripts/bootstrap.sh all

$(BUILD)/build.ninja: | bootstrap
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOURSE_WERROR=$(WERROR) \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

configure: bootstrap $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

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
FUZZ ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_FLAGS ?=
FUZZ_SRC = tests/fuzz/fuzz_fix.c host/fix/codec.c host/fix/session.c host/fix/store.c \
           host/fix/app.c host/fix/engine_book.c host/book/book.c host/risk/risk.c \
           host/core/error.c host/core/fsutil.c host/core/clock.c host/core/config.c
fuzz:
	mkdir -p $(FUZZ)/corpus
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ihost -Iapi -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all $(FUZZ_FLAGS) -I/usr/include/cjson $(FUZZ_SRC) -o $(FUZZ)/fuzz_fix -lcjson -lm
	$(FUZZ)/fuzz_fix -max_total_time=$(FUZZ_TIME) -max_len=8192 -print_final_stats=1 \
	      -artifact_prefix=$(FUZZ)/ \
	      $(FUZZ)/corpus tests/fuzz/corpus

# The tick-file target: compact bar payloads, writer/reader round trips, whole
# files (tests/fuzz/fuzz_ticks.c).
FUZZ_TICKS_SRC = tests/fuzz/fuzz_ticks.c host/ticks/barblock.c host/ticks/format.c \
           host/ticks/reader.c host/ticks/writer.c host/core/error.c host/core/fsutil.c \
           host/core/clock.c
fuzz-ticks:
	mkdir -p $(FUZZ)/corpus-ticks
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ihost -Iapi -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all $(FUZZ_FLAGS) $(FUZZ_TICKS_SRC) -o $(FUZZ)/fuzz_ticks \
	      -lzstd -lpthread -lm
	$(FUZZ)/fuzz_ticks -max_total_time=$(FUZZ_TIME) -max_len=65536 -print_final_stats=1 \
	      -artifact_prefix=$(FUZZ)/ticks- \
	      $(FUZZ)/corpus-ticks tests/fuzz/corpus-ticks

# The Binance feed target: JSON scanner, decimals, snapshot/update sync, L2 book
# (tests/fuzz/fuzz_binance.c).
FUZZ_BINANCE_SRC = tests/fuzz/fuzz_binance.c host/feeds/binance.c host/feeds/l2book.c \
           host/core/error.c
fuzz-binance:
	mkdir -p $(FUZZ)/corpus-binance
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ihost -Iapi -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all $(FUZZ_FLAGS) $(FUZZ_BINANCE_SRC) -o $(FUZZ)/fuzz_binance -lm
	$(FUZZ)/fuzz_binance -max_total_time=$(FUZZ_TIME) -max_len=8192 -print_final_stats=1 \
	      -artifact_prefix=$(FUZZ)/binance- \
	      $(FUZZ)/corpus-binance tests/fuzz/corpus-binance

# The CSV importers (Yahoo, LOBSTER with its orderbook, mapped trades/quotes)
# (tests/fuzz/fuzz_import.c). import.c brings its command's helpers along;
# --gc-sections drops what the target never reaches.
FUZZ_IMPORT_SRC = tests/fuzz/fuzz_import.c host/ticks/import.c host/ticks/lobster.c \
           host/ticks/csvread.c host/ticks/lbook.c host/ticks/binance_import.c \
           host/ticks/writer.c host/ticks/barblock.c host/ticks/format.c host/ticks/cmd_gen.c \
           host/ticks/gen.c host/strategy/bars.c host/feeds/binance.c host/feeds/l2book.c \
           host/cli/cli.c host/core/error.c host/core/fsutil.c host/core/clock.c \
           host/core/config.c host/core/progress.c
fuzz-import:
	mkdir -p $(FUZZ)/corpus-import
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ihost -Iapi -I/usr/include/cjson -I/usr/include/lua5.4 \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(FUZZ_FLAGS) \
	      -ffunction-sections -fdata-sections -Wl,--gc-sections \
	      $(FUZZ_IMPORT_SRC) -o $(FUZZ)/fuzz_import -lcjson -lcsv -lzstd -lm
	$(FUZZ)/fuzz_import -max_total_time=$(FUZZ_TIME) -max_len=8192 -print_final_stats=1 \
	      -artifact_prefix=$(FUZZ)/import- \
	      $(FUZZ)/corpus-import tests/fuzz/corpus-import

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(SANBUILD)
