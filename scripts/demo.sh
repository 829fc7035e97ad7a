#!/bin/sh
# demo.sh: what `make demo` runs once the build is done. Today: the host's
# version, the plugins it finds and what one of them looks like, and the
# benchmark self-test. The flagship backtest demo arrives with later issues.
set -eu
build=${1:-build}
bourse="$build/bourse"
echo "== bourse --version"
"$bourse" --version
echo
echo "== bourse plugins list   (every plugin on the search path)"
"$bourse" plugins list
echo
echo "== bourse plugins inspect noop"
"$bourse" plugins inspect noop
echo
echo "== bourse bench selftest"
"$bourse" bench selftest
echo
echo "This is everything the host can do so far: it loads and checks plugins."
echo "The backtest demo (replaying market data through a strategy and writing a"
echo "report) arrives with later work: matching engine, tick replay, backtests."
