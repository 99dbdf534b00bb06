/* AVX2 + FMA under the names that kernels/elementwise_simd.c is written
 * against; kernels/vec_avx512.h gives the same names 16 lanes wide. Include
 * exactly one of the two, then that source (see elementwise_avx2.c).
 *
 *   vec        8 floats
 *   vecd       4 doubles: half a vec, widened
 *   "first"    the first `count` lanes of a vector (all of them once count
 *              reaches the width): how the kernels take the tail of an array
 *
 * Partial loads use vmaskmovps; partial stores go through a stack buffer and
 * memcpy instead, since AVX2 masked stores are slow on AMD. Only functions
 * marked VEC_TARGET get these instructions (and FMA contraction of scalar
 * code): the rest of the source stays plain x86-64, as before the kernels
 * were written once. */
#ifndef ALRS_KERNELS_VEC_AVX2_H
#define ALRS_KERNELS_VEC_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#define VEC_TARGET __attribute__((target("avx2,fma")))

typedef __m256 vec;
typedef __m256d vecd;

enum {
    VEC_WIDTH = 8,
    VECD_WIDTH = 4,
    /* batchnorm's passes prefetch the next NCHW plane: measured on AVX-512 only */
    VEC_PREFETCH_NEXT_PLANE = 0,
    /* mean_var adds its last floats one by one after the horizontal sum (as
     * it always has: the other order would change its last bits) */
    VEC_MEAN_VAR_TAIL_IN_LANES = 0,
};

/* e^x is flushed to 0 below this: 2^t is built from exponent bits, which must
 * stay those of a normal float. */
#define VEC_EXP_LOWEST (-87.33654f)

static inline VEC_TARGET vec vec_zero(void) { return _mm256_setzero_ps(); }
static inline VEC_TARGET vec vec_set1(float x) { return _mm256_set1_ps(x); }
static inline VEC_TARGET vec vec_load(const float *p) { return _mm256_loadu_ps(p); }
static inline VEC_TARGET void vec_store(float *p, vec x) { _mm256_storeu_ps(p, x); }

static inline VEC_TARGET vec vec_add(vec a, vec b) { return _mm256_add_ps(a, b); }
static inline VEC_TARGET vec vec_sub(vec a, vec b) { return _mm256_sub_ps(a, b); }
static inline VEC_TARGET vec vec_mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
static inline VEC_TARGET vec vec_div(vec a, vec b) { return _mm256_div_ps(a, b); }
/* a > b ? a : b, so b where either is NaN */
static inline VEC_TARGET vec vec_max(vec a, vec b) { return _mm256_max_ps(a, b); }
static inline VEC_TARGET vec vec_sqrt(vec a) { return _mm256_sqrt_ps(a); }
/* a·b + c and c - a·b, rounded once */
static inline VEC_TARGET vec vec_fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline VEC_TARGET vec vec_fnmadd(vec a, vec b, vec c) { return _mm256_fnmadd_ps(a, b, c); }

/* x where sel > 0, else +0 (also where sel is NaN). */
static inline VEC_TARGET vec vec_keep_positive(vec sel, vec x) {
    return _mm256_and_ps(_mm256_cmp_ps(sel, _mm256_setzero_ps(), _CMP_GT_OQ), x);
}

/* All ones in the first count lanes. */
static inline VEC_TARGET __m256i vec_first_lanes(size_t count) {
    int l = count >= VEC_WIDTH ? VEC_WIDTH : (int)count;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(l), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* The first count floats at p, zeros after (nothing past them is read). */
static inline VEC_TARGET vec vec_load_first(const float *p, size_t count) {
    if (count >= VEC_WIDTH) return _mm256_loadu_ps(p);
    return _mm256_maskload_ps(p, vec_first_lanes(count));
}
/* The first count floats at p, `fill` after. */
static inline VEC_TARGET vec vec_load_first_or(const float *p, size_t count, vec fill) {
    __m256i k = vec_first_lanes(count);
    return _mm256_blendv_ps(fill, _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
}
/* Writes the first count lanes of x to p and nothing after. */
static inline VEC_TARGET void vec_store_first(float *p, vec x, size_t count) {
    if (count >= VEC_WIDTH) {
        _mm256_storeu_ps(p, x);
        return;
    }
    float buf[VEC_WIDTH];
    _mm256_storeu_ps(buf, x);
    memcpy(p, buf, count * sizeof(float));
}
/* x in the first count lanes, +0 after. */
static inline VEC_TARGET vec vec_keep_first(vec x, size_t count) {
    return _mm256_and_ps(_mm256_castsi256_ps(vec_first_lanes(count)), x);
}

static inline VEC_TARGET float vec_hsum(vec x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
static inline VEC_TARGET float vec_hmax(vec x) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
/* Bit i set where lane i of a equals lane i of b. */
static inline VEC_TARGET unsigned vec_equal_bits(vec a, vec b) {
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_EQ_OQ));
}
/* x with 1 subtracted in lane `lane` (in none when lane is outside 0..7). */
static inline VEC_TARGET vec vec_sub_one_at(vec x, int lane) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i at = _mm256_cmpeq_epi32(_mm256_set1_epi32(lane), lanes);
    return _mm256_sub_ps(x, _mm256_and_ps(_mm256_castsi256_ps(at), _mm256_set1_ps(1.0f)));
}

/* For e^x: x rounded to the nearest integer, and y·2^t for integral t in
 * [-126, 0] where x ≥ VEC_EXP_LOWEST (0 below, x being e^x's argument). */
static inline VEC_TARGET vec vec_round_nearest(vec x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline VEC_TARGET vec vec_exp_scale(vec y, vec t, vec x) {
    __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(VEC_EXP_LOWEST), _CMP_GE_OQ);
    __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(t), _mm256_set1_epi32(127));
    __m256i e = _mm256_slli_epi32(biased, 23);
    return _mm256_and_ps(keep, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

static inline VEC_TARGET vecd vecd_zero(void) { return _mm256_setzero_pd(); }
static inline VEC_TARGET vecd vecd_set1(double x) { return _mm256_set1_pd(x); }
static inline VEC_TARGET vecd vecd_add(vecd a, vecd b) { return _mm256_add_pd(a, b); }
static inline VEC_TARGET vecd vecd_sub(vecd a, vecd b) { return _mm256_sub_pd(a, b); }
static inline VEC_TARGET vecd vecd_fmadd(vecd a, vecd b, vecd c) {
    return _mm256_fmadd_pd(a, b, c);
}
static inline VEC_TARGET double vecd_hsum(vecd x) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(x), _mm256_extractf128_pd(x, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
/* The low and the high half of x's lanes, widened. */
static inline VEC_TARGET vecd vec_low_pd(vec x) {
    return _mm256_cvtps_pd(_mm256_castps256_ps128(x));
}
static inline VEC_TARGET vecd vec_high_pd(vec x) {
    return _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
}
/* lo and hi rounded to float, lo in the low lanes. */
static inline VEC_TARGET vec vec_from_pd(vecd lo, vecd hi) {
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}
/* VECD_WIDTH floats at p, widened; and the first count of them, zeros after. */
static inline VEC_TARGET vecd vecd_load_floats(const float *p) {
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
static inline VEC_TARGET vecd vecd_load_floats_first(const float *p, size_t count) {
    int l = count >= VECD_WIDTH ? VECD_WIDTH : (int)count;
    __m128i k = _mm_cmpgt_epi32(_mm_set1_epi32(l), _mm_setr_epi32(0, 1, 2, 3));
    return _mm256_cvtps_pd(_mm_maskload_ps(p, k));
}
/* x in the first count lanes, +0 after. */
static inline VEC_TARGET vecd vecd_keep_first(vecd x, size_t count) {
    long long l = count >= VECD_WIDTH ? VECD_WIDTH : (long long)count;
    __m256i k = _mm256_cmpgt_epi64(_mm256_set1_epi64x(l), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_and_pd(_mm256_castsi256_pd(k), x);
}

#endif
