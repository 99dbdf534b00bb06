/* CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin).
 *
 * A batch is a bare sequence of records: one label byte, then 3072 pixel bytes
 * as three 32×32 planes (red, green, blue). There is no header, so the file
 * size is the only check of integrity: it must be a whole number of records. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "data/dataset.h"

enum { CIFAR_PIXELS = 3 * 32 * 32, CIFAR_RECORD = 1 + CIFAR_PIXELS, CIFAR_CLASSES = 10 };
/* Far above any real batch (10000 records); stops a huge file being taken for data. */
#define CIFAR_MAX_RECORDS 10000000L

static int cifar_size(FILE *f, const char *path, long *records) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0) return alrs_fail("%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return alrs_fail("%s: not a regular file", path);
    long long size = (long long)st.st_size;
    if (size == 0 || size % CIFAR_RECORD != 0)
        return alrs_fail("%s: truncated or not a CIFAR-10 batch: %lld bytes is not a positive "
                         "multiple of the %d-byte record",
                         path, size, CIFAR_RECORD);
    if (size / CIFAR_RECORD > CIFAR_MAX_RECORDS)
        return alrs_fail("%s: absurd size: %lld records (at most %ld)", path,
                         size / CIFAR_RECORD, CIFAR_MAX_RECORDS);
    *records = (long)(size / CIFAR_RECORD);
    return 0;
}

/* Splits the records into a label array and a pixel array; stdio's buffer
 * makes record-sized reads cheap. */
static int cifar_records(FILE *f, const char *path, long n, uint8_t *pixels, uint8_t *labels) {
    for (long i = 0; i < n; i++) {
        uint8_t *px = pixels + (size_t)i * CIFAR_PIXELS;
        if (fread(labels + i, 1, 1, f) != 1 || fread(px, 1, CIFAR_PIXELS, f) != CIFAR_PIXELS)
            return alrs_fail("%s: read failed at record %ld: %s", path, i,
                             ferror(f) ? strerror(errno) : "file shrank while reading");
        if (labels[i] >= CIFAR_CLASSES)
            return alrs_fail("labels out of range: label %d at record %ld in %s (expected 0..%d)",
                             labels[i], i, path, CIFAR_CLASSES - 1);
    }
    return 0;
}

int cifar_read_batch(const char *path, uint8_t **pixels, uint8_t **labels, int *n) {
    *pixels = NULL;
    *labels = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return alrs_fail("%s: cannot open: %s", path, strerror(errno));
    long records = 0;
    if (cifar_size(f, path, &records) != 0) {
        fclose(f);
        return -1;
    }
    uint8_t *px = alrs_malloc((size_t)records * CIFAR_PIXELS);
    uint8_t *lab = alrs_malloc((size_t)records);
    int rc = cifar_records(f, path, records, px, lab);
    fclose(f);
    if (rc != 0) {
        free(px);
        free(lab);
        return -1;
    }
    *pixels = px;
    *labels = lab;
    *n = (int)records;
    return 0;
}
