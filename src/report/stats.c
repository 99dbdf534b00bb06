#include "report/stats.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

/* Finite values only: a diverged run's NaN must not poison a mean. */
static int finite_moments(const double *x, int n, double *mean, double *var) {
    int m = 0;
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) sum += x[i], m++;
    *mean = m ? sum / m : NAN;
    double ss = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - *mean) * (x[i] - *mean);
    *var = m > 1 ? ss / (m - 1) : NAN;
    return m;
}

sample_stats stats_summarize(const double *x, int n) {
    sample_stats s;
    double var;
    s.n = finite_moments(x, n, &s.mean, &var);
    s.std = sqrt(var);
    s.ci_lo = s.ci_hi = NAN;
    if (s.n >= 2) {
        double half = stats_t_quantile(0.975, s.n - 1) * s.std / sqrt(s.n);
        s.ci_lo = s.mean - half;
        s.ci_hi = s.mean + half;
    }
    return s;
}

/* Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double beta_fraction(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        /* even step d_{2m}, then odd step d_{2m+1} */
        double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        for (int odd = 0; odd < 2; odd++) {
            d = 1 + num * d;
            if (fabs(d) < tiny) d = tiny;
            c = 1 + num / c;
            if (fabs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        }
        if (fabs(d * c - 1) < eps) break;
    }
    return h;
}

double stats_beta_inc(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double log_front = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    /* the fraction converges fast on the side of the mean; use symmetry */
    if (x < (a + 1) / (a + b + 2)) return exp(log_front) * beta_fraction(a, b, x) / a;
    return 1 - exp(log_front) * beta_fraction(b, a, 1 - x) / b;
}

double stats_t_cdf(double t, double df) {
    if (isnan(t)) return NAN;
    if (isinf(t)) return t > 0 ? 1 : 0;
    double tail = 0.5 * stats_beta_inc(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? 1 - tail : tail;
}

double stats_t_quantile(double q, double df) {
    if (!(q > 0 && q < 1)) return NAN;
    double lo = -1, hi = 1;
    while (stats_t_cdf(lo, df) > q) lo *= 2;
    while (stats_t_cdf(hi, df) < q) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * (1 + fabs(lo)); i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_t_cdf(mid, df) < q) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

welch_result stats_welch(const double *x, int nx, const double *y, int ny) {
    welch_result w = {NAN, NAN, NAN};
    double mx, vx, my, vy;
    int n1 = finite_moments(x, nx, &mx, &vx), n2 = finite_moments(y, ny, &my, &vy);
    if (n1 < 2 || n2 < 2) return w;
    double sx = vx / n1, sy = vy / n2, se2 = sx + sy;
    if (se2 == 0) {
        if (mx != my) w.t = mx > my ? INFINITY : -INFINITY, w.df = n1 + n2 - 2, w.p = 0;
        return w;
    }
    w.t = (mx - my) / sqrt(se2);
    /* Welch–Satterthwaite degrees of freedom */
    w.df = se2 * se2 / (sx * sx / (n1 - 1) + sy * sy / (n2 - 1));
    w.p = 2 * stats_t_cdf(-fabs(w.t), w.df);
    return w;
}

/* The differences x[i] - y[i] of the pairs where both are finite, into d. */
static int finite_differences(const double *x, const double *y, int n, double *d) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) d[m++] = x[i] - y[i];
    return m;
}

paired_result stats_paired_t(const double *x, const double *y, int n) {
    paired_result r = {0, NAN, NAN, NAN, NAN, NAN};
    double *d = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    double var;
    r.n = finite_moments(d, finite_differences(x, y, n, d), &r.mean, &var);
    free(d);
    if (r.n < 2) return r;
    double se = sqrt(var / r.n), half = stats_t_quantile(0.975, r.n - 1) * se;
    r.ci_lo = r.mean - half;
    r.ci_hi = r.mean + half;
    if (se == 0) { /* no spread: a sure difference, or none at all */
        if (r.mean != 0) r.t = r.mean > 0 ? INFINITY : -INFINITY, r.p = 0;
        return r;
    }
    r.t = r.mean / se;
    r.p = 2 * stats_t_cdf(-fabs(r.t), r.n - 1);
    return r;
}

static int by_magnitude(const void *a, const void *b) {
    double x = fabs(*(const double *)a), y = fabs(*(const double *)b);
    return (x > y) - (x < y);
}

/* Ranks of |d| (ties get their average rank) summed over the positive and
 * the negative d; *tie_term: the sum over tie groups of t^3 - t. Sorts d. */
static void signed_rank_sums(double *d, int n, double *r_plus, double *r_minus,
                             double *tie_term) {
    qsort(d, (size_t)n, sizeof *d, by_magnitude);
    *r_plus = *r_minus = *tie_term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && fabs(d[j]) == fabs(d[i])) j++;
        double rank = 0.5 * (i + 1 + j), t = j - i; /* ranks i+1 .. j */
        *tie_term += t * t * t - t;
        for (int k = i; k < j; k++) *(d[k] > 0 ? r_plus : r_minus) += rank;
        i = j;
    }
}

/* Two-sided exact p of the rank sum r_plus of n untied nonzero differences:
 * the null distribution of R+ by the recurrence of adding rank k with
 * probability 1/2. Like scipy 1.10, a tied (half-integer) r_plus is
 * truncated to an integer. */
static double wilcoxon_exact_p(int n, double r_plus) {
    int top = n * (n + 1) / 2, r = (int)r_plus;
    double *pmf = alrs_calloc((size_t)top + 1, sizeof *pmf);
    pmf[0] = 1;
    for (int k = 1; k <= n; k++)
        for (int s = k * (k + 1) / 2; s >= 0; s--)
            pmf[s] = 0.5 * pmf[s] + (s >= k ? 0.5 * pmf[s - k] : 0);
    double p = 1;
    if (r != top / 2) {
        double less = 0, greater = 0;
        for (int s = 0; s <= top; s++) {
            if (s <= r) less += pmf[s];
            if (s >= r) greater += pmf[s];
        }
        p = fmin(1, 2 * fmin(less, greater));
    }
    free(pmf);
    return p;
}

wilcoxon_result stats_wilcoxon(const double *x, const double *y, int n) {
    wilcoxon_result w = {0, 0, NAN, NAN};
    double *d = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    w.n = finite_differences(x, y, n, d);
    int nonzero = 0;
    for (int i = 0; i < w.n; i++)
        if (d[i] != 0) d[nonzero++] = d[i]; /* zero_method "wilcox" */
    double r_plus, r_minus, tie_term;
    signed_rank_sums(d, nonzero, &r_plus, &r_minus, &tie_term);
    free(d);
    if (nonzero == 0) return w;
    w.w = fmin(r_plus, r_minus);
    w.exact = w.n <= 50 && nonzero == w.n;
    if (w.exact) {
        w.p = wilcoxon_exact_p(nonzero, r_plus);
        return w;
    }
    double m = nonzero, mean = m * (m + 1) / 4;
    double sd = sqrt((m * (m + 1) * (2 * m + 1) - 0.5 * tie_term) / 24);
    w.p = erfc(fabs(w.w - mean) / sd / sqrt(2.0)); /* 2 P(Z > |z|) */
    return w;
}

typedef struct {
    double p;
    int index;
} indexed_p;

static int by_p(const void *a, const void *b) {
    double x = ((const indexed_p *)a)->p, y = ((const indexed_p *)b)->p;
    return (x > y) - (x < y);
}

void stats_holm(const double *p, int n, double *adjusted) {
    indexed_p *sorted = alrs_malloc(sizeof *sorted * (size_t)(n + 1));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(p[i])) sorted[m].p = p[i], sorted[m++].index = i;
    qsort(sorted, (size_t)m, sizeof *sorted, by_p);
    /* the NaN entries of p stay where they are (adjusted may be p) */
    if (adjusted != p)
        for (int i = 0; i < n; i++) adjusted[i] = p[i];
    double running = 0; /* step-down: an adjusted p is never below a smaller one's */
    for (int k = 0; k < m; k++) {
        running = fmax(running, (m - k) * sorted[k].p);
        adjusted[sorted[k].index] = fmin(1, running);
    }
    free(sorted);
}
