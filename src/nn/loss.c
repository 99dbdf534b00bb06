#include "nn/loss.h"

#include <math.h>
#include <stddef.h>

/* One row: a stable log-sum-exp, then probabilities and gradient in one pass. */
static double row_xent(const float *z, int label, int classes, float scale, float *grad,
                       float *probs, int *argmax) {
    float zmax = z[0];
    int best = 0;
    for (int k = 1; k < classes; k++)
        if (z[k] > zmax) zmax = z[k], best = k;
    double sum = 0.0;
    for (int k = 0; k < classes; k++) sum += exp((double)(z[k] - zmax));
    double log_sum = log(sum);
    for (int k = 0; k < classes; k++) {
        float p = (float)exp((double)(z[k] - zmax) - log_sum);
        if (probs) probs[k] = p;
        if (grad) grad[k] = (p - (k == label ? 1.0f : 0.0f)) / scale;
    }
    *argmax = best;
    return log_sum - (double)(z[label] - zmax);
}

double softmax_xent(const float *logits, const uint8_t *labels, int n, int classes, float scale,
                    float *grad, float *probs, int *correct) {
    double total = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        int argmax;
        size_t off = (size_t)i * classes;
        total += row_xent(logits + off, labels[i], classes, scale, grad ? grad + off : 0,
                          probs ? probs + off : 0, &argmax);
        hits += argmax == labels[i];
    }
    if (correct) *correct = hits;
    return total;
}
