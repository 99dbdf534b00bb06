/* Binary files alrs writes and reads back (controller checkpoints, train
 * checkpoints): little-endian encoding into a growing buffer, bounds-checked
 * decoding, and one container for every such file:
 *
 *   header, 32 bytes: char magic[8], u32 version, u32 0, u64 payload size,
 *                     u32 crc32 of the payload (zlib's), u32 0
 *   payload
 *
 * written atomically (core/fileio.h) and read back whole, with every check a
 * reader needs before it trusts a byte: the magic first (a file of something
 * else is refused before it is read whole), the version, the size, the
 * checksum. Messages name the file and say what it should have been: `noun`
 * is "alrs controller checkpoint", "alrs train checkpoint". */
#ifndef ALRS_CORE_BYTES_H
#define ALRS_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define BINFILE_HEADER_SIZE 32
/* No file alrs writes comes near this; a header announcing more is corrupt. */
#define BINFILE_MAX_BYTES ((size_t)1 << 30)

typedef struct {
    unsigned char *data;
    size_t len, cap;
} byte_buf;

void bytes_put(byte_buf *b, const void *p, size_t n);
void bytes_put_u32(byte_buf *b, uint32_t v);
void bytes_put_u64(byte_buf *b, uint64_t v);
void bytes_put_f64(byte_buf *b, double x);
void bytes_put_f64s(byte_buf *b, const double *x, size_t n);
void bytes_put_f32s(byte_buf *b, const float *x, size_t n);
void bytes_free(byte_buf *b);

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int overrun; /* a read went past the end: every later read gives zeros */
} byte_reader;

/* n bytes, or NULL (and overrun set) when fewer remain. */
const unsigned char *bytes_take(byte_reader *r, size_t n);
uint32_t bytes_get_u32(byte_reader *r);
uint64_t bytes_get_u64(byte_reader *r);
double bytes_get_f64(byte_reader *r);
/* n values if that many remain; otherwise marks the overrun. */
void bytes_get_f64s(byte_reader *r, double *x, size_t n);
void bytes_get_f32s(byte_reader *r, float *x, size_t n);
/* Bytes not read yet. */
size_t bytes_left(const byte_reader *r);

uint32_t bytes_crc32(const unsigned char *p, size_t n);

/* Writes header and payload to `path` atomically; -1 with a message. */
int binfile_write(const char *path, const char *magic, uint32_t version, const byte_buf *payload);
/* Reads the whole file (refusing a directory, a file that does not start with
 * the magic and anything over BINFILE_MAX_BYTES); -1 with a message. */
int binfile_read(const char *path, const char *magic, const char *noun, unsigned char **data,
                 size_t *len);
/* Checks `len` bytes of a file: magic, complete header, a version in
 * [oldest, newest], the size the header announces, the checksum. On success
 * the payload and the version; -1 with a message naming `path`. */
int binfile_check(const char *path, const char *magic, const char *noun, uint32_t oldest,
                  uint32_t newest, const unsigned char *data, size_t len, byte_reader *payload,
                  uint32_t *version);

#endif
