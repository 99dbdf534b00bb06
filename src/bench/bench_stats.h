/* What every speed measurement reports the same way: the median of its
 * repeats (robust to one repeat a neighbour slowed down), and the FMA peak
 * its GFLOP/s are a fraction of. */
#ifndef ALRS_BENCH_BENCH_STATS_H
#define ALRS_BENCH_BENCH_STATS_H

/* The most repeats a measurement takes (--repeats' upper bound). */
#define BENCH_MAX_REPEATS 64

/* The median of t[0..n) (the upper one of an even n); sorts t. */
double bench_median(double *t, int n);

/* The peak is measured before the timings and again after them, with the
 * core warm: the higher of the two is the ceiling (kernels/peak.h). */
typedef struct {
    double before, after, best;
} bench_peak;

void bench_peak_before(bench_peak *p, int threads);
void bench_peak_after(bench_peak *p, int threads);

#endif
