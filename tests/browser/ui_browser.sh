#!/bin/sh
# ui_browser.sh: the research dashboard (`bourse ui`) in a real browser (CTest
# test_ui_browser). Lays out a folder with a config, its script and bars, two
# finished runs and a sweep, starts `bourse ui` on a free port, and hands it to
# ui_browser.cjs (headless Chromium through Playwright). Screenshots and the
# server's log stay in OUT (build/test-output/ui) for a human to look at.
# Usage: ui_browser.sh BOURSE SOURCE_DIR OUT NODE    (exit 77: skipped)
set -eu
bourse=$1 src=$2 out=$3 node=${4:-}
skip() { echo "SKIP: $*"; exit 77; }
[ -n "$node" ] && [ -x "$node" ] || skip "node is not installed (scripts/bootstrap.sh report)"
[ -f "$src/.deps/npm/node_modules/playwright-core/package.json" ] ||
    skip "playwright-core is not in .deps/npm (scripts/bootstrap.sh report)"
[ -x /usr/bin/chromium ] || skip "/usr/bin/chromium is not installed (scripts/bootstrap.sh report)"

rm -rf "$out"
dir="$out/dir"
mkdir -p "$out/shots" "$dir/configs" "$dir/strategies-lua" "$dir/data/bars"
cp "$src/data/configs/demo-signal.json" "$dir/configs/"
cp "$src/strategies-lua/sma_target.lua" "$dir/strategies-lua/"
cp "$src/data/bars/DEMO.csv" "$dir/data/bars/"
# a config whose script lies outside the folder: listed, but never launched
sed 's|strategies-lua/sma_target.lua|../../../outside.lua|' "$src/data/configs/demo-signal.json" >"$dir/configs/escape.json"
cd "$dir"
"$bourse" backtest configs/demo-signal.json --out runs/sma-10-40 >"$out/run1.log" 2>&1
"$bourse" backtest configs/demo-signal.json --set strategy.params.fast=5 --set strategy.params.slow=20 \
    --out runs/sma-5-20 >"$out/run2.log" 2>&1
"$bourse" sweep configs/demo-signal.json --grid fast=5,10 --grid slow=30,40 --jobs 1 --out sweeps/small \
    >"$out/sweep.log" 2>&1

"$bourse" ui "$dir" --listen 127.0.0.1:0 >"$out/ui.out" 2>"$out/ui.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
i=0
while ! grep -q 'http://' "$out/ui.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$out/ui.log"; echo "bourse ui did not start"; exit 1; }
    sleep 0.1
done
url=$(sed -n 's|.*\(http://[^ ]*\).*|\1|p' "$out/ui.out" | head -1)
"$node" "$src/tests/browser/ui_browser.cjs" "$url" "$out" "$src/.deps/npm/node_modules/playwright-core"
rc=$?
kill -TERM $pid; wait $pid || true
trap - EXIT
# the server said what it did: the launch, the job's end, the refusals, its stop
for line in 'research dashboard ready' 'job started' 'job finished' 'launch refused' 'request from another origin refused' 'stopping'; do
    grep -q "$line" "$out/ui.log" || { echo "FAIL: the log has no '$line' line"; cat "$out/ui.log"; exit 1; }
done
exit $rc
