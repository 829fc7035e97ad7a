/* test_fsutil.c: atomic output. A regular file is replaced whole; a FIFO (like
 * /dev/null, a path that is not a regular file) is written straight through and
 * stays what it was; a symlink keeps pointing at the file, which is replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/test-output/fsutil.XXXXXX", BOURSE_BINARY_DIR);
    char parent[256];
    snprintf(parent, sizeof parent, "%s/test-output", BOURSE_BINARY_DIR);
    mkdir(parent, 0777);
    return mkdtemp(dir) ? 0 : -1;
}

static void test_regular_file_replaced(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    brs_error err = {0};
    assert_int_equal(brs__atomic_write(path, "first\n", 6, &err), BRS_OK);
    assert_int_equal(brs__atomic_write(path, "second\n", 7, &err), BRS_OK);
    char *text;
    size_t len;
    assert_int_equal(brs__read_file(path, &text, &len, &err), BRS_OK);
    assert_string_equal(text, "second\n");
    free(text);
    /* an aborted write leaves the old contents and no temporary behind */
    brs_atomic_file af;
    assert_int_equal(brs__atomic_open(&af, path, &err), BRS_OK);
    fputs("half", af.fp);
    brs__atomic_abort(&af);
    assert_int_equal(brs__read_file(path, &text, &len, &err), BRS_OK);
    assert_string_equal(text, "second\n");
    free(text);
}

static void test_fifo_written_through(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/pipe", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    /* a reader first, so opening the FIFO for writing does not block */
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    brs_error err = {0};
    assert_int_equal(brs__atomic_write(path, "through\n", 8, &err), BRS_OK);
    char buf[32] = {0};
    assert_int_equal(read(rd, buf, sizeof buf - 1), 8);
    assert_string_equal(buf, "through\n");
    close(rd);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode)); /* still a FIFO, not replaced by a file */
}

static void test_symlink_target_replaced(void **state)
{
    (void)state;
    char target[400], link[400];
    snprintf(target, sizeof target, "%s/real.json", dir);
    snprintf(link, sizeof link, "%s/link.json", dir);
    brs_error err = {0};
    assert_int_equal(brs__atomic_write(target, "old", 3, &err), BRS_OK);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(brs__atomic_write(link, "new", 3, &err), BRS_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* the link is still a link */
    char *text;
    assert_int_equal(brs__read_file(target, &text, NULL, &err), BRS_OK);
    assert_string_equal(text, "new");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file_replaced),
        cmocka_unit_test(test_fifo_written_through),
        cmocka_unit_test(test_symlink_target_replaced),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
