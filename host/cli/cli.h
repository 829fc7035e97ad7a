/* cli.h: the `bourse` command table and helpers shared by subcommands.
 * Exit codes: 0 success, 1 the command failed, 2 usage error (unknown command
 * or option, missing argument). */
#ifndef BRS_CLI_H
#define BRS_CLI_H

#include <stdio.h>

#include "core/core.h"

enum { BRS_EXIT_OK = 0, BRS_EXIT_FAIL = 1, BRS_EXIT_USAGE = 2 };

typedef struct brs_command {
    const char *name;
    const char *summary;
    /* argv[0] is the command name; returns an exit code. */
    int (*run)(int argc, char **argv);
} brs_command;

extern const brs_command brs__commands[];
extern const size_t brs__n_commands;

/* Print "bourse CMD: message" and "Try 'bourse CMD --help'." to stderr; returns 2. */
int brs__usage_error(const char *cmd, const char *fmt, ...) BRS__PRINTF(2, 3);
/* Print "bourse CMD: message" to stderr; returns 1. */
int brs__fail(const char *cmd, const char *fmt, ...) BRS__PRINTF(2, 3);
/* "unknown option 'ARG'" as a usage error, with "did you mean" the closest
 * option of the command (its --words, read from its usage text); returns 2. */
int brs__unknown_option(const char *cmd, const char *arg, void (*usage)(FILE *out));
/* True when argv[i] is -h or --help. */
int brs__is_help(const char *arg);

/* Subcommand entry points (one per component, defined where the component lives). */
int brs__cmd_plugins(int argc, char **argv);
int brs__cmd_bench(int argc, char **argv);
int brs__cmd_record(int argc, char **argv);
int brs__cmd_live(int argc, char **argv);
int brs__cmd_gen(int argc, char **argv);   /* host/ticks/cmd_gen.c */
int brs__cmd_ticks(int argc, char **argv); /* host/ticks/cmd_ticks.c */
int brs__cmd_strategy(int argc, char **argv);
int brs__cmd_report(int argc, char **argv); /* host/analytics/report_cmd.c */
int brs__cmd_ui(int argc, char **argv);     /* host/ops/ui.c */
int brs__cmd_audit(int argc, char **argv);  /* host/ops/audit.c */
int brs__cmd_serve(int argc, char **argv);
int brs__cmd_backtest(int argc, char **argv); /* host/backtest/cmd_backtest.c */
int brs__cmd_sweep(int argc, char **argv);    /* host/backtest/sweep.c */

#endif
