/* alrs bench all end to end on a small synthetic IDX set: the machine's
 * description, one train row per backend and thread count and one rollout
 * row per layout, with positive rates and a peak memory for each; alrs bench
 * layers: a row per layer and pass each way it runs, the whole nets, and
 * the start-up rows (the data set's load, each net's creation). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

/* alrs bench layers on LeNet-5 (7 layers: conv, pool, conv, pool, conv, fc, fc). */
static void test_layers(const char *base, const char *idx) {
    char out[600], err[TEST_ERR_LEN];
    snprintf(out, sizeof out, "%s/layers.csv", base);
    int rc = test_alrs(err, out, "bench layers --model lenet5 --batch 16 --eval-batch 40 "
                                 "--threads 1 --repeats 1 --plan '%s/plans.txt' --data-dir '%s' "
                                 "--val-split 100", base, idx);
    if (rc != 0) fprintf(stderr, "  alrs bench layers: exit %d: %s", rc, err);
    CHECK(rc == 0);
    static csv c;
    CHECK(csv_read(&c, out) == 0);
    int whole = 0, conv_passes = 0, dnnl = 0, pool_share = 0, infer = 0, startup = 0;
    int fused_fwd = 0, fused_infer = 0; /* conv+maxpool rows: the pool has none */
    for (int r = 0; r < c.n_rows; r++) {
        const char *layer = csv_str(&c, r, "layer"), *pass = csv_str(&c, r, "pass");
        CHECK(csv_num(&c, r, "ms") > 0);
        if (!strcmp(pass, "create") || !strcmp(pass, "load")) {
            /* what a run does before its first step: a time, no flops */
            startup++;
            CHECK(isnan(csv_num(&c, r, "peak_fraction")));
            continue;
        }
        if (!strcmp(layer, "all")) {
            whole++;
            /* no upper bound: on a loaded machine the peak loop and the net
             * share their core differently */
            CHECK(isfinite(csv_num(&c, r, "peak_fraction")) && csv_num(&c, r, "peak_fraction") > 0);
            continue;
        }
        if (!strcmp(layer, "2") && !strcmp(csv_str(&c, r, "backend"), "native")) conv_passes++;
        if (!strcmp(csv_str(&c, r, "backend"), "dnnl")) dnnl++;
        if (!strcmp(pass, "infer")) {
            infer++;
            CHECK(csv_num(&c, r, "batch") == 40);
        }
        if (!strcmp(csv_str(&c, r, "op"), "conv+maxpool")) {
            fused_fwd += !strcmp(pass, "forward");
            fused_infer += !strcmp(pass, "infer");
        }
        /* a pool has no counted flops, but a share of the step */
        if (!strcmp(csv_str(&c, r, "op"), "maxpool") && !strcmp(pass, "forward"))
            pool_share += isnan(csv_num(&c, r, "gflops_per_s")) && csv_num(&c, r, "share") > 0;
    }
    CHECK(whole == 6);       /* train_step and evaluate of native, dnnl, plan */
    CHECK(startup == 4);     /* the data set's load, each backend's net built */
    CHECK(conv_passes == 4); /* conv2: forward, bwd_weights, bwd_data, infer */
    CHECK(dnnl == 3 * 3 + 2 * 3 - 1); /* 3 convs, 2 fcs; conv1 has no bwd_data */
    /* the pools run inside the convolutions where the kernels fuse them
     * (AVX-512), forward and inference alike */
    CHECK(fused_fwd == fused_infer);
    CHECK(infer == 7 - fused_infer);
    CHECK(pool_share == 2 - fused_fwd);
}

int main(void) {
    char base[512], idx[600], out[600], err[TEST_ERR_LEN];
    snprintf(base, sizeof base, "%s", test_tmpdir("bench-cli"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    snprintf(out, sizeof out, "%s/bench.csv", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 5);
    int rc = test_alrs(err, out, "bench all --models mlp --threads 1 --layouts 1x1,2x1 "
                                 "--data-dir '%s' --val-split 100", idx);
    if (rc != 0) fprintf(stderr, "  alrs bench all: exit %d: %s", rc, err);
    CHECK(rc == 0);
    char *text = test_read_text(out);
    CHECK(text && strstr(text, "# cpu_model:") && strstr(text, "# isa_used:"));
    free(text);
    static csv c;
    CHECK(csv_read(&c, out) == 0 && c.n_rows == 4);
    const char *kinds[] = {"train", "train", "rollout", "rollout"};
    for (int r = 0; r < c.n_rows && r < 4; r++) {
        CHECK(!strcmp(csv_str(&c, r, "kind"), kinds[r]));
        CHECK(!strcmp(csv_str(&c, r, "model"), "mlp"));
        CHECK(csv_num(&c, r, "peak_rss_mib") > 1);
        if (r < 2) {
            CHECK(csv_num(&c, r, "steps_per_s") > 0 && csv_num(&c, r, "gflops_per_s") > 0);
            CHECK(csv_num(&c, r, "peak_fraction") > 0);
        } else {
            CHECK(csv_num(&c, r, "episodes_per_hour") > 0);
            CHECK(csv_num(&c, r, "envs") == r - 1);
        }
    }
    CHECK(!strcmp(csv_str(&c, 0, "backend"), "native") && !strcmp(csv_str(&c, 1, "backend"), "dnnl"));
    /* a bad flag of the measurement is reported, not swallowed */
    rc = test_alrs(err, NULL, "bench all --models nosuch --threads 1 --layouts 1x1");
    CHECK(rc != 0 && strstr(err, "nosuch") && test_count_lines(err) == 1);
    test_layers(base, idx);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    test_run(cmd, NULL, 0);
    return test_finish();
}
