/* The statistics and the tuning rules of alrs compare on fixed numbers:
 * Student t quantiles and CDF, the 95 % interval, Welch's t-test, the
 * paired t-test and the Wilcoxon signed-rank test (expected values from
 * scipy.stats 1.10: t.ppf, t.cdf, ttest_ind(equal_var=False), ttest_rel,
 * wilcoxon with its defaults), Holm's correction (by its formula),
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

/* Expected: scipy.stats.ttest_rel(x, y) and the mean of x - y
 * -+ t.ppf(0.975, n - 1) * std(x - y, ddof=1) / sqrt(n). */
static void check_paired(const double *x, const double *y, int n, int pairs, double mean,
                         double lo, double hi, double p) {
    paired_result r = stats_paired_t(x, y, n);
    CHECK(r.n == pairs);
    CHECK_NEAR(r.mean, mean, 1e-15);
    CHECK_NEAR(r.ci_lo, lo, 1e-11); /* the t quantile by bisection: ~1e-12 */
    CHECK_NEAR(r.ci_hi, hi, 1e-11);
    CHECK_NEAR(r.p, p, 1e-12);
}

static void test_paired_t(void) {
    const double x[] = {0.312, 0.305, 0.320, 0.298, 0.315, 0.309, 0.301, 0.318};
    const double y[] = {0.327, 0.311, 0.329, 0.301, 0.330, 0.304, 0.314, 0.331};
    check_paired(x, y, 8, 8, -0.008625000000000008, -0.014484606168036106,
                 -0.002765393831963908, 0.010258094405935154);
    CHECK_NEAR(stats_paired_t(x, y, 8).t, -3.480589578906696, 1e-11);
    /* a pair with a NaN or Inf on either side is left out */
    const double a[] = {0.31, NAN, 0.33, 0.30, 0.36}, b[] = {0.30, 0.29, INFINITY, 0.28, 0.33};
    check_paired(a, b, 5, 3, 0.01999999999999998, -0.0048413771184375, 0.044841377118437456,
                 0.07417990022744841);
    /* one pair: a difference, no interval, no test; none: nothing */
    paired_result r = stats_paired_t(a, b, 1);
    CHECK(r.n == 1 && fabs(r.mean - 0.01) < 1e-15 && isnan(r.ci_lo) && isnan(r.p));
    r = stats_paired_t(a, b, 0);
    CHECK(r.n == 0 && isnan(r.mean) && isnan(r.ci_hi) && isnan(r.p));
    /* all equal: no difference is no test; a constant difference is a sure one (as scipy) */
    const double e[] = {0.3, 0.4, 0.5};
    r = stats_paired_t(e, e, 3);
    CHECK(r.mean == 0 && r.ci_lo == 0 && r.ci_hi == 0 && isnan(r.p));
    const double up[] = {1.5, 2.5, 3.5}, base[] = {1.0, 2.0, 3.0};
    r = stats_paired_t(up, base, 3);
    CHECK(r.mean == 0.5 && r.ci_lo == 0.5 && r.p == 0 && isinf(r.t) && r.t > 0);
}

/* Expected: scipy.stats.wilcoxon(x, y) of scipy 1.10, defaults. */
static void test_wilcoxon(void) {
    /* 8 untied nonzero differences: the exact distribution, p = 2 * 3/256 */
    const double x[] = {0.312, 0.305, 0.320, 0.298, 0.315, 0.309, 0.301, 0.318};
    const double y[] = {0.327, 0.311, 0.329, 0.301, 0.330, 0.304, 0.314, 0.331};
    wilcoxon_result w = stats_wilcoxon(x, y, 8);
    CHECK(w.n == 8 && w.exact && w.w == 2.0);
    CHECK_NEAR(w.p, 0.0234375, 1e-15);
    /* ties, no zero: scipy 1.10 stays exact and truncates R+ = 20.5 to 20 */
    const double tx[] = {1, 2, 3, 4, 5, 6, 7}, ty[] = {0, 0, 1, 5, 4, 8, 5};
    w = stats_wilcoxon(tx, ty, 7);
    CHECK(w.exact && w.w == 7.5);
    CHECK_NEAR(w.p, 0.375, 1e-15);
    /* ties and zeros: the zeros dropped, normal approximation with the tie
     * correction, no continuity correction */
    const double zx[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const double zy[] = {0, 2, 1, 5, 4, 8, 5, 8, 7, 13, 11, 9};
    w = stats_wilcoxon(zx, zy, 12);
    CHECK(w.n == 12 && !w.exact && w.w == 16.0);
    CHECK_NEAR(w.p, 0.4351611799066696, 1e-12);
    /* 60 pairs: past 50, the normal approximation */
    static const double x60[] = {
        0.300012, 0.302987, 0.297259, 0.291094, 0.295453, 0.290084, 0.300601, 0.313402, 0.295078,
        0.293795, 0.304898, 0.303569, 0.301054, 0.290695, 0.299707, 0.306953, 0.286558, 0.295424,
        0.280988, 0.287105, 0.281583, 0.297649, 0.287326, 0.302713, 0.301568, 0.298131, 0.274832,
        0.294613, 0.299515, 0.301133, 0.284699, 0.295222, 0.290215, 0.291912, 0.310609, 0.291925,
        0.299675, 0.308844, 0.294164, 0.298883, 0.301105, 0.300638, 0.287749, 0.300761, 0.313588,
        0.284529, 0.308594, 0.301194, 0.293585, 0.320004, 0.307623, 0.288007, 0.300745, 0.305767,
        0.298112, 0.306829, 0.299335, 0.306672, 0.314385, 0.293243};
    static const double y60[] = {
        0.303028, 0.302670, 0.299895, 0.287158, 0.294556, 0.291103, 0.307095, 0.321128, 0.290460,
        0.291822, 0.310133, 0.295607, 0.300738, 0.292209, 0.307992, 0.312400, 0.286922, 0.295581,
        0.281737, 0.296723, 0.281443, 0.298131, 0.291089, 0.304109, 0.302582, 0.294561, 0.276774,
        0.294395, 0.307346, 0.306398, 0.286578, 0.300564, 0.290516, 0.299173, 0.312582, 0.296842,
        0.295221, 0.312577, 0.287723, 0.290706, 0.301583, 0.298138, 0.290569, 0.313985, 0.311429,
        0.283409, 0.311621, 0.305659, 0.294703, 0.320974, 0.313135, 0.292607, 0.297577, 0.307371,
        0.300288, 0.303557, 0.302634, 0.304382, 0.321245, 0.296207};
    w = stats_wilcoxon(x60, y60, 60);
    CHECK(w.n == 60 && !w.exact && w.w == 529.0);
    CHECK_NEAR(w.p, 0.004489076235714239, 1e-12);
    check_paired(x60, y60, 60, 60, -0.0015824666666666718, -0.0026728604344948927,
                 -0.0004920728988384508, 0.0051766554782651025);
    /* edge cases: one pair (exact, p = 1), none, all differences zero (scipy
     * raises: NaN here), a constant difference (exact, p = 2/8) */
    const double one_x[] = {0.3}, one_y[] = {0.2};
    w = stats_wilcoxon(one_x, one_y, 1);
    CHECK(w.n == 1 && w.exact && w.w == 0 && w.p == 1.0);
    w = stats_wilcoxon(one_x, one_y, 0);
    CHECK(w.n == 0 && isnan(w.p));
    const double e[] = {0.3, 0.4, 0.5};
    w = stats_wilcoxon(e, e, 3);
    CHECK(w.n == 3 && isnan(w.p));
    const double up[] = {1.5, 2.5, 3.5}, base[] = {1.0, 2.0, 3.0};
    w = stats_wilcoxon(up, base, 3);
    CHECK(w.w == 0 && w.p == 0.25);
    /* non-finite pairs are left out before counting */
    const double a[] = {0.31, NAN, 0.33, 0.30, 0.36}, b[] = {0.30, 0.29, INFINITY, 0.28, 0.33};
    w = stats_wilcoxon(a, b, 5);
    CHECK(w.n == 3 && w.exact && w.p == 0.25);
}

static void test_holm(void) {
    /* m = 5 finite: sorted 0.005 0.01 0.03 0.04 0.5 times 5 4 3 2 1 = 0.025
     * 0.04 0.09 0.08 0.5; made non-decreasing: 0.04 of 0.08 becomes 0.09 */
    const double p[] = {0.01, NAN, 0.04, 0.03, 0.005, 0.5};
    const double want[] = {0.04, NAN, 0.09, 0.09, 0.025, 0.5};
    double adj[6];
    stats_holm(p, 6, adj);
    for (int i = 0; i < 6; i++)
        CHECK(isnan(want[i]) ? isnan(adj[i]) : fabs(adj[i] - want[i]) < 1e-15);
    /* capped at 1; in place */
    double q[] = {0.5, 0.6, 0.02};
    stats_holm(q, 3, q);
    CHECK(q[0] == 1 && q[1] == 1 && fabs(q[2] - 0.06) < 1e-15);
    /* one test: unchanged; all NaN and none: nothing to do */
    double one[] = {0.3}, nans[] = {NAN, NAN};
    stats_holm(one, 1, one);
    stats_holm(nans, 2, nans);
    stats_holm(one, 0, one);
    CHECK(one[0] == 0.3 && isnan(nans[0]) && isnan(nans[1]));
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
    const baseline_controller ctl = {"/tmp/c.bin", 1e-2, NULL};
    const baseline_controller at = {"ctl.bin", 0, NULL};
    grid_point g[BASELINE_MAX_POINTS];
    const struct {
        const char *name;
        int size;
    } sizes[] = {{"controller", 7}, {"controller-default", 1}, {"paper-grid", 48}, {"constant", 7}, {"exponential", 6},
                 {"cosine", 7},     {"warmup-cosine", 7}, {"onecycle", 8}, {"plateau", 12},
                 {"warmup", 7},     {"linear", 7},        {"wsd", 7},      {"schedulefree", 7}};
    for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++) {
        int n = baseline_grid(sizes[k].name, 1000, BASELINE_MAX_POINTS, &ctl, NULL, 0, g);
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
    CHECK(baseline_grid("controller", 1000, 2, &at, NULL, 0, g) == 2);
    /* the controller on cosine's rates: thinned to 2, points 1 and 5 (3e-2 and 3e-4) */
    CHECK(!strcmp(g[0].spec, "controller:ctl.bin") && g[0].lr == 3e-2 && g[1].lr == 3e-4);
    CHECK(!g[0].optimizer[0]); /* a controller file naming no optimizer: the run's */
    /* controller-default: one point at the file's default rate; both rows with
     * the optimizer the controller learned on */
    const baseline_controller own = {"sf.bin", 9.5e-3, "adamw-schedulefree"};
    CHECK(baseline_grid("controller-default", 1000, 64, &own, NULL, 0, g) == 1);
    CHECK(!strcmp(g[0].spec, "controller:sf.bin") && g[0].lr == 9.5e-3 &&
          !strcmp(g[0].optimizer, "adamw-schedulefree"));
    CHECK(baseline_grid("controller", 1000, 64, &own, NULL, 0, g) == 7);
    CHECK(!strcmp(g[6].optimizer, "adamw-schedulefree") && g[6].lr == 1e-4);
    /* a given rate list replaces r7 in the four grids built on it, and only there */
    const double fine[] = {3e-2, 2e-2, 1.4e-2, 1e-2};
    static const char *const on_r7[] = {"controller", "constant", "cosine", "warmup-cosine",
                                        "warmup",     "linear",   "wsd",    "schedulefree"};
    for (int k = 0; k < 8; k++) {
        CHECK(baseline_grid(on_r7[k], 1000, 64, &at, fine, 4, g) == 4);
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

/* Pairs by seed against the controller, Holm over the rows. Expected:
 * ttest_rel / wilcoxon of the seed-matched values; Holm by its formula. */
static void test_paired_summary(void) {
    const double ctl[] = {0.25, 0.27, 0.26, 0.24, 0.28}, ctl_acc[] = {0.91, 0.90, 0.92, 0.91, 0.90};
    const double cos[] = {0.30, 0.29, 0.33, 0.31, 0.28}, cos_acc[] = {0.89, 0.88, 0.90, 0.89, 0.87};
    const double pla[] = {0.26, 0.28, 0.27, 0.25, 0.30}, pla_acc[] = {0.90, 0.91, 0.90, 0.90, 0.89};
    run_record rec[16];
    int n = 0;
    /* in seed order 5..1 for the controller: pairing is by seed, not position */
    for (int i = 4; i >= 0; i--) rec[n++] = record("controller", i + 1, ctl[i], ctl_acc[i]);
    for (int i = 0; i < 5; i++) rec[n++] = record("cosine", i + 1, cos[i], cos_acc[i]);
    rec[n++] = record("cosine", 6, 0.2, 0.95); /* a seed the controller lacks: left out */
    for (int i = 0; i < 5; i++) rec[n++] = record("plateau", i + 1, pla[i], pla_acc[i]);
    const char *names[] = {"cosine", "controller", "plateau", "onecycle"};
    compare_summary s[4];
    compare_summarize(rec, n, names, 4, s);
    CHECK(s[1].is_reference && !s[0].is_reference);
    CHECK(isnan(s[1].paired_loss.diff.mean) && isnan(s[1].paired_loss.p_holm));
    CHECK(s[0].paired_loss.diff.n == 5 && s[3].paired_loss.diff.n == 0);
    CHECK_NEAR(s[0].paired_loss.diff.mean, 0.041999999999999996, 1e-15);
    CHECK_NEAR(s[0].paired_loss.diff.ci_lo, 0.0033285945445177406, 1e-11);
    CHECK_NEAR(s[0].paired_loss.diff.ci_hi, 0.08067140545548225, 1e-11);
    CHECK_NEAR(s[0].paired_loss.diff.p, 0.039339823156103786, 1e-12);
    CHECK_NEAR(s[0].paired_loss.wilcoxon.p, 0.06559969214707187, 1e-12); /* a zero: approx */
    CHECK_NEAR(s[2].paired_loss.diff.p, 0.0038825370469604413, 1e-12);
    CHECK_NEAR(s[2].paired_loss.wilcoxon.p, 0.0625, 1e-15);
    /* Holm over the two finite p: 2 * 0.00388..., then max(that, 0.0393...) */
    CHECK_NEAR(s[2].paired_loss.p_holm, 2 * 0.0038825370469604413, 1e-12);
    CHECK_NEAR(s[0].paired_loss.p_holm, 0.039339823156103786, 1e-12);
    CHECK(isnan(s[3].paired_loss.p_holm));
    CHECK_NEAR(s[0].paired_acc.diff.mean, -0.02200000000000002, 1e-15);
    CHECK_NEAR(s[0].paired_acc.diff.ci_hi, -0.016447109789604418, 1e-11);
    CHECK_NEAR(s[0].paired_acc.diff.p, 0.0003881713384940143, 1e-12);
    CHECK_NEAR(s[2].paired_acc.diff.p, 0.1778078083562211, 1e-12);
    CHECK_NEAR(s[2].paired_acc.wilcoxon.p, 0.1875, 1e-15);
    CHECK_NEAR(s[0].paired_acc.p_holm, 2 * 0.0003881713384940143, 1e-12);
    CHECK_NEAR(s[2].paired_acc.p_holm, 0.1778078083562211, 1e-12);
    /* no controller: against the first row; plateau - cosine */
    const char *no_ctl[] = {"cosine", "plateau"};
    compare_summarize(rec + 5, n - 5, no_ctl, 2, s);
    CHECK(s[0].is_reference && isnan(s[0].paired_loss.diff.p));
    CHECK_NEAR(s[1].paired_loss.diff.mean, -0.029999999999999992, 1e-15);
    CHECK_NEAR(s[1].paired_loss.diff.p, 0.12487982574290814, 1e-12);
    CHECK_NEAR(s[1].paired_loss.wilcoxon.p, 0.1875, 1e-15);
    CHECK_NEAR(s[1].paired_loss.p_holm, 0.12487982574290814, 1e-12);
}

int main(void) {
    test_t_distribution();
    test_summary_and_interval();
    test_welch();
    test_paired_t();
    test_wilcoxon();
    test_holm();
    test_paired_summary();
    test_thin_and_select();
    test_grids();
    test_summarize();
    return test_finish();
}
