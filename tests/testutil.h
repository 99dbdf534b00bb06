/* A small test harness: CHECK macros that count, and a closing line
 * "N passed, N failed" that test_finish() prints and turns into an exit code. */
#ifndef ALRS_TESTS_TESTUTIL_H
#define ALRS_TESTS_TESTUTIL_H

#include <math.h>
#include <stdio.h>

#include "child/child.h"
#include "env/lr_env.h"

extern int test_passed, test_failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) test_passed++;                                                 \
        else {                                                                   \
            test_failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
        }                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                    \
    do {                                                                         \
        double a_ = (a), b_ = (b);                                               \
        if (fabs(a_ - b_) <= (tol)) test_passed++;                               \
        else {                                                                   \
            test_failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s = %.9g, %s = %.9g (tol %g)\n",       \
                    __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol));          \
        }                                                                        \
    } while (0)

/* Prints the closing line and returns the exit code for main. */
int test_finish(void);

/* A fresh empty directory under $TMPDIR (or /tmp) for this test; the path is
 * static storage. */
const char *test_tmpdir(const char *name);

/* Removes every directory test_tmpdir made in this process (alrs-test-*-PID). */
void test_remove_tmpdirs(void);

/* Runs a shell command; returns its exit status. Its stderr is captured into
 * `err` (up to size bytes, NUL-terminated) when err is not NULL. */
int test_run(const char *cmd, char *err, int size);

/* "dir/file" in one of 8 rotating static buffers (for use in argument lists). */
const char *test_path(const char *dir, const char *file);
/* "dir/file" that stays valid for the whole test (one of 64 static slots;
 * exits if they run out): for a test's named run directories. */
const char *test_dir(const char *dir, const char *file);
/* The whole regular file, NUL-terminated (free it); *size its length when
 * size is not NULL. NULL if it is missing or not a regular file. */
char *test_read_file(const char *path, long *size);
char *test_read_text(const char *path);
void test_write_text(const char *path, const char *text);
int test_exists(const char *path);
/* Entries of a directory whose names contain `needle` (-1 if unreadable). */
int test_count_entries(const char *dir, const char *needle);
int test_count_lines(const char *s);
/* Runs the alrs program under test with printf-style arguments, stdout to
 * out_file (NULL: /dev/null), stderr into err (TEST_ERR_LEN bytes). Returns
 * its exit status. */
enum { TEST_ERR_LEN = 16384 };
int test_alrs(char *err, const char *out_file, const char *fmt, ...);

/* Copies a file; overwrites one byte at an offset (corrupting files on
 * purpose). Both exit(2) on an I/O error: the test itself is broken then. */
void test_copy_file(const char *from, const char *to);
/* 1 if both files exist and hold the same bytes. */
int test_same_file(const char *a, const char *b);
void test_poke_byte(const char *path, long offset, unsigned char value);

/* `alrs ARGS` (fmt, printf-style) must exit non-zero with exactly one stderr
 * line that starts with "alrs: " and contains key1 and key2 (either may be
 * NULL), and must leave `out` (if given) nonexistent; counts one check and
 * reports FILE:LINE when it fails (ALRS_TEST_VERBOSE=1 prints every message). */
void test_expect_fail(const char *file, int line, const char *out, const char *key1,
                      const char *key2, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The small child the unit tests train: mlp 32-16, Adam or SGD, the given
 * backend, batch and validation size, inference chunks of 1000, seed 1. */
child_config test_small_mlp(const char *optimizer, const char *backend, int batch, int val_size);
/* An environment over that child: 40 child steps, an agent step every 5
 * (8 agent steps an episode), the other settings lr_env_config_default's. */
lr_env_config test_small_env(const char *optimizer, const char *backend, int batch, int val_size);

/* Writes small data files in the real formats (big-endian IDX, optionally
 * gzipped; CIFAR-10 binary batches) with n images whose pixels and labels
 * follow a learnable pattern. */
void test_write_idx_set(const char *dir, const char *prefix, int n, int rows, int cols,
                        int gz, unsigned seed);
void test_write_cifar_set(const char *dir, int n_per_batch, unsigned seed);

/* A small CSV table read whole: '#' lines skipped, commas inside double
 * quotes kept in their field. Large: keep instances static. */
enum { CSV_MAX_ROWS = 256, CSV_MAX_COLS = 32, CSV_CELL = 320 };
typedef struct {
    char header[CSV_MAX_COLS][CSV_CELL];
    int n_cols, n_rows, ragged;
    char cell[CSV_MAX_ROWS][CSV_MAX_COLS][CSV_CELL];
} csv;

/* -1 if the file cannot be read or a row has another field count than the header. */
int csv_read(csv *c, const char *path);
int csv_col(const csv *c, const char *name);
/* The number in row r of column `name`; NaN when there is none. */
double csv_num(const csv *c, int r, const char *name);
/* The text in row r of column `name` ("" when there is none). */
const char *csv_str(const csv *c, int r, const char *name);
/* The table as text without the named columns (a NULL-terminated list), for
 * comparing runs that may differ only in timings. Free the result. */
char *csv_text_without(const csv *c, const char *const *skip);
/* 1 if two CSV files hold the same table but for the named columns (a
 * NULL-terminated list: timings); prints both versions when they differ. */
int test_same_csv(const char *a, const char *b, const char *const *skip);

#endif
