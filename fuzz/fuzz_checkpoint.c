/* The controller checkpoint reader (controller_file_parse in src/rl/controller_file.c)
 * on arbitrary bytes. A CRC32 guards the payload, so random mutations would
 * almost never get past it: each input is read as it is (header, magic,
 * version, size and checksum checks), then, when it starts with the magic,
 * once more with the header's size and checksum recomputed, which lets the
 * mutations reach every size and value check inside the payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "rl/controller_file.h"

static const char *NAME = "fuzz/controller.ckpt";

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void parse(const uint8_t *data, size_t size) {
    controller c;
    if (controller_file_parse(&c, data, size, NAME) != 0) {
        fuzz_check_refusal(NAME);
        return;
    }
    FUZZ_ASSERT(c.pol.n_params == c.adam.n && c.pol.n_params > 0);
    fuzz_touch(c.pol.params, c.pol.n_params * sizeof(double));
    fuzz_touch(c.adam.m, c.adam.n * sizeof(double));
    fuzz_touch(c.adam.v, c.adam.n * sizeof(double));
    fuzz_touch(c.obs_norm.stats.mean, (size_t)c.obs_norm.stats.dim * sizeof(double));
    fuzz_touch(c.rewards.ret, (size_t)c.rewards.n_envs * sizeof(double));
    controller_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse(data, size);
    if (size < CHECKPOINT_HEADER_SIZE || memcmp(data, CHECKPOINT_MAGIC, 8) != 0) return 0;
    uint8_t *fixed = malloc(size);
    memcpy(fixed, data, size);
    size_t payload = size - CHECKPOINT_HEADER_SIZE;
    put_le(fixed + 16, payload, 8);
    put_le(fixed + 24, crc32(crc32(0L, Z_NULL, 0), fixed + CHECKPOINT_HEADER_SIZE, (uInt)payload), 4);
    parse(fixed, size);
    free(fixed);
    return 0;
}
