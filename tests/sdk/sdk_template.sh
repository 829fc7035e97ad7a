#!/bin/sh
# sdk_template.sh BUILD_DIR TEMPLATE_DIR CC: what a third party does. Install the
# current build to a temporary prefix, build the template against it with
# find_package(Bourse CONFIG), check the installed bourse loads both plugins
# (by path, and by name once installed), and that pkg-config works too.
set -eu
build=$1
template=$2
cc=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bourse-sdk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

step() { echo "== $*"; }
fail() { echo "sdk_template: FAIL: $*" >&2; exit 1; }

step "install $build to $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
bourse="$prefix/bin/bourse"
[ -x "$bourse" ] || fail "no bin/bourse installed"
[ -f "$prefix/include/bourse/bourse.h" ] || fail "no api headers installed"
[ -f "$prefix/lib/bourse/plugins/noop.so" ] || fail "noop.so not installed to lib/bourse/plugins"

step "the installed host finds the installed plugins"
"$bourse" plugins list > "$tmp/list.txt"
cat "$tmp/list.txt"
real=$(cd "$prefix" && pwd -P)
grep -q "^noop  *strategy .*$real/lib/bourse/plugins/noop.so" "$tmp/list.txt" \
    || fail "bourse plugins list does not show the installed noop"

step "configure the template out of tree"
cmake -S "$template" -B "$tmp/build" -G Ninja -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
step "build it"
cmake --build "$tmp/build" -j 2 >/dev/null

step "inspect what it built"
"$bourse" plugins inspect "$tmp/build/paper_venue.so" "$tmp/build/spread_strategy.so" > "$tmp/inspect.txt"
cat "$tmp/inspect.txt"
grep -q "name:        paper_venue" "$tmp/inspect.txt" || fail "paper_venue not inspected"
grep -q "name:        spread_strategy" "$tmp/inspect.txt" || fail "spread_strategy not inspected"
[ "$(grep -c 'open/close:  ok' "$tmp/inspect.txt")" = 2 ] || fail "an instance did not open"

step "install the template's plugins; bourse finds them by name"
cmake --install "$tmp/build" >/dev/null
"$bourse" plugins inspect paper_venue spread_strategy >/dev/null || fail "not found by name"

step "pkg-config"
if command -v pkg-config >/dev/null 2>&1; then
    flags=$(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags bourse)
    # shellcheck disable=SC2086
    "$cc" $flags -shared -Wl,--no-undefined -o "$tmp/pc_venue.so" "$template/paper_venue.c"
    "$bourse" plugins inspect "$tmp/pc_venue.so" >/dev/null || fail "pkg-config build not loadable"
else
    echo "skipped: no pkg-config"
fi
echo "sdk_template: ok"
