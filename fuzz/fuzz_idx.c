/* The IDX readers (src/data/idx.c) on arbitrary bytes, read both as an images
 * and as a labels file. Each input goes in twice: as it is (gzip inputs among
 * the seeds reach zlib's corrupt-stream paths) and gzip-compressed (so that
 * mutations reach the header and payload checks behind zlib as well).
 * The streams are opened here with zlib's default buffer and handed to
 * idx_read_*_gz: idx_read_* itself opens with a 1 MiB buffer, whose
 * allocation (with ASan's shadow) costs 20 times the parsing of an input. */
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "check.h"
#include "data/dataset.h"
#include "memfile.h"

static gzFile open_input(const char *path) {
    gzFile g = gzopen(path, "rb");
    FUZZ_ASSERT(g != NULL);
    return g;
}

static void read_both(const uint8_t *data, size_t size) {
    const char *path = memfile_put(data, size);
    uint8_t *px = NULL, *labels = NULL;
    int n = 0, rows = 0, cols = 0;
    gzFile g = open_input(path);
    int rc = idx_read_images_gz(g, path, &px, &n, &rows, &cols);
    gzclose(g);
    if (rc == 0) {
        FUZZ_ASSERT(n >= 1 && rows >= 1 && cols >= 1);
        fuzz_touch(px, (size_t)n * (size_t)rows * (size_t)cols);
        free(px);
    } else {
        FUZZ_ASSERT(px == NULL);
        fuzz_check_refusal(path);
    }
    g = open_input(path);
    rc = idx_read_labels_gz(g, path, &labels, &n);
    gzclose(g);
    if (rc == 0) {
        FUZZ_ASSERT(n >= 1);
        fuzz_touch(labels, (size_t)n);
        free(labels);
    } else {
        FUZZ_ASSERT(labels == NULL);
        fuzz_check_refusal(path);
    }
}

/* data as one gzip member (level 1: the fuzzer wants speed, not ratio). */
static uint8_t *gzip_of(const uint8_t *data, size_t size, size_t *out_size) {
    z_stream z = {0};
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    uLong bound = deflateBound(&z, (uLong)size);
    uint8_t *out = malloc(bound);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    *out_size = z.total_out;
    deflateEnd(&z);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    read_both(data, size);
    size_t gz_size;
    uint8_t *gz = gzip_of(data, size, &gz_size);
    read_both(gz, gz_size);
    free(gz);
    return 0;
}
