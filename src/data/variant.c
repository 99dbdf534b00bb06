/* Variants of the training split for experiments on harder data: fewer
 * training images (--train-size) and noisy labels (--label-noise).
 *
 * Both touch the training split only, after the validation split was taken,
 * so that validation and test measure the same clean images whatever the
 * variant. The noise is drawn from the split seed (its own stream), so a
 * variant depends only on (split seed, val split, train size, fraction). */
#include "data/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* The split's permutation is stream 0x5eed of the split seed; the noise has its own,
 * and a mid-run change of the labels (dataset_changed_labels) another. */
#define NOISE_STREAM 0x401e
#define CHANGE_STREAM 0xc4a6

int data_variant_check(const data_variant *v) {
    if (!(v->label_noise >= 0 && v->label_noise <= 1))
        return alrs_fail("--label-noise %g: must be between 0 and 1 (the fraction of training "
                         "labels replaced)", v->label_noise);
    if (v->train_size < 0)
        return alrs_fail("--train-size %ld: must be at least 1", v->train_size);
    return 0;
}

/* Keeps the first n training images (their buffers keep their size). */
static int keep_first(dataset *d, long n) {
    if (n > d->train.n)
        return alrs_fail("--train-size %ld: only %d training images are left after --val-split",
                         n, d->train.n);
    d->train.n = (int)n;
    return 0;
}

/* round(fraction * n) labels, chosen without repeats by a partial shuffle,
 * each replaced by a uniform draw over the classes (which may give the old
 * label back: "replaced", not "changed"). */
static long replace_labels(data_split *s, int classes, double fraction, uint64_t seed,
                           uint64_t stream) {
    long count = lround(fraction * s->n);
    if (count == 0) return 0;
    int *idx = alrs_malloc((size_t)s->n * sizeof(int));
    for (int i = 0; i < s->n; i++) idx[i] = i;
    rng_stream r = rng_make(seed, stream);
    for (long k = 0; k < count; k++) {
        long j = k + (long)rng_below(&r, (uint32_t)(s->n - k));
        int chosen = idx[j];
        idx[j] = idx[k], idx[k] = chosen;
        s->labels[chosen] = (uint8_t)rng_below(&r, (uint32_t)classes);
    }
    free(idx);
    return count;
}

int dataset_vary(dataset *d, const data_variant *v, uint64_t split_seed, long *replaced) {
    if (replaced) *replaced = 0;
    if (data_variant_check(v) != 0) return -1;
    if (v->train_size > 0 && keep_first(d, v->train_size) != 0) return -1;
    long n = replace_labels(&d->train, d->classes, v->label_noise, split_seed, NOISE_STREAM);
    if (replaced) *replaced = n;
    return 0;
}

uint8_t *dataset_changed_labels(const dataset *d, double noise, uint64_t split_seed) {
    data_split s = d->train;
    s.labels = alrs_malloc((size_t)s.n > 0 ? (size_t)s.n : 1);
    memcpy(s.labels, d->train.labels, (size_t)s.n);
    replace_labels(&s, d->classes, noise, split_seed, CHANGE_STREAM);
    return s.labels;
}
