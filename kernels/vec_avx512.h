/* AVX-512F under the names that kernels/elementwise_simd.c is written
 * against; kernels/vec_avx2.h gives the same names 8 lanes wide. Include
 * exactly one of the two, then that source (see elementwise_avx512.c).
 *
 *   vec        16 floats
 *   vecd       8 doubles: half a vec, widened
 *   "first"    the first `count` lanes of a vector (all of them once count
 *              reaches the width): how the kernels take the tail of an array
 *
 * Partial loads and stores are masked; with a full count the mask is a
 * constant and they compile to plain loads and stores. Only functions marked
 * VEC_TARGET get these instructions: the rest of the source stays plain
 * x86-64, as before the kernels were written once. */
#ifndef ALRS_KERNELS_VEC_AVX512_H
#define ALRS_KERNELS_VEC_AVX512_H

#include <immintrin.h>
#include <stddef.h>

#define VEC_TARGET __attribute__((target("avx512f")))

typedef __m512 vec;
typedef __m512d vecd;

enum {
    VEC_WIDTH = 16,
    VECD_WIDTH = 8,
    /* batchnorm's passes walk a channel as n planes 4 KB apart in NCHW, and
     * the hardware prefetcher stops at each page: touch the next plane */
    VEC_PREFETCH_NEXT_PLANE = 1,
    /* mean_var adds its last floats in the vector lanes, under a mask */
    VEC_MEAN_VAR_TAIL_IN_LANES = 1,
};

/* Inputs of e^x are raised to this: scalef underflows gracefully to
 * subnormals and 0, so it only has to keep 2^t in range. */
#define VEC_EXP_LOWEST (-104.0f)

static inline VEC_TARGET vec vec_zero(void) { return _mm512_setzero_ps(); }
static inline VEC_TARGET vec vec_set1(float x) { return _mm512_set1_ps(x); }
static inline VEC_TARGET vec vec_load(const float *p) { return _mm512_loadu_ps(p); }
static inline VEC_TARGET void vec_store(float *p, vec x) { _mm512_storeu_ps(p, x); }

static inline VEC_TARGET vec vec_add(vec a, vec b) { return _mm512_add_ps(a, b); }
static inline VEC_TARGET vec vec_sub(vec a, vec b) { return _mm512_sub_ps(a, b); }
static inline VEC_TARGET vec vec_mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
static inline VEC_TARGET vec vec_div(vec a, vec b) { return _mm512_div_ps(a, b); }
/* a > b ? a : b, so b where either is NaN */
static inline VEC_TARGET vec vec_max(vec a, vec b) { return _mm512_max_ps(a, b); }
static inline VEC_TARGET vec vec_sqrt(vec a) { return _mm512_sqrt_ps(a); }
/* a·b + c and c - a·b, rounded once */
static inline VEC_TARGET vec vec_fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline VEC_TARGET vec vec_fnmadd(vec a, vec b, vec c) { return _mm512_fnmadd_ps(a, b, c); }

/* x where sel > 0, else +0 (also where sel is NaN). */
static inline VEC_TARGET vec vec_keep_positive(vec sel, vec x) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(sel, _mm512_setzero_ps(), _CMP_GT_OQ), x);
}

/* The first count lanes (without a branch: callers recompute it freely). */
static inline VEC_TARGET __mmask16 vec_first_lanes(size_t count) {
    unsigned lanes = count < VEC_WIDTH ? (unsigned)count : VEC_WIDTH;
    return (__mmask16)((1u << lanes) - 1u);
}
/* The first count floats at p, zeros after (nothing past them is read). */
static inline VEC_TARGET vec vec_load_first(const float *p, size_t count) {
    return _mm512_maskz_loadu_ps(vec_first_lanes(count), p);
}
/* The first count floats at p, `fill` after. */
static inline VEC_TARGET vec vec_load_first_or(const float *p, size_t count, vec fill) {
    return _mm512_mask_loadu_ps(fill, vec_first_lanes(count), p);
}
/* Writes the first count lanes of x to p and nothing after. */
static inline VEC_TARGET void vec_store_first(float *p, vec x, size_t count) {
    _mm512_mask_storeu_ps(p, vec_first_lanes(count), x);
}
/* x in the first count lanes, +0 after. */
static inline VEC_TARGET vec vec_keep_first(vec x, size_t count) {
    return _mm512_maskz_mov_ps(vec_first_lanes(count), x);
}

static inline VEC_TARGET float vec_hsum(vec x) { return _mm512_reduce_add_ps(x); }
static inline VEC_TARGET float vec_hmax(vec x) { return _mm512_reduce_max_ps(x); }
/* Bit i set where lane i of a equals lane i of b. */
static inline VEC_TARGET unsigned vec_equal_bits(vec a, vec b) {
    return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ);
}
/* x with 1 subtracted in lane `lane` (in none when lane is outside 0..15). */
static inline VEC_TARGET vec vec_sub_one_at(vec x, int lane) {
    __mmask16 at = lane >= 0 && lane < VEC_WIDTH ? (__mmask16)(1u << lane) : 0;
    return _mm512_mask_sub_ps(x, at, x, _mm512_set1_ps(1.0f));
}

/* For e^x: x rounded to the nearest integer, and y·2^t (x, e^x's argument,
 * is not needed: scalef handles every t down to VEC_EXP_LOWEST's). */
static inline VEC_TARGET vec vec_round_nearest(vec x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline VEC_TARGET vec vec_exp_scale(vec y, vec t, vec x) { return _mm512_scalef_ps(y, t); }

static inline VEC_TARGET vecd vecd_zero(void) { return _mm512_setzero_pd(); }
static inline VEC_TARGET vecd vecd_set1(double x) { return _mm512_set1_pd(x); }
static inline VEC_TARGET vecd vecd_add(vecd a, vecd b) { return _mm512_add_pd(a, b); }
static inline VEC_TARGET vecd vecd_sub(vecd a, vecd b) { return _mm512_sub_pd(a, b); }
static inline VEC_TARGET vecd vecd_fmadd(vecd a, vecd b, vecd c) {
    return _mm512_fmadd_pd(a, b, c);
}
static inline VEC_TARGET double vecd_hsum(vecd x) { return _mm512_reduce_add_pd(x); }
/* The low and the high half of x's lanes, widened. */
static inline VEC_TARGET vecd vec_low_pd(vec x) {
    return _mm512_cvtps_pd(_mm512_castps512_ps256(x));
}
static inline VEC_TARGET vecd vec_high_pd(vec x) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
}
/* lo and hi rounded to float, lo in the low lanes. */
static inline VEC_TARGET vec vec_from_pd(vecd lo, vecd hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castpd256_pd512(_mm256_castps_pd(_mm512_cvtpd_ps(lo))),
        _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}
/* VECD_WIDTH floats at p, widened; and the first count of them, zeros after. */
static inline VEC_TARGET vecd vecd_load_floats(const float *p) {
    return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}
static inline VEC_TARGET __mmask8 vecd_first_lanes(size_t count) {
    unsigned lanes = count < VECD_WIDTH ? (unsigned)count : VECD_WIDTH;
    return (__mmask8)((1u << lanes) - 1u);
}
static inline VEC_TARGET vecd vecd_load_floats_first(const float *p, size_t count) {
    __m512 x = _mm512_maskz_loadu_ps(vecd_first_lanes(count), p);
    return _mm512_cvtps_pd(_mm512_castps512_ps256(x));
}
/* x in the first count lanes, +0 after. */
static inline VEC_TARGET vecd vecd_keep_first(vecd x, size_t count) {
    return _mm512_maskz_mov_pd(vecd_first_lanes(count), x);
}

#endif
