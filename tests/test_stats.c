/* The statistics and the tuning rules of alrs compare on fixed numbers:
 * Student t quantiles and CDF, the 95 % interval, Welch's t-test (expected
 * values from scipy.stats 1.10: t.ppf, t.cdf, ttest_ind(equal_var=False)),
 * the thinning of a grid to a budget, the selection by validation loss, the
 * baseline grids themselves (sizes, and every spec parses), and the
 * per-schedule summary of compare records. */
#include <math.h>
#include <string.h>

#include "report/compare_report.h"
#include "report/stats.h"
#include "sched/baselines.h"
#include "sched/schedule.h"
#include "testutil.h"

static void test_t_distribution(void) {
    CHECK_NEAR(stats_t_quantile(0.975, 4), 2.7764451051977987, 1e-9);
    CHECK_NEAR(stats_t_quantile(0.975, 9), 2.2621571627409915, 1e-9);
    CHECK_NEAR(stats_t_quantile(0.975, 1), 12.706204736432095, 1e-8);
    CHECK_NEAR(stats_t_quantile(0.975, 29), 2.045229642132703, 1e-9);
    CHECK_NEAR(stats_t_quantile(0.9, 2.5), 1.730250928807177, 1e-9);
    CHECK_NEAR(stats_t_cdf(-2.5, 3.3), 0.0400264181541772, 1e-12);
    CHECK_NEAR(stats_t_cdf(1.0, 1.0), 0.75, 1e-12); /* Cauchy: 1/2 + atan(1)/pi */
    CHECK_NEAR(stats_t_cdf(0.5, 7.3), 0.6841032365977793, 1e-12);
    CHECK_NEAR(stats_t_cdf(0.0, 3.0), 0.5, 1e-15);
    CHECK_NEAR(stats_beta_inc(2.5, 0.5, 0.3), 0.01892712407194565, 1e-12);
    CHECK_NEAR(stats_beta_inc(10, 3, 0.9), 0.889130022255, 1e-11);
    CHECK(isnan(stats_t_quantile(1.0, 3)));
}

static void test_summary_and_interval(void) {
    const double x[] = {0.25, 0.27, 0.26, 0.24, 0.28};
    sample_stats s = stats_summarize(x, 5);
    CHECK(s.n == 5);
    CHECK_NEAR(s.mean, 0.26, 1e-15);
    CHECK_NEAR(s.std, 0.01581138830084191, 1e-15);
    /* mean - t(0.975, 4) * std / sqrt(5) */
    CHECK_NEAR(s.ci_lo, 0.24036756838522438, 1e-12);
    CHECK_NEAR(s.ci_hi, 0.26 + (0.26 - 0.24036756838522438), 1e-12);
    /* NaN (a run that never validated) is left out, not averaged in */
    const double y[] = {1.0, NAN, 3.0, INFINITY};
    s = stats_summarize(y, 4);
    CHECK(s.n == 2);
    CHECK_NEAR(s.mean, 2.0, 1e-15);
    CHECK_NEAR(s.std, sqrt(2.0), 1e-15);
    s = stats_summarize(y, 1); /* one value: no spread, no interval */
    CHECK(s.n == 1 && s.mean == 1.0 && isnan(s.std) && isnan(s.ci_lo));
}

static void test_welch(void) {
    const double x[] = {0.25, 0.27, 0.26, 0.24, 0.28};
    const double y[] = {0.30, 0.29, 0.33, 0.31, 0.28, 0.32};
    welch_result w = stats_welch(x, 5, y, 6);
    CHECK_NEAR(w.t, -4.323460152737349, 1e-12);
    CHECK_NEAR(w.df, 8.98936170212766, 1e-12);
    CHECK_NEAR(w.p, 0.0019287343508296918, 1e-12);
    const double a[] = {0.3135, 0.3090, 0.3202, 0.3171, 0.3110};
    const double b[] = {0.3312, 0.3250, 0.3401, 0.3288, 0.3356, 0.3300, 0.3275};
    w = stats_welch(a, 5, b, 7);
    CHECK_NEAR(w.t, -6.0646947718722, 1e-10);
    CHECK_NEAR(w.p, 0.00015558668631770344, 1e-12);
    const double c[] = {1.0, 2.0}, d[] = {3.0, 5.0};
    w = stats_welch(c, 2, d, 2);
    CHECK_NEAR(w.t, -2.23606797749979, 1e-12);
    CHECK_NEAR(w.p, 0.19872738893452604, 1e-12);
    /* symmetric in its arguments but for the sign of t */
    welch_result v = stats_welch(d, 2, c, 2);
    CHECK_NEAR(v.t, -w.t, 1e-15);
    CHECK_NEAR(v.p, w.p, 1e-15);
    w = stats_welch(c, 1, d, 2); /* one value: no test */
    CHECK(isnan(w.p));
    const double e[] = {2.0, 2.0}; /* no spread at all: decided by the means */
    w = stats_welch(e, 2, e, 2);
    CHECK(isnan(w.p));
    w = stats_welch(e, 2, d, 2);
    CHECK(!isnan(w.p) && w.p < 0.3);
}

static void test_thin_and_select(void) {
    int keep[BASELINE_MAX_POINTS];
    /* a grid within the budget is run whole */
    CHECK(baseline_thin(7, 12, keep) == 7);
    CHECK(keep[0] == 0 && keep[6] == 6);
    /* 48 points, budget 4: floor((i + 1/2) * 48 / 4) = 6, 18, 30, 42 */
    CHECK(baseline_thin(48, 4, keep) == 4);
    CHECK(keep[0] == 6 && keep[1] == 18 && keep[2] == 30 && keep[3] == 42);
    /* budget 1 keeps the middle */
    CHECK(baseline_thin(7, 1, keep) == 1 && keep[0] == 3);
    CHECK(baseline_thin(3, 2, keep) == 2 && keep[0] == 0 && keep[1] == 2);

    const double v[] = {NAN, 0.52, 0.41, INFINITY, 0.41, 0.9};
    CHECK(baseline_select(v, 6) == 2); /* lowest; the first of equals */
    const double none[] = {NAN, NAN};
    CHECK(baseline_select(none, 2) == -1);
    CHECK(baseline_select(v, 1) == -1);
}

static void test_grids(void) {
    grid_point g[BASELINE_MAX_POINTS];
    const struct {
        const char *name;
        int size;
    } sizes[] = {{"controller", 7}, {"paper-grid", 48}, {"constant", 7}, {"exponential", 6},
                 {"cosine", 7},     {"warmup-cosine", 7}, {"onecycle", 8}, {"plateau", 12},
                 {"warmup", 7},     {"linear", 7},        {"wsd", 7},      {"schedulefree", 7}};
    for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++) {
        int n = baseline_grid(sizes[k].name, 1000, BASELINE_MAX_POINTS, "/tmp/c.bin", NULL, 0, g);
        CHECK(n == sizes[k].size);
        for (int i = 0; i < n; i++) {
            schedule s;
            int rc = schedule_parse(&s, g[i].spec, g[i].lr, 1000);
            if (rc != 0) fprintf(stderr, "  %s point %d: '%s' does not parse\n", sizes[k].name, i,
                                 g[i].spec);
            CHECK(rc == 0);
            CHECK(g[i].lr > 0 && g[i].lr <= 0.1);
        }
    }
    /* the paper's grid, in order: rate x interval x factor */
    CHECK(baseline_grid("paper-grid", 1000, 48, NULL, NULL, 0, g) == 48);
    CHECK(g[0].lr == 0.1 && !strcmp(g[0].spec, "step:every=10,gamma=0.99"));
    CHECK(g[47].lr == 1e-4 && !strcmp(g[47].spec, "step:every=100,gamma=0.88"));
    CHECK(!strcmp(g[4].spec, "step:every=20,gamma=0.9"));
    /* thinned to a budget of 4: points 6, 18, 30, 42 */
    CHECK(baseline_grid("paper-grid", 1000, 4, NULL, NULL, 0, g) == 4);
    CHECK(g[0].lr == 0.1 && !strcmp(g[0].spec, "step:every=50,gamma=0.99"));
    CHECK(g[1].lr == 1e-2 && !strcmp(g[1].spec, "step:every=50,gamma=0.99"));
    CHECK(g[3].lr == 1e-4);
    /* exponential: the rate falls 10x or 100x over the run */
    CHECK(baseline_grid("exponential", 1000, 48, NULL, NULL, 0, g) == 6);
    schedule s;
    CHECK(schedule_parse(&s, g[1].spec, g[1].lr, 1000) == 0);
    CHECK_NEAR(schedule_lr(&s, 1000) / g[1].lr, 0.01, 1e-12);
    CHECK(baseline_grid("controller", 1000, 2, "ctl.bin", NULL, 0, g) == 2);
    /* the controller on cosine's rates: thinned to 2, points 1 and 5 (3e-2 and 3e-4) */
    CHECK(!strcmp(g[0].spec, "controller:ctl.bin") && g[0].lr == 3e-2 && g[1].lr == 3e-4);
    /* a given rate list replaces r7 in the four grids built on it, and only there */
    const double fine[] = {3e-2, 2e-2, 1.4e-2, 1e-2};
    static const char *const on_r7[] = {"controller", "constant", "cosine", "warmup-cosine",
                                        "warmup",     "linear",   "wsd",    "schedulefree"};
    for (int k = 0; k < 8; k++) {
        CHECK(baseline_grid(on_r7[k], 1000, 64, "ctl.bin", fine, 4, g) == 4);
        CHECK(g[0].lr == 3e-2 && g[2].lr == 1.4e-2 && g[3].lr == 1e-2);
    }
    CHECK(baseline_grid("onecycle", 1000, 64, NULL, fine, 4, g) == 8);
    /* the practitioners' rows: a 5 % warm-up (50 of 1000), wsd's decay 20 % */
    CHECK(baseline_grid("warmup", 1000, 64, NULL, NULL, 0, g) == 7);
    CHECK(!strcmp(g[0].spec, "warmup:warmup=50") && g[0].lr == 0.1 && !g[0].optimizer[0]);
    CHECK(baseline_grid("linear", 1000, 64, NULL, NULL, 0, g) == 7);
    CHECK(!strcmp(g[6].spec, "linear:warmup=50,min=0") && g[6].lr == 1e-4);
    CHECK(baseline_grid("wsd", 1000, 64, NULL, NULL, 0, g) == 7);
    CHECK(!strcmp(g[3].spec, "wsd:warmup=50,decay=200,min=0") && g[3].lr == 3e-3);
    /* schedulefree brings its own optimizer, under a 5 % warm-up, on r7 or --rates */
    CHECK(baseline_grid("schedulefree", 1000, 64, NULL, NULL, 0, g) == 7);
    for (int i = 0; i < 7; i++)
        CHECK(!strcmp(g[i].optimizer, "adamw-schedulefree") &&
              !strcmp(g[i].spec, "warmup:warmup=50"));
    CHECK(g[0].lr == 0.1 && g[6].lr == 1e-4);
    CHECK(baseline_grid("schedulefree", 1000, 2, NULL, fine, 4, g) == 2);
    /* thinned to 2 of 4: points 1 and 3 */
    CHECK(!strcmp(g[1].optimizer, "adamw-schedulefree") && g[0].lr == 2e-2 && g[1].lr == 1e-2);
    /* the other rows leave the run's --optimizer */
    CHECK(baseline_grid("cosine", 1000, 64, NULL, NULL, 0, g) == 7 && !g[0].optimizer[0]);
    CHECK(baseline_grid("step", 1000, 4, NULL, NULL, 0, g) == -1);
    CHECK(baseline_grid("cosine", 1000, 0, NULL, NULL, 0, g) == -1);
}

static run_record record(const char *schedule, long seed, double loss, double acc) {
    run_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.schedule, sizeof r.schedule, "%s", schedule);
    snprintf(r.spec, sizeof r.spec, "%s-spec", schedule);
    r.seed = seed, r.lr = 1e-3;
    r.test_loss = loss, r.test_acc = acc;
    r.final_test_loss = loss + 0.01, r.final_test_acc = acc - 0.01;
    return r;
}

static void test_summarize(void) {
    run_record rec[] = {record("controller", 1, 0.25, 0.91), record("controller", 2, 0.27, 0.90),
                        record("controller", 3, 0.26, 0.92), record("controller", 4, 0.24, 0.91),
                        record("controller", 5, 0.28, 0.90), record("cosine", 1, 0.30, 0.89),
                        record("cosine", 2, 0.29, 0.88),     record("cosine", 3, 0.33, 0.90),
                        record("cosine", 4, 0.31, 0.89),     record("cosine", 5, 0.28, 0.88),
                        record("cosine", 6, 0.32, 0.87)};
    rec[7].diverged = 1;
    const char *names[] = {"controller", "cosine", "onecycle"};
    compare_summary s[3];
    compare_summarize(rec, 11, names, 3, s);
    CHECK(s[0].runs == 5 && s[1].runs == 6 && s[2].runs == 0);
    CHECK(s[1].diverged == 1 && s[0].diverged == 0);
    CHECK_NEAR(s[0].test_loss.mean, 0.26, 1e-15);
    CHECK_NEAR(s[0].final_test_loss.mean, 0.27, 1e-12);
    CHECK(isnan(s[0].p_loss.p)); /* the controller against itself: no test */
    CHECK_NEAR(s[1].p_loss.p, 0.0019287343508296918, 1e-12); /* as in test_welch */
    CHECK_NEAR(s[1].p_loss.t, 4.323460152737349, 1e-12);
    CHECK(!strcmp(s[1].spec, "cosine-spec"));
    CHECK(isnan(s[2].test_loss.mean) && isnan(s[2].p_loss.p));
}

int main(void) {
    test_t_distribution();
    test_summary_and_interval();
    test_welch();
    test_thin_and_select();
    test_grids();
    test_summarize();
    return test_finish();
}
