/* Image classification data sets held in memory as float pixels in [0, 1].
 *
 * Fashion-MNIST and MNIST come as IDX files (raw or .gz), CIFAR-10 as its
 * binary batches. The official training set is split, with a fixed seed, into
 * a training and a validation part; the official test set stays whole. */
#ifndef ALRS_DATA_DATASET_H
#define ALRS_DATA_DATASET_H

#include <stdint.h>

#include "core/rng.h"

/* One split: n images of c×h×w floats (NCHW, plain), n labels in [0, classes). */
typedef struct {
    int n, c, h, w;
    float *images;
    uint8_t *labels;
} data_split;

typedef struct {
    char name[32]; /* "fashion-mnist", "mnist", "cifar10" */
    int classes;
    data_split train, val, test;
} dataset;

/* Default directory for a data set ("" if it has none: the user must pass --data-dir). */
const char *dataset_default_dir(const char *name);

/* Loads `name` from `dir` (NULL or "" for the default) and splits the official
 * training set: `val_split` images go to validation (chosen by `split_seed`),
 * the rest to training. Returns -1 with a message naming the file or value at
 * fault: unknown data set, missing or truncated file, wrong magic number,
 * image/label count mismatch, labels out of range, val_split impossible. */
int dataset_load(dataset *d, const char *name, const char *dir, int val_split,
                 uint64_t split_seed);
void dataset_free(dataset *d);

/* A variant of the training split (data/variant.c): the first train_size
 * images (0: all) and a fraction label_noise in [0, 1] of their labels
 * replaced by uniform random labels over the classes. */
typedef struct {
    double label_noise;
    long train_size;
} data_variant;

/* -1 with a message naming the flag for a fraction outside [0, 1] or a
 * negative size. */
int data_variant_check(const data_variant *v);
/* Applies v to the training split of a loaded data set: keeps its first
 * train_size images, then replaces round(label_noise * n) labels chosen and
 * drawn from split_seed's noise stream (the same seed gives the same labels).
 * Validation and test are untouched. *replaced (may be NULL) gets the number
 * of labels replaced. -1 with a message naming the flag for a bad variant or
 * a train_size above the training images. */
int dataset_vary(dataset *d, const data_variant *v, uint64_t split_seed, long *replaced);

/* A change of the task in the middle of a run (alrs train --change-at N
 * --change-label-noise P): the first `at` steps train on the training labels
 * as they are, every later step on labels of which round(label_noise * n)
 * are replaced (at 0: no change). */
typedef struct {
    long at;
    double label_noise;
} data_change;

/* A copy of the training split's labels (as its variant left them) with
 * round(noise * n) of them, chosen without repeats, replaced by uniform draws
 * over the classes, from split_seed's change stream (not --label-noise's):
 * the same seed gives the same labels, whatever the run's --seed, so runs of
 * every schedule pair. Validation and test are untouched. The caller frees it. */
uint8_t *dataset_changed_labels(const dataset *d, double noise, uint64_t split_seed);

/* Floats per image. */
static inline int data_image_size(const data_split *s) { return s->c * s->h * s->w; }

/* Low-level readers (also used by the fuzzers and tests). Each returns -1 with
 * a message naming `path`. Images come back as uint8 pixels. */
int idx_read_images(const char *path, uint8_t **pixels, int *n, int *rows, int *cols);
int idx_read_labels(const char *path, uint8_t **labels, int *n);
/* The same on a stream the caller opened with gzopen (and closes), `path`
 * naming it in messages. The fuzzer uses these: idx_read_* open with a 1 MiB
 * buffer, which costs an input of a few bytes 20 times its parsing. */
struct gzFile_s;
int idx_read_images_gz(struct gzFile_s *g, const char *path, uint8_t **pixels, int *n,
                       int *rows, int *cols);
int idx_read_labels_gz(struct gzFile_s *g, const char *path, uint8_t **labels, int *n);
/* One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes. */
int cifar_read_batch(const char *path, uint8_t **pixels, uint8_t **labels, int *n);

/* Shuffled mini-batches over a split: a fresh permutation each epoch, drawn
 * from the batcher's own random stream. */
typedef struct {
    const data_split *split;
    int batch;
    int *order;
    int pos;
    long epoch;
    rng_stream rng;
} batcher;

void batcher_init(batcher *b, const data_split *split, int batch, rng_stream rng);
/* Copies the next `batch` images and labels into the caller's buffers. */
void batcher_next(batcher *b, float *images, uint8_t *labels);
/* Advances past `n` batches without copying them: the state batcher_next
 * would leave (resuming a run at a step). */
void batcher_skip(batcher *b, long n);
void batcher_free(batcher *b);

#endif
