#include "bench/bench_stats.h"

#include <stdlib.h>

#include "kernels/peak.h"

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double bench_median(double *t, int n) {
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return t[n / 2];
}

void bench_peak_before(bench_peak *p, int threads) {
    p->before = p->best = fma_peak_gflops(threads);
    p->after = 0;
}

void bench_peak_after(bench_peak *p, int threads) {
    p->after = fma_peak_gflops(threads);
    p->best = p->after > p->before ? p->after : p->before;
}
