#!/bin/sh
# gen-demo-ticks.sh: regenerates the bundled synthetic market data/demo.ticks.zst
# (no configuration: the options below are the whole recipe, and `bourse gen`
# gives the same bytes everywhere). Usage: scripts/gen-demo-ticks.sh [BUILD_DIR]
set -eu
build=${1:-build}
"$build/bourse" gen --seed 20240102 --events 20000 --symbols 2 -o data/demo.ticks.zst
"$build/bourse" ticks info data/demo.ticks.zst
