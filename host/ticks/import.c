#include "ticks/import.h"
int brs__cmd_ticks_import(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int brs__cmd_ticks_book(int argc, char **argv) { (void)argc; (void)argv; return 1; }
