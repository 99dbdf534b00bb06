/* valgrind memcheck on a short alrs train and a short alrs compare: no
 * invalid access, no use of uninitialised values, no definite leak. Skipped
 * in a sanitizer build (ASan and valgrind do not mix) and when valgrind is
 * not installed.
 *
 * The runs use the native backend: oneDNN's JIT kernels read up to 32 bytes
 * past buffers oneDNN itself allocated and run on stacks of their own, which
 * memcheck reports by the thousand without a symbol to suppress them by
 * (valgrind 3.19 also aborts on some of their code). Our side of the dnnl
 * backend is covered by the ASan/UBSan build of the whole suite. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define DATA "--data-dir '%s' --val-split 100 --steps 12 --batch 16 --eval-every 4 --val-size 50"

static char base[512], idx[600];

/* Runs alrs under memcheck; 0 when valgrind reports nothing. */
static int memcheck(const char *what, const char *fmt, const char *out) {
    char args[2048], cmd[4096], log[700];
    snprintf(args, sizeof args, fmt, idx);
    snprintf(log, sizeof log, "%s/valgrind-%s.txt", base, what);
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=1 valgrind --error-exitcode=9 --leak-check=full "
             "--errors-for-leak-kinds=definite --log-file='%s' %s %s --threads 1 --out '%s/%s' "
             ">/dev/null 2>&1",
             log, ALRS_BIN, args, base, out);
    int rc = test_run(cmd, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "  valgrind %s: exit %d; its report:\n", what, rc);
        char *text = test_read_text(log);
        if (text) fputs(text, stderr);
        free(text);
    }
    return rc;
}

int main(void) {
#ifdef SANITIZED
    fprintf(stderr, "skipped: a sanitizer build\n");
    return 0;
#endif
    if (test_run("command -v valgrind >/dev/null", NULL, 0) != 0) {
        fprintf(stderr, "skipped: valgrind is not installed\n");
        return 0;
    }
    snprintf(base, sizeof base, "%s", test_tmpdir("valgrind"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 300, 28, 28, 1, 3);
    CHECK(memcheck("train-lenet5", "train --model lenet5 " DATA " --backend native "
                   "--schedule onecycle", "train-lenet5") == 0);
    /* compare: tuning and evaluation through the run queue (--threads is train's) */
    char args[1024];
    snprintf(args, sizeof args, "compare --model mlp --hidden 16 %s --baselines cosine,plateau "
             "--seeds 2 --tune-budget 1 --concurrency 1 --backend native", DATA);
    char cmd[4096], log[700];
    snprintf(log, sizeof log, "%s/valgrind-compare.txt", base);
    char filled[2048];
    snprintf(filled, sizeof filled, args, idx);
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=1 valgrind --error-exitcode=9 --leak-check=full "
             "--errors-for-leak-kinds=definite --log-file='%s' %s %s --out '%s/compare' "
             ">/dev/null 2>&1", log, ALRS_BIN, filled, base);
    int rc = test_run(cmd, NULL, 0);
    if (rc != 0) {
        char *text = test_read_text(log);
        fprintf(stderr, "  valgrind compare: exit %d\n%s", rc, text ? text : "");
        free(text);
    }
    CHECK(rc == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    test_run(cmd, NULL, 0);
    return test_finish();
}
