#!/bin/sh
# demo.sh: what `make demo` runs once the build is done: the flagship run on
# bundled data, then where to find its results.
set -eu
build=${1:-build}
bourse="$build/bourse"
echo "== bourse --version"
"$bourse" --version
echo
echo "== bourse bench selftest"
"$bourse" bench selftest
