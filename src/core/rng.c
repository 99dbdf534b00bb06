#include "core/rng.h"

#include <math.h>

/* splitmix64's finaliser: a bijective mix with full avalanche. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

rng_stream rng_make(uint64_t seed, uint64_t index) {
    rng_stream r;
    r.key = mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (index * 0xd1b54a32d192ed03ULL + 1));
    r.counter = 0;
    return r;
}

uint64_t rng_u64(rng_stream *r) {
    return mix64(r->key + 0x9e3779b97f4a7c15ULL * ++r->counter);
}

float rng_uniform(rng_stream *r) { return (float)(rng_u64(r) >> 40) * 0x1.0p-24f; }

double rng_uniform_double(rng_stream *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

uint32_t rng_below(rng_stream *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection. */
    uint64_t m = (uint64_t)(uint32_t)rng_u64(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)rng_u64(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double rng_normal(rng_stream *r) {
    double u1 = 1.0 - rng_uniform_double(r); /* (0, 1]: log is finite */
    double u2 = rng_uniform_double(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rng_shuffle(rng_stream *r, int *items, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)(i + 1));
        int t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}
