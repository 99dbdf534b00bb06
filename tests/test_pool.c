/* Max pooling: every ISA the CPU has against the reference on odd sizes
 * (floor semantics), the reference on a hand-made case, and oneDNN. */
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/pool_internal.h"
#include "testutil.h"

static uint32_t rng = 777u;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) % 64) / 8.0f - 4.0f; /* coarse: ties happen */
}

static pool_shape make_pool(int n, int c, int h, int w) {
    pool_shape s = {n, c, h, w, 2, 2, h / 2, w / 2};
    return s;
}

static void test_reference_by_hand(void) {
    kernel_table t;
    kernels_fill(&t, ISA_SCALAR);
    pool_shape s = make_pool(1, 1, 3, 5); /* last row and column dropped */
    float x[15] = {1, 5, 2, 2, 9, 3, 0, 7, 1, 9, 8, 8, 8, 8, 8}, y[2], dx[15];
    int32_t am[2];
    t.maxpool_fwd(&s, x, y, am);
    CHECK(y[0] == 5 && am[0] == 1);
    CHECK(y[1] == 7 && am[1] == 7);
    float dy[2] = {1.5f, -2};
    memset(dx, 0xff, sizeof dx);
    t.maxpool_bwd(&s, dy, am, NULL, dx);
    for (int i = 0; i < 15; i++) CHECK(dx[i] == (i == 1 ? 1.5f : i == 7 ? -2.0f : 0.0f));
}

static void compare(const kernel_table *t, const pool_shape *s) {
    kernel_table ref;
    kernels_fill(&ref, ISA_SCALAR);
    size_t ni = (size_t)s->n * s->c * s->h * s->w, no = (size_t)s->n * s->c * s->oh * s->ow;
    float *x = malloc(sizeof(float) * ni), *y0 = malloc(sizeof(float) * no + 4);
    float *y1 = malloc(sizeof(float) * no + 4), *dy = malloc(sizeof(float) * no + 4);
    float *dx0 = malloc(sizeof(float) * ni), *dx1 = malloc(sizeof(float) * ni);
    int32_t *a0 = malloc(4 * no + 4), *a1 = malloc(4 * no + 4);
    for (size_t i = 0; i < ni; i++) x[i] = frand();
    for (size_t i = 0; i < no; i++) dy[i] = frand();
    ref.maxpool_fwd(s, x, y0, a0);
    t->maxpool_fwd(s, x, y1, a1);
    CHECK(memcmp(y0, y1, sizeof(float) * no) == 0);
    CHECK(memcmp(a0, a1, 4 * no) == 0);
    ref.maxpool_bwd(s, dy, a0, NULL, dx0);
    memset(dx1, 0xff, sizeof(float) * ni); /* NaN: every input must be written */
    t->maxpool_bwd(s, dy, a0, NULL, dx1);
    CHECK(memcmp(dx0, dx1, sizeof(float) * ni) == 0);
    /* masked by the pooled outputs (about half of them > 0): the same as
     * relu_bwd on a copy of dy, then the pool's backward; dy left as it was */
    float *dy_relu = malloc(sizeof(float) * no + 4), *dy_before = malloc(sizeof(float) * no + 4);
    memcpy(dy_relu, dy, sizeof(float) * no);
    memcpy(dy_before, dy, sizeof(float) * no);
    ref.relu_bwd(no, y0, dy_relu);
    ref.maxpool_bwd(s, dy_relu, a0, NULL, dx0);
    memset(dx1, 0xff, sizeof(float) * ni);
    ref.maxpool_bwd(s, dy, a0, y0, dx1);
    CHECK(memcmp(dx0, dx1, sizeof(float) * ni) == 0);
    memset(dx1, 0xff, sizeof(float) * ni);
    t->maxpool_bwd(s, dy, a0, y0, dx1);
    CHECK(memcmp(dx0, dx1, sizeof(float) * ni) == 0);
    CHECK(memcmp(dy, dy_before, sizeof(float) * no) == 0);
    free(dy_relu), free(dy_before);
    free(x), free(y0), free(y1), free(dy), free(dx0), free(dx1), free(a0), free(a1);
}

static void test_isa(alrs_isa isa) {
    static const int sizes[] = {1, 3, 7, 17};
    kernel_table t;
    kernels_fill(&t, isa);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            pool_shape s = make_pool(sizes[a], sizes[(a + b) % 4], sizes[b] + 1, sizes[(b + 1) % 4] + a);
            if (s.oh > 0 && s.ow > 0) compare(&t, &s);
        }
    /* the networks' shapes; rows of 8, 15, 16 and 17 outputs: vectors of 8
     * whole and a tail, odd widths and heights */
    pool_shape nets[] = {make_pool(3, 6, 28, 28), make_pool(3, 16, 10, 10), make_pool(2, 5, 67, 41),
                         make_pool(1, 2, 5, 17),  make_pool(2, 1, 3, 31),   make_pool(1, 3, 4, 32),
                         make_pool(2, 3, 7, 35)};
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++) compare(&t, &nets[i]);
    if (isa == ISA_AVX2) /* the AVX2 kernels are the ones tested */
        CHECK(t.maxpool_fwd == maxpool_fwd_avx2 && t.maxpool_bwd == maxpool_bwd_avx2);
}

/* oneDNN max pooling (plain layouts) gives the same outputs. */
static void test_vs_dnnl(void) {
    pool_shape s = make_pool(4, 6, 28, 28);
    size_t ni = (size_t)s.n * s.c * s.h * s.w, no = (size_t)s.n * s.c * s.oh * s.ow;
    float *x = malloc(sizeof(float) * ni), *y0 = malloc(sizeof(float) * no), *y1 = malloc(sizeof(float) * no);
    int32_t *am = malloc(4 * no);
    for (size_t i = 0; i < ni; i++) x[i] = frand();
    dnnl_engine_t eng;
    dnnl_stream_t st;
    dnnl_engine_create(&eng, dnnl_cpu, 0);
    dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
    dnnl_memory_desc_t xm, ym;
    dnnl_dims_t xd = {s.n, s.c, s.h, s.w}, yd = {s.n, s.c, s.oh, s.ow};
    dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nchw);
    dnnl_dims_t strides = {2, 2}, kernel = {2, 2}, pad = {0, 0};
    dnnl_pooling_desc_t pd;
    dnnl_primitive_desc_t ppd;
    dnnl_primitive_t p;
    dnnl_pooling_forward_desc_init(&pd, dnnl_forward_inference, dnnl_pooling_max, &xm, &ym, strides,
                                   kernel, pad, pad);
    CHECK(dnnl_primitive_desc_create(&ppd, &pd, NULL, eng, NULL) == dnnl_success);
    dnnl_primitive_create(&p, ppd);
    dnnl_memory_t xmem, ymem;
    dnnl_memory_create(&xmem, &xm, eng, x);
    dnnl_memory_create(&ymem, &ym, eng, y0);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, xmem}, {DNNL_ARG_DST, ymem}};
    CHECK(dnnl_primitive_execute(p, st, 2, args) == dnnl_success);
    dnnl_stream_wait(st);
    kernels()->maxpool_fwd(&s, x, y1, am);
    CHECK(memcmp(y0, y1, sizeof(float) * no) == 0);
    dnnl_memory_destroy(xmem), dnnl_memory_destroy(ymem);
    dnnl_primitive_destroy(p), dnnl_primitive_desc_destroy(ppd);
    dnnl_stream_destroy(st), dnnl_engine_destroy(eng);
    free(x), free(y0), free(y1), free(am);
}

int main(void) {
    test_reference_by_hand();
    for (alrs_isa isa = ISA_SCALAR; isa <= cpu_best_isa(); isa++) test_isa(isa);
    test_vs_dnnl();
    return test_finish();
}
