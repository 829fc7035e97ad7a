#!/bin/sh
# demo_check.sh BOURSE SOURCE_DIR OUT: the flagship demos show something (issue
# 19): the book demo's data is what scripts/gen-demo-ticks.sh makes, its mid
# moves (more than 0.5% between the lowest and highest mark) and its PnL is more
# than rounding (at least 0.05% of equity either way); the market maker fills
# on both venues of the two-venue run.
set -eu
bourse=$1
src=$2
out=$3
fail() { echo "demo_check: FAIL: $*" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
cd "$src"
"$bourse" gen --seed 20240103 --events 60000 --symbols 2 --rate 300 --vol 30 --regime 20 --level 19 --plain \
    -o "$out/book.ticks.zst" 2>/dev/null
cmp -s "$out/book.ticks.zst" data/book.ticks.zst || fail "data/book.ticks.zst is not what scripts/gen-demo-ticks.sh makes"
num() { sed -n "s/^  \"$2\": \([-0-9.e+]*\),\{0,1\}$/\1/p" "$1/summary.json"; }

"$bourse" backtest data/configs/demo-book.json --out "$out/book" --quiet
pnl=$(num "$out/book" net_pnl)
awk -v p="$pnl" 'BEGIN { exit !(p > 50 || p < -50) }' || fail "book demo PnL $pnl is rounding noise"
col=$(head -1 "$out/book/equity.csv" | tr ',' '\n' | grep -n '^price_GEN000$' | cut -d: -f1)
awk -F, -v c="$col" 'NR > 1 && $c != "" { if (lo == "" || $c < lo) lo = $c; if ($c > hi) hi = $c }
    END { printf "book demo: mid %s .. %s\n", lo, hi; exit !(hi > lo * 1.005) }' "$out/book/equity.csv" \
    || fail "the book demo's mid does not move"

"$bourse" backtest data/configs/mm_two_venues.json --out "$out/mm" --quiet
lit=$(num "$out/mm" filled_qty_lit)
alt=$(num "$out/mm" filled_qty_alt)
echo "market making: filled $lit on lit, $alt on alt; book demo PnL $pnl"
[ "${lit%%.*}" -gt 0 ] && [ "${alt%%.*}" -gt 0 ] || fail "the market maker does not fill on both venues ($lit, $alt)"
echo "demo_check: ok"
