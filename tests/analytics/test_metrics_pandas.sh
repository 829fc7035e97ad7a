#!/bin/sh
# test_metrics_pandas.sh: runs the bundled demos (and SPY's MA crossover when
# ../shared/data is there) and has check_metrics.py recompute every metric of
# each summary.json with pandas from the run's CSV files, to 1e-9.
# Usage: test_metrics_pandas.sh BOURSE SOURCE_DIR OUT SHARED_DIR
set -eu
bourse=$1 src=$2 out=$3 shared=$4
py=/usr/bin/python3
"$py" -c 'import pandas' 2>/dev/null || { echo "SKIP: $py has no pandas (scripts/bootstrap.sh python)"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
cd "$src"
bt() { name=$1; shift; "$bourse" backtest "$@" --out "$out/$name" >"$out/$name.log" 2>&1 ||
    { cat "$out/$name.log"; exit 1; }; dirs="$dirs $out/$name"; }
dirs=""
bt demo-signal data/configs/demo-signal.json
# sma_target.lua declares its averages with ctx:plot: they reach plots.csv
grep -q ',sma_fast,' "$out/demo-signal/plots.csv" && grep -q ',sma_slow,' "$out/demo-signal/plots.csv" ||
    { echo "FAIL: ctx:plot series missing from plots.csv"; exit 1; }
bt demo-signal-rf0-short data/configs/demo-signal.json --set risk_free_rate=0 \
    --param allow_short=true --set report.benchmark=data/bars/DEMO.csv
bt demo-signal-nobench data/configs/demo-signal.json --set report.benchmark=none
bt demo-book data/configs/demo-book.json
bt demo-mm data/configs/mm_two_venues.json
spy="$shared/data/yahoo/SPY.csv"
if [ -f "$spy" ]; then
    bt spy --mode signal --data "$spy" --strategy strategies-lua/ma_cross.lua --param fast=20 --param slow=50
    bt spy-dense --mode signal --data "$spy" --strategy strategies-lua/ma_cross.lua --param fast=2 --param slow=6
else
    echo "NOTE: $spy absent: the SPY runs are skipped"
fi
exec "$py" "$src/tests/analytics/check_metrics.py" $dirs
