/* cmd_plugins.c: `bourse plugins inspect FILE...` and `bourse plugins list`.
 * Inspect loads each file through the same checks a run uses, prints the
 * descriptor and opens/closes one instance to prove it works; a refused file
 * is one line on stderr and a non-zero exit, never a crash. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plugin/loader.h"

typedef struct method_row {
    const char *name;
    size_t offset;
} method_row;

#define VROW(m) {#m, offsetof(brs_venue_vtable, m)}
#define SROW(m) {#m, offsetof(brs_strategy_vtable, m)}
static const method_row venue_rows[] = {
    VROW(xOpen), VROW(xClose), VROW(xSubmit), VROW(xCancel), VROW(xReplace),
    VROW(xOnMarket), VROW(xPoll), VROW(xTop), VROW(xDepth),
};
static const method_row strategy_rows[] = {
    SROW(xOpen), SROW(xClose), SROW(xStart), SROW(xStop), SROW(xOnTop), SROW(xOnTrade),
    SROW(xOnDepth), SROW(xOnBar), SROW(xOnMarket), SROW(xOnOrder), SROW(xOnTimer), SROW(xReload),
};

/* Methods the plugin's vtable size covers and that are non-NULL. */
static void print_methods(const brs_plugin_desc *d)
{
    const method_row *rows = d->kind == BRS_KIND_VENUE ? venue_rows : strategy_rows;
    size_t n = d->kind == BRS_KIND_VENUE ? BRS__ARRAY_LEN(venue_rows)
                                         : BRS__ARRAY_LEN(strategy_rows);
    uint32_t size = *(const uint32_t *)d->vtable;
    const char *base = d->vtable;
    printf("  methods:     ");
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (size < rows[i].offset + sizeof(void (*)(void)))
            continue;
        void (*fn)(void);
        memcpy(&fn, base + rows[i].offset, sizeof fn);
        if (fn) {
            printf("%s%s", any ? " " : "", rows[i].name);
            any = 1;
        }
    }
    printf("\n");
}

static void print_subscriptions(uint32_t s)
{
    static const char *const names[] = {"top", "trades", "depth", "bars", "l3"};
    printf("  subscribes:  ");
    int any = 0;
    for (unsigned i = 0; i < BRS__ARRAY_LEN(names); i++)
        if (s & (1u << i)) {
            printf("%s%s", any ? " " : "", names[i]);
            any = 1;
        }
    printf("%s\n", any ? "" : "nothing");
}

static int inspect_one(const char *arg, const char *path_list)
{
    char file[PATH_MAX];
    brs_error err = {0};
    brs_plugin p;
    if (brs__plugin_find(arg, path_list, file, sizeof file, &err) != BRS_OK ||
        brs__plugin_load(&p, file, &err) != BRS_OK)
        return brs__fail("plugins", "%s", err.msg);
    const brs_plugin_desc *d = p.desc;
    printf("%s\n", p.path);
    printf("  name:        %s\n", d->name);
    printf("  kind:        %s\n", brs__plugin_kind_name(d->kind));
    printf("  version:     %s\n", d->version ? d->version : "-");
    printf("  description: %s\n", d->description ? d->description : "-");
    printf("  ABI:         %u.%u (host %d.%d)\n", (unsigned)d->abi_major,
           (unsigned)d->abi_minor, BRS_ABI_MAJOR, BRS_ABI_MINOR);
    printf("  instance:    %zu bytes\n", d->instance_size);
    printf("  vtable:      %u bytes\n", (unsigned)*(const uint32_t *)d->vtable);
    print_methods(d);
    const brs_strategy_vtable *s = brs__plugin_strategy(&p);
    if (s) {
        print_subscriptions(s->subscriptions);
        printf("  parameters:  %u\n", (unsigned)s->n_params);
        for (uint32_t i = 0; s->params && i < s->n_params; i++)
            printf("    %s: %s\n", s->params[i].name ? s->params[i].name : "?",
                   s->params[i].help ? s->params[i].help : "");
    }
    fflush(stdout);
    brs_plugin_instance inst;
    int rc = brs__plugin_instance_open(&inst, &p, brs__plugin_inspect_host(), NULL, &err);
    if (rc != BRS_OK) {
        brs__plugin_unload(&p);
        return brs__fail("plugins", "%s", err.msg);
    }
    brs__plugin_instance_close(&inst);
    printf("  open/close:  ok\n");
    brs__plugin_unload(&p);
    return BRS_EXIT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names already listed: a later plugin of the same name is shadowed, since
 * lookup by name takes the first directory that has it. */
typedef struct list_seen {
    char **names;
    size_t n;
    int found;
} list_seen;

static int seen_before(list_seen *seen, const char *name)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->names[i], name) == 0)
            return 1;
    char **g = realloc(seen->names, (seen->n + 1) * sizeof *g);
    if (!g)
        return 0;
    seen->names = g;
    if ((seen->names[seen->n] = strdup(name)))
        seen->n++;
    return 0;
}

/* Every *.so of one directory, sorted, one line each. */
static void list_dir(const char *dir, list_seen *seen)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
            continue;
        char **g = realloc(names, (n + 1) * sizeof *g);
        if (!g)
            break;
        names = g;
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(dp);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char file[PATH_MAX * 2];
        snprintf(file, sizeof file, "%s/%s", dir, names[i]);
        brs_plugin p;
        brs_error err = {0};
        if (brs__plugin_load(&p, file, &err) == BRS_OK) {
            /* Lookup by name uses the file name, so shadowing is by file name. */
            int shadowed = seen_before(seen, names[i]);
            printf("%-20s %-9s %-10s %s%s\n", p.desc->name, brs__plugin_kind_name(p.desc->kind),
                   p.desc->version ? p.desc->version : "-", file,
                   shadowed ? " (shadowed by an earlier directory)" : "");
            brs__plugin_unload(&p);
        } else {
            seen_before(seen, names[i]);
            printf("%-20s %-9s %-10s %s\n", names[i], "refused", brs_err_name(err.code), err.msg);
        }
        seen->found++;
        free(names[i]);
    }
    free(names);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bourse plugins inspect [--path DIRS] FILE|NAME...\n"
            "       bourse plugins list [--path DIRS]\n\n"
            "inspect  load each plugin through the host's checks, print its descriptor\n"
            "         (name, kind, version, ABI, instance size, methods present) and open\n"
            "         and close one instance. A refused file prints one line and the exit\n"
            "         status is 1 if any file was refused.\n"
            "list     every *.so on the plugin search path, one line each; refused files\n"
            "         are listed with their reason.\n\n"
            "options:\n"
            "  --path DIRS  colon-separated directories searched first\n"
            "  -h, --help   this help\n\n"
            "Search path: --path, then $BOURSE_PLUGIN_PATH, then <bourse dir>/plugins,\n"
            "<bourse dir>/../lib/bourse/plugins, then the install prefix's lib/bourse/plugins.\n");
}

static int run_list(char **ops, int n_ops, const char *path_list)
{
    if (n_ops > 0)
        return brs__usage_error("plugins", "list takes no operands ('%s')", ops[0]);
    brs_plugin_dirs d;
    brs_error err = {0};
    if (brs__plugin_dirs_get(&d, path_list, &err) != BRS_OK)
        return brs__fail("plugins", "%s", err.msg);
    list_seen seen = {0};
    for (size_t i = 0; i < d.n; i++)
        list_dir(d.dir[i], &seen);
    if (!seen.found) {
        fprintf(stderr, "bourse plugins: no plugins found; searched:");
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, " %s", d.dir[i]);
        fprintf(stderr, "\n");
    }
    for (size_t i = 0; i < seen.n; i++)
        free(seen.names[i]);
    free(seen.names);
    brs__plugin_dirs_free(&d);
    return BRS_EXIT_OK;
}

static int run_inspect(char **ops, int n_ops, const char *path_list)
{
    if (n_ops == 0)
        return brs__usage_error("plugins", "inspect needs at least one FILE");
    int status = BRS_EXIT_OK;
    for (int i = 0; i < n_ops; i++) {
        if (inspect_one(ops[i], path_list) != BRS_EXIT_OK)
            status = BRS_EXIT_FAIL;
        fflush(stdout);
    }
    return status;
}

int brs__cmd_plugins(int argc, char **argv)
{
    if (argc < 2)
        return brs__usage_error("plugins", "missing subcommand (inspect or list)");
    if (brs__is_help(argv[1])) {
        usage(stdout);
        return BRS_EXIT_OK;
    }
    const char *sub = argv[1];
    int is_inspect = strcmp(sub, "inspect") == 0;
    if (!is_inspect && strcmp(sub, "list") != 0)
        return brs__usage_error("plugins", "unknown subcommand '%s' (inspect or list)", sub);
    /* Options may come before or after operands; "--" ends them. */
    const char *path_list = NULL;
    char **ops = calloc((size_t)argc, sizeof *ops);
    if (!ops)
        return brs__fail("plugins", "out of memory");
    int n_ops = 0, opts_done = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = 1;
        } else if (!opts_done && brs__is_help(a)) {
            free(ops);
            usage(stdout);
            return BRS_EXIT_OK;
        } else if (!opts_done && strcmp(a, "--path") == 0) {
            if (i + 1 >= argc) {
                free(ops);
                return brs__usage_error("plugins", "--path needs a value");
            }
            path_list = argv[++i];
        } else if (!opts_done && a[0] == '-' && a[1]) {
            free(ops);
            return brs__unknown_option("plugins", a, usage);
        } else {
            ops[n_ops++] = argv[i];
        }
    }
    int status = is_inspect ? run_inspect(ops, n_ops, path_list) : run_list(ops, n_ops, path_list);
    free(ops);
    return status;
}
