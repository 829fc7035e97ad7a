#!/bin/sh
# bench.sh: what `make bench` runs: every benchmark in turn, the human tables
# on the terminal and each one's JSON in BUILD/bench/NAME.json for tracking.
# The replay benchmark needs a large tick file: a 10M-event `bourse gen` market,
# made once into BUILD/bench/ and reused.
set -eu
build=${1:-build}
bourse="$build/bourse"
out="$build/bench"
mkdir -p "$out"

gen="$out/gen-10M.ticks.zst"
if [ ! -f "$gen" ]; then
    echo "== generating $gen (10M events, seed 1)"
    "$bourse" gen --seed 1 --events 10000000 --symbols 4 -o "$gen"
fi

# One run per benchmark: the table on the terminal, the same run's JSON in the file.
run() {
    name=$1
    shift
    echo "== bourse bench $name $*"
    "$bourse" bench "$name" "$@" --json-out "$out/$name.json"
}

failed=0
for b in book strategy lua-pattern sor ws fix restart analytics; do
    run "$b" || failed=1
done
run replay "$gen" || failed=1
if "$bourse" bench --help | grep -q '^  backtest '; then
    run backtest || failed=1
fi

# The Python package (docs/python.md): a 1M-bar signal backtest from NumPy
# arrays against `bourse backtest`, read_ticks of the 10M-event file above as a
# DataFrame, the cost of a Python per-event callback. Needs `make python`.
if [ -d "$build/python/bourse" ]; then
    echo "== python/bench/bench_python.py"
    /usr/bin/python3 "$(dirname "$0")/../python/bench/bench_python.py" "$build" --ticks "$gen" \
        --json-out "$out/python.json" || failed=1
else
    echo "== Python benchmark skipped: $build/python/bourse not built (make python)"
fi

# Round trip from a QuickFIX initiator (issue 8's figure): built with the
# interop tests when QuickFIX is installed. 100 orders in flight, QuickFIX's
# own settings (validation on, Nagle on); resting orders, then half crossing;
# two sessions x 50 and four x 25. One JSON object per line.
fixc="$build/tests/interop/fix_client"
# the FIX 4.4 dictionary the interop tests use: jspurefix's, from .deps/npm
dict="$(dirname "$0")/../.deps/npm/node_modules/jspurefix/data/FIX44.xml"
if [ -x "$fixc" ] && [ -f "$dict" ]; then
    echo "== QuickFIX initiator round trip (fix_client bench, 300000 orders, 100 in flight)"
    work=$(mktemp -d)
    : > "$out/fix_quickfix.json.tmp"
    for sess in 2 4; do
        for wl in rest mixed; do
            line=$("$fixc" bench "$dict" "$work" 300000 100 "$sess" "$wl" | grep '^{') || { failed=1; continue; }
            echo "$line" >> "$out/fix_quickfix.json.tmp"
            echo "$line" | sed 's/^{//; s/}$//; s/"//g; s/,/  /g'
        done
    done
    mv "$out/fix_quickfix.json.tmp" "$out/fix_quickfix.json"
    rm -rf "$work"
    # The same round trip through the smart order router against the direct
    # route to the gateway's one venue (issue 17: routed >= 80% of direct),
    # two sessions x 50, both workloads, direct and routed alternated.
    echo "== QuickFIX round trip, routed (sor) against direct (venue:sim)"
    /usr/bin/python3 "$(dirname "$0")/bench_routed.py" "$build" --pairs 1 --orders 300000 \
        --dict "$dict" --json-out "$out/fix_quickfix_routed.json" || failed=1
else
    echo "== QuickFIX round trip skipped: $fixc not built (needs libquickfix-dev)"
fi
echo "JSON results: $out/*.json"
exit $failed
