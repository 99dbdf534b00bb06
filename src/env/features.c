/* The statistics behind the observation: variances in double over float
 * arrays (two passes: the mean, then the squared deviations, which stays
 * accurate when the variance is tiny next to the mean, as for probabilities
 * that barely changed). */
#include <stddef.h>

#include "env/lr_env.h"

double lr_env_variance(const float *x, size_t n, double *mean_out) {
    if (n == 0) {
        if (mean_out) *mean_out = 0.0;
        return 0.0;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    double mean = sum / (double)n, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        ss += d * d;
    }
    if (mean_out) *mean_out = mean;
    return ss / (double)n;
}

double lr_env_change_variance(const float *a, const float *b, size_t n) {
    if (n == 0) return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)a[i] - (double)b[i];
    double mean = sum / (double)n, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = ((double)a[i] - (double)b[i]) - mean;
        ss += d * d;
    }
    return ss / (double)n;
}
