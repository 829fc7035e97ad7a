/* main.c: the `bourse` binary: global options and subcommand dispatch. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bourse/version.h>

#include "cli/cli.h"
#include "core/log.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: bourse [--version] [--help] COMMAND [ARGS...]\n\n"
                 "Bourse is a trading-system host: matching engine, smart order router,\n"
                 "tick replay and backtests, with strategies and venues as plugins.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < brs__n_commands; i++)
        fprintf(out, "  %-10s %s\n", brs__commands[i].name, brs__commands[i].summary);
    fprintf(out, "\nRun 'bourse COMMAND --help' for a command's options.\n\n%s", brs__log_usage);
    fprintf(out, "\nsignals:\n"
                 "  SIGINT, SIGTERM  backtest stops at the next safe point and says how far it got\n"
                 "                   (exit 130/143); serve, record and live stop cleanly; any other\n"
                 "                   command ends at once. No command leaves a temporary file.\n"
                 "  SIGUSR1, SIGUSR2 ignored by every command.\n");
}

int main(int argc, char **argv)
{
    /* SIGINT/SIGTERM end a command as by default, but never leave a temporary
     * file; commands that stop cleanly (backtest) or serve until a signal
     * (serve, record, live) install their own handling. */
    brs__interrupt_install(0);
    /* SIGUSR1/SIGUSR2 mean nothing to any command: a stray one (a monitoring
     * script, `kill -USR1` by habit) must not end a gateway or a long run */
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    if (brs__log_take_args(&argc, argv) != BRS_OK)
        return BRS_EXIT_USAGE;
    if (argc < 2) {
        usage(stderr);
        return BRS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (brs__is_help(cmd) || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return BRS_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("bourse %s (plugin ABI %d.%d)\n", BRS_VERSION_STRING, BRS_ABI_MAJOR, BRS_ABI_MINOR);
        return BRS_EXIT_OK;
    }
    for (size_t i = 0; i < brs__n_commands; i++)
        if (strcmp(cmd, brs__commands[i].name) == 0)
            return brs__commands[i].run(argc - 1, argv + 1);
    brs_suggest sg;
    brs__suggest_init(&sg, cmd);
    for (size_t i = 0; i < brs__n_commands; i++)
        brs__suggest_add(&sg, brs__commands[i].name);
    if (cmd[0] == '-')
        brs__suggest_add(&sg, "--version"), brs__suggest_add(&sg, "--help");
    const char *best = brs__suggest_best(&sg);
    fprintf(stderr, "bourse: unknown %s '%s'", cmd[0] == '-' ? "option" : "command", cmd);
    if (best)
        fprintf(stderr, " (did you mean '%s'?)", best);
    fputc('\n', stderr);
    fprintf(stderr, "Try 'bourse --help'.\n");
    return BRS_EXIT_USAGE;
}
