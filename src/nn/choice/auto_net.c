/* The auto backend: the native net with a per-layer choice of
 * implementation, by measurement on this machine and the caller's thread
 * team.
 *
 * 1. Build the native net and, for every convolution and fully connected
 *    layer, its oneDNN version on the same plain buffers (nn/dnnl/
 *    dnnl_standin.h), attached to the native net as the layer's stand-in
 *    (nn/layer_standin.h: this file is where the two backends meet, so
 *    that neither includes the other; a layer without an optimized oneDNN
 *    kernel on plain layouts stays native).
 * 2. Run one training step, then time each such layer's training work
 *    (forward, backward-weights, backward-data) both ways on the buffers that
 *    step left: a warm-up of the oneDNN side, then rounds over all layers, the two ways
 *    alternating in order, until AUTO_LAYER_MIN_ROUNDS and the time budget
 *    (a layer where one way is 1.5x slower in the first round is settled
 *    there); the median per layer and way. Each layer takes the faster.
 * 3. Check the choice on whole training steps, interleaved: the per-layer
 *    mix, the all-native net, and the whole oneDNN net (nn/dnnl/, whose
 *    blocked layouts and fused batchnorm no per-layer choice on plain buffers
 *    can have) — and keep the fastest.
 *
 * The description says what was measured and picked, per layer (the run's
 * metadata.txt records it). Evaluation runs the native kernels when the
 * native net is kept.
 *
 * ALRS_AUTO_LAYERS forces the per-layer choice and skips every measurement
 * (tests use it to run a known mix): "native", "dnnl", "alternate" (dnnl,
 * native, dnnl, ... over the convolution and fully connected layers in
 * order), or one letter per such layer, 'd' or 'n' (missing letters: n). A
 * layer forced to dnnl without an oneDNN version stays native. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"
#include "nn/choice/auto_net.h"
#include "nn/dnnl/dnnl_net.h"
#include "nn/dnnl/dnnl_standin.h"
#include "nn/native/native_net.h"
#include "nn/net_impl.h"

/* Per-layer rounds: at least 3 measured (after one warm-up of the oneDNN
 * side; 1 for a layer settled in the first; 2 when a training step takes
 * over AUTO_STEP_SLOW_S) and at most 15, stopping once the measured rounds
 * took AUTO_LAYER_BUDGET_S. */
#define AUTO_LAYER_MIN_ROUNDS 3
#define AUTO_LAYER_MIN_ROUNDS_SLOW 2
#define AUTO_LAYER_MAX_ROUNDS 15
#define AUTO_LAYER_BUDGET_S 0.12
#define AUTO_SETTLE_RATIO 1.5
/* Whole steps: at least 3 of each candidate (after one warm-up of the whole
 * oneDNN net; the native net is warm by then), at most 25, stopping once the
 * measured steps took AUTO_STEP_BUDGET_S; at least 2 when a step is slow
 * (ResNet-18), so that selection stays bounded: for a slow net it costs
 * about 13 training steps at most (1 to fill the buffers, the oneDNN
 * warm-up and 2 rounds of both ways: about 5, fewer for settled layers;
 * 1 + 3x2 whole steps). */
#define AUTO_STEP_MIN 3
#define AUTO_STEP_MIN_SLOW 2
#define AUTO_STEP_SLOW_S 0.05
#define AUTO_STEP_MAX 25
#define AUTO_STEP_BUDGET_S 0.15

#define REPORT_SIZE 16384

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    nn_net base;
    nn_net *chosen;
    char *report;   /* what auto measured and picked; the per-layer list too when dnnl won */
    char choice[NN_MAX_LAYERS + 16]; /* nn_net_auto_choice's form */
} auto_net;

static double auto_train_step(nn_net *net, const float *images, const uint8_t *labels) {
    return nn_net_train_step(((auto_net *)net)->chosen, images, labels);
}

static void auto_evaluate(nn_net *net, const float *images, const uint8_t *labels, int n,
                          double *loss_sum, long *hits, float *probs) {
    nn_net_evaluate_sums(((auto_net *)net)->chosen, images, labels, n, loss_sum, hits, probs);
}

static void auto_free(nn_net *net) {
    auto_net *a = (auto_net *)net;
    nn_net_free(a->chosen);
    free(a->report);
    free(a);
}

static void auto_describe(const nn_net *net, char *buf, int size) {
    const auto_net *a = (const auto_net *)net;
    int used = snprintf(buf, (size_t)size, "%s", a->report);
    if (used < size) nn_net_describe_impl(a->chosen, buf + used, size - used);
}

static const char *auto_choice(const nn_net *net) { return ((const auto_net *)net)->choice; }

void nn_net_auto_note(nn_net *net, const char *line) {
    auto_net *a = (auto_net *)net;
    char *report = alrs_calloc(REPORT_SIZE, 1);
    snprintf(report, REPORT_SIZE, "%s%s", line, a->report);
    free(a->report);
    a->report = report;
}

static const nn_net_ops auto_ops = {auto_train_step, auto_evaluate, auto_free, auto_describe,
                                    auto_choice};

/* ---- forced choices ------------------------------------------------------- */

/* 1 if the k-th switchable layer is forced to dnnl by `mode`. */
static int forced_dnnl(const char *mode, int k) {
    if (!strcmp(mode, "dnnl")) return 1;
    if (!strcmp(mode, "native")) return 0;
    if (!strcmp(mode, "alternate")) return k % 2 == 0;
    return k < (int)strlen(mode) && (mode[k] == 'd' || mode[k] == 'D');
}

static int valid_mode(const char *mode) {
    if (!strcmp(mode, "dnnl") || !strcmp(mode, "native") || !strcmp(mode, "alternate")) return 1;
    for (const char *c = mode; *c; c++)
        if (!strchr("dDnN", *c)) return 0;
    return 1;
}

/* ---- measurement ---------------------------------------------------------- */

typedef struct {
    const nn_spec *spec;
    int batch;
    float *images;
    uint8_t *labels;
    float *state, *saved_state;
} trial_data;

static void trial_open(trial_data *t, const nn_spec *s, int batch, float *state) {
    size_t image = (size_t)s->in_c * s->in_h * s->in_w;
    t->spec = s;
    t->batch = batch;
    t->images = alrs_alloc_aligned(sizeof(float) * image * (size_t)batch);
    t->labels = alrs_calloc((size_t)batch, 1);
    rng_stream r = rng_make(0xa070, 0);
    for (size_t i = 0; i < image * (size_t)batch; i++) t->images[i] = rng_uniform(&r);
    for (int i = 0; i < batch; i++) t->labels[i] = (uint8_t)rng_below(&r, (uint32_t)s->classes);
    /* training steps move the batchnorm running statistics: put them back after */
    t->state = state;
    t->saved_state = alrs_malloc(sizeof(float) * (s->n_state + 1));
    memcpy(t->saved_state, state, sizeof(float) * (s->n_state + 1));
}

static void trial_close(trial_data *t) {
    memcpy(t->state, t->saved_state, sizeof(float) * (t->spec->n_state + 1));
    free(t->saved_state);
    free(t->labels);
    alrs_free_aligned(t->images);
}

/* Step 2: per-layer medians, in ms, into ms_native / ms_dnnl (negative for
 * a layer without a oneDNN version), and the rounds each layer was measured;
 * returns the seconds of the native training step run first.
 * A layer whose first measured round shows one way AUTO_SETTLE_RATIO times
 * slower than the other is settled by it and measured no further (most
 * layers are, and ResNet-18's rounds cost seconds). */
static double time_layers(nn_net *native, const nn_spec *s, const trial_data *t,
                          const int *has_dnnl, double *ms_native, double *ms_dnnl, int *rounds) {
    int L = s->n_layers;
    double *tn = alrs_calloc((size_t)L * AUTO_LAYER_MAX_ROUNDS, sizeof(double));
    double *td = alrs_calloc((size_t)L * AUTO_LAYER_MAX_ROUNDS, sizeof(double));
    int *active = alrs_calloc((size_t)L, sizeof(int));
    for (int i = 0; i < L; i++) active[i] = has_dnnl[i], rounds[i] = 0;
    double start = alrs_now();
    nn_net_train_step(native, t->images, t->labels); /* fills activations and gradients */
    double step_s = alrs_now() - start;
    int min_rounds = step_s > AUTO_STEP_SLOW_S ? AUTO_LAYER_MIN_ROUNDS_SLOW : AUTO_LAYER_MIN_ROUNDS;
    for (int r = -1; r < AUTO_LAYER_MAX_ROUNDS; r++) { /* round -1: warm-up */
        if (r == 0) start = alrs_now();
        if (r >= min_rounds && alrs_now() - start > AUTO_LAYER_BUDGET_S) break;
        int any = 0;
        for (int i = 0; i < L; i++) any |= active[i];
        if (!any) break;
        for (int i = 0; i < L; i++) {
            if (!active[i]) continue;
            /* alternate which way goes first: the first may find caches warmer */
            double a, b;
            if (r < 0) { /* the native side is warm from the step */
                native_net_time_layer(native, i, 1, t->images);
                continue;
            }
            if (r % 2 == 0) {
                a = native_net_time_layer(native, i, 0, t->images);
                b = native_net_time_layer(native, i, 1, t->images);
            } else {
                b = native_net_time_layer(native, i, 1, t->images);
                a = native_net_time_layer(native, i, 0, t->images);
            }
            tn[(size_t)i * AUTO_LAYER_MAX_ROUNDS + (size_t)r] = a;
            td[(size_t)i * AUTO_LAYER_MAX_ROUNDS + (size_t)r] = b;
            rounds[i] = r + 1;
            if (r == 0 && (a > AUTO_SETTLE_RATIO * b || b > AUTO_SETTLE_RATIO * a)) active[i] = 0;
        }
    }
    for (int i = 0; i < L; i++) {
        ms_native[i] = ms_dnnl[i] = -1;
        if (!has_dnnl[i]) continue;
        ms_native[i] = 1e3 * median(tn + (size_t)i * AUTO_LAYER_MAX_ROUNDS, rounds[i]);
        ms_dnnl[i] = 1e3 * median(td + (size_t)i * AUTO_LAYER_MAX_ROUNDS, rounds[i]);
    }
    free(active);
    free(tn);
    free(td);
    return step_s;
}

/* A whole-step candidate: a net, and for the native net the per-layer
 * choice to apply before its steps (NULL: none). */
typedef struct {
    nn_net *net;
    const int *choice;
    double times[AUTO_STEP_MAX];
    double ms;
} candidate;

static void apply_choice(nn_net *native, const nn_spec *s, const int *choice) {
    for (int i = 0; i < s->n_layers; i++)
        if (native_net_layer_switchable(native, i)) native_net_use_standin(native, i, choice[i]);
}

/* Step 3: interleaved whole training steps of each candidate; the median in ms. */
static void time_steps(candidate *c, int nc, nn_net *native, const nn_spec *s, const trial_data *t,
                       double native_step_s) {
    double slowest = native_step_s;
    for (int k = 0; k < nc; k++) { /* warm-up of the oneDNN net; the native net is warm */
        if (c[k].choice) continue;
        double t0 = alrs_now();
        nn_net_train_step(c[k].net, t->images, t->labels);
        double dt = alrs_now() - t0;
        if (dt > slowest) slowest = dt;
    }
    int min_steps = slowest > AUTO_STEP_SLOW_S ? AUTO_STEP_MIN_SLOW : AUTO_STEP_MIN, n = 0;
    double start = alrs_now();
    while (n < AUTO_STEP_MAX && (n < min_steps || alrs_now() - start < AUTO_STEP_BUDGET_S)) {
        for (int j = 0; j < nc; j++) {
            int k = (j + n) % nc; /* rotate the order */
            if (c[k].choice) apply_choice(native, s, c[k].choice);
            double t0 = alrs_now();
            nn_net_train_step(c[k].net, t->images, t->labels);
            c[k].times[n] = alrs_now() - t0;
        }
        n++;
    }
    for (int k = 0; k < nc; k++) c[k].ms = 1e3 * median(c[k].times, n);
}

/* ---- the oneDNN stand-ins ------------------------------------------------------ */

/* nn_layer_standin_maker on a dnnl_standin_kit. */
static int make_dnnl(void *kit, const nn_spec *s, int i, int batch, int backward_data,
                     float *params, float *grads, nn_layer_standin *out, char *why, int why_size) {
    return dnnl_standin_create(kit, s, i, batch, backward_data, params, grads, out, why, why_size);
}

void auto_net_attach_dnnl(nn_net *native, int n_layers, int *has, char (*why)[AUTO_WHY_SIZE]) {
    dnnl_standin_kit *kit = NULL; /* created with the first switchable layer */
    for (int i = 0; i < n_layers; i++) {
        has[i] = 0;
        why[i][0] = '\0';
        if (!native_net_layer_switchable(native, i)) continue;
        if (!kit && !(kit = dnnl_standin_kit_create(why[i], AUTO_WHY_SIZE))) continue;
        has[i] = native_net_attach_standin(native, i, make_dnnl, kit, why[i], AUTO_WHY_SIZE) == 0;
    }
    dnnl_standin_kit_release(kit); /* the stand-ins keep it */
}

/* ---- creation --------------------------------------------------------------- */

static auto_net *wrap(nn_net *chosen, char *report, const char *choice) {
    auto_net *a = alrs_calloc(1, sizeof *a);
    a->base.ops = &auto_ops;
    a->chosen = chosen;
    a->report = report;
    snprintf(a->choice, sizeof a->choice, "%s", choice);
    return a;
}

/* The choice as nn_net_auto_choice gives it: a letter per switchable layer. */
static void choice_letters(const nn_net *native, const nn_spec *s, const int *choice, char *out,
                           size_t size) {
    size_t n = 0;
    for (int i = 0; i < s->n_layers && n + 1 < size; i++)
        if (native_net_layer_switchable(native, i)) out[n++] = choice[i] ? 'd' : 'n';
    out[n] = '\0';
}

/* A net with the choice given, nothing measured: "dnnl-net" (the whole
 * oneDNN net) or a per-layer mode (forced_dnnl's). */
nn_net *nn_net_create_auto_as(const nn_spec *spec, nn_net_config cfg, float *params,
                              float *grads, float *state, const char *mode) {
    char *report = alrs_calloc(REPORT_SIZE, 1);
    if (!strcmp(mode, "dnnl-net")) {
        nn_net *dnnl = nn_net_create_dnnl(spec, cfg, params, grads, state);
        if (!dnnl) {
            free(report);
            return NULL;
        }
        snprintf(report, REPORT_SIZE, "auto: the whole dnnl net, as chosen before\n");
        return &wrap(dnnl, report, mode)->base;
    }
    if (!valid_mode(mode)) {
        free(report);
        alrs_fail("backend choice '%s': expected dnnl-net, native, dnnl, alternate or letters d/n "
                  "per layer", mode);
        return NULL;
    }
    nn_net *native = nn_net_create_native(spec, cfg, params, grads, state);
    if (!native) {
        free(report);
        return NULL;
    }
    int L = spec->n_layers, switchable = 0;
    int *choice = alrs_calloc((size_t)L, sizeof(int));
    int *has_dnnl = alrs_calloc((size_t)L, sizeof(int));
    char(*why)[AUTO_WHY_SIZE] = alrs_calloc((size_t)L, sizeof *why);
    auto_net_attach_dnnl(native, L, has_dnnl, why);
    for (int i = 0; i < L; i++) {
        if (!native_net_layer_switchable(native, i)) continue;
        native_net_note(native, i, -1, -1, has_dnnl[i] ? "(forced)" : why[i]);
        choice[i] = has_dnnl[i] && forced_dnnl(mode, switchable);
        switchable++;
    }
    free(has_dnnl);
    free(why);
    apply_choice(native, spec, choice);
    char letters[NN_MAX_LAYERS + 1];
    choice_letters(native, spec, choice, letters, sizeof letters);
    snprintf(report, REPORT_SIZE,
             "auto: per-layer choice %s given (nothing measured); evaluation on the native "
             "kernels\n", mode);
    free(choice);
    return &wrap(native, report, letters)->base;
}

nn_net *nn_net_create_auto(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state) {
    double t_start = alrs_now();
    const char *mode = getenv("ALRS_AUTO_LAYERS");
    if (mode && *mode) {
        if (!valid_mode(mode)) {
            alrs_fail("ALRS_AUTO_LAYERS=%s: expected native, dnnl, alternate or letters d/n per "
                      "layer", mode);
            return NULL;
        }
        return nn_net_create_auto_as(spec, cfg, params, grads, state, mode);
    }
    nn_net *native = nn_net_create_native(spec, cfg, params, grads, state);
    if (!native) return NULL;
    int L = spec->n_layers;
    int *has_dnnl = alrs_calloc((size_t)L, sizeof(int));
    int *choice = alrs_calloc((size_t)L, sizeof(int));
    int *all_native = alrs_calloc((size_t)L, sizeof(int));
    double *ms_native = alrs_calloc((size_t)L, sizeof(double));
    double *ms_dnnl = alrs_calloc((size_t)L, sizeof(double));
    char *report = alrs_calloc(REPORT_SIZE, 1);
    char(*why)[AUTO_WHY_SIZE] = alrs_calloc((size_t)L, sizeof *why);
    auto_net_attach_dnnl(native, L, has_dnnl, why);
    for (int i = 0; i < L; i++)
        if (native_net_layer_switchable(native, i) && !has_dnnl[i])
            native_net_note(native, i, -1, -1, why[i]);
    free(why);

    /* step 2: per layer */
    trial_data t;
    trial_open(&t, spec, cfg.train_batch, state);
    int *rounds = alrs_calloc((size_t)L, sizeof(int)), most = 0;
    double step_s = time_layers(native, spec, &t, has_dnnl, ms_native, ms_dnnl, rounds);
    int mixed = 0;
    for (int i = 0; i < L; i++) {
        if (!has_dnnl[i]) continue;
        choice[i] = ms_dnnl[i] < ms_native[i];
        mixed |= choice[i];
        char note[48];
        snprintf(note, sizeof note, "(median of %d)", rounds[i]);
        native_net_note(native, i, ms_native[i], ms_dnnl[i], note);
        if (rounds[i] > most) most = rounds[i];
    }
    double t_layers = alrs_now() - t_start;

    /* step 3: whole steps */
    nn_net *dnnl = nn_net_create_dnnl(spec, cfg, params, grads, state);
    const char *dnnl_why = dnnl ? NULL : alrs_error();
    char dnnl_msg[256] = "";
    if (dnnl_why) snprintf(dnnl_msg, sizeof dnnl_msg, "%s", dnnl_why);
    candidate c[3];
    int nc = 0, k_mix = -1, k_native, k_dnnl = -1;
    memset(c, 0, sizeof c);
    if (mixed) {
        k_mix = nc;
        c[nc++] = (candidate){.net = native, .choice = choice};
    }
    k_native = nc;
    c[nc++] = (candidate){.net = native, .choice = all_native};
    if (dnnl) {
        k_dnnl = nc;
        c[nc++] = (candidate){.net = dnnl, .choice = NULL};
    }
    time_steps(c, nc, native, spec, &t, step_s);
    trial_close(&t);
    int best = 0;
    for (int k = 1; k < nc; k++)
        if (c[k].ms < c[best].ms) best = k;
    if (best != k_mix) apply_choice(native, spec, all_native);
    if (best == k_mix) apply_choice(native, spec, choice);
    if (best == k_native && mixed)
        for (int i = 0; i < L; i++)
            if (choice[i]) {
                char note[112];
                snprintf(note, sizeof note,
                         "(median of %d; faster alone, but the mix lost the whole-step check)",
                         rounds[i]);
                native_net_note(native, i, ms_native[i], ms_dnnl[i], note);
            }
    free(rounds);

    int used =
        snprintf(report, REPORT_SIZE,
                 "auto: per layer, training passes (forward, backward-weights, backward-data)"
                 " timed both ways, up to %d rounds after a warm-up; whole training "
                 "step: ",
                 most);
    if (k_mix >= 0)
        used += snprintf(report + used, (size_t)(REPORT_SIZE - used), "per-layer mix %.3f ms, ",
                         c[k_mix].ms);
    used +=
        snprintf(report + used, (size_t)(REPORT_SIZE - used), "all native %.3f ms", c[k_native].ms);
    if (k_dnnl >= 0)
        used += snprintf(report + used, (size_t)(REPORT_SIZE - used), ", whole dnnl net %.3f ms",
                         c[k_dnnl].ms);
    else
        used +=
            snprintf(report + used, (size_t)(REPORT_SIZE - used), ", no dnnl net (%s)", dnnl_msg);
    used += snprintf(report + used, (size_t)(REPORT_SIZE - used),
                     ": picked %s; selection %.0f ms (per layer %.0f ms)\n",
                     best == k_mix      ? "the per-layer mix (evaluation on the native kernels)"
                     : best == k_native ? "native for every layer"
                                        : "the whole dnnl net",
                     1e3 * (alrs_now() - t_start), 1e3 * t_layers);
    nn_net *chosen;
    char picked[NN_MAX_LAYERS + 16];
    if (best == k_dnnl) snprintf(picked, sizeof picked, "dnnl-net");
    else if (best == k_native) snprintf(picked, sizeof picked, "native");
    else choice_letters(native, spec, choice, picked, sizeof picked);
    if (best == k_dnnl) {
        /* keep the per-layer measurements (and what each layer would have
         * picked) in the description */
        apply_choice(native, spec, choice);
        if (used < REPORT_SIZE)
            used += snprintf(report + used, (size_t)(REPORT_SIZE - used),
                             "per-layer measurements on the native net (not used):\n");
        if (used < REPORT_SIZE) nn_net_describe_impl(native, report + used, REPORT_SIZE - used);
        nn_net_free(native);
        native = NULL;
        chosen = dnnl;
    } else {
        nn_net_free(dnnl);
        chosen = native;
    }
    free(has_dnnl), free(choice), free(all_native), free(ms_native), free(ms_dnnl);
    return &wrap(chosen, report, picked)->base;
}
