/* core/float_env.h: flushing subnormals is per thread, inherited by the
 * OpenMP threads created after it, undone by restore; and what it does to
 * arithmetic (a product below 1.2e-38 becomes 0, a subnormal input counts as
 * 0) and to Adam (the kernel table's): a weight whose gradient is 0 and
 * whose moments are subnormal keeps the same value either way. */
#include <float.h>
#include <omp.h>
#include <string.h>

#include "core/float_env.h"
#include "kernels/kernels.h"
#include "report/machine.h"
#include "testutil.h"

static float product(float a, float b) {
    volatile float x = a, y = b; /* computed at run time, under the thread's mode */
    return x * y;
}

/* Adam on n weights whose gradients are 0 and moments subnormal. */
static void adam_on_subnormals(float *p, int n) {
    float g[37], m[37], v[37];
    for (int i = 0; i < n; i++) p[i] = 0.5f - 0.01f * i, g[i] = 0, m[i] = 3e-39f, v[i] = 2e-39f;
    kernels()->adam((size_t)n, p, g, m, v, 0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f, 0.0f);
}

int main(void) {
    CHECK(product(FLT_MIN, 0.25f) != 0.0f); /* the default keeps subnormals */
    float kept[37], flushed[37];
    adam_on_subnormals(kept, 37);

    unsigned before = float_env_flush_subnormals();
    CHECK(float_env_flushing());
    CHECK(product(FLT_MIN, 0.25f) == 0.0f);
    volatile float sub = FLT_MIN / 4; /* a constant: not flushed at compile time */
    CHECK(product(sub, 1e10f) == 0.0f); /* DAZ: a subnormal input counts as 0 */
    int flushing = 0, threads = 0;
#pragma omp parallel num_threads(2) reduction(+ : flushing, threads)
    flushing += float_env_flushing(), threads++;
    CHECK(flushing == threads); /* threads: 2, or 1 under OMP_THREAD_LIMIT=1 */
    machine_info mi;
    CHECK(machine_info_get(&mi) == 0 && !strcmp(mi.subnormals, "flushed"));
    adam_on_subnormals(flushed, 37);
    CHECK(memcmp(kept, flushed, sizeof kept) == 0);

    float_env_restore(before);
    CHECK(!float_env_flushing());
    CHECK(product(FLT_MIN, 0.25f) != 0.0f);
    return test_finish();
}
