/* commands.c: the table of `bourse` subcommands. One line per command; the
 * command itself lives with its component. */
#include "cli.h"

const brs_command brs__commands[] = {
    {"bench", "run benchmarks", brs__cmd_bench},
    {"plugins", "inspect and list plugins", brs__cmd_plugins},
    {"gen", "write a deterministic synthetic market to a tick file", brs__cmd_gen},
    {"ticks", "tick files: import, info, cat, verify, book", brs__cmd_ticks},
    {"strategy", "check a strategy (Lua script or C plugin)", brs__cmd_strategy},
    {"report", "re-render a run directory's report.html", brs__cmd_report},
    {"serve", "run the FIX 4.4 gateway (acceptor) on the matching engine", brs__cmd_serve},
    {"audit", "what happened to each order bourse serve handled, from its state directory", brs__cmd_audit},
    {"backtest", "run a backtest (signal or book mode) into a run directory", brs__cmd_backtest},
    {"sweep", "run a backtest over a parameter grid in parallel processes", brs__cmd_sweep},
    {"record", "record a live WebSocket feed (Binance USD-M) into a tick file", brs__cmd_record},
    {"live", "run a strategy on a live WebSocket feed, paper trading", brs__cmd_live},
    {"ui", "the research dashboard: runs, reports, sweeps, launch backtests (browser)", brs__cmd_ui},
};
const size_t brs__n_commands = BRS__ARRAY_LEN(brs__commands);
