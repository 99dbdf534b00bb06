/* --backend plan, the default: the first run of a network measures auto's
 * choice and records it; later runs read it, so two runs of one command
 * repeat bit for bit; alrs tune measures again and replaces the entry; a plan
 * file that is not one, or has a broken line, is refused with one line naming
 * it and leaves no run directory. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define expect_fail(line, ...) test_expect_fail(__FILE__, line, __VA_ARGS__)

enum { PATH_LEN = 1024, ERR_LEN = TEST_ERR_LEN };

static char base[PATH_LEN / 2], data[PATH_LEN - 64], plans[PATH_LEN];
static csv table; /* big: kept out of the stack */

#define RUN_FLAGS "--model lenet5 --val-split 100 --batch 32 --threads 1 --eval-every 5 --steps 15"

static int train(const char *out, char *err) {
    return test_alrs(err, NULL, "train --data-dir '%s' " RUN_FLAGS " --plan '%s' --out '%s'", data,
                     plans, out);
}

static char *trace_without_wall(const char *out) {
    static const char *const wall[] = {"wall_s", NULL};
    if (csv_read(&table, test_path(out, "trace.csv")) != 0) return NULL;
    return csv_text_without(&table, wall);
}

static int entries(void) {
    char *text = test_read_text(plans);
    int n = text ? test_count_lines(text) - 1 : -1; /* less the header */
    free(text);
    return n;
}

static int metadata_says(const char *out, const char *what) {
    char *meta = test_read_text(test_path(out, "metadata.txt"));
    int found = meta && strstr(meta, what);
    free(meta);
    return found;
}

/* The first run measures and records; the second reads; both the same. */
static void test_measure_then_reuse(void) {
    char err[ERR_LEN];
    const char *a = test_dir(base, "a"), *b = test_dir(base, "b");
    CHECK(train(a, err) == 0);
    CHECK(train(b, err) == 0);
    CHECK(entries() == 1);
    CHECK(metadata_says(a, "measured now and recorded"));
    CHECK(metadata_says(b, "from the plan file"));
    char *ta = trace_without_wall(a), *tb = trace_without_wall(b);
    CHECK(ta && tb && !strcmp(ta, tb));
    free(ta);
    free(tb);
}

/* The key line of the one entry (what tune printed), into key. */
static void entry_key(char *key, int size) {
    char *text = test_read_text(plans);
    char *line = text ? strchr(text, '\n') : NULL;
    char *choice = line ? strstr(line, " choice=") : NULL;
    CHECK(choice != NULL);
    if (choice) snprintf(key, (size_t)size, "%.*s", (int)(choice - line - 1), line + 1);
    else key[0] = '\0';
    free(text);
}

static void test_tune_replaces(void) {
    char err[ERR_LEN], out[PATH_LEN];
    snprintf(out, sizeof out, "%s/tune.txt", base);
    CHECK(test_alrs(err, out, "tune --model lenet5 --batch 32 --threads 1 --plan '%s'", plans) == 0);
    CHECK(entries() == 1); /* the same key: replaced, not added */
    char *printed = test_read_text(out), key[PATH_LEN];
    entry_key(key, sizeof key);
    CHECK(printed && key[0] && strstr(printed, key));
    free(printed);
}

/* An entry of another machine is kept and not used; a given choice is used
 * as it stands (the whole oneDNN net here). */
static void test_entries_by_key(void) {
    char err[ERR_LEN], key[PATH_LEN], text[3 * PATH_LEN];
    entry_key(key, sizeof key);
    snprintf(text, sizeof text,
             "# alrs backend plans, version 1\n"
             "cpu=Other_CPU-f1-m2-s3|isa=avx2|net=lenet5-1x28x28-61706|batch=32|threads=1|"
             "alrs=0.9 choice=nnnnn\n"
             "%s choice=dnnl-net\n",
             key);
    test_write_text(plans, text);
    const char *c = test_dir(base, "c");
    CHECK(train(c, err) == 0);
    CHECK(metadata_says(c, "dnnl-net (from the plan file)"));
    CHECK(entries() == 2);
    char *after = test_read_text(plans);
    CHECK(after && strstr(after, "cpu=Other_CPU"));
    free(after);
}

static void test_bad_plan_files(void) {
    const char *out = test_dir(base, "never");
    test_write_text(plans, "cpu=x choice=native\n");
    expect_fail(__LINE__, out, plans, "not an alrs plan file",
                "train --data-dir '%s' " RUN_FLAGS " --plan '%s' --out '%s'", data, plans, out);
    test_write_text(plans, "# alrs backend plans, version 1\ncpu=x choice=native\ngarbage\n");
    expect_fail(__LINE__, out, ":3:", "not a plan entry",
                "train --data-dir '%s' " RUN_FLAGS " --plan '%s' --out '%s'", data, plans, out);
    test_write_text(plans, "# alrs backend plans, version 1\ncpu=x choice=xyz\n");
    expect_fail(__LINE__, NULL, ":2:", "not a plan entry",
                "tune --model lenet5 --plan '%s'", plans);
    char *left = test_read_text(plans); /* a refused file is left as it was */
    CHECK(left && !strcmp(left, "# alrs backend plans, version 1\ncpu=x choice=xyz\n"));
    free(left);
    expect_fail(__LINE__, out, "--backend fast", "expected plan, native, dnnl or auto",
                "train --data-dir '%s' " RUN_FLAGS " --backend fast --out '%s'", data, out);
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("plan"));
    snprintf(data, sizeof data, "%s/data", base);
    snprintf(plans, sizeof plans, "%s/plans.txt", base);
    char cmd[PATH_LEN + 16];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", data);
    CHECK(test_run(cmd, NULL, 0) == 0);
    test_write_idx_set(data, "", 300, 28, 28, 0, 1);
    test_measure_then_reuse();
    test_tune_replaces();
    test_entries_by_key();
    test_bad_plan_files();
    test_remove_tmpdirs();
    return test_finish();
}
