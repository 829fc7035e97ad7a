#!/bin/sh
# run.sh: the browser test of the report pages (CTest test_report_browser).
# Makes the runs (the bundled demos, SPY's MA crossover when ../shared/data is
# there, a 2 x 10 x 10 sweep, a 5,000,000-sample run and a 5,000,000-event book
# run), then report_browser.cjs opens every page in headless Chromium.
# Everything stays in OUT (build/test-output/browser): pages and screenshots
# (OUT/shots/*.png) for a human to look at.
# Usage: run.sh BOURSE MAKE_BIG_RUN SOURCE_DIR OUT SHARED_DIR NODE
set -eu
bourse=$1 big=$2 src=$3 out=$4 shared=$5 node=${6:-}
skip() { echo "SKIP: $*"; exit 77; }
[ -n "$node" ] && [ -x "$node" ] || skip "node is not installed (scripts/bootstrap.sh report)"
[ -f "$src/.deps/npm/node_modules/playwright-core/package.json" ] ||
    skip "playwright-core is not in .deps/npm (scripts/bootstrap.sh report)"
[ -x /usr/bin/chromium ] || skip "/usr/bin/chromium is not installed (scripts/bootstrap.sh report)"

rm -rf "$out"
mkdir -p "$out/shots"
cd "$src"
bt() { name=$1; shift; "$bourse" backtest "$@" --out "$out/$name" >"$out/$name.log" 2>&1 ||
    { cat "$out/$name.log"; exit 1; }; }

# the bundled demos (scripts/demo.sh)
bt demo-book data/configs/demo-book.json
bt demo-signal data/configs/demo-signal.json
bt demo-mm data/configs/mm_two_venues.json
"$bourse" sweep data/configs/demo-signal.json --grid fast=5,10,20 --grid slow=40,80 --jobs 2 \
    --sort sharpe --out "$out/demo-sweep" >"$out/demo-sweep.log" 2>&1 || { cat "$out/demo-sweep.log"; exit 1; }
# a benchmark from a CSV file: the demo's own bars, as a file
bt demo-signal-csvbench data/configs/demo-signal.json --set report.benchmark=data/bars/DEMO.csv

# SPY: the MA crossover of the issue, and a dense one (fast=2 slow=6: ~500 trades)
spy="$shared/data/yahoo/SPY.csv"
if [ -f "$spy" ]; then
    bt spy --mode signal --data "$spy" --strategy strategies-lua/ma_cross.lua --param fast=20 --param slow=50
    bt spy-dense --mode signal --data "$spy" --strategy strategies-lua/ma_cross.lua --param fast=2 --param slow=6
else
    echo "NOTE: $spy absent: the SPY runs are skipped (the rest is tested)"
fi

# a 2 x 10 x 10 sweep: results.html with its heatmap; the best 10 runs keep their
# folders (the default) and the page links exactly those
"$bourse" sweep data/configs/demo-signal.json --grid signal.execution=next_open,same_close \
    --grid fast=2,3,4,5,6,7,8,9,10,11 --grid slow=20,25,30,35,40,45,50,55,60,65 --jobs 2 \
    --out "$out/sweep200" >"$out/sweep200.log" 2>&1 || { cat "$out/sweep200.log"; exit 1; }
# `bourse report DIR` rebuilds the same page from results.csv and the kept runs
"$bourse" report "$out/sweep200" >/dev/null

# 5,000,000 equity samples (the analytics fixture, book mode): the page must stay
# under 10 MB. Its CSV files (~600 MB) are removed once the page is written.
"$big" "$out/big5m" 5000000
ls -l "$out/big5m" >"$out/big5m.files"
rm -f "$out/big5m/equity.csv" "$out/big5m/orders.csv" "$out/big5m/fills.csv"
# a 5,000,000-event book backtest (the demo strategy on a generated L3 file)
"$bourse" gen --seed 7 --events 5000000 --symbols 1 --rate 100 -o "$out/big.ticks.zst" >/dev/null
bt book5m data/configs/demo-book.json --set "data=$out/big.ticks.zst" --set sample_every_ns=0
rm -f "$out/big.ticks.zst"

exec "$node" "$src/tests/browser/report_browser.cjs" "$out" "$src/.deps/npm/node_modules/playwright-core"
