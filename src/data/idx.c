/* IDX files (MNIST, Fashion-MNIST), raw or gzipped.
 *
 * Layout, all integers big-endian: a magic number (0x00000803 for 3-d uint8
 * images, 0x00000801 for 1-d uint8 labels), one uint32 per dimension, then the
 * uint8 payload. zlib's gzread reads raw files unchanged, so one path serves
 * both. The header is never trusted for an allocation: the buffer grows with
 * the data actually read, so a lying header (a fuzzer's favourite) costs an
 * error message, not an out-of-memory abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "data/dataset.h"

enum {
    IDX_IMAGES_MAGIC = 0x00000803,
    IDX_LABELS_MAGIC = 0x00000801,
    IDX_MAX_ITEMS = 10000000,
    IDX_MAX_SIDE = 4096,
};

/* gzread takes an unsigned and returns an int, so big reads go in pieces of this size. */
#define IDX_READ_PIECE ((size_t)1 << 30)
/* The first guess at the payload size; it doubles until the header's size is reached. */
#define IDX_FIRST_CAPACITY ((size_t)1 << 24)

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int idx_open(const char *path, gzFile *g) {
    errno = 0;
    *g = gzopen(path, "rb");
    if (!*g)
        return alrs_fail("%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    /* A larger input buffer roughly halves the time spent in small reads. */
    gzbuffer(*g, 1 << 20);
    return 0;
}

/* Records why gzread failed: the system's reason for a read error, zlib's for
 * bad compressed data (whose message begins with the path: we drop that). */
static int gz_fail(gzFile g, const char *path) {
    int code;
    const char *msg = gzerror(g, &code);
    if (code == Z_ERRNO) return alrs_fail("%s: cannot read: %s", path, strerror(errno));
    size_t len = strlen(path);
    if (strncmp(msg, path, len) == 0 && strncmp(msg + len, ": ", 2) == 0) msg += len + 2;
    return alrs_fail("%s: corrupt gzip data: %s", path, msg);
}

/* Reads up to `len` bytes; fewer only at the end of the data. A gzip stream
 * cut short counts as an end (the caller reports the file as truncated);
 * corrupt data is an error. Returns the count, or -1. */
static long long idx_read(gzFile g, const char *path, uint8_t *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        size_t want = len - got < IDX_READ_PIECE ? len - got : IDX_READ_PIECE;
        int n = gzread(g, buf + got, (unsigned)want);
        if (n < 0) return gz_fail(g, path);
        if (n == 0) break;
        got += (size_t)n;
    }
    return (long long)got;
}

/* Reads the header of `words` big-endian uint32 values and checks the magic. */
static int idx_header(gzFile g, const char *path, uint32_t magic, uint32_t *out, int words) {
    uint8_t raw[16];
    long long got = idx_read(g, path, raw, (size_t)words * 4);
    if (got < 0) return -1;
    /* The magic first: a labels file given as images should say so, not "too short". */
    if (got >= 4 && be32(raw) != magic)
        return alrs_fail("%s: wrong magic number 0x%08x (expected 0x%08x): not an IDX %s file",
                         path, be32(raw), magic,
                         magic == IDX_IMAGES_MAGIC ? "images" : "labels");
    if (got < words * 4)
        return alrs_fail("%s: too short for an IDX header (%lld of %d bytes)", path, got,
                         words * 4);
    for (int i = 0; i < words; i++) out[i] = be32(raw + 4 * i);
    return 0;
}

/* Reads exactly `expected` payload bytes and rejects anything after them. */
static int idx_payload(gzFile g, const char *path, size_t expected, const char *what,
                       uint8_t **out) {
    size_t cap = expected < IDX_FIRST_CAPACITY ? expected : IDX_FIRST_CAPACITY;
    uint8_t *buf = alrs_malloc(cap);
    size_t got = 0;
    for (;;) {
        long long n = idx_read(g, path, buf + got, cap - got);
        if (n < 0) goto fail;
        got += (size_t)n;
        if (got < cap || cap == expected) break;
        cap = cap * 2 < expected ? cap * 2 : expected;
        uint8_t *grown = realloc(buf, cap);
        if (!grown) alrs_panic("out of memory reading %s (%zu bytes)", path, cap);
        buf = grown;
    }
    if (got < expected) {
        alrs_fail("%s: truncated (expected %zu bytes of %s, got %zu)", path, expected, what, got);
        goto fail;
    }
    uint8_t scratch[1 << 12];
    long long extra = 0, n;
    while ((n = idx_read(g, path, scratch, sizeof scratch)) > 0) extra += n;
    if (n < 0) goto fail;
    if (extra > 0) {
        alrs_fail("%s: has %lld extra bytes after the %zu bytes of %s", path, extra, expected,
                  what);
        goto fail;
    }
    *out = buf;
    return 0;
fail:
    free(buf);
    return -1;
}

int idx_read_images_gz(struct gzFile_s *g, const char *path, uint8_t **pixels, int *n,
                       int *rows, int *cols) {
    *pixels = NULL;
    uint32_t h[4] = {0};
    if (idx_header(g, path, IDX_IMAGES_MAGIC, h, 4) != 0) return -1;
    if (h[1] == 0 || h[1] > IDX_MAX_ITEMS)
        return alrs_fail("%s: absurd image count %u (expected 1 to %d)", path, h[1],
                         IDX_MAX_ITEMS);
    if (h[2] == 0 || h[2] > IDX_MAX_SIDE || h[3] == 0 || h[3] > IDX_MAX_SIDE)
        return alrs_fail("%s: absurd image size %ux%u rows x cols (each must be 1 to %d)", path,
                         h[2], h[3], IDX_MAX_SIDE);
    if (idx_payload(g, path, (size_t)h[1] * h[2] * h[3], "pixels", pixels) != 0) return -1;
    *n = (int)h[1];
    *rows = (int)h[2];
    *cols = (int)h[3];
    return 0;
}

int idx_read_labels_gz(struct gzFile_s *g, const char *path, uint8_t **labels, int *n) {
    *labels = NULL;
    uint32_t h[2] = {0};
    if (idx_header(g, path, IDX_LABELS_MAGIC, h, 2) != 0) return -1;
    if (h[1] == 0 || h[1] > IDX_MAX_ITEMS)
        return alrs_fail("%s: absurd label count %u (expected 1 to %d)", path, h[1],
                         IDX_MAX_ITEMS);
    if (idx_payload(g, path, h[1], "labels", labels) != 0) return -1;
    *n = (int)h[1];
    return 0;
}

int idx_read_images(const char *path, uint8_t **pixels, int *n, int *rows, int *cols) {
    *pixels = NULL;
    gzFile g;
    if (idx_open(path, &g) != 0) return -1;
    int rc = idx_read_images_gz(g, path, pixels, n, rows, cols);
    gzclose(g);
    return rc;
}

int idx_read_labels(const char *path, uint8_t **labels, int *n) {
    *labels = NULL;
    gzFile g;
    if (idx_open(path, &g) != 0) return -1;
    int rc = idx_read_labels_gz(g, path, labels, n);
    gzclose(g);
    return rc;
}
