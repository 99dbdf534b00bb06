/* Running statistics against a two-pass computation (batch updates of
 * uneven sizes, one-at-a-time updates, merges of disjoint parts, merges with
 * empty stats), the observation normaliser (scaling, clipping, frozen at
 * apply), and the reward scaler against its recursion worked out by hand. */
#include "core/error.h"
#include "core/rng.h"
#include "rl/normalizer.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

enum { N = 1000, D = 3 };

/* mean and population variance of column j of x [n][D], two passes */
static void two_pass(const double *x, int n, int j, double *mean, double *var) {
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i * D + j];
    m /= n;
    for (int i = 0; i < n; i++) v += (x[i * D + j] - m) * (x[i * D + j] - m);
    *mean = m, *var = v / n;
}

static void test_running_stats(void) {
    double *x = malloc(sizeof(double) * N * D);
    rng_stream r = rng_make(3, 0);
    /* large offset, small spread: a naive sum-of-squares would lose digits */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) x[i * D + j] = 1e6 * (j + 1) + (j + 0.5) * rng_normal(&r);

    running_stats batched, single, a, b, empty;
    running_stats_init(&batched, D);
    running_stats_init(&single, D);
    running_stats_init(&a, D);
    running_stats_init(&b, D);
    running_stats_init(&empty, D);
    CHECK(running_stats_var(&batched, 0) == 1.0); /* no data yet */
    /* uneven batches: 1, 7, 300, 692 */
    running_stats_update(&batched, x, 1);
    running_stats_update(&batched, x + 1 * D, 7);
    running_stats_update(&batched, x + 8 * D, 300);
    running_stats_update(&batched, x + 308 * D, 692);
    for (int i = 0; i < N; i++) running_stats_update(&single, x + i * D, 1);
    /* two workers: the first 400 rows and the rest, merged */
    running_stats_update(&a, x, 400);
    running_stats_update(&b, x + 400 * D, N - 400);
    CHECK(running_stats_merge(&a, &b) == 0);
    CHECK(running_stats_merge(&a, &empty) == 0); /* merging nothing changes nothing */
    CHECK(a.count == N && batched.count == N && single.count == N);
    for (int j = 0; j < D; j++) {
        double mean, var;
        two_pass(x, N, j, &mean, &var);
        CHECK_NEAR(batched.mean[j], mean, 1e-8); /* 1e-14 relative */
        CHECK_NEAR(single.mean[j], mean, 1e-8); /* 1e-14 relative */
        CHECK_NEAR(a.mean[j], mean, 1e-8); /* 1e-14 relative */
        CHECK_NEAR(running_stats_var(&batched, j), var, 1e-9 * var);
        CHECK_NEAR(running_stats_var(&single, j), var, 1e-9 * var);
        CHECK_NEAR(running_stats_var(&a, j), var, 1e-9 * var);
    }
    /* empty into filled and filled into empty */
    CHECK(running_stats_merge(&empty, &a) == 0);
    CHECK_NEAR(empty.mean[1], a.mean[1], 0);
    CHECK_NEAR(empty.m2[2], a.m2[2], 0);
    running_stats wrong;
    running_stats_init(&wrong, D + 1);
    CHECK(running_stats_merge(&a, &wrong) == -1);
    CHECK(strstr(alrs_error(), "dimension") != NULL);
    running_stats_free(&wrong);
    CHECK(running_stats_init(&wrong, 0) == -1);
    running_stats_free(&batched), running_stats_free(&single), running_stats_free(&a);
    running_stats_free(&b), running_stats_free(&empty);
    free(x);
}

static void test_obs_normalizer(void) {
    obs_normalizer o;
    CHECK(obs_normalizer_init(&o, 2) == 0);
    /* column 0: {1, 3} mean 2 var 1; column 1: {10, 10} var 0 */
    double x[4] = {1, 10, 3, 10};
    obs_normalizer_update(&o, x, 2);
    double probe[4] = {4, 10, 2, 10.5}, out[4];
    obs_normalizer_apply(&o, probe, 2, out);
    CHECK_NEAR(out[0], (4 - 2) / sqrt(1 + 1e-8), 1e-12);
    CHECK_NEAR(out[1], 0, 1e-12);
    CHECK_NEAR(out[2], 0, 1e-12);
    CHECK_NEAR(out[3], 10, 0); /* 0.5 / sqrt(1e-8) = 5000, clipped to 10 */
    probe[1] = 9;
    obs_normalizer_apply(&o, probe, 1, out);
    CHECK_NEAR(out[1], -10, 0);
    CHECK(o.stats.count == 2); /* applying does not learn */
    obs_normalizer_apply(&o, probe, 2, probe); /* in place */
    CHECK_NEAR(probe[0], out[0], 0);
    obs_normalizer_free(&o);
}

static void test_reward_scaler(void) {
    reward_scaler s;
    CHECK(reward_scaler_init(&s, 2, 0.5) == 0);
    double r1[2] = {1, 2}, out[2];
    unsigned char done1[2] = {0, 1};
    /* step 1: R = (1, 2) -> stats of {1, 2}: mean 1.5, var 0.25; out = r / sqrt(0.25) */
    reward_scaler_scale(&s, r1, done1, out);
    CHECK_NEAR(out[0], 1 / sqrt(0.25 + 1e-8), 1e-12);
    CHECK_NEAR(out[1], 2 / sqrt(0.25 + 1e-8), 1e-12);
    CHECK(s.ret[0] == 1 && s.ret[1] == 0); /* env 1's episode ended: its return restarts */
    /* step 2: R = (0.5*1 + 3, 0.5*0 + 3) = (3.5, 3); stats of {1, 2, 3.5, 3}:
     * mean 2.375, var ((1.375)^2 + (0.375)^2 + (1.125)^2 + (0.625)^2) / 4 = 3.6875/4 */
    double r2[2] = {3, 3};
    unsigned char done2[2] = {0, 0};
    reward_scaler_scale(&s, r2, done2, out);
    double var = (1.375 * 1.375 + 0.375 * 0.375 + 1.125 * 1.125 + 0.625 * 0.625) / 4;
    CHECK_NEAR(s.stats.mean[0], 2.375, 1e-15);
    CHECK_NEAR(running_stats_var(&s.stats, 0), var, 1e-15);
    CHECK_NEAR(out[0], 3 / sqrt(var + 1e-8), 1e-12);
    CHECK_NEAR(reward_scaler_apply(&s, 1e6), 10, 0); /* clipped */
    CHECK(reward_scaler_set_envs(&s, 3) == 0 && s.ret[2] == 0 && s.ret[0] == 0);
    CHECK(reward_scaler_set_envs(&s, 0) == -1);
    reward_scaler_free(&s);
    CHECK(reward_scaler_init(&s, 1, 1.5) == -1);
    CHECK(strstr(alrs_error(), "gamma") != NULL);
}

int main(void) {
    test_running_stats();
    test_obs_normalizer();
    test_reward_scaler();
    return test_finish();
}
