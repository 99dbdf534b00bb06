/* The parameter-free optimizers (adamw-schedulefree, prodigy, dadapt-adam):
 *   1. each double reference (optim/optim_ref.h) against a few steps derived
 *      by hand from the published algorithm (one parameter, gradient 2);
 *   2. each fused float pass against its reference over 40 steps of a small
 *      quadratic with deterministic noise (301 parameters, an odd size; the
 *      gradient taken at each one's own point), within float tolerance;
 *   3. the state saved and loaded (optimizer_save/load) goes on bit for bit;
 *      schedule-free's evaluation exchange undoes itself bit for bit;
 *   4. a schedule-free child with batchnorm (a ResNet-18 on 8x8 images):
 *      validation evaluates at x with recomputed statistics and leaves the
 *      training parameters and statistics as they were;
 *   5. an unknown name: the one line naming --optimizer lists all five. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"
#include "optim/optim_ref.h"
#include "optim/optimizer.h"
#include "testutil.h"

enum { N = 301, STEPS = 40 };

/* 1. One parameter at 1, gradient 2 every step. */
static void check_schedulefree_by_hand(void) {
    float p = 1.0f;
    optim_ref r;
    optim_ref_init(&r, &p, 1);
    double g = 2;
    /* k=0: v = 0.001*4, v/(1-0.999) = 4, u = 2/(2+1e-8); lr_max 0.1, w = W = 0.01, c = 1:
     * z = 1 - 0.1 u, x = z, y = 0.1 z + 0.9 x = z */
    schedulefree_ref_step(&r, &g, 0.1);
    double u = 2 / (2 + 1e-8), z1 = 1 - 0.1 * u;
    CHECK_NEAR(r.z[0], z1, 1e-14);
    CHECK_NEAR(r.x[0], z1, 1e-14);
    CHECK_NEAR(r.p[0], z1, 1e-14);
    /* k=1: v = 0.999*0.004 + 0.004 = 0.007996 = 4 (1 - 0.999^2): u as before;
     * W = 0.02, c = 0.5: z = z1 - 0.1 u, x = (z1 + z2)/2, y = 0.1 z2 + 0.9 x */
    schedulefree_ref_step(&r, &g, 0.1);
    double z2 = z1 - 0.1 * u, x2 = 0.5 * (z1 + z2);
    CHECK_NEAR(r.z[0], z2, 1e-14);
    CHECK_NEAR(r.x[0], x2, 1e-12);
    CHECK_NEAR(r.p[0], 0.1 * z2 + 0.9 * x2, 1e-14);
    CHECK_NEAR(r.p[0], 0.845, 1e-8);
    optim_ref_free(&r);
}

static void check_prodigy_by_hand(void) {
    float p = 1.0f;
    optim_ref r;
    optim_ref_init(&r, &p, 1);
    double g = 2, b3 = sqrt(0.999);
    /* step 1, d = d0 = 1e-6, dlr = 1e-6: <g, p0-p> = 0 so num = 0;
     * m = d 0.1 g = 2e-7, v = d² 0.001 g² = 4e-15, s = (d/d0) dlr g = 2e-6;
     * d_hat = 0: d stays 1e-6; p -= dlr m / (sqrt v + d eps) */
    prodigy_ref_step(&r, &g, 1.0);
    double step1 = 1e-6 * 2e-7 / (sqrt(4e-15) + 1e-14);
    CHECK_NEAR(r.d, 1e-6, 0);
    CHECK_NEAR(r.m[0], 2e-7, 1e-20);
    CHECK_NEAR(r.v[0], 4e-15, 1e-28);
    CHECK_NEAR(r.p[0], 1 - step1, 1e-15);
    CHECK_NEAR(step1, 3.16227716e-6, 1e-14);
    /* step 2: num = (d/d0) dlr g (p0 - p1) = 2e-6 step1; s = (1 + b3) 2e-6;
     * d_hat = step1 / (1 + b3) > d0, so d = d_max = d_hat; m = 3.8e-7,
     * v = 1.999 * 4e-15; p -= dlr m / (sqrt v + d_hat eps), dlr still 1e-6 */
    prodigy_ref_step(&r, &g, 1.0);
    double d2 = step1 / (1 + b3);
    /* (p0 - p1 in double loses ~1e-16 of step1's 3e-6: relative 1e-10) */
    CHECK_NEAR(r.d_num, 2e-6 * step1, 1e-10 * 2e-6 * step1);
    CHECK_NEAR(r.d, d2, 1e-10 * d2);
    CHECK_NEAR(r.d_max, d2, 1e-10 * d2);
    double step2 = 1e-6 * 3.8e-7 / (sqrt(1.999 * 4e-15) + d2 * 1e-8);
    CHECK_NEAR(r.p[0], 1 - step1 - step2, 1e-15);
    optim_ref_free(&r);
}

static void check_dadapt_by_hand(void) {
    float p = 1.0f;
    optim_ref r;
    optim_ref_init(&r, &p, 1);
    double g = 2, sb2 = sqrt(0.999);
    /* step 1, d = 1e-6 = dlr: s was 0 so the numerator is 0 and d stays;
     * m = dlr 0.1 g = 2e-7, v = 0.004, s = dlr (1 - sb2) g; p -= m / (sqrt v + eps) */
    dadapt_ref_step(&r, &g, 1.0);
    double s1 = 1e-6 * (1 - sb2) * 2, den1 = sqrt(0.004) + 1e-8;
    CHECK_NEAR(r.d, 1e-6, 0);
    CHECK_NEAR(r.s[0], s1, 1e-22);
    CHECK_NEAR(r.p[0], 1 - 2e-7 / den1, 1e-15);
    /* step 2: acc = dlr g s1 / den1; num = (1 - sb2) acc; s = (1 + sb2) s1;
     * d_hat = num / ((1 - sb2) s) = dlr g / (den1 (1 + sb2)) = 1.58e-5;
     * m = 3.8e-7 (dlr still 1e-6), v = 0.007996 */
    dadapt_ref_step(&r, &g, 1.0);
    double d2 = 1e-6 * 2 / (den1 * (1 + sb2));
    CHECK_NEAR(r.d, d2, 1e-17);
    CHECK_NEAR(d2, 1.5815e-5, 1e-8);
    CHECK_NEAR(r.p[0], 1 - 2e-7 / den1 - 3.8e-7 / (sqrt(0.007996) + 1e-8), 1e-15);
    /* step 3 moves with dlr = d2: m = 0.9 * 3.8e-7 + d2 0.1 g */
    dadapt_ref_step(&r, &g, 1.0);
    CHECK_NEAR(r.m[0], 0.9 * 3.8e-7 + d2 * 0.2, 1e-18);
    /* at rate 0 the reference returns before moving anything (|s|_1 is 0) */
    double p3 = r.p[0], m3 = r.m[0];
    dadapt_ref_step(&r, &g, 0.0);
    CHECK(r.p[0] == p3 && r.m[0] == m3);
    optim_ref_free(&r);
}

/* 2. A quadratic with per-coordinate curvature and a deterministic wobble. */
static double grad_at(size_t i, int k, double p) {
    double a = 0.5 + (double)(i % 7) / 3.0, target = sin(0.37 * (double)i);
    return a * (p - target) + 0.2 * sin(0.7 * (double)i + 1.3 * k);
}

/* The rate of step k: a warm-up then a decay (so lr_max and d matter). */
static double rate_at(int k, double peak) {
    return k < 5 ? peak * (k + 1) / 5.0 : peak * (1 + cos(M_PI * k / STEPS)) / 2;
}

static double rel_diff(const float *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
    return sqrt(num / (den > 0 ? den : 1));
}

typedef void (*ref_step_fn)(optim_ref *r, const double *g, double lr);

static void run_both(optimizer *o, optim_ref *r, float *p, ref_step_fn ref_step, double peak,
                     int from, int to) {
    float g[N];
    double gd[N];
    for (int k = from; k < to; k++) {
        for (size_t i = 0; i < N; i++) g[i] = (float)grad_at(i, k, p[i]);
        optimizer_step(o, p, g, rate_at(k, peak));
        if (!r) continue;
        for (size_t i = 0; i < N; i++) gd[i] = grad_at(i, k, r->p[i]);
        ref_step(r, gd, rate_at(k, peak));
    }
}

static float *start_point(void) {
    float *p = malloc(sizeof(float) * N);
    for (size_t i = 0; i < N; i++) p[i] = (float)cos(0.11 * (double)i);
    return p;
}

/* The reference takes the fused pass's state (floats widened). */
static void ref_from(optim_ref *r, const optimizer *o, const float *p) {
    for (size_t i = 0; i < N; i++) {
        r->p[i] = p[i], r->m[i] = o->m[i], r->v[i] = o->v[i];
        if (o->s) r->s[i] = o->s[i];
        if (o->p0 && o->t > 0) r->p0[i] = o->p0[i];
        if (o->z && o->t > 0) r->z[i] = o->z[i], r->x[i] = o->x[i];
    }
    r->k = o->t, r->d = o->d, r->d_max = o->d_max, r->d_num = o->d_num;
    r->lr_max = o->lr_max, r->weight_sum = o->weight_sum;
}

/* Step by step: before each step the reference takes the fused state, both
 * step with the same gradient, and the results agree to float rounding: d
 * to 1e-6, the parameters to 2e-5 (relative, whole vector; once d has grown,
 * b1 m + (1-b1) dlr g cancels to a tenth of its terms and steps are several
 * times the parameters, which leaves a few 1e-6 of float rounding; a wrong
 * term shows as 1e-2 or more). Then
 * whole runs side by side: schedule-free stays within 1e-4; Prodigy and
 * D-Adapt's d come from sums over tiny early moves (p0 - p of 1e-6 on
 * parameters near 1 keeps two digits in float, as in PyTorch's float32), so
 * their float and double runs part by a few tenths of a percent. */
static void check_fused(const char *name, ref_step_fn ref_step, double peak, double run_tol) {
    float *p = start_point(), g[N];
    double gd[N], worst = 0, worst_d = 0;
    optimizer o;
    optim_ref r;
    CHECK(optimizer_init(&o, name, N) == 0);
    optim_ref_init(&r, p, N);
    for (int k = 0; k < STEPS; k++) {
        ref_from(&r, &o, p);
        for (size_t i = 0; i < N; i++) g[i] = (float)grad_at(i, k, p[i]), gd[i] = g[i];
        optimizer_step(&o, p, g, rate_at(k, peak));
        ref_step(&r, gd, rate_at(k, peak));
        worst = fmax(worst, rel_diff(p, r.p, N));
        if (o.kind != OPT_SCHEDULEFREE) worst_d = fmax(worst_d, fabs(o.d - r.d) / r.d);
    }
    if (!(worst < 2e-5 && worst_d < 1e-6))
        fprintf(stderr, "  %s: one step differs by %g (params), %g (d)\n", name, worst, worst_d);
    CHECK(worst < 2e-5 && worst_d < 1e-6);
    if (o.kind == OPT_SCHEDULEFREE) CHECK(rel_diff(o.z, r.z, N) < 1e-6 && rel_diff(o.x, r.x, N) < 1e-6);
    else CHECK(rel_diff(o.m, r.m, N) < 2e-5 && rel_diff(o.s, r.s, N) < 1e-6);
    optimizer_free(&o);
    optim_ref_free(&r);
    free(p);

    p = start_point();
    CHECK(optimizer_init(&o, name, N) == 0);
    optim_ref_init(&r, p, N);
    run_both(&o, &r, p, ref_step, peak, 0, STEPS);
    double e = rel_diff(p, r.p, N);
    if (!(e < run_tol)) fprintf(stderr, "  %s: runs differ by %g\n", name, e);
    CHECK(e < run_tol);
    CHECK(rel_diff(p, r.p0, N) > 0.05); /* it moved */
    if (o.kind == OPT_SCHEDULEFREE) {
        CHECK(rel_diff(o.z, r.z, N) < run_tol && rel_diff(o.x, r.x, N) < run_tol);
        CHECK(isnan(optimizer_d(&o)));
    } else {
        CHECK(fabs(o.d - r.d) <= run_tol * r.d && r.d > 1e-3);
        CHECK(optimizer_d(&o) == o.d);
    }
    optimizer_free(&o);
    optim_ref_free(&r);
    free(p);
}

/* At rate 0 Prodigy and D-Adapt leave everything as it was, as the
 * references do. */
static void check_rate_zero(const char *name) {
    float *p = start_point(), *q = malloc(sizeof(float) * N), g[N];
    optimizer o;
    CHECK(optimizer_init(&o, name, N) == 0);
    run_both(&o, NULL, p, NULL, 1.0, 0, 10);
    memcpy(q, p, sizeof(float) * N);
    double d = o.d;
    for (size_t i = 0; i < N; i++) g[i] = (float)grad_at(i, 10, p[i]);
    optimizer_step(&o, p, g, 0.0);
    CHECK(memcmp(q, p, sizeof(float) * N) == 0 && o.d == d);
    optimizer_free(&o);
    free(p), free(q);
}

/* 3. Saved after 15 steps and loaded into a fresh optimizer: the next 10
 * steps are the same bits; two evaluation exchanges give back the bits. */
static void check_save_load(const char *name) {
    float *p = start_point(), *q = malloc(sizeof(float) * N);
    optimizer a, b;
    CHECK(optimizer_init(&a, name, N) == 0 && optimizer_init(&b, name, N) == 0);
    run_both(&a, NULL, p, NULL, 0.05, 0, 15);
    byte_buf buf = {0};
    optimizer_save(&a, &buf);
    byte_reader in = {buf.data, buf.len, 0, 0};
    optimizer_load(&b, &in);
    CHECK(!in.overrun && in.pos == buf.len);
    memcpy(q, p, sizeof(float) * N);
    optimizer_swap_eval(&b, q);
    CHECK((memcmp(q, p, sizeof(float) * N) != 0) == (a.kind == OPT_SCHEDULEFREE));
    CHECK(optimizer_eval_params(&b, p) == (a.kind == OPT_SCHEDULEFREE ? b.x : p));
    optimizer_swap_eval(&b, q);
    CHECK(memcmp(q, p, sizeof(float) * N) == 0);
    run_both(&a, NULL, p, NULL, 0.05, 15, 25);
    run_both(&b, NULL, q, NULL, 0.05, 15, 25);
    CHECK(memcmp(q, p, sizeof(float) * N) == 0);
    CHECK(a.d == b.d || (isnan(optimizer_d(&a)) && isnan(optimizer_d(&b))));
    bytes_free(&buf);
    optimizer_free(&a);
    optimizer_free(&b);
    free(p), free(q);
}

/* 4. ResNet-18 (batchnorm) on 8x8 images, schedule-free, two steps. */
static void check_batchnorm_at_x(const dataset *data) {
    child_config c = test_small_mlp("adamw-schedulefree", "native", 4, 8);
    c.model = "resnet18", c.n_hidden = 0, c.eval_batch = 8;
    child_run r;
    if (child_run_create(&r, &c, data) != 0) {
        fprintf(stderr, "resnet18: %s\n", alrs_error());
        CHECK(0);
        return;
    }
    size_t np = r.spec.n_params, ns = r.spec.n_state + 1;
    for (int k = 0; k < 2; k++) child_run_step(&r, 0.01);
    float *params = malloc(sizeof(float) * np), *state = malloc(sizeof(float) * ns);
    memcpy(params, r.params, sizeof(float) * np);
    memcpy(state, r.state, sizeof(float) * ns);
    double loss, acc, loss2, acc2;
    child_run_validate(&r, &loss, &acc);
    CHECK(isfinite(loss));
    CHECK(memcmp(params, r.params, sizeof(float) * np) == 0); /* y back */
    CHECK(memcmp(state, r.state, sizeof(float) * ns) == 0);   /* training statistics back */
    CHECK(memcmp(r.best_params, r.opt.x, sizeof(float) * np) == 0); /* the snapshot is x */
    CHECK(memcmp(r.best_state, r.state, sizeof(float) * ns) != 0);  /* recomputed at x */
    child_run_validate(&r, &loss2, &acc2);
    CHECK(loss2 == loss && acc2 == acc); /* the recomputation repeats */
    free(params), free(state);
    child_run_free(&r);
}

/* 5. */
static void check_unknown_name(void) {
    optimizer o;
    CHECK(optimizer_init(&o, "lion", 10) == -1);
    CHECK(strcmp(alrs_error(), "--optimizer lion: unknown optimizer (expected adam, sgd, "
                               "adamw-schedulefree, prodigy or dadapt-adam)") == 0);
    /* the library's own copy of a name outlives the text it was asked with */
    char copy[32] = "prodigy";
    const char *kept = optimizer_name(copy);
    copy[0] = 'x';
    CHECK(kept && kept != copy && !strcmp(kept, "prodigy") && !optimizer_name("lion"));
}

int main(void) {
    check_schedulefree_by_hand();
    check_prodigy_by_hand();
    check_dadapt_by_hand();
    check_fused("adamw-schedulefree", schedulefree_ref_step, 0.05, 1e-4);
    check_fused("prodigy", prodigy_ref_step, 1.0, 2e-2);
    check_fused("dadapt-adam", dadapt_ref_step, 1.0, 2e-2);
    check_rate_zero("prodigy");
    check_rate_zero("dadapt-adam");
    const char *names[] = {"adam", "sgd", "adamw-schedulefree", "prodigy", "dadapt-adam"};
    for (int i = 0; i < 5; i++) check_save_load(names[i]);
    check_unknown_name();

    char dir[600];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("optim-free"));
    test_write_idx_set(dir, "", 60, 8, 8, 0, 5);
    dataset data;
    if (dataset_load(&data, "fashion-mnist", dir, 20, 1) != 0) {
        fprintf(stderr, "dataset: %s\n", alrs_error());
        return 1;
    }
    check_batchnorm_at_x(&data);
    dataset_free(&data);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    test_run(cmd, NULL, 0);
    return test_finish();
}
