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

run() {
    name=$1
    shift
    echo "== bourse bench $name $*"
    "$bourse" bench "$name" "$@"
    "$bourse" bench "$name" "$@" --json > "$out/$name.json"
}

failed=0
for b in book strategy sor ws fix analytics; do
    run "$b" || failed=1
done
run replay "$gen" || failed=1
if "$bourse" bench --help | grep -q '^  backtest '; then
    run backtest || failed=1
fi
echo "JSON results: $out/*.json"
exit $failed
