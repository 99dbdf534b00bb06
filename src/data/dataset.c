/* Loading a data set: find its files, read them as bytes, check them against
 * each other, split the official training set, and convert pixels to floats.
 *
 * The split is a seeded permutation (stream 0x5eed of split_seed): its first
 * val_split indices are the validation set. Both parts keep the files' order,
 * so a split depends only on (seed, size), and the batcher does the shuffling. */
#include "data/dataset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/fileio.h"

enum { DATA_CLASSES = 10, DATA_PATH_MAX = 4096 };
#define SPLIT_STREAM 0x5eed

/* One official part (train or test) as read from disk. */
typedef struct {
    uint8_t *pixels, *labels;
    int n, c, h, w;
    char path[DATA_PATH_MAX]; /* where the images came from, for messages */
} raw_set;

static void raw_free(raw_set *r) {
    free(r->pixels);
    free(r->labels);
    r->pixels = r->labels = NULL;
}

const char *dataset_default_dir(const char *name) {
    /* Debian's dataset-fashion-mnist package; MNIST and CIFAR-10 are not packaged. */
    if (name && strcmp(name, "fashion-mnist") == 0) return "/usr/share/datasets/fashion-mnist";
    return "";
}

static int join_path(char *out, const char *dir, const char *file, const char *ext) {
    int len = snprintf(out, DATA_PATH_MAX, "%s/%s%s", dir, file, ext);
    if (len < 0 || len >= DATA_PATH_MAX) return alrs_fail("%s/%s%s: path too long", dir, file, ext);
    return 0;
}

static int check_labels(const uint8_t *labels, int n, const char *path) {
    for (int i = 0; i < n; i++)
        if (labels[i] >= DATA_CLASSES)
            return alrs_fail("labels out of range: label %d at index %d in %s (expected 0..%d)",
                             labels[i], i, path, DATA_CLASSES - 1);
    return 0;
}

/* The raw file if present, else the gzipped one (gunzip -k leaves both; raw reads faster). */
static int find_idx_file(char *out, const char *name, const char *dir, const char *file) {
    if (join_path(out, dir, file, "") != 0) return -1;
    if (path_exists(out)) return 0;
    if (join_path(out, dir, file, ".gz") != 0) return -1;
    if (path_exists(out)) return 0;
    return alrs_fail("%s/%s[.gz]: not found (--data-dir DIR must name the directory holding the "
                     "%s IDX files)",
                     dir, file, name);
}

/* Reads `stem`-images and `stem`-labels (stem: "train" or "t10k"). */
static int load_idx_part(raw_set *r, const char *name, const char *dir, const char *stem) {
    char file[64], lpath[DATA_PATH_MAX];
    snprintf(file, sizeof file, "%s-images-idx3-ubyte", stem);
    if (find_idx_file(r->path, name, dir, file) != 0) return -1;
    snprintf(file, sizeof file, "%s-labels-idx1-ubyte", stem);
    if (find_idx_file(lpath, name, dir, file) != 0) return -1;
    if (idx_read_images(r->path, &r->pixels, &r->n, &r->h, &r->w) != 0) return -1;
    r->c = 1;
    int n_labels;
    if (idx_read_labels(lpath, &r->labels, &n_labels) != 0) return -1;
    if (n_labels != r->n)
        return alrs_fail("%s has %d labels but %s has %d images", lpath, n_labels, r->path, r->n);
    return check_labels(r->labels, r->n, lpath);
}

static void *grow(void *p, size_t bytes) {
    void *q = realloc(p, bytes);
    if (!q) alrs_panic("out of memory growing a buffer to %zu bytes", bytes);
    return q;
}

/* Appends one CIFAR-10 batch to r. */
static int cifar_append(raw_set *r, const char *path) {
    uint8_t *px, *lab;
    int n;
    if (cifar_read_batch(path, &px, &lab, &n) != 0) return -1;
    size_t size = 3 * 32 * 32;
    if (r->n == 0) {
        r->pixels = px;
        r->labels = lab;
        snprintf(r->path, sizeof r->path, "%s", path);
    } else {
        if (n > INT_MAX - r->n) {
            free(px);
            free(lab);
            return alrs_fail("%s: too many images in total", path);
        }
        r->pixels = grow(r->pixels, ((size_t)r->n + (size_t)n) * size);
        r->labels = grow(r->labels, (size_t)r->n + (size_t)n);
        memcpy(r->pixels + (size_t)r->n * size, px, (size_t)n * size);
        memcpy(r->labels + r->n, lab, (size_t)n);
        free(px);
        free(lab);
    }
    r->n += n;
    r->c = 3;
    r->h = r->w = 32;
    return 0;
}

/* The batches sit in DIR or in DIR/cifar-10-batches-bin (as the archive unpacks). */
static int load_cifar(raw_set *train, raw_set *test, const char *dir) {
    char base[DATA_PATH_MAX], path[DATA_PATH_MAX];
    if (join_path(path, dir, "data_batch_1.bin", "") != 0) return -1;
    if (path_exists(path)) snprintf(base, sizeof base, "%s", dir);
    else if (join_path(base, dir, "cifar-10-batches-bin", "") != 0) return -1;
    else if (join_path(path, base, "data_batch_1.bin", "") != 0) return -1;
    else if (!path_exists(path))
        return alrs_fail("%s/data_batch_1.bin: not found, nor in %s/cifar-10-batches-bin/ "
                         "(--data-dir DIR must name the directory holding the CIFAR-10 binary "
                         "batches)",
                         dir, dir);
    for (int b = 1; b <= 5; b++) {
        char file[32];
        snprintf(file, sizeof file, "data_batch_%d.bin", b);
        if (join_path(path, base, file, "") != 0 || cifar_append(train, path) != 0) return -1;
    }
    if (join_path(path, base, "test_batch.bin", "") != 0) return -1;
    return cifar_append(test, path);
}

static int check_shapes(const raw_set *train, const raw_set *test) {
    if (train->c == test->c && train->h == test->h && train->w == test->w) return 0;
    return alrs_fail("%s: images are %dx%dx%d but the training images (%s) are %dx%dx%d",
                     test->path, test->c, test->h, test->w, train->path, train->c, train->h,
                     train->w);
}

/* Copies the chosen images (all of them when pick is NULL) as floats in [0, 1]. */
static void split_fill(data_split *s, const raw_set *r, const int *pick, int n) {
    float scale[256];
    for (int v = 0; v < 256; v++) scale[v] = (float)v / 255.0f;
    s->n = n;
    s->c = r->c;
    s->h = r->h;
    s->w = r->w;
    size_t size = (size_t)data_image_size(s);
    s->images = alrs_alloc_aligned((size_t)n * size * sizeof(float));
    s->labels = alrs_malloc((size_t)n);
    for (int k = 0; k < n; k++) {
        size_t i = pick ? (size_t)pick[k] : (size_t)k;
        const uint8_t *src = r->pixels + i * size;
        float *dst = s->images + (size_t)k * size;
        for (size_t j = 0; j < size; j++) dst[j] = scale[src[j]];
        s->labels[k] = r->labels[i];
    }
}

/* Marks val_split images chosen by the seeded permutation, then lists both
 * parts in file order. */
static void split_train(dataset *d, const raw_set *train, int val_split, uint64_t seed) {
    int n = train->n;
    int *perm = alrs_malloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) perm[i] = i;
    rng_stream r = rng_make(seed, SPLIT_STREAM);
    rng_shuffle(&r, perm, n);
    uint8_t *is_val = alrs_calloc((size_t)n, 1);
    for (int k = 0; k < val_split; k++) is_val[perm[k]] = 1;
    int *val_idx = perm, *train_idx = alrs_malloc((size_t)(n - val_split) * sizeof(int));
    int nv = 0, nt = 0;
    for (int i = 0; i < n; i++) {
        if (is_val[i]) val_idx[nv++] = i; /* perm is no longer read: reuse it */
        else train_idx[nt++] = i;
    }
    split_fill(&d->val, train, val_idx, nv);
    split_fill(&d->train, train, train_idx, nt);
    free(train_idx);
    free(is_val);
    free(perm);
}

int dataset_load(dataset *d, const char *name, const char *dir, int val_split,
                 uint64_t split_seed) {
    memset(d, 0, sizeof *d);
    if (!name) name = "";
    int is_idx = strcmp(name, "fashion-mnist") == 0 || strcmp(name, "mnist") == 0;
    if (!is_idx && strcmp(name, "cifar10") != 0)
        return alrs_fail("--dataset %s: unknown data set (expected fashion-mnist, mnist or cifar10)",
                         name);
    if (!dir || !*dir) dir = dataset_default_dir(name);
    if (!*dir) return alrs_fail("--data-dir is required for %s", name);
    /* A file given as the directory would otherwise read as "DIR/FILE: not found". */
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return alrs_fail("--data-dir %s: not a directory (it must name the directory holding the "
                         "%s files)",
                         dir, name);

    /* Nothing goes into d until every check has passed, so a failure frees only these. */
    raw_set train = {0}, test = {0};
    int rc;
    if (is_idx)
        rc = load_idx_part(&train, name, dir, "train") != 0 ||
             load_idx_part(&test, name, dir, "t10k") != 0;
    else
        rc = load_cifar(&train, &test, dir) != 0;
    if (!rc) rc = check_shapes(&train, &test) != 0;
    if (!rc && (val_split < 1 || val_split >= train.n))
        rc = alrs_fail("--val-split %d: must be between 1 and %d for %s", val_split,
                       train.n - 1, name) != 0;
    if (!rc) {
        split_train(d, &train, val_split, split_seed);
        split_fill(&d->test, &test, NULL, test.n);
        snprintf(d->name, sizeof d->name, "%s", name);
        d->classes = DATA_CLASSES;
    }
    raw_free(&train);
    raw_free(&test);
    return rc ? -1 : 0;
}

static void split_free(data_split *s) {
    alrs_free_aligned(s->images);
    free(s->labels);
}

void dataset_free(dataset *d) {
    split_free(&d->train);
    split_free(&d->val);
    split_free(&d->test);
    memset(d, 0, sizeof *d);
}
