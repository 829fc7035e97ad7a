#!/bin/sh
# demo.sh: what `make demo` runs once the build is done: the flagship backtests.
#  1. book mode: the bundled L3 tick file (data/demo.ticks.zst) replayed into a
#     simulated venue, a Lua strategy trading on top of book with latency and fees;
#  2. signal mode: bundled synthetic daily bars (data/bars/DEMO.csv) with a Lua
#     SMA crossover giving target positions, executed at the next open with
#     commission, slippage and impact;
#  3. a small parameter sweep of (2) in parallel worker processes.
# Each prints its key metrics and where its report.html is (runs/ is git-ignored).
set -eu
build=${1:-build}
bourse="$build/bourse"
echo "== bourse --version"
"$bourse" --version
echo

# Until plugins/venues/sim is merged, book mode uses the test venue built with
# the tests (the matching engine over the replayed book, fees in ppm).
venue_dir="$build/tests/fixtures/plugins"
if [ -f "$venue_dir/fx_l3_venue.so" ]; then
    echo "== book mode: bourse backtest data/configs/demo-book.json"
    BOURSE_PLUGIN_PATH="$venue_dir${BOURSE_PLUGIN_PATH:+:$BOURSE_PLUGIN_PATH}" \
        "$bourse" backtest data/configs/demo-book.json --out runs/demo-book
else
    echo "== book mode skipped: $venue_dir/fx_l3_venue.so not built"
fi
echo

echo "== signal mode: bourse backtest data/configs/demo-signal.json"
"$bourse" backtest data/configs/demo-signal.json --out runs/demo-signal
echo

echo "== sweep: bourse sweep data/configs/demo-signal.json --grid fast=5,10,20 --grid slow=40,80 --jobs 2"
"$bourse" sweep data/configs/demo-signal.json --grid fast=5,10,20 --grid slow=40,80 --jobs 2 \
    --sort sharpe --out runs/demo-sweep
echo
echo "Open the reports in a browser:"
for d in runs/demo-book runs/demo-signal; do
    [ -f "$d/report.html" ] && echo "  $(pwd)/$d/report.html"
done
echo "Docs: docs/backtesting.md (modes, config keys, fill/latency model, costs)."
