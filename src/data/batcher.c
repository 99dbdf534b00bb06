/* Shuffled mini-batches, epoch after epoch.
 *
 * Each epoch walks a fresh permutation in steps of `batch`; the last partial
 * batch is dropped (PyTorch's drop_last), so every step sees the same batch
 * size and within one epoch no image repeats. The permutation comes from the
 * batcher's own stream, so the sequence of batches depends on nothing else.
 * `epoch` counts the permutations drawn before the current one: 0 for the first. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"

void batcher_init(batcher *b, const data_split *split, int batch, rng_stream rng) {
    if (batch < 1 || batch > split->n)
        alrs_panic("batcher_init: batch %d not in 1..%d (the caller must check it)", batch,
                   split->n);
    b->split = split;
    b->batch = batch;
    b->rng = rng;
    b->order = alrs_malloc((size_t)split->n * sizeof(int));
    for (int i = 0; i < split->n; i++) b->order[i] = i;
    /* The first epoch's permutation, drawn now rather than on the first call:
     * the same numbers either way, and the fields never hold a half state. */
    rng_shuffle(&b->rng, b->order, split->n);
    b->pos = 0;
    b->epoch = 0;
}

void batcher_next(batcher *b, float *images, uint8_t *labels) {
    const data_split *s = b->split;
    if (b->pos + b->batch > s->n) {
        rng_shuffle(&b->rng, b->order, s->n);
        b->pos = 0;
        b->epoch++;
    }
    size_t size = (size_t)data_image_size(s);
    for (int k = 0; k < b->batch; k++) {
        int i = b->order[b->pos + k];
        memcpy(images + (size_t)k * size, s->images + (size_t)i * size, size * sizeof(float));
        labels[k] = s->labels[i];
    }
    b->pos += b->batch;
}

void batcher_skip(batcher *b, long n) {
    const data_split *s = b->split;
    for (long k = 0; k < n; k++) {
        if (b->pos + b->batch > s->n) {
            rng_shuffle(&b->rng, b->order, s->n);
            b->pos = 0;
            b->epoch++;
        }
        b->pos += b->batch;
    }
}

void batcher_free(batcher *b) {
    free(b->order);
    memset(b, 0, sizeof *b);
}
