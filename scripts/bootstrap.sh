#!/bin/sh
# bootstrap.sh: installs the Debian packages Bourse needs when they are missing.
# Every Makefile target runs it first, so a fresh Debian machine needs nothing by hand.
# Usage: scripts/bootstrap.sh [core|interop|report|all]   (default: core)
set -eu

core="build-essential cmake ninja-build pkg-config zstd liblua5.4-dev libcjson-dev libcsv-dev libcmocka-dev libzstd-dev"
# interop/live pieces: TLS and WebSocket framing (issue 9), a real FIX peer (issue 8),
# a WebSocket test server, clang for libFuzzer and the sanitizer runtime.
interop="libssl-dev libwslay-dev libquickfix-dev g++ python3 python3-websockets clang libclang-rt-dev"
report="chromium"

want=""
for set in "${@:-core}"; do
    case "$set" in
        core) want="$want $core" ;;
        interop) want="$want $interop" ;;
        report) want="$want $report" ;;
        all) want="$want $core $interop $report" ;;
        *) echo "bootstrap: unknown package set '$set' (core, interop, report, all)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
case " $want " in
    *" libquickfix-dev "*)
        # npm fetches the FIX44.xml data dictionary for the interop tests; the
        # machine's Node.js may come from Debian's nodejs/npm or be preinstalled.
        command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm" ;;
esac
[ -z "$missing" ] && exit 0

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
