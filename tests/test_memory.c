/* Memory over a long run: 10 000 training steps of a small MLP hold the
 * memory they had at the first validation (every buffer is allocated once,
 * at creation). alrs train reports its resident set at the first validation
 * and at the end in summary.csv; growth beyond 1 MiB fails. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* Under AddressSanitizer the resident set measures its quarantine (freed
 * blocks held back, up to 256 MiB) and shadow memory, not the program: the
 * leak checker covers that build instead. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

int main(void) {
    char base[512], idx[600], out[600], err[TEST_ERR_LEN];
    snprintf(base, sizeof base, "%s", test_tmpdir("memory"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    snprintf(out, sizeof out, "%s/run", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 1);
    int rc = test_alrs(err, NULL,
                       "train --model mlp --hidden 32,16 --data-dir '%s' --val-split 100 "
                       "--steps 10000 --batch 16 --eval-every 500 --val-size 100 --threads 1 "
                       "--out '%s'", idx, out);
    if (rc != 0) fprintf(stderr, "  alrs train: exit %d: %s", rc, err);
    CHECK(rc == 0);
    static csv s;
    CHECK(csv_read(&s, test_path(out, "summary.csv")) == 0 && s.n_rows == 1);
    double first = csv_num(&s, 0, "rss_mib_first_eval"), end = csv_num(&s, 0, "rss_mib_end");
    fprintf(stderr, "resident memory: %.1f MiB at the first validation, %.1f MiB after 10000 steps\n",
            first, end);
    CHECK(first > 1 && end > 1);
    if (SANITIZED) fprintf(stderr, "growth not checked: a sanitizer build\n");
    else CHECK(end - first < 1.0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    test_run(cmd, NULL, 0);
    return test_finish();
}
