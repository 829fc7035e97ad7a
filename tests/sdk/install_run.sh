#!/bin/sh
# install_run.sh BUILD_DIR: `make install` is complete. Install the build to a
# temporary prefix; every plugin the build made must be installed, and the
# configs and data; the installed bourse, run from outside the source tree,
# finds them: the bundled configs run from <prefix>/share/bourse, and a plugin
# strategy is found by name from anywhere (issue 19: ma_cross.so and
# data/configs were left out).
set -eu
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bourse-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
fail() { echo "install_run: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
bourse="$prefix/bin/bourse"
[ -x "$bourse" ] || fail "no bin/bourse"
n=0
for so in "$build"/plugins/*.so; do
    name=$(basename "$so")
    [ -f "$prefix/lib/bourse/plugins/$name" ] || fail "$name built but not installed"
    n=$((n + 1))
done
[ "$n" -ge 6 ] || fail "only $n plugins in $build/plugins"
share="$prefix/share/bourse"
for f in data/configs/demo-book.json data/configs/demo-signal.json data/configs/mm_two_venues.json \
         data/demo.ticks.zst data/mm.ticks.zst data/bars/DEMO.csv strategies-lua/ma_cross.lua; do
    [ -f "$share/$f" ] || fail "$f not installed under share/bourse"
done

# outside the source tree, no plugin path from the environment
unset BOURSE_PLUGIN_PATH
cd "$tmp"
"$bourse" plugins list > list.txt
grep -q "^ma_cross " list.txt || fail "the installed bourse does not list ma_cross: $(cat list.txt)"
"$bourse" backtest --mode signal --data "$share/data/bars/DEMO.csv" --strategy ma_cross \
    --out "$tmp/run-ma" --quiet || fail "plugin ma_cross by name"
[ -f "$tmp/run-ma/summary.json" ] || fail "no summary.json for ma_cross"
cd "$share"
for c in demo-signal demo-book; do
    "$bourse" backtest "data/configs/$c.json" --out "$tmp/run-$c" --quiet || fail "installed config $c"
    [ -f "$tmp/run-$c/summary.json" ] || fail "no summary.json for $c"
done
echo "install_run: ok ($n plugins)"
