#include "child/eval_point.h"

#include <string.h>

#include "nn/layer_rules.h"

/* Images [start, start + batch) of the training split for pass k: the
 * batches one after another, wrapping round a split shorter than them all. */
static int pass_start(const data_split *t, int batch, int k) {
    long span = (long)t->n - batch + 1;
    return (int)(((long)k * batch) % span);
}

/* Every running statistic moves as new = (1-M) old + M batch, so each pass's
 * batch statistics are (new - (1-M) old) / M: summed in double, averaged. */
static void recompute_batchnorm(child_run *r) {
    const data_split *t = &r->data->train;
    size_t ns = r->spec.n_state, image = (size_t)data_image_size(t);
    const double mom = NN_BN_MOMENTUM, keep = 1.0f - NN_BN_MOMENTUM;
    memset(r->bn_sum, 0, sizeof(double) * ns);
    for (int k = 0; k < EVAL_POINT_BN_BATCHES; k++) {
        for (size_t i = 0; i < ns; i++) r->bn_prev[i] = r->state[i];
        int start = pass_start(t, r->cfg.batch, k);
        nn_net_train_step(r->net, t->images + (size_t)start * image, t->labels + start);
        for (size_t i = 0; i < ns; i++)
            r->bn_sum[i] += ((double)r->state[i] - keep * (double)r->bn_prev[i]) / mom;
    }
    for (size_t i = 0; i < ns; i++) r->state[i] = (float)(r->bn_sum[i] / EVAL_POINT_BN_BATCHES);
}

void eval_point_enter(child_run *r) {
    if (!optimizer_has_eval_point(&r->opt)) return;
    optimizer_swap_eval(&r->opt, r->params);
    if (r->spec.n_state == 0) return;
    memcpy(r->train_state, r->state, sizeof(float) * (r->spec.n_state + 1));
    recompute_batchnorm(r);
}

void eval_point_leave(child_run *r) {
    if (!optimizer_has_eval_point(&r->opt)) return;
    optimizer_swap_eval(&r->opt, r->params);
    if (r->spec.n_state > 0)
        memcpy(r->state, r->train_state, sizeof(float) * (r->spec.n_state + 1));
}
