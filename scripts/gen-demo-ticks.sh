#!/bin/sh
# gen-demo-ticks.sh: regenerates the bundled synthetic markets (no configuration:
# the options below are the whole recipe, and `bourse gen` gives the same bytes
# everywhere). Usage: scripts/gen-demo-ticks.sh [BUILD_DIR]
#  - data/demo.ticks.zst: two symbols, the quiet generator (the tick-format
#    examples; its mid barely moves);
#  - data/book.ticks.zst: two symbols whose mids move (30 bp per sqrt(minute)
#    in volatile stretches, a quarter of that in calm ones, 20 s on average),
#    about 3 minutes at 300 messages/s: the book-mode demo (demo-book.json);
#  - data/mm.ticks.zst: one symbol at 100 messages/s whose mid alternates calm
#    (7.5 bp per sqrt(minute)) and volatile (30 bp) stretches of 20 s on
#    average, so the market maker of data/configs/mm_two_venues.json has a
#    volatility to adapt its spread to (docs/backtesting.md, tests/mm).
# All three are written --plain (64-byte records, format version 1): the old
# format stays under test, and older builds read them (docs/tick-format.md).
set -eu
build=${1:-build}
"$build/bourse" gen --seed 20240102 --events 20000 --symbols 2 --plain -o data/demo.ticks.zst
"$build/bourse" ticks info data/demo.ticks.zst
"$build/bourse" gen --seed 14 --events 30000 --symbols 1 --rate 100 --vol 30 --regime 20 --level 19 --plain \
    -o data/mm.ticks.zst
"$build/bourse" ticks info data/mm.ticks.zst
"$build/bourse" gen --seed 20240103 --events 60000 --symbols 2 --rate 300 --vol 30 --regime 20 --level 19 --plain \
    -o data/book.ticks.zst
"$build/bourse" ticks info data/book.ticks.zst
