/* commands.c: the table of `bourse` subcommands. One line per command; the
 * command itself lives with its component. */
#include "cli.h"

const brs_command brs__commands[] = {
    {"bench", "run benchmarks", brs__cmd_bench},
    {"serve", "run the FIX 4.4 gateway (acceptor) on the matching engine", brs__cmd_serve},
};
const size_t brs__n_commands = BRS__ARRAY_LEN(brs__commands);
