/* The statistics of a comparison over seeds: mean, sample standard
 * deviation, a 95 % confidence interval for the mean (Student t), Welch's
 * unequal-variance t-test, and, because every schedule of a comparison runs
 * on the same seeds (same initial weights, same batches), the tests of
 * paired samples: the paired t-test with the interval of the mean
 * difference, the Wilcoxon signed-rank test, and Holm's correction of a
 * family of p-values for testing several schedules against one.
 *
 * The t distribution's CDF comes from the regularized incomplete beta
 * function, I_x(a, b) evaluated by its continued fraction (Lentz's method);
 * quantiles by bisection on the CDF. Accurate to ~1e-10, far beyond what
 * a handful of seeds can resolve. */
#ifndef ALRS_REPORT_STATS_H
#define ALRS_REPORT_STATS_H

typedef struct {
    int n;            /* finite values used */
    double mean, std; /* std: sample (n-1); NaN when n < 2 */
    double ci_lo, ci_hi; /* 95 % interval for the mean; NaN when n < 2 */
} sample_stats;

/* Summary of the finite values among x[0..n-1] (NaN and Inf are skipped). */
sample_stats stats_summarize(const double *x, int n);

/* P(T <= t) for Student's t with df > 0 degrees of freedom (df may be
 * fractional, as Welch's is). */
double stats_t_cdf(double t, double df);
/* The q-quantile of Student's t (0 < q < 1). */
double stats_t_quantile(double q, double df);
/* Regularized incomplete beta I_x(a, b), 0 <= x <= 1. */
double stats_beta_inc(double a, double b, double x);

typedef struct {
    double t, df, p; /* two-sided p; NaN if either sample has < 2 values or
                        both have zero variance and equal means */
} welch_result;

/* Welch's t-test of the finite values of x against those of y. */
welch_result stats_welch(const double *x, int nx, const double *y, int ny);

/* The paired t-test of x[i] - y[i] over the pairs where both are finite. */
typedef struct {
    int n;               /* pairs used */
    double mean;         /* mean difference x - y; NaN when n = 0 */
    double ci_lo, ci_hi; /* its 95 % t interval; NaN when n < 2 */
    double t, p;         /* two-sided; NaN when n < 2 or every difference is 0;
                            t = +-Inf, p = 0 when the differences are all equal */
} paired_result;

paired_result stats_paired_t(const double *x, const double *y, int n);

/* The two-sided Wilcoxon signed-rank test of x[i] - y[i] over the pairs
 * where both are finite, as scipy.stats.wilcoxon(x, y) of scipy 1.10 (its
 * defaults: zero_method "wilcox", no continuity correction, mode "auto"):
 * the exact null distribution when there are at most 50 pairs and no zero
 * difference; otherwise zero differences are dropped and the normal
 * approximation with the tie correction of the variance is used. */
typedef struct {
    int n;         /* pairs used (zero differences included) */
    int exact;     /* 1: exact distribution, 0: normal approximation */
    double w;      /* min(R+, R-), the rank sums of positive and negative differences */
    double p;      /* NaN when n = 0 or every difference is 0 */
} wilcoxon_result;

wilcoxon_result stats_wilcoxon(const double *x, const double *y, int n);

/* Holm's step-down correction of the n p-values p[] into adjusted[] (which
 * may be p itself): the k-th smallest of the m finite ones is multiplied by
 * m - k + 1, made non-decreasing in that order, capped at 1. NaN entries are
 * not counted in m and stay NaN. */
void stats_holm(const double *p, int n, double *adjusted);

#endif
