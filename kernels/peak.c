#include "kernels/peak.h"

#include <omp.h>

#include "core/timer.h"
#include "kernels/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ALRS_X86 1
#endif

/* 12 independent accumulators cover FMA latency times throughput on current
 * x86 cores (4 cycles x 2 pipes = 8 in flight) with room to spare, and still
 * leave registers for the two constants with 16 ymm registers. */
enum { CHAINS = 12, CHUNK = 1 << 14, REPEATS = 5 };
static const double RUN_SECONDS = 0.15;
/* Untimed first: a core that was idle, or ran narrower code, reaches its
 * clock and its 512-bit throughput only after a while (on a Zen 5 core a
 * short measurement right after start read 172 GFLOP/s where a steady loop
 * gives 213). */
static const double WARMUP_SECONDS = 0.3;

/* Each chain iterates x = x * M + C, which converges to C / (1 - M) = 1, so the
 * values stay finite and normal (no denormal slowdown) however long it runs. */
#define MUL 0.999f
#define ADD 0.001f

#ifdef ALRS_X86
__attribute__((target("avx512f"))) static float chains_avx512(long iters, float seed) {
    const __m512 m = _mm512_set1_ps(MUL), c = _mm512_set1_ps(ADD);
    __m512 x[CHAINS];
    for (int k = 0; k < CHAINS; k++) x[k] = _mm512_set1_ps(seed + (float)k);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int k = 0; k < CHAINS; k++) x[k] = _mm512_fmadd_ps(x[k], m, c);
    __m512 s = x[0];
    for (int k = 1; k < CHAINS; k++) s = _mm512_add_ps(s, x[k]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float chains_avx2(long iters, float seed) {
    const __m256 m = _mm256_set1_ps(MUL), c = _mm256_set1_ps(ADD);
    __m256 x[CHAINS];
    for (int k = 0; k < CHAINS; k++) x[k] = _mm256_set1_ps(seed + (float)k);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int k = 0; k < CHAINS; k++) x[k] = _mm256_fmadd_ps(x[k], m, c);
    __m256 s = x[0];
    for (int k = 1; k < CHAINS; k++) s = _mm256_add_ps(s, x[k]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}
#endif

/* Multiply and add (a fused fmaf would be a slow library call without FMA
 * hardware); still 2 flops per step. */
static float chains_scalar(long iters, float seed) {
    float x[CHAINS];
    for (int k = 0; k < CHAINS; k++) x[k] = seed + (float)k;
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int k = 0; k < CHAINS; k++) x[k] = x[k] * MUL + ADD;
    float s = 0;
    for (int k = 0; k < CHAINS; k++) s += x[k];
    return s;
}

/* Runs one chunk; returns the FMA lanes it executed. The kernels have no side
 * effects, so GCC would compute one call and reuse it for the whole loop:
 * reading the seed through a volatile makes every call a new computation, and
 * adding the result to the volatile sink keeps it from being dropped. */
static double run_chunk(alrs_isa isa, volatile float *seed, volatile float *sink) {
#ifdef ALRS_X86
    if (isa == ISA_AVX512) {
        *sink += chains_avx512(CHUNK, *seed);
        return (double)CHUNK * CHAINS * 16;
    }
    if (isa == ISA_AVX2) {
        *sink += chains_avx2(CHUNK, *seed);
        return (double)CHUNK * CHAINS * 8;
    }
#endif
    *sink += chains_scalar(CHUNK, *seed);
    return (double)CHUNK * CHAINS;
}

/* One thread's share: chunks until RUN_SECONDS after t0. The volatiles live
 * here, not inside the parallel region: GCC 12 drops volatile from locals
 * declared in an OpenMP region and then removed the kernels entirely. */
static double thread_run(alrs_isa isa, double t0, double seconds, float seed0) {
    volatile float sink = 0, seed = seed0;
    double lanes = 0;
    while (alrs_now() - t0 < seconds) lanes += run_chunk(isa, &seed, &sink);
    return lanes;
}

/* One timed run: every thread starts together and runs until the shared
 * deadline; flops over the whole team's wall time. */
static double run_once(alrs_isa isa, int threads, double seconds) {
    double lanes = 0, t0 = 0, t1 = 0;
#pragma omp parallel num_threads(threads) reduction(+ : lanes)
    {
#pragma omp single
        t0 = alrs_now();
        /* single's implicit barrier: no thread starts before t0 is set. */
        lanes += thread_run(isa, t0, seconds, (float)omp_get_thread_num());
#pragma omp barrier
#pragma omp single
        t1 = alrs_now();
    }
    return 2.0 * lanes / (t1 - t0) * 1e-9;
}

double fma_peak_gflops(int threads) {
    if (threads <= 0) threads = omp_get_max_threads();
    alrs_isa isa = cpu_best_isa();
    run_once(isa, threads, WARMUP_SECONDS);
    double best = 0;
    for (int r = 0; r < REPEATS; r++) {
        double g = run_once(isa, threads, RUN_SECONDS);
        if (g > best) best = g;
    }
    return best;
}
