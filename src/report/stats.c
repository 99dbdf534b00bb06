#include "report/stats.h"

#include <math.h>

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
