#!/bin/sh
# demo.sh: what `make demo` runs once the build is done: the flagship backtests.
#  1. book mode: a bundled L3 market whose mids move (data/book.ticks.zst,
#     scripts/gen-demo-ticks.sh) replayed into the simulated exchange (sim.so), a
#     Lua strategy trading 50-lot IOC orders on book imbalance with latency,
#     queue position and fees;
#  2. signal mode: bundled synthetic daily bars (data/bars/DEMO.csv) with a Lua
#     SMA crossover giving target positions, executed at the next open with
#     commission, slippage and impact;
#  3. a small parameter sweep of (2) in parallel worker processes;
#  4. two-venue market making: the Lua Avellaneda-Stoikov market maker quoting
#     through the risk checks and the smart order router over two sim
#     venues with the same maker rebate, so its quotes rest (and fill) on both
#     (data/configs/mm_two_venues.json on data/mm.ticks.zst).
# Each prints its key metrics and where its report.html is (runs/ is git-ignored).
set -eu
build=${1:-build}
bourse="$build/bourse"
echo "== bourse --version"
"$bourse" --version
echo

# The venue is the simulated exchange plugin (plugins/venues/sim), found by
# name on the plugin search path next to the binary.
echo "== book mode: bourse backtest data/configs/demo-book.json"
"$bourse" backtest data/configs/demo-book.json --out runs/demo-book
echo

echo "== signal mode: bourse backtest data/configs/demo-signal.json"
"$bourse" backtest data/configs/demo-signal.json --out runs/demo-signal
echo

echo "== sweep: bourse sweep data/configs/demo-signal.json --grid fast=5,10,20 --grid slow=40,80 --jobs 2"
"$bourse" sweep data/configs/demo-signal.json --grid fast=5,10,20 --grid slow=40,80 --jobs 2 \
    --sort sharpe --out runs/demo-sweep
echo

echo "== market making over two venues: bourse backtest data/configs/mm_two_venues.json"
"$bourse" backtest data/configs/mm_two_venues.json --out runs/demo-mm
# where the fills went (the rest of the router run's figures are printed above;
# all of them are in summary.json, see docs/backtesting.md)
for k in n_fills maker_share quoted_two_sided quoted_spread_bps filled_qty_lit filled_qty_alt; do
    v=$(sed -n "s/^  \"$k\": \(.*\),\{0,1\}$/\1/p" runs/demo-mm/summary.json | sed 's/,$//')
    case "$v" in *.*) v=$(printf '%.4f' "$v") ;; esac # 0.9931..., not 17 digits
    printf '  %-18s %s\n' "$k" "${v:-n/a}"
done
# The spread follows volatility: each maker fill's distance from the mid (the
# quote it hit) against the mid's realized variance over the 10 s before it
# (equity.csv), calmest tenth of the fills vs most volatile tenth (the same
# measure as tests/mm/test_mm.c test_spread_follows_volatility).
awk -F, 'FNR == 1 { for (c = 1; c <= NF; c++) col[FILENAME, $c] = c; next }
    FILENAME ~ /equity/ { p = $(col[FILENAME, "price_GEN000"]); if (p == "") next
        n++; ts[n] = $1; mid[n] = p / 0.01; cum[n] = n > 1 ? cum[n-1] + (mid[n] - mid[n-1])^2 : 0; next }
    $(col[FILENAME, "liquidity"]) == "maker" {
        t = $1; while (i < n && ts[i+1] < t) i++
        while (j < i && ts[j] < t - 1e10) j++
        span = t - ts[1] < 1e10 ? t - ts[1] : 1e10
        if (i < 2 || span < 2e9) next
        d = $(col[FILENAME, "price"]) / 0.01 - mid[i]
        printf "%.6f %.6f\n", (cum[i] - cum[j]) / (span / 1e9), d < 0 ? -d : d }' \
    runs/demo-mm/equity.csv runs/demo-mm/fills.csv | sort -g |
awk '{ v[NR] = $1; d[NR] = $2 } END { k = int(NR / 10); if (k < 1) exit
    for (x = 1; x <= k; x++) { dl += d[x]; vl += v[x]; dh += d[NR + 1 - x]; vh += v[NR + 1 - x] }
    printf "  quote distance from the mid at maker fills: calmest tenth %.2f ticks (trailing var %.1f ticks^2/s),\n", dl / k, vl / k
    printf "  most volatile tenth %.2f ticks (%.1f ticks^2/s): the spread widens %.1fx with volatility\n", dh / k, vh / k, dh / dl }'
echo
echo "Where the results are (open the reports in a browser):"
for d in runs/demo-book runs/demo-signal runs/demo-mm; do
    if [ -f "$d/report.html" ]; then echo "  $(pwd)/$d/report.html"; else echo "  $d: no report (the run failed)"; fi
done
for f in runs/demo-sweep/results.csv; do
    [ -f "$f" ] && echo "  $(pwd)/$f (the sweep, one row per run; each run's report.html in its folder)"
done
echo "Docs: docs/backtesting.md (modes, config keys, fill/latency model, costs, several venues),"
echo "      docs/router.md (router, risk checks, sim venue, market maker)."
