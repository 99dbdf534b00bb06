#define _POSIX_C_SOURCE 200809L
#include "core/bytes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"
#include "core/fileio.h"

/* ---- encoding ---- */

void bytes_put(byte_buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) alrs_panic("out of memory growing a buffer to %zu bytes", cap);
        b->data = d, b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bytes_put_u64(byte_buf *b, uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    bytes_put(b, le, 8);
}

void bytes_put_u32(byte_buf *b, uint32_t v) {
    unsigned char le[4];
    for (int i = 0; i < 4; i++) le[i] = (unsigned char)(v >> (8 * i));
    bytes_put(b, le, 4);
}

void bytes_put_f64(byte_buf *b, double x) {
    uint64_t v;
    memcpy(&v, &x, 8);
    bytes_put_u64(b, v);
}

void bytes_put_f64s(byte_buf *b, const double *x, size_t n) {
    for (size_t i = 0; i < n; i++) bytes_put_f64(b, x[i]);
}

void bytes_put_f32s(byte_buf *b, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, &x[i], 4);
        bytes_put_u32(b, v);
    }
}

void bytes_free(byte_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- decoding ---- */

const unsigned char *bytes_take(byte_reader *r, size_t n) {
    if (r->overrun || n > r->len - r->pos) {
        r->overrun = 1;
        return NULL;
    }
    const unsigned char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint64_t bytes_get_u64(byte_reader *r) {
    const unsigned char *p = bytes_take(r, 8);
    uint64_t v = 0;
    if (p)
        for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

uint32_t bytes_get_u32(byte_reader *r) {
    const unsigned char *p = bytes_take(r, 4);
    uint32_t v = 0;
    if (p)
        for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

double bytes_get_f64(byte_reader *r) {
    uint64_t v = bytes_get_u64(r);
    double x;
    memcpy(&x, &v, 8);
    return x;
}

void bytes_get_f64s(byte_reader *r, double *x, size_t n) {
    if (r->overrun || n > (r->len - r->pos) / 8) {
        r->overrun = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = bytes_get_f64(r);
}

void bytes_get_f32s(byte_reader *r, float *x, size_t n) {
    if (r->overrun || n > (r->len - r->pos) / 4) {
        r->overrun = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t v = bytes_get_u32(r);
        memcpy(&x[i], &v, 4);
    }
}

size_t bytes_left(const byte_reader *r) { return r->overrun ? 0 : r->len - r->pos; }

uint32_t bytes_crc32(const unsigned char *p, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk, n -= chunk;
    }
    return (uint32_t)crc;
}

/* ---- the container ---- */

int binfile_write(const char *path, const char *magic, uint32_t version, const byte_buf *payload) {
    byte_buf header = {0};
    bytes_put(&header, magic, 8);
    bytes_put_u32(&header, version);
    bytes_put_u32(&header, 0);
    bytes_put_u64(&header, payload->len);
    bytes_put_u32(&header, bytes_crc32(payload->data, payload->len));
    bytes_put_u32(&header, 0);
    atomic_file f;
    int rc = atomic_open(&f, path);
    if (rc == 0) {
        fwrite(header.data, 1, header.len, f.f); /* errors surface in atomic_commit (ferror) */
        fwrite(payload->data, 1, payload->len, f.f);
        rc = atomic_commit(&f);
    }
    bytes_free(&header);
    return rc;
}

int binfile_read(const char *path, const char *magic, const char *noun, unsigned char **data,
                 size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return alrs_fail("%s: cannot open checkpoint: %s", path, strerror(errno));
    /* fopen accepts a directory and only the read fails (EISDIR): say what it is. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return alrs_fail("%s: is a directory, not a %s", path, noun + 5);
    }
    byte_buf b = {0};
    unsigned char chunk[65536];
    size_t got;
    errno = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        /* Not such a file at all (/dev/zero, a data file): say so before reading it all. */
        if (b.len == 0 && got >= 8 && memcmp(chunk, magic, 8) != 0) {
            fclose(f);
            return alrs_fail("%s: not an %s (wrong magic)", path, noun);
        }
        if (b.len + got > BINFILE_MAX_BYTES) {
            fclose(f);
            bytes_free(&b);
            return alrs_fail("%s: larger than %zu bytes: not a %s", path, BINFILE_MAX_BYTES,
                             noun + 5);
        }
        bytes_put(&b, chunk, got);
    }
    int failed = ferror(f), saved = errno;
    fclose(f);
    if (failed) {
        bytes_free(&b);
        return alrs_fail("%s: cannot read checkpoint: %s", path, strerror(saved ? saved : EIO));
    }
    *data = b.data, *len = b.len;
    return 0;
}

int binfile_check(const char *path, const char *magic, const char *noun, uint32_t oldest,
                  uint32_t newest, const unsigned char *d, size_t len, byte_reader *payload,
                  uint32_t *version) {
    if (len == 0) return alrs_fail("%s: empty file, not an %s (wrong magic)", path, noun);
    if (len < 8 || memcmp(d, magic, 8) != 0)
        return alrs_fail("%s: not an %s (wrong magic)", path, noun);
    if (len < BINFILE_HEADER_SIZE)
        return alrs_fail("%s: truncated checkpoint (%zu bytes, shorter than the %d-byte header)",
                         path, len, BINFILE_HEADER_SIZE);
    byte_reader h = {d, len, 8, 0};
    uint32_t v = bytes_get_u32(&h);
    bytes_get_u32(&h);
    uint64_t size = bytes_get_u64(&h);
    uint32_t crc = bytes_get_u32(&h);
    if (v < oldest || v > newest) {
        if (oldest == newest)
            return alrs_fail("%s: checkpoint version %u not supported (this build reads version "
                             "%u)", path, v, newest);
        return alrs_fail("%s: checkpoint version %u not supported (this build reads versions %u "
                         "to %u)", path, v, oldest, newest);
    }
    size_t have = len - BINFILE_HEADER_SIZE;
    if (size > BINFILE_MAX_BYTES) /* no file cut short announces this much */
        return alrs_fail("%s: corrupt checkpoint header: it announces %llu payload bytes (at most "
                         "%zu)", path, (unsigned long long)size, BINFILE_MAX_BYTES);
    if (size != have)
        return alrs_fail("%s: %s checkpoint: header announces %llu payload bytes, file holds %zu",
                         path, size > have ? "truncated" : "oversized", (unsigned long long)size,
                         have);
    if (bytes_crc32(d + BINFILE_HEADER_SIZE, have) != crc)
        return alrs_fail("%s: checksum mismatch: the checkpoint is corrupted", path);
    *payload = (byte_reader){d + BINFILE_HEADER_SIZE, have, 0, 0};
    *version = v;
    return 0;
}
