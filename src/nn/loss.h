/* Softmax cross-entropy over a batch of logits (n × classes, row-major). */
#ifndef ALRS_NN_LOSS_H
#define ALRS_NN_LOSS_H

#include <stdint.h>

/* Returns the summed loss; counts correct argmax predictions into *correct.
 * When `grad` is not NULL it receives d(mean loss)/d(logits) = (p - onehot)/scale.
 * When `probs` is not NULL it receives the probabilities. */
double softmax_xent(const float *logits, const uint8_t *labels, int n, int classes, float scale,
                    float *grad, float *probs, int *correct);

#endif
