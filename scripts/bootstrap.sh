#!/bin/sh
# bootstrap.sh: installs the Debian packages (and the npm packages) Bourse
# needs when they are missing. Every Makefile target runs it first, so a fresh
# Debian machine needs nothing by hand. Nothing else is ever downloaded.
# Usage: scripts/bootstrap.sh [core|interop|report|ops|scale|python|all]   (default: core)
#
# What it fetches, by set:
#   core     compiler, CMake, Ninja, Lua 5.4, cJSON, libcsv, CMocka, Zstandard (Debian);
#            npm's uplot, the charts of report.html, inlined at build time (into .deps/npm)
#   interop  OpenSSL, wslay, QuickFIX, python3-websockets, clang (Debian); npm's
#            jspurefix for QuickFIX's FIX44.xml data dictionary (into .deps/npm)
#   report   Debian's chromium; npm's playwright-core, pointed at /usr/bin/chromium
#            (into .deps/npm); never a browser download of Playwright's own
#   ops      Debian's prometheus (prometheus and promtool) for the metrics tests
#   scale    Debian's slurm-wlm and munge for the one-node Slurm test
#   python   python3-dev, numpy, pandas, nbclient, pytest, setuptools, pip, venv (Debian)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
core="build-essential cmake ninja-build pkg-config zstd liblua5.4-dev libcjson-dev libcsv-dev libcmocka-dev libzstd-dev"
interop="libssl-dev libwslay-dev libquickfix-dev g++ python3 python3-websockets clang libclang-rt-dev"
report="chromium fonts-dejavu-core"
ops="prometheus"
scale="slurm-wlm munge"
python="python3-dev python3-numpy python3-pandas python3-nbclient python3-pytest python3-setuptools python3-pip python3-venv python3-ipykernel python3-matplotlib"

want=""
npm_want=""
for set in "${@:-core}"; do
    case "$set" in
        core) want="$want $core"; npm_want="$npm_want uplot" ;;
        interop) want="$want $interop"; npm_want="$npm_want jspurefix" ;;
        report) want="$want $report"; npm_want="$npm_want playwright-core" ;;
        ops) want="$want $ops" ;;
        scale) want="$want $scale" ;;
        python) want="$want $python" ;;
        all) want="$want $core $interop $report $ops $scale $python"
             npm_want="$npm_want uplot jspurefix playwright-core" ;;
        *) echo "bootstrap: unknown package set '$set' (core, interop, report, ops, scale, python, all)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -n "$npm_want" ] && ! command -v npm >/dev/null 2>&1 && missing="$missing nodejs npm"

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "bootstrap: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        echo "bootstrap: installing$missing (sudo)"
        sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "bootstrap: missing Debian packages; run: sudo apt-get install$missing" >&2
        exit 1
    fi
fi

# npm packages live in .deps/npm (git-ignored), pinned by scripts/npm-package.json's
# versions; installed once, reused after.
if [ -n "$npm_want" ]; then
    dir="$root/.deps/npm"
    need=""
    for p in $npm_want; do
        [ -f "$dir/node_modules/$p/package.json" ] || need="$need $p"
    done
    if [ -n "$need" ]; then
        mkdir -p "$dir"
        cp "$root/scripts/npm-package.json" "$dir/package.json" # the pinned list, current
        echo "bootstrap: npm install$need (into .deps/npm)"
        # --prefer-offline: what npm's cache (~/.npm) holds is used without asking the
        # registry, so a machine that installed these once needs no network for a
        # fresh clone; anything missing is fetched from the npm registry.
        # shellcheck disable=SC2086
        (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --silent >/dev/null)
        for p in $npm_want; do
            if [ ! -f "$dir/node_modules/$p/package.json" ]; then
                echo "bootstrap: npm could not install $p into $dir (no network and not in npm's cache?)" >&2
                exit 1
            fi
        done
    fi
fi
exit 0
