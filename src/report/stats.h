/* The statistics of a comparison over seeds: mean, sample standard
 * deviation, a 95 % confidence interval for the mean (Student t), and
 * Welch's unequal-variance t-test.
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

#endif
