/* The data layer: IDX and CIFAR-10 readers, the seeded split, the batcher,
 * and every kind of bad input file with the message it must produce. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "testutil.h"

/* A call must fail (-1) and its message must contain `needle`. */
#define CHECK_FAILS(expr, needle)                                                          \
    do {                                                                                   \
        alrs_fail("%s", "");                                                               \
        int rc_ = (expr);                                                                  \
        CHECK(rc_ == -1);                                                                  \
        if (strstr(alrs_error(), needle)) test_passed++;                                   \
        else {                                                                             \
            test_failed++;                                                                 \
            fprintf(stderr, "FAIL %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
                    alrs_error(), needle);                                                 \
        }                                                                                  \
    } while (0)

/* Paths in a few rotating buffers, so that two can be passed to one call. */
static const char *at(const char *dir, const char *file) {
    static char buf[4][2048];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, file);
    return p;
}

/* test_tmpdir returns static storage: each test keeps its own copy. */
static void fresh_dir(char *out, const char *name) { snprintf(out, 1024, "%s", test_tmpdir(name)); }

static void append_bytes(const char *path, const char *bytes, size_t n) {
    FILE *f = fopen(path, "ab");
    if (!f || fwrite(bytes, 1, n, f) != n) exit(2);
    fclose(f);
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return size;
}

static void write_idx_header(const char *path, uint32_t magic, uint32_t count, uint32_t rows,
                             uint32_t cols) {
    uint32_t v[4] = {magic, count, rows, cols};
    unsigned char h[16];
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++) h[4 * i + b] = (unsigned char)(v[i] >> (24 - 8 * b));
    FILE *f = fopen(path, "wb");
    if (!f) exit(2);
    fwrite(h, 1, 16, f);
    fputc(7, f);
    fclose(f);
}

/* The first image and label test_write_idx_set writes for `seed`: the same
 * generator, restated here so that the reader is checked against the writer. */
static int expected_first_image(unsigned seed, int rows, int cols, unsigned char *px) {
    unsigned state = seed * 1103515245u + 12345u;
    int label = (int)((state >> 16) % 10);
    for (int i = 0; i < rows * cols; i++) {
        state = state * 1103515245u + 12345u;
        px[i] = (unsigned char)((state >> 16) % 60);
    }
    int r0 = (label % 5) * rows / 5, c0 = (label / 5) * cols / 2;
    for (int r = r0; r < r0 + rows / 5; r++)
        for (int c = c0; c < c0 + cols / 2; c++) px[r * cols + c] = 230;
    return label;
}

/* The index of the original image equal to a split's float image, or -1. */
static int find_original(const uint8_t *px, int n, int size, const float *img) {
    for (int i = 0; i < n; i++) {
        int same = 1;
        for (int j = 0; j < size && same; j++) same = px[(size_t)i * size + j] == (int)(img[j] * 255.0f + 0.5f);
        if (same) return i;
    }
    return -1;
}

/* Each original training image lands exactly once in train ∪ val, with its label,
 * and each part keeps the files' order. */
static void check_partition(const dataset *d, const uint8_t *px, const uint8_t *labels, int n) {
    int size = data_image_size(&d->train);
    int *hits = calloc((size_t)n, sizeof(int));
    const data_split *parts[2] = {&d->train, &d->val};
    int ordered = 1, labelled = 1, found = 1;
    for (int p = 0; p < 2; p++) {
        int last = -1;
        for (int k = 0; k < parts[p]->n; k++) {
            int i = find_original(px, n, size, parts[p]->images + (size_t)k * size);
            if (i < 0) {
                found = 0;
                continue;
            }
            hits[i]++;
            labelled &= labels[i] == parts[p]->labels[k];
            ordered &= i > last;
            last = i;
        }
    }
    int once = 1;
    for (int i = 0; i < n; i++) once &= hits[i] == 1;
    CHECK(found);
    CHECK(once);
    CHECK(labelled);
    CHECK(ordered);
    free(hits);
}

static int splits_equal(const data_split *a, const data_split *b) {
    size_t size = (size_t)data_image_size(a);
    return a->n == b->n && data_image_size(b) == (int)size &&
           memcmp(a->images, b->images, (size_t)a->n * size * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, (size_t)a->n) == 0;
}

static void test_idx_readers(void) {
    char raw[1024], gz[1024];
    fresh_dir(raw, "idx-raw");
    fresh_dir(gz, "idx-gz");
    test_write_idx_set(raw, "", 50, 8, 6, 0, 11);
    test_write_idx_set(gz, "", 50, 8, 6, 1, 11);

    uint8_t *px, *lab, *gpx, *glab;
    int n = 0, rows = 0, cols = 0, nl = 0;
    CHECK(idx_read_images(at(raw, "train-images-idx3-ubyte"), &px, &n, &rows, &cols) == 0);
    CHECK(n == 50 && rows == 8 && cols == 6);
    CHECK(idx_read_labels(at(raw, "train-labels-idx1-ubyte"), &lab, &nl) == 0);
    CHECK(nl == 50);
    unsigned char first[48];
    int label = expected_first_image(11, 8, 6, first);
    CHECK(memcmp(px, first, sizeof first) == 0);
    CHECK(lab[0] == label);
    int in_range = 1;
    for (int i = 0; i < nl; i++) in_range &= lab[i] < 10;
    CHECK(in_range);

    n = rows = cols = nl = 0;
    CHECK(idx_read_images(at(gz, "train-images-idx3-ubyte.gz"), &gpx, &n, &rows, &cols) == 0);
    CHECK(n == 50 && rows == 8 && cols == 6);
    CHECK(idx_read_labels(at(gz, "train-labels-idx1-ubyte.gz"), &glab, &nl) == 0);
    CHECK(nl == 50);
    CHECK(memcmp(px, gpx, 50 * 48) == 0);
    CHECK(memcmp(lab, glab, 50) == 0);
    free(px);
    free(lab);
    free(gpx);
    free(glab);
}

static void test_load_idx(void) {
    char raw[1024], gz[1024];
    fresh_dir(raw, "load-raw");
    fresh_dir(gz, "load-gz");
    test_write_idx_set(raw, "", 50, 8, 6, 0, 11);
    test_write_idx_set(gz, "", 50, 8, 6, 1, 11);

    dataset d, g;
    CHECK(dataset_load(&d, "fashion-mnist", raw, 10, 1) == 0);
    CHECK(strcmp(d.name, "fashion-mnist") == 0 && d.classes == 10);
    CHECK(d.train.n == 40 && d.val.n == 10 && d.test.n == 10);
    CHECK(d.train.c == 1 && d.train.h == 8 && d.train.w == 6);
    CHECK(d.val.c == 1 && d.val.h == 8 && d.val.w == 6);
    CHECK(d.test.c == 1 && d.test.h == 8 && d.test.w == 6);
    CHECK(((uintptr_t)d.train.images & 63) == 0);
    /* The test set is written with seed + 7 and is never shuffled. */
    unsigned char first[48];
    int label = expected_first_image(18, 8, 6, first);
    int same = 1;
    for (int j = 0; j < 48; j++) same &= d.test.images[j] == (float)first[j] / 255.0f;
    CHECK(same);
    CHECK(d.test.labels[0] == label);

    /* MNIST reads the same files; the gzipped copy gives the same data set. */
    CHECK(dataset_load(&g, "mnist", gz, 10, 1) == 0);
    CHECK(strcmp(g.name, "mnist") == 0);
    CHECK(splits_equal(&d.train, &g.train));
    CHECK(splits_equal(&d.val, &g.val));
    CHECK(splits_equal(&d.test, &g.test));
    dataset_free(&g);
    CHECK(g.train.images == NULL && g.test.n == 0 && g.name[0] == '\0');
    dataset_free(&d);

    /* With both present the raw file wins; either one alone is found. */
    unlink(at(gz, "t10k-images-idx3-ubyte.gz"));
    test_copy_file(at(raw, "t10k-images-idx3-ubyte"), at(gz, "t10k-images-idx3-ubyte"));
    CHECK(dataset_load(&g, "mnist", gz, 10, 1) == 0);
    dataset_free(&g);
}

static void test_split(void) {
    char dir[1024];
    fresh_dir(dir, "split");
    test_write_idx_set(dir, "", 60, 6, 5, 0, 3);
    dataset a, b, c;
    CHECK(dataset_load(&a, "fashion-mnist", dir, 15, 42) == 0);
    CHECK(dataset_load(&b, "fashion-mnist", dir, 15, 42) == 0);
    CHECK(dataset_load(&c, "fashion-mnist", dir, 15, 43) == 0);
    CHECK(a.train.n == 45 && a.val.n == 15);
    CHECK(splits_equal(&a.train, &b.train) && splits_equal(&a.val, &b.val));
    CHECK(!splits_equal(&a.val, &c.val));
    CHECK(splits_equal(&a.test, &c.test));

    uint8_t *px, *lab;
    int n, rows, cols;
    CHECK(idx_read_images(at(dir, "train-images-idx3-ubyte"), &px, &n, &rows, &cols) == 0);
    CHECK(idx_read_labels(at(dir, "train-labels-idx1-ubyte"), &lab, &n) == 0);
    check_partition(&a, px, lab, n);
    check_partition(&c, px, lab, n);
    free(px);
    free(lab);

    /* The extremes: one validation image, and all but one. */
    dataset e;
    CHECK(dataset_load(&e, "fashion-mnist", dir, 1, 42) == 0);
    CHECK(e.train.n == 59 && e.val.n == 1);
    dataset_free(&e);
    CHECK(dataset_load(&e, "fashion-mnist", dir, 59, 42) == 0);
    CHECK(e.train.n == 1 && e.val.n == 59);
    dataset_free(&e);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&c);
}

/* Labels of a split that differ from another's (same images, same order). */
static int labels_changed(const data_split *a, const data_split *b) {
    int n = 0;
    for (int i = 0; i < a->n; i++) n += a->labels[i] != b->labels[i];
    return n;
}

static int same_images(const data_split *a, const data_split *b, int n) {
    return !memcmp(a->images, b->images, sizeof(float) * (size_t)n * (size_t)data_image_size(a));
}

/* --train-size keeps the first N training images; --label-noise replaces
 * round(F n) training labels by uniform draws (about a tenth of them land on
 * the old label), from the split seed, never in validation or test. */
static void test_variants(void) {
    char dir[1024];
    fresh_dir(dir, "variants");
    test_write_idx_set(dir, "", 1000, 6, 5, 0, 5);
    dataset clean, d, again;
    CHECK(dataset_load(&clean, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(clean.train.n == 800);
    long replaced = -1;

    data_variant none = {0, 0};
    CHECK(dataset_load(&d, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(dataset_vary(&d, &none, 7, &replaced) == 0 && replaced == 0);
    CHECK(splits_equal(&d.train, &clean.train));
    dataset_free(&d);

    data_variant small = {0, 300};
    CHECK(dataset_load(&d, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(dataset_vary(&d, &small, 7, &replaced) == 0 && replaced == 0);
    CHECK(d.train.n == 300 && same_images(&d.train, &clean.train, 300));
    CHECK(!memcmp(d.train.labels, clean.train.labels, 300));
    CHECK(splits_equal(&d.val, &clean.val) && splits_equal(&d.test, &clean.test));
    dataset_free(&d);

    data_variant noisy = {0.25, 0};
    CHECK(dataset_load(&d, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(dataset_vary(&d, &noisy, 7, &replaced) == 0);
    CHECK(replaced == 200); /* 0.25 * 800 */
    int changed = labels_changed(&d.train, &clean.train);
    /* each replaced label stays with chance 1/10: 180 expected, sd 4.2 */
    CHECK(changed <= 200 && changed >= 160);
    CHECK(same_images(&d.train, &clean.train, 800));
    CHECK(splits_equal(&d.val, &clean.val) && splits_equal(&d.test, &clean.test));
    for (int i = 0; i < d.train.n; i++) CHECK(d.train.labels[i] < 10);
    /* the same split seed gives the same labels */
    CHECK(dataset_load(&again, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(dataset_vary(&again, &noisy, 7, NULL) == 0);
    CHECK(splits_equal(&again.train, &d.train));
    dataset_free(&again);
    dataset_free(&d);

    /* every label replaced: 720 changed expected (sd 8.5), classes about even */
    data_variant all = {1, 0};
    CHECK(dataset_load(&d, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(dataset_vary(&d, &all, 7, &replaced) == 0 && replaced == 800);
    changed = labels_changed(&d.train, &clean.train);
    CHECK(changed >= 680 && changed <= 760);
    int per_class[10] = {0};
    for (int i = 0; i < d.train.n; i++) per_class[d.train.labels[i] % 10]++;
    for (int k = 0; k < 10; k++) CHECK(per_class[k] >= 50 && per_class[k] <= 110);
    dataset_free(&d);

    /* both: the noise falls within the kept images, round(0.1 * 55) = 6 of them */
    data_variant both = {0.1, 55};
    CHECK(dataset_load(&d, "fashion-mnist", dir, 200, 7) == 0);
    CHECK(dataset_vary(&d, &both, 7, &replaced) == 0 && d.train.n == 55 && replaced == 6);
    CHECK(labels_changed(&d.train, &clean.train) <= 6);
    CHECK(!memcmp(d.train.labels + 55, clean.train.labels + 55, 800 - 55)); /* past the end */
    dataset_free(&d);

    /* refused, naming the flag; the data set is left loaded as it was */
    CHECK(dataset_load(&d, "fashion-mnist", dir, 200, 7) == 0);
    data_variant too_many = {0, 801}, bad_noise = {1.5, 0}, negative = {-0.1, 0},
                 nan_noise = {NAN, 0};
    CHECK_FAILS(dataset_vary(&d, &too_many, 7, NULL), "--train-size 801: only 800 training images");
    CHECK_FAILS(dataset_vary(&d, &bad_noise, 7, NULL), "--label-noise 1.5: must be between 0 and 1");
    CHECK_FAILS(dataset_vary(&d, &negative, 7, NULL), "--label-noise -0.1");
    CHECK_FAILS(dataset_vary(&d, &nan_noise, 7, NULL), "--label-noise nan");
    CHECK(d.train.n == 800 && splits_equal(&d.train, &clean.train));
    dataset_free(&d);
    dataset_free(&clean);
}

static void test_cifar(void) {
    char dir[1024], nested[1024];
    fresh_dir(dir, "cifar");
    test_write_cifar_set(dir, 20, 5);
    dataset d;
    CHECK(dataset_load(&d, "cifar10", dir, 10, 1) == 0);
    CHECK(strcmp(d.name, "cifar10") == 0 && d.classes == 10);
    CHECK(d.train.n == 90 && d.val.n == 10 && d.test.n == 20);
    CHECK(d.train.c == 3 && d.train.h == 32 && d.train.w == 32);
    CHECK(d.test.c == 3 && d.test.h == 32 && d.test.w == 32);

    /* Channel planes pass through unchanged: float k of an image is byte k of its record. */
    uint8_t *px, *lab;
    int n;
    CHECK(cifar_read_batch(at(dir, "test_batch.bin"), &px, &lab, &n) == 0);
    CHECK(n == 20);
    int same = 1;
    for (size_t j = 0; j < (size_t)n * 3072; j++) same &= d.test.images[j] == (float)px[j] / 255.0f;
    CHECK(same);
    CHECK(memcmp(d.test.labels, lab, 20) == 0);
    free(px);
    free(lab);

    /* The training set is the five batches in order, split like an IDX set. */
    uint8_t *all_px = malloc(100 * 3072), *all_lab = malloc(100);
    for (int b = 0; b < 5; b++) {
        char file[32];
        snprintf(file, sizeof file, "data_batch_%d.bin", b + 1);
        CHECK(cifar_read_batch(at(dir, file), &px, &lab, &n) == 0 && n == 20);
        memcpy(all_px + (size_t)b * 20 * 3072, px, 20 * 3072);
        memcpy(all_lab + b * 20, lab, 20);
        free(px);
        free(lab);
    }
    check_partition(&d, all_px, all_lab, 100);
    free(all_px);
    free(all_lab);

    /* The batches may also sit in cifar-10-batches-bin/, as the archive unpacks. */
    fresh_dir(nested, "cifar-nested");
    char sub[1100], cmd[1200];
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", nested);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
    CHECK(test_run(cmd, NULL, 0) == 0);
    test_write_cifar_set(sub, 20, 5);
    dataset e;
    CHECK(dataset_load(&e, "cifar10", nested, 10, 1) == 0);
    CHECK(splits_equal(&d.train, &e.train) && splits_equal(&d.test, &e.test));
    dataset_free(&e);
    dataset_free(&d);
}

/* A split whose image k holds (k, 100 + k), so every copy can be traced. */
static data_split traced_split(int n) {
    data_split s = {n, 1, 1, 2, malloc((size_t)n * 2 * sizeof(float)), malloc((size_t)n)};
    for (int k = 0; k < n; k++) {
        s.images[2 * k] = (float)k;
        s.images[2 * k + 1] = (float)(100 + k);
        s.labels[k] = (uint8_t)(k % 10);
    }
    return s;
}

static void test_batcher(void) {
    data_split s = traced_split(12);
    batcher a, b, c;
    batcher_init(&a, &s, 4, rng_make(9, 1));
    batcher_init(&b, &s, 4, rng_make(9, 1));
    batcher_init(&c, &s, 4, rng_make(9, 2));
    float ia[8], ib[8], ic[8];
    uint8_t la[4], lb[4], lc[4];
    int order[3][12], same_ab = 1, same_ac = 1, traced = 1;
    for (int e = 0; e < 3; e++) {
        int seen[12] = {0};
        for (int step = 0; step < 3; step++) {
            batcher_next(&a, ia, la);
            batcher_next(&b, ib, lb);
            batcher_next(&c, ic, lc);
            CHECK(a.epoch == e);
            same_ab &= memcmp(ia, ib, sizeof ia) == 0 && memcmp(la, lb, sizeof la) == 0;
            same_ac &= memcmp(ia, ic, sizeof ia) == 0;
            for (int j = 0; j < 4; j++) {
                int k = (int)ia[2 * j];
                traced &= k >= 0 && k < 12 && ia[2 * j + 1] == (float)(100 + k) && la[j] == k % 10;
                if (k >= 0 && k < 12) seen[k]++;
                order[e][step * 4 + j] = k;
            }
        }
        int once = 1;
        for (int k = 0; k < 12; k++) once &= seen[k] == 1;
        CHECK(once);
    }
    CHECK(same_ab);
    CHECK(!same_ac);
    CHECK(traced);
    CHECK(memcmp(order[0], order[1], sizeof order[0]) != 0);
    CHECK(memcmp(order[1], order[2], sizeof order[0]) != 0);
    batcher_free(&a);
    batcher_free(&b);
    batcher_free(&c);
    CHECK(a.order == NULL);
    free(s.images);
    free(s.labels);

    /* 10 images in batches of 3: three batches an epoch, the tenth image left over. */
    s = traced_split(10);
    batcher_init(&a, &s, 3, rng_make(1, 1));
    float im[6];
    uint8_t lab[3];
    int seen[10] = {0}, repeats = 0;
    for (int step = 0; step < 3; step++) {
        batcher_next(&a, im, lab);
        for (int j = 0; j < 3; j++) repeats += seen[(int)im[2 * j]]++ > 0;
    }
    CHECK(repeats == 0 && a.epoch == 0);
    batcher_next(&a, im, lab);
    CHECK(a.epoch == 1 && a.pos == 3);
    batcher_free(&a);

    /* A batch as large as the split: every batch is a whole permutation. */
    batcher_init(&a, &s, 10, rng_make(1, 1));
    float full[20];
    uint8_t fl[10];
    for (int step = 0; step < 3; step++) {
        batcher_next(&a, full, fl);
        int hit[10] = {0}, whole = 1;
        for (int j = 0; j < 10; j++) hit[(int)full[2 * j]]++;
        for (int k = 0; k < 10; k++) whole &= hit[k] == 1;
        CHECK(whole && a.epoch == step);
    }
    batcher_free(&a);
    free(s.images);
    free(s.labels);
}

static void test_missing_files(void) {
    char dir[1024];
    dataset d;
    fresh_dir(dir, "missing");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 10, 1),
                "train-images-idx3-ubyte[.gz]: not found");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 10, 1), dir);
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 10, 1), "--data-dir");
    CHECK(d.train.images == NULL && d.test.n == 0);
    CHECK_FAILS(dataset_load(&d, "cifar10", dir, 10, 1), "data_batch_1.bin: not found");

    uint8_t *px, *lab;
    int n, rows, cols;
    CHECK_FAILS(idx_read_images(at(dir, "nothing"), &px, &n, &rows, &cols), "cannot open");
    CHECK_FAILS(idx_read_labels(at(dir, "nothing"), &lab, &n), "No such file");
    CHECK_FAILS(cifar_read_batch(at(dir, "nothing"), &px, &lab, &n), "nothing: cannot open");

    test_write_idx_set(dir, "", 50, 8, 6, 1, 2);
    unlink(at(dir, "t10k-labels-idx1-ubyte.gz"));
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 10, 1),
                "t10k-labels-idx1-ubyte[.gz]: not found");

    test_write_cifar_set(dir, 5, 2);
    unlink(at(dir, "data_batch_3.bin"));
    CHECK_FAILS(dataset_load(&d, "cifar10", dir, 10, 1), "data_batch_3.bin: cannot open");
    unlink(at(dir, "test_batch.bin"));
    test_copy_file(at(dir, "data_batch_1.bin"), at(dir, "data_batch_3.bin"));
    CHECK_FAILS(dataset_load(&d, "cifar10", dir, 10, 1), "test_batch.bin: cannot open");
    CHECK(d.train.images == NULL);
}

static void test_truncated(void) {
    char dir[1024], gz[1024];
    dataset d;
    uint8_t *px, *lab;
    int n, rows, cols;
    fresh_dir(dir, "truncated");
    test_write_idx_set(dir, "", 50, 8, 6, 0, 4);
    const char *images = at(dir, "train-images-idx3-ubyte");
    CHECK(truncate(images, 16 + 100) == 0);
    CHECK_FAILS(idx_read_images(images, &px, &n, &rows, &cols),
                "truncated (expected 2400 bytes of pixels, got 100)");
    CHECK(px == NULL);
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 10, 1), "train-images-idx3-ubyte: truncated");
    CHECK(truncate(images, 10) == 0);
    CHECK_FAILS(idx_read_images(images, &px, &n, &rows, &cols), "too short for an IDX header");
    CHECK(truncate(images, 0) == 0);
    CHECK_FAILS(idx_read_images(images, &px, &n, &rows, &cols), "too short");

    const char *labels = at(dir, "t10k-labels-idx1-ubyte");
    CHECK(truncate(labels, 8 + 4) == 0);
    CHECK_FAILS(idx_read_labels(labels, &lab, &n), "expected 10 bytes of labels, got 4");
    CHECK(truncate(labels, 6) == 0);
    CHECK_FAILS(idx_read_labels(labels, &lab, &n), "too short");

    /* A gzip stream cut in half: the data ends early, and says so. */
    fresh_dir(gz, "truncated-gz");
    test_write_idx_set(gz, "", 300, 28, 28, 1, 4);
    const char *gzimages = at(gz, "train-images-idx3-ubyte.gz");
    CHECK(truncate(gzimages, file_size(gzimages) / 2) == 0);
    CHECK_FAILS(idx_read_images(gzimages, &px, &n, &rows, &cols), "truncated (expected 235200");
    CHECK_FAILS(dataset_load(&d, "mnist", gz, 10, 1), "train-images-idx3-ubyte.gz: truncated");

    /* Corrupt compressed data is an error naming the file, not garbage pixels. */
    const char *gzlabels = at(gz, "t10k-labels-idx1-ubyte.gz");
    long size = file_size(gzlabels);
    for (long off = 20; off < size - 8; off += 3) test_poke_byte(gzlabels, off, 0xff);
    CHECK_FAILS(idx_read_labels(gzlabels, &lab, &n), "t10k-labels-idx1-ubyte.gz: corrupt gzip data");
}

static void test_bad_headers(void) {
    char dir[1024];
    dataset d;
    uint8_t *px, *lab;
    int n, rows, cols;
    fresh_dir(dir, "headers");
    test_write_idx_set(dir, "", 50, 8, 6, 0, 5);
    const char *images = at(dir, "train-images-idx3-ubyte");
    const char *labels = at(dir, "train-labels-idx1-ubyte");
    CHECK_FAILS(idx_read_images(labels, &px, &n, &rows, &cols),
                "wrong magic number 0x00000801 (expected 0x00000803)");
    CHECK_FAILS(idx_read_labels(images, &lab, &n),
                "wrong magic number 0x00000803 (expected 0x00000801)");
    test_copy_file(at(dir, "t10k-labels-idx1-ubyte"), at(dir, "t10k-images-idx3-ubyte"));
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 10, 1),
                "t10k-images-idx3-ubyte: wrong magic number 0x00000801");

    char extra[1024];
    fresh_dir(extra, "extra");
    test_write_idx_set(extra, "", 50, 8, 6, 0, 5);
    append_bytes(at(extra, "train-images-idx3-ubyte"), "abc", 3);
    CHECK_FAILS(idx_read_images(at(extra, "train-images-idx3-ubyte"), &px, &n, &rows, &cols),
                "has 3 extra bytes");
    append_bytes(at(extra, "t10k-labels-idx1-ubyte"), "z", 1);
    CHECK_FAILS(idx_read_labels(at(extra, "t10k-labels-idx1-ubyte"), &lab, &n),
                "t10k-labels-idx1-ubyte: has 1 extra bytes");

    const char *hand = at(dir, "hand-made");
    write_idx_header(hand, 0x803, 0, 8, 8);
    CHECK_FAILS(idx_read_images(hand, &px, &n, &rows, &cols), "absurd image count 0");
    write_idx_header(hand, 0x803, 20000000, 8, 8);
    CHECK_FAILS(idx_read_images(hand, &px, &n, &rows, &cols), "absurd image count 20000000");
    write_idx_header(hand, 0x803, 1, 0, 8);
    CHECK_FAILS(idx_read_images(hand, &px, &n, &rows, &cols), "absurd image size 0x8");
    write_idx_header(hand, 0x803, 1, 8, 5000);
    CHECK_FAILS(idx_read_images(hand, &px, &n, &rows, &cols), "absurd image size 8x5000");
    /* A header promising 10^7 large images must not be believed for the allocation. */
    write_idx_header(hand, 0x803, 10000000, 4096, 4096);
    CHECK_FAILS(idx_read_images(hand, &px, &n, &rows, &cols), "got 1)");
    write_idx_header(hand, 0x801, 0, 0, 0);
    CHECK_FAILS(idx_read_labels(hand, &lab, &n), "absurd label count 0");
    write_idx_header(hand, 0x12345678, 1, 1, 1);
    CHECK_FAILS(idx_read_images(hand, &px, &n, &rows, &cols), "0x12345678");
}

static void test_mismatches(void) {
    char a[1024], b[1024], c[1024];
    dataset d;
    fresh_dir(a, "mismatch-a");
    fresh_dir(b, "mismatch-b");
    fresh_dir(c, "mismatch-c");
    test_write_idx_set(a, "", 50, 8, 6, 0, 6);
    test_write_idx_set(b, "", 40, 8, 6, 0, 6);
    test_write_idx_set(c, "", 50, 7, 7, 0, 6);

    test_copy_file(at(b, "train-labels-idx1-ubyte"), at(a, "train-labels-idx1-ubyte"));
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", a, 10, 1), "has 40 labels but");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", a, 10, 1), "has 50 images");
    CHECK(d.train.images == NULL);
    test_copy_file(at(c, "train-labels-idx1-ubyte"), at(a, "train-labels-idx1-ubyte"));

    test_poke_byte(at(a, "train-labels-idx1-ubyte"), 8 + 5, 12);
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", a, 10, 1),
                "labels out of range: label 12 at index 5");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", a, 10, 1), "train-labels-idx1-ubyte");
    test_copy_file(at(c, "train-labels-idx1-ubyte"), at(a, "train-labels-idx1-ubyte"));
    CHECK(dataset_load(&d, "fashion-mnist", a, 10, 1) == 0);
    dataset_free(&d);

    /* Test images of another shape than the training images. */
    test_copy_file(at(c, "t10k-images-idx3-ubyte"), at(a, "t10k-images-idx3-ubyte"));
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", a, 10, 1),
                "images are 1x7x7 but the training images");
    CHECK(d.test.images == NULL && d.train.images == NULL);
}

static void test_cifar_bad(void) {
    char dir[1024];
    dataset d;
    uint8_t *px, *lab;
    int n, rows, cols;
    fresh_dir(dir, "cifar-bad");
    test_write_cifar_set(dir, 5, 8);
    const char *batch2 = at(dir, "data_batch_2.bin");
    test_poke_byte(batch2, 3 * 3073, 12);
    CHECK_FAILS(cifar_read_batch(batch2, &px, &lab, &n), "label 12 at record 3");
    CHECK(px == NULL && lab == NULL);
    CHECK_FAILS(dataset_load(&d, "cifar10", dir, 10, 1),
                "labels out of range: label 12 at record 3");
    CHECK_FAILS(dataset_load(&d, "cifar10", dir, 10, 1), "data_batch_2.bin");
    test_poke_byte(batch2, 3 * 3073, 2);
    CHECK(dataset_load(&d, "cifar10", dir, 10, 1) == 0);
    CHECK(d.train.n == 15 && d.val.n == 10 && d.test.n == 5);
    dataset_free(&d);

    const char *batch4 = at(dir, "data_batch_4.bin");
    CHECK(truncate(batch4, 2 * 3073 + 100) == 0);
    CHECK_FAILS(cifar_read_batch(batch4, &px, &lab, &n), "not a positive multiple of the 3073");
    CHECK_FAILS(dataset_load(&d, "cifar10", dir, 10, 1), "data_batch_4.bin: truncated");
    CHECK(truncate(batch4, 0) == 0);
    CHECK_FAILS(cifar_read_batch(batch4, &px, &lab, &n), "0 bytes");
    CHECK_FAILS(cifar_read_batch(dir, &px, &lab, &n), "not a regular file");
    CHECK_FAILS(idx_read_images(dir, &px, &n, &rows, &cols), "cannot read: Is a directory");
}

static void test_bad_arguments(void) {
    char dir[1024];
    dataset d;
    fresh_dir(dir, "args");
    test_write_idx_set(dir, "", 50, 8, 6, 0, 7);
    CHECK_FAILS(dataset_load(&d, "imagenet", dir, 10, 1),
                "--dataset imagenet: unknown data set (expected fashion-mnist, mnist or cifar10)");
    CHECK_FAILS(dataset_load(&d, "mnist", NULL, 10, 1), "--data-dir is required for mnist");
    CHECK_FAILS(dataset_load(&d, "cifar10", "", 10, 1), "--data-dir is required for cifar10");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 0, 1),
                "--val-split 0: must be between 1 and 49 for fashion-mnist");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, 50, 1), "--val-split 50: must be between");
    CHECK_FAILS(dataset_load(&d, "fashion-mnist", dir, -3, 1), "--val-split -3");
    CHECK(d.train.images == NULL && d.val.images == NULL && d.test.images == NULL);

    CHECK(strcmp(dataset_default_dir("fashion-mnist"), "/usr/share/datasets/fashion-mnist") == 0);
    CHECK(strcmp(dataset_default_dir("mnist"), "") == 0);
    CHECK(strcmp(dataset_default_dir("cifar10"), "") == 0);
}

/* The real thing, where Debian's dataset-fashion-mnist package is installed. */
static void test_real_fashion_mnist(void) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (!path_exists(dir)) {
        printf("note: %s not found (apt-get install dataset-fashion-mnist): real-data test skipped\n",
               dir);
        return;
    }
    dataset d;
    double start = alrs_now();
    int rc = dataset_load(&d, "fashion-mnist", NULL, 10000, 1);
    double took = alrs_now() - start;
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", alrs_error());
        return;
    }
    printf("real Fashion-MNIST loaded in %.2f s\n", took);
    CHECK(d.train.n == 50000 && d.val.n == 10000 && d.test.n == 10000);
    CHECK(d.train.c == 1 && d.train.h == 28 && d.train.w == 28);
    CHECK(d.test.c == 1 && d.test.h == 28 && d.test.w == 28);
    const data_split *parts[3] = {&d.train, &d.val, &d.test};
    float lo = 1e9f, hi = -1e9f;
    long per_class[2][10] = {{0}};
    for (int p = 0; p < 3; p++) {
        size_t count = (size_t)parts[p]->n * data_image_size(parts[p]);
        for (size_t j = 0; j < count; j++) {
            float v = parts[p]->images[j];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        for (int k = 0; k < parts[p]->n; k++) per_class[p == 2][parts[p]->labels[k] % 10]++;
    }
    CHECK(lo == 0.0f && hi == 1.0f);
    /* Both official sets are balanced: 6000 and 1000 images a class. */
    int balanced = 1;
    for (int k = 0; k < 10; k++) balanced &= per_class[0][k] == 6000 && per_class[1][k] == 1000;
    CHECK(balanced);
    dataset_free(&d);
}

int main(void) {
    test_idx_readers();
    test_load_idx();
    test_split();
    test_variants();
    test_cifar();
    test_batcher();
    test_missing_files();
    test_truncated();
    test_bad_headers();
    test_mismatches();
    test_cifar_bad();
    test_bad_arguments();
    test_real_fashion_mnist();
    /* The directories made above: test_tmpdir names them alrs-test-NAME-PID. */
    char cmd[1200];
    const char *base = getenv("TMPDIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/alrs-test-*-%ld", base ? base : "/tmp", (long)getpid());
    test_run(cmd, NULL, 0);
    return test_finish();
}
