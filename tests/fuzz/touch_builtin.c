/* touch_builtin.c: the touch venue plugin compiled into the FIX fuzz target
 * under its built-in entry name, as host/runtime/CMakeLists.txt does for the
 * host (the fuzz build names the sim venue's entry for every file). */
#undef brs_plugin_entry
#define brs_plugin_entry brs__touch_builtin_entry
#include "../../plugins/venues/touch/touch.c"
