/* version.h: the ABI version a plugin is compiled against.
 * Rules (docs/plugin-abi.md): the major must equal the host's; the plugin's minor
 * must be <= the host's. Structs only ever grow at the end within one major. */
#ifndef BOURSE_VERSION_H
#define BOURSE_VERSION_H

#define BRS_ABI_MAJOR 1
#define BRS_ABI_MINOR 3

#define BRS_VERSION_MAJOR 0
#define BRS_VERSION_MINOR 1
#define BRS_VERSION_PATCH 0
#define BRS_VERSION_STRING "0.1.0"

#endif
