#include "child/eval_point.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/layer_rules.h"

/* Images [start, start + batch) of the training split for pass k: the
 * batches one after another, wrapping round a split shorter than them all. */
static int pass_start(const data_split *t, int batch, int k) {
    long span = (long)t->n - batch + 1;
    return (int)(((long)k * batch) % span);
}

/* Every running statistic moves as new = (1-M) old + M batch, so each pass's
 * batch statistics are (new - (1-M) old) / M: summed in double, averaged. */
static void recompute_batchnorm(eval_point *e, const eval_point_run *r) {
    const data_split *t = r->train;
    size_t ns = r->n_state, image = (size_t)data_image_size(t);
    const double mom = NN_BN_MOMENTUM, keep = 1.0f - NN_BN_MOMENTUM;
    memset(e->bn_sum, 0, sizeof(double) * ns);
    for (int k = 0; k < EVAL_POINT_BN_BATCHES; k++) {
        for (size_t i = 0; i < ns; i++) e->bn_prev[i] = r->state[i];
        int start = pass_start(t, r->batch, k);
        nn_net_train_step(r->net, t->images + (size_t)start * image, t->labels + start);
        for (size_t i = 0; i < ns; i++)
            e->bn_sum[i] += ((double)r->state[i] - keep * (double)e->bn_prev[i]) / mom;
    }
    for (size_t i = 0; i < ns; i++) r->state[i] = (float)(e->bn_sum[i] / EVAL_POINT_BN_BATCHES);
}

void eval_point_init(eval_point *e, const optimizer *opt, size_t n_state) {
    memset(e, 0, sizeof *e);
    if (opt->kind != OPT_SCHEDULEFREE) return;
    size_t ns = n_state + 1;
    e->train_state = alrs_alloc_aligned(sizeof(float) * ns);
    e->bn_prev = alrs_alloc_aligned(sizeof(float) * ns);
    e->bn_sum = alrs_malloc(sizeof(double) * ns);
}

void eval_point_free(eval_point *e) {
    alrs_free_aligned(e->train_state);
    alrs_free_aligned(e->bn_prev);
    free(e->bn_sum);
    memset(e, 0, sizeof *e);
}

void eval_point_enter(eval_point *e, const eval_point_run *r) {
    if (!optimizer_has_eval_point(r->opt)) return;
    optimizer_swap_eval(r->opt, r->params);
    if (r->n_state == 0) return;
    memcpy(e->train_state, r->state, sizeof(float) * (r->n_state + 1));
    recompute_batchnorm(e, r);
}

void eval_point_leave(eval_point *e, const eval_point_run *r) {
    if (!optimizer_has_eval_point(r->opt)) return;
    optimizer_swap_eval(r->opt, r->params);
    if (r->n_state > 0)
        memcpy(r->state, e->train_state, sizeof(float) * (r->n_state + 1));
}
