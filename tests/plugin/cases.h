/* cases.h: the fixture plugins and what the loader must say about each, shared
 * by the C API test and the CLI test so both check the same promises. */
#ifndef BRS_TEST_PLUGIN_CASES_H
#define BRS_TEST_PLUGIN_CASES_H

#include <bourse/bourse.h>

#define STR2(x) #x
#define STR(x) STR2(x)

typedef struct load_case {
    const char *file; /* in BOURSE_TEST_PLUGIN_DIR */
    int code;         /* what brs__plugin_load returns */
    const char *says; /* the message must contain this */
} load_case;

static const load_case load_cases[] = {
    {"fx_not_elf.so", BRS_E_NOTPLUGIN, "not a shared object"},
    {"fx_no_entry.so", BRS_E_NOTPLUGIN, "no brs_plugin_entry symbol"},
    {"fx_null_desc.so", BRS_E_BADDESC, "brs_plugin_entry() returned NULL"},
    {"fx_bad_magic.so", BRS_E_BADMAGIC, "bad magic number: host expects 0x50535242, plugin has 0x12345678"},
    {"fx_small_desc.so", BRS_E_BADDESC, "descriptor is too small"},
    {"fx_major.so", BRS_E_ABIMAJOR,
     "plugin ABI major differs: host has " STR(BRS_ABI_MAJOR) ", plugin has "},
    {"fx_minor.so", BRS_E_ABIMINOR, "plugin ABI minor is newer than the host's: host has "
                                    STR(BRS_ABI_MAJOR) "." STR(BRS_ABI_MINOR)},
    {"fx_bad_kind.so", BRS_E_BADKIND, "unknown plugin kind 7"},
    {"fx_huge_instance.so", BRS_E_BADDESC, "is implausible (host limit 1073741824 bytes)"},
    {"fx_bad_name.so", BRS_E_BADDESC, "plugin name must be"},
    {"fx_null_vtable.so", BRS_E_SHORTVTABLE, "vtable is NULL"},
    {"fx_short_vtable.so", BRS_E_SHORTVTABLE, "vtable is too small"},
    {"fx_null_open.so", BRS_E_BADDESC, "required method xOpen is NULL"},
};

/* The system's zlib: an ordinary library that is not a plugin. NULL if absent. */
#include <unistd.h>
static inline const char *system_libz(void)
{
    static const char *const where[] = {
        "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/aarch64-linux-gnu/libz.so.1",
        "/usr/lib64/libz.so.1", "/usr/lib/libz.so.1", "/lib/libz.so.1",
    };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
        if (access(where[i], R_OK) == 0)
            return where[i];
    return NULL;
}

#endif
