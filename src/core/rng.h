/* Counter-based random streams.
 *
 * A stream is a key (derived from a seed and a stream index) and a counter;
 * the n-th number is a hash of (key, n). Streams with different indices are
 * independent, and a stream's numbers do not depend on what other streams did,
 * so a run gives the same numbers however its work is spread over threads. */
#ifndef ALRS_CORE_RNG_H
#define ALRS_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t key;
    uint64_t counter;
} rng_stream;

/* The stream `index` of `seed`; sub-streams are made by deriving again. */
rng_stream rng_make(uint64_t seed, uint64_t index);
uint64_t rng_u64(rng_stream *r);
/* Uniform in [0, 1) with 24 random bits (float) or 53 (double). */
float rng_uniform(rng_stream *r);
double rng_uniform_double(rng_stream *r);
/* Uniform integer in [0, n), without modulo bias. */
uint32_t rng_below(rng_stream *r, uint32_t n);
/* Standard normal (Box-Muller, one value per call). */
double rng_normal(rng_stream *r);
/* Fisher-Yates shuffle of an int array. */
void rng_shuffle(rng_stream *r, int *items, int n);

#endif
