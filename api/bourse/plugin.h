/* plugin.h: the plugin descriptor and the one macro that declares a plugin.
 * A plugin is a shared object exporting one function, brs_plugin_entry, that
 * returns a static descriptor. The host checks it field by field before it runs
 * anything (docs/plugin-abi.md). */
#ifndef BOURSE_PLUGIN_H
#define BOURSE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#define BRS_PLUGIN_MAGIC 0x50535242u /* "BRSP" in little-endian bytes */
#define BRS_PLUGIN_ENTRY_SYMBOL "brs_plugin_entry"

enum brs_plugin_kind { BRS_KIND_VENUE = 1, BRS_KIND_STRATEGY = 2 };

typedef struct brs_plugin_desc {
    uint32_t magic;        /* BRS_PLUGIN_MAGIC */
    uint32_t size;         /* sizeof(brs_plugin_desc) as the plugin compiled it */
    uint16_t abi_major;    /* BRS_ABI_MAJOR the plugin was built against */
    uint16_t abi_minor;    /* BRS_ABI_MINOR the plugin was built against */
    uint32_t kind;         /* enum brs_plugin_kind */
    const char *name;      /* short identifier, [A-Za-z0-9_.-]+ */
    const char *version;   /* the plugin's own version, free text ("1.2.0") */
    const char *description;
    size_t instance_size;  /* bytes the host allocates, zeroed, per instance */
    const void *vtable;    /* brs_venue_vtable or brs_strategy_vtable per kind */
} brs_plugin_desc;

typedef const brs_plugin_desc *(*brs_plugin_entry_fn)(void);

#if defined(_WIN32)
#define BRS_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define BRS_EXPORT __attribute__((visibility("default")))
#else
#define BRS_EXPORT
#endif

#ifdef __cplusplus
#define BRS__EXTERN_C extern "C"
#else
#define BRS__EXTERN_C
#endif

/* Declare the plugin, once per shared object, with designated initializers:
 *
 *   BRS_PLUGIN(.kind = BRS_KIND_STRATEGY, .name = "ma_cross", .version = "1.0.0",
 *              .instance_size = sizeof(struct ma_cross), .vtable = &ma_cross_vtable)
 *
 * magic, size and the ABI version are filled in from the headers the plugin is
 * compiled with, so a plugin cannot forget them. */
#define BRS_PLUGIN(...)                                                                    \
    static const brs_plugin_desc brs__plugin_desc = {.magic = BRS_PLUGIN_MAGIC,             \
                                                     .size = sizeof(brs_plugin_desc),      \
                                                     .abi_major = BRS_ABI_MAJOR,           \
                                                     .abi_minor = BRS_ABI_MINOR,           \
                                                     __VA_ARGS__};                         \
    BRS__EXTERN_C BRS_EXPORT const brs_plugin_desc *brs_plugin_entry(void);                \
    BRS__EXTERN_C BRS_EXPORT const brs_plugin_desc *brs_plugin_entry(void)                 \
    {                                                                                      \
        return &brs__plugin_desc;                                                          \
    }

#endif
