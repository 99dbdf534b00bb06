#include "child/child.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

int child_default_eval_batch(const char *model) {
    return !strcmp(model, "resnet18") ? 100 : 1000;
}

/* The run must fit in the memory this process may still take (core/memory.h):
 * one clear line rather than a failed allocation deep inside a backend. */
static int check_memory(const nn_spec *spec, const child_config *cfg) {
    int eval_batch = cfg->eval_batch < cfg->val_size ? cfg->eval_batch : cfg->val_size;
    double need = nn_memory_estimate(spec, cfg->batch, eval_batch) +
                  sizeof(float) * (double)spec->n_params * optimizer_extra_buffers(cfg->optimizer);
    double room = memory_available_bytes();
    if (room < 0 || need <= room) return 0;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    return alrs_fail("--model %s with --batch %d: the run needs about %.1f GiB (%zu parameters "
                     "and the activations of its batches), and this process may take %.1f GiB "
                     "more (a smaller --batch, --eval-batch or --hidden fits)",
                     spec->model, cfg->batch, need / gib, spec->n_params, room / gib);
}

static int check_sizes(const child_config *cfg, const dataset *data) {
    if (cfg->batch < 1 || cfg->batch > data->train.n)
        return alrs_fail("--batch %d: must be between 1 and the %d training images", cfg->batch,
                         data->train.n);
    if (cfg->val_size < 1 || cfg->val_size > data->val.n)
        return alrs_fail("--val-size %d: must be between 1 and the %d validation images",
                         cfg->val_size, data->val.n);
    if (cfg->eval_batch < 1) return alrs_fail("evaluation batch %d must be positive", cfg->eval_batch);
    return 0;
}

/* The run the evaluation point moves (child/eval_point.h). */
static eval_point_run eval_run(child_run *r) {
    return (eval_point_run){&r->opt, r->params, r->state, r->spec.n_state, r->net,
                            &r->data->train, r->cfg.batch};
}

static void eval_enter(child_run *r) {
    eval_point_run at = eval_run(r);
    eval_point_enter(&r->eval, &at);
}

static void eval_leave(child_run *r) {
    eval_point_run at = eval_run(r);
    eval_point_leave(&r->eval, &at);
}

int child_run_create(child_run *r, const child_config *cfg, const dataset *data) {
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->data = data;
    if (check_sizes(cfg, data) != 0) return -1;
    const data_split *t = &data->train;
    if (nn_build(&r->spec, cfg->model, t->c, t->h, t->w, data->classes, cfg->hidden,
                 cfg->n_hidden) != 0)
        return -1;
    if (check_memory(&r->spec, cfg) != 0) return -1;
    if (optimizer_init(&r->opt, cfg->optimizer, r->spec.n_params) != 0) return -1;
    size_t np = r->spec.n_params, ns = r->spec.n_state + 1;
    r->params = alrs_alloc_aligned(sizeof(float) * np);
    r->grads = alrs_alloc_aligned(sizeof(float) * np);
    r->best_params = alrs_alloc_aligned(sizeof(float) * np);
    r->state = alrs_alloc_aligned(sizeof(float) * ns);
    r->best_state = alrs_alloc_aligned(sizeof(float) * ns);
    eval_point_init(&r->eval, &r->opt, r->spec.n_state);
    /* stream 0 of the seed initialises weights, stream 1 orders batches */
    rng_stream init = rng_make(cfg->seed, 0);
    nn_init_params(&r->spec, r->params, r->state, &init);
    int eval_batch = cfg->eval_batch < cfg->val_size ? cfg->eval_batch : cfg->val_size;
    nn_net_config nc = {cfg->batch, eval_batch, cfg->plan_path};
    r->net = nn_net_create(&r->spec, cfg->backend ? cfg->backend : "dnnl", nc, r->params,
                           r->grads, r->state);
    if (!r->net) {
        child_run_free(r);
        return -1;
    }
    batcher_init(&r->batches, t, cfg->batch, rng_make(cfg->seed, 1));
    r->changed = *t;
    if (cfg->change_labels) r->changed.labels = cfg->change_labels;
    r->batch_images = alrs_alloc_aligned(sizeof(float) * (size_t)cfg->batch * data_image_size(t));
    r->batch_labels = alrs_malloc((size_t)cfg->batch);
    r->best_val_loss = INFINITY;
    r->best_step = -1;
    return 0;
}

void child_run_free(child_run *r) {
    nn_net_free(r->net);
    if (r->batches.order) batcher_free(&r->batches);
    if (r->opt.m) optimizer_free(&r->opt);
    alrs_free_aligned(r->params);
    alrs_free_aligned(r->grads);
    alrs_free_aligned(r->best_params);
    alrs_free_aligned(r->state);
    alrs_free_aligned(r->best_state);
    eval_point_free(&r->eval);
    alrs_free_aligned(r->batch_images);
    free(r->batch_labels);
    memset(r, 0, sizeof *r);
}

double child_run_step(child_run *r, double lr) {
    /* the same order either way: only the labels the batch takes change */
    if (r->cfg.change_labels)
        r->batches.split = r->step < r->cfg.change_step ? &r->data->train : &r->changed;
    batcher_next(&r->batches, r->batch_images, r->batch_labels);
    double loss = nn_net_train_step(r->net, r->batch_images, r->batch_labels);
    optimizer_step(&r->opt, r->params, r->grads, lr);
    r->step++;
    return loss;
}

void child_run_validate(child_run *r, double *loss, double *acc) {
    child_run_validate_probs(r, loss, acc, NULL);
}

/* probs may be NULL (child_run_validate). */
void child_run_validate_probs(child_run *r, double *loss, double *acc, float *probs) {
    const data_split *v = &r->data->val;
    eval_enter(r);
    nn_net_evaluate(r->net, v->images, v->labels, r->cfg.val_size, loss, acc, probs);
    if (*loss < r->best_val_loss) {
        r->best_val_loss = *loss;
        r->best_step = r->step;
        memcpy(r->best_params, r->params, sizeof(float) * r->spec.n_params);
        memcpy(r->best_state, r->state, sizeof(float) * (r->spec.n_state + 1));
    }
    eval_leave(r);
}

const float *child_run_eval_params(const child_run *r) {
    return optimizer_eval_params(&r->opt, r->params);
}

void child_run_reset(child_run *r, uint64_t seed) {
    r->cfg.seed = seed;
    /* the same streams, in the same order, as child_run_create */
    rng_stream init = rng_make(seed, 0);
    nn_init_params(&r->spec, r->params, r->state, &init);
    optimizer_reset(&r->opt);
    batcher_free(&r->batches);
    batcher_init(&r->batches, &r->data->train, r->cfg.batch, rng_make(seed, 1));
    r->step = 0;
    r->best_val_loss = INFINITY;
    r->best_step = -1;
}

/* Swaps the live and best buffers' contents (the net reads the live ones). */
static void swap_best(child_run *r) {
    size_t np = r->spec.n_params, ns = r->spec.n_state + 1;
    for (size_t i = 0; i < np; i++) {
        float t = r->params[i];
        r->params[i] = r->best_params[i];
        r->best_params[i] = t;
    }
    for (size_t i = 0; i < ns; i++) {
        float t = r->state[i];
        r->state[i] = r->best_state[i];
        r->best_state[i] = t;
    }
}

/* The test set in about ten pieces of whole inference chunks (the sums then
 * add up exactly as in one call: nn/net.h), with a progress report after each. */
static void evaluate_test(child_run *r, double *loss, double *acc) {
    const data_split *t = &r->data->test;
    int n = r->cfg.test_size > 0 && r->cfg.test_size < t->n ? r->cfg.test_size : t->n;
    int chunk = r->cfg.eval_batch < r->cfg.val_size ? r->cfg.eval_batch : r->cfg.val_size;
    int piece = n / 10 / chunk * chunk;
    if (piece < chunk) piece = chunk;
    size_t image = (size_t)data_image_size(t);
    double sum = 0;
    long hits = 0;
    for (int start = 0; start < n; start += piece) {
        int count = n - start < piece ? n - start : piece;
        nn_net_evaluate_sums(r->net, t->images + (size_t)start * image, t->labels + start, count,
                             &sum, &hits, NULL);
        if (r->test_progress) r->test_progress(r->test_progress_ctx, start + count, n);
    }
    *loss = n > 0 ? sum / n : 0.0;
    *acc = n > 0 ? (double)hits / n : 0.0;
}

void child_run_test(child_run *r, int at_best, double *loss, double *acc) {
    int use_best = at_best && r->best_step >= 0;
    /* the best snapshot was taken at the evaluation point already */
    if (use_best) swap_best(r);
    else eval_enter(r);
    evaluate_test(r, loss, acc);
    if (use_best) swap_best(r);
    else eval_leave(r);
}

void child_run_save(const child_run *r, byte_buf *out) {
    size_t np = r->spec.n_params, ns = r->spec.n_state + 1;
    bytes_put_u64(out, (uint64_t)r->step);
    bytes_put_u64(out, np);
    bytes_put_u64(out, ns);
    bytes_put_f32s(out, r->params, np);
    bytes_put_f32s(out, r->state, ns);
    bytes_put_f64(out, r->best_val_loss);
    bytes_put_u64(out, (uint64_t)(r->best_step + 1)); /* -1 (none yet) as 0 */
    bytes_put_f32s(out, r->best_params, np);
    bytes_put_f32s(out, r->best_state, ns);
    optimizer_save(&r->opt, out);
}

int child_run_load(child_run *r, byte_reader *in, const char *path) {
    size_t np = r->spec.n_params, ns = r->spec.n_state + 1;
    long step = (long)bytes_get_u64(in);
    uint64_t got_np = bytes_get_u64(in), got_ns = bytes_get_u64(in);
    if (in->overrun || got_np != np || got_ns != ns || step < 0)
        return alrs_fail("%s: the checkpoint holds a network of %llu parameters, this run's has "
                         "%zu", path, (unsigned long long)got_np, np);
    bytes_get_f32s(in, r->params, np);
    bytes_get_f32s(in, r->state, ns);
    r->best_val_loss = bytes_get_f64(in);
    r->best_step = (long)bytes_get_u64(in) - 1;
    bytes_get_f32s(in, r->best_params, np);
    bytes_get_f32s(in, r->best_state, ns);
    optimizer_load(&r->opt, in);
    if (in->overrun) return alrs_fail("%s: the checkpoint ends inside the network", path);
    /* the batches of the first `step` steps were drawn: the order goes on from there */
    batcher_skip(&r->batches, step - r->step);
    r->step = step;
    return 0;
}
