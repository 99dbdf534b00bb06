/* The public library's controllers and sessions (include/alrs/alrs.h): a
 * learned controller choosing the rate of someone else's training loop.
 *
 * A session keeps what the environment keeps for a controller run
 * (run/trainer.c through env/lr_env.c): an lr_observer that computes the
 * features, an lr_control that turns actions into rates, and its own copy of
 * the controller (a policy keeps a workspace, so sessions never share one).
 * Fed the same losses, probabilities and weights, it chooses the same rates
 * as `alrs train --schedule controller:PATH`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "env/features.h"
#include "env/lr_control.h"
#include "rl/controller_file.h"

struct alrs_controller {
    controller c;          /* for describe */
    unsigned char *bytes;  /* the file, from which each session parses its own copy */
    size_t len;
    unsigned checksum;      /* the file's crc32: a saved session names its controller */
    char path[1024];
};

struct alrs_session {
    controller c;
    controller_act act;
    rng_stream pick;
    lr_control control;
    lr_observer observer;
    long total_steps, last_step;
    int action_every;      /* observations are due at multiples of it (and at total_steps) */
    unsigned checksum;     /* the controller's (alrs_controller.checksum) */
    int observed;          /* observations taken */
    double obs[LR_ENV_MAX_OBS];
};

/* The crc32 of the payload, from the checked header (rl/controller_file.h):
 * two controllers of the same interface differ in it, so a session state
 * names the controller it came from. */
static unsigned file_checksum(const unsigned char *b) {
    return (unsigned)b[24] | (unsigned)b[25] << 8 | (unsigned)b[26] << 16 | (unsigned)b[27] << 24;
}

ALRS_API alrs_status alrs_controller_open(const char *path, alrs_controller **out) {
    if (!path || !out) return api_fail(ALRS_E_ARGUMENT, "alrs_controller_open: NULL argument");
    *out = NULL;
    alrs_controller *h = calloc(1, sizeof *h);
    if (!h) return api_fail(ALRS_E_FAILED, "alrs_controller_open: out of memory");
    snprintf(h->path, sizeof h->path, "%s", path);
    if (controller_file_load(&h->c, path) != 0) {
        free(h);
        return ALRS_E_FILE; /* the message names the file and what is wrong */
    }
    FILE *f = fopen(path, "rb");
    long len = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len > 0 && fseek(f, 0, SEEK_SET) == 0) {
        h->bytes = malloc((size_t)len);
        if (h->bytes && fread(h->bytes, 1, (size_t)len, f) == (size_t)len) h->len = (size_t)len;
    }
    if (f) fclose(f);
    if (h->len == 0) {
        alrs_controller_close(h);
        return api_fail(ALRS_E_FILE, "%s: cannot read the checkpoint again", path);
    }
    h->checksum = file_checksum(h->bytes); /* loaded, so the header is whole */
    *out = h;
    return ALRS_OK;
}

ALRS_API void alrs_controller_close(alrs_controller *h) {
    if (!h) return;
    controller_free(&h->c);
    free(h->bytes);
    free(h);
}

ALRS_API alrs_status alrs_controller_describe(const alrs_controller *h,
                                              alrs_controller_info *info) {
    if (!h || !info) return api_fail(ALRS_E_ARGUMENT, "alrs_controller_describe: NULL argument");
    const lr_env_interface *i = &h->c.iface;
    memset(info, 0, sizeof *info);
    info->format_version = h->c.file_version;
    info->n_features = h->c.pol.cfg.obs_size;
    lr_env_features_format(i->features, info->features, sizeof info->features);
    snprintf(info->action_kind, sizeof info->action_kind, "%s",
             lr_action_kind_name(i->action.kind));
    info->n_actions = lr_action_count(&i->action);
    for (int k = 0; k < i->action.n_factors && k < 16; k++) info->factors[k] = i->action.factors[k];
    info->delta = i->action.delta;
    snprintf(info->base, sizeof info->base, "%s", i->action.base);
    info->residual_range = i->action.residual_range;
    info->lr_min = i->lr_min, info->lr_max = i->lr_max;
    info->action_every = i->action_every;
    info->steps = i->steps;
    info->updates = h->c.updates;
    return ALRS_OK;
}

/* the public struct mirrors controller_origin field for field */
_Static_assert(sizeof(((alrs_controller_origin *)0)->tasks) == CONTROLLER_TASKS_MAX,
               "alrs_controller_origin.tasks");
_Static_assert(sizeof(((alrs_controller_origin *)0)->model) == CONTROLLER_ORIGIN_TEXT,
               "alrs_controller_origin.model");
_Static_assert(sizeof(((alrs_controller_origin *)0)->rates) == sizeof(double) * LR_ENV_MAX_INITIAL,
               "alrs_controller_origin.rates");

ALRS_API alrs_status alrs_controller_learned_on(const alrs_controller *h,
                                                alrs_controller_origin *origin) {
    if (!h || !origin)
        return api_fail(ALRS_E_ARGUMENT, "alrs_controller_learned_on: NULL argument");
    const controller_origin *o = &h->c.origin;
    memset(origin, 0, sizeof *origin);
    snprintf(origin->model, sizeof origin->model, "%s", o->model);
    snprintf(origin->optimizer, sizeof origin->optimizer, "%s", o->optimizer);
    snprintf(origin->dataset, sizeof origin->dataset, "%s", o->dataset);
    origin->n_rates = o->n_rates;
    memcpy(origin->rates, o->rates, sizeof(double) * (size_t)o->n_rates);
    origin->val_size = o->val_size;
    origin->classes = o->classes;
    snprintf(origin->tasks, sizeof origin->tasks, "%s", o->tasks);
    origin->default_lr = o->default_lr;
    return ALRS_OK;
}

ALRS_API alrs_status alrs_session_create(const alrs_controller *h, const alrs_session_config *cfg,
                                         alrs_session **out) {
    if (!h || !cfg || !out) return api_fail(ALRS_E_ARGUMENT, "alrs_session_create: NULL argument");
    *out = NULL;
    if (!(cfg->initial_lr > 0) || !isfinite(cfg->initial_lr))
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_create: initial_lr %g must be a positive "
                                         "number", cfg->initial_lr);
    if (cfg->total_steps < 1)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_create: total_steps %ld must be at least 1",
                        cfg->total_steps);
    if (cfg->n_probs < 1)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_create: n_probs must be at least 1 "
                                         "(validation images x classes)");
    const lr_env_interface *ci = &h->c.iface;
    if (!lr_control_start_fits(&ci->action, ci->lr_min, ci->lr_max, cfg->initial_lr))
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_create: initial_lr %g is outside the "
                                         "controller's bounds [%g, %g]", cfg->initial_lr,
                        ci->lr_min, ci->lr_max);
    controller_act act = {CONTROLLER_ACT_MODE, 1};
    if (cfg->policy && controller_act_parse(cfg->policy, &act) != 0) return ALRS_E_ARGUMENT;
    alrs_session *s = calloc(1, sizeof *s);
    if (!s) return api_fail(ALRS_E_FAILED, "alrs_session_create: out of memory");
    if (controller_file_parse(&s->c, h->bytes, h->len, h->path) != 0) {
        free(s);
        return ALRS_E_FILE;
    }
    const lr_env_interface *i = &s->c.iface;
    if (lr_observer_init(&s->observer, i->features, cfg->n_probs, i->lr_min, i->lr_max) != 0 ||
        lr_control_start(&s->control, &i->action, i->lr_min, i->lr_max, cfg->initial_lr,
                         cfg->total_steps) != 0) {
        alrs_session_free(s);
        return ALRS_E_FAILED;
    }
    s->act = act;
    s->pick = rng_make(cfg->seed, CONTROLLER_POLICY_STREAM);
    s->total_steps = cfg->total_steps;
    s->action_every = i->action_every > 0 ? i->action_every : 1;
    s->checksum = h->checksum;
    *out = s;
    return ALRS_OK;
}

ALRS_API void alrs_session_free(alrs_session *s) {
    if (!s) return;
    controller_free(&s->c);
    lr_observer_free(&s->observer);
    free(s);
}

/* How far a row of probabilities may sum from 1: float32 softmax rows of up
 * to thousands of classes sum within 1e-4; logits or a missing softmax are
 * far outside (docs/API.md). */
#define PROB_ROW_TOLERANCE 1e-3

/* Probabilities are softmax rows: each value in [0, 1], each row of C
 * values summing to 1. C is not given; all rows summing to 1 makes the total
 * the number of rows, so C = n / total, which every row must then bear out. */
static alrs_status check_probabilities(const float *p, size_t n) {
    double total = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(p[k]))
            return api_fail(ALRS_E_VALUE, "alrs_session_observe: probability %zu is %g", k,
                            (double)p[k]);
        if (p[k] < 0 || p[k] > 1)
            return api_fail(ALRS_E_VALUE, "alrs_session_observe: probability %zu is %g, outside "
                                          "[0, 1] (softmax probabilities, not logits)", k,
                            (double)p[k]);
        total += p[k];
    }
    size_t classes = total >= 0.5 ? (size_t)llround((double)n / total) : 0;
    if (classes < 1 || n % classes != 0)
        return api_fail(ALRS_E_VALUE, "alrs_session_observe: the %zu probabilities sum to %g, "
                                      "not a whole number of rows that each sum to 1", n, total);
    for (size_t r = 0; r < n / classes; r++) {
        double sum = 0;
        for (size_t k = 0; k < classes; k++) sum += p[r * classes + k];
        if (fabs(sum - 1) > PROB_ROW_TOLERANCE)
            return api_fail(ALRS_E_VALUE, "alrs_session_observe: row %zu of the probabilities "
                                          "(%zu classes) sums to %g, not 1 within %g", r,
                            classes, sum, PROB_ROW_TOLERANCE);
    }
    return ALRS_OK;
}

/* The steps a controller acts at: 0, every action_every steps (the interval
 * it learned with), and the run's end. */
static int on_interval(const alrs_session *s, long step) {
    return step % s->action_every == 0 || step == s->total_steps;
}

/* Sizes, finiteness and order of an observation. */
static alrs_status check_observation(const alrs_session *s, const alrs_observation *o) {
    if (!o->probs || !o->out_weights)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe: probs and out_weights are needed");
    if (o->n_probs != s->observer.n_probs)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe: %zu probabilities, the session "
                                         "was made for %zu", o->n_probs, s->observer.n_probs);
    if (o->n_out_weights < 1)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe: no output-layer weights");
    if (s->observed == 0 && o->step != 0)
        return api_fail(ALRS_E_ORDER, "alrs_session_observe: the first observation is at step 0 "
                                      "(the fresh network), not %ld", o->step);
    if (s->observed > 0 && (o->step <= s->last_step || o->step > s->total_steps))
        return api_fail(ALRS_E_ORDER, "alrs_session_observe: step %ld after step %ld (steps must "
                                      "increase, up to %ld)", o->step, s->last_step,
                        s->total_steps);
    if (!on_interval(s, o->step))
        return api_fail(ALRS_E_ORDER, "alrs_session_observe: step %ld is off the controller's "
                                      "interval (it acts every %d steps, and at step %ld)",
                        o->step, s->action_every, s->total_steps);
    if (!isfinite(o->val_loss) || (s->observed > 0 && !isfinite(o->train_loss)))
        return api_fail(ALRS_E_VALUE, "alrs_session_observe: loss not finite (train %g, "
                                      "validation %g)", o->train_loss, o->val_loss);
    for (size_t k = 0; k < o->n_out_weights; k++)
        if (!isfinite(o->out_weights[k]))
            return api_fail(ALRS_E_VALUE, "alrs_session_observe: output-layer weight %zu is %g",
                            k, (double)o->out_weights[k]);
    return check_probabilities(o->probs, o->n_probs);
}

ALRS_API unsigned alrs_controller_run_stats(const alrs_controller *c) {
    return c ? api_run_stats_needed(c->c.iface.features) : 0;
}

ALRS_API alrs_status alrs_session_observe(alrs_session *s, const alrs_observation *o) {
    return alrs_session_observe_run(s, o, NULL);
}

ALRS_API alrs_status alrs_session_observe_run(alrs_session *s, const alrs_observation *o,
                                              const alrs_run_stats *run) {
    if (!s || !o) return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe: NULL argument");
    alrs_status st = check_observation(s, o);
    if (st != ALRS_OK) return st;
    int first = s->observed == 0;
    /* nothing trained before the first observation: its run statistics, if
     * any, are not looked at (the environment's are 0 there too) */
    if (!first) st = api_run_stats_check(api_run_stats_needed(s->observer.features),
                                         o->step - s->last_step, run);
    if (st != ALRS_OK) return st;
    /* as the environment: the rate the network trained at last (at the start,
     * the first step's), and plateau bases hear every validation but the first */
    double lr = lr_control_rate(&s->control, first ? 0 : o->step - 1);
    if (first) lr_observer_start(&s->observer);
    else lr_control_validated(&s->control, o->val_loss);
    memcpy(lr_observer_probs(&s->observer), o->probs, sizeof(float) * o->n_probs);
    lr_observer_input in = {first ? o->val_loss : o->train_loss, o->val_loss, o->out_weights,
                            o->n_out_weights, lr, lr_control_offset(&s->control), o->step,
                            s->total_steps, 0.0, 0.0, 0.0};
    if (!first) api_run_stats_fill(run, &in);
    lr_observer_observe(&s->observer, &in, s->obs);
    double action;
    double effect = controller_decide(&s->c, s->obs, &s->act, &s->pick, &action);
    lr_control_act(&s->control, effect, 0.0);
    s->last_step = o->step;
    s->observed++;
    return ALRS_OK;
}

ALRS_API alrs_status alrs_session_rate(const alrs_session *s, long step, double *lr) {
    if (!s || !lr) return api_fail(ALRS_E_ARGUMENT, "alrs_session_rate: NULL argument");
    if (s->observed == 0)
        return api_fail(ALRS_E_ORDER, "alrs_session_rate: no observation yet (observe the fresh "
                                      "network at step 0 first)");
    if (step < s->last_step || step >= s->total_steps)
        return api_fail(ALRS_E_ORDER, "alrs_session_rate: step %ld is not in [%ld, %ld) (the "
                                      "last observation's step to the run's end)",
                        step, s->last_step, s->total_steps);
    *lr = lr_control_rate(&s->control, step);
    return ALRS_OK;
}

ALRS_API alrs_status alrs_session_features(const alrs_session *s, double *out, size_t n) {
    if (!s || !out) return api_fail(ALRS_E_ARGUMENT, "alrs_session_features: NULL argument");
    if (n != (size_t)s->observer.obs_size)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_features: room for %zu values, the "
                                         "controller observes %d", n, s->observer.obs_size);
    if (s->observed == 0) return api_fail(ALRS_E_ORDER, "alrs_session_features: no observation yet");
    memcpy(out, s->obs, sizeof(double) * n);
    return ALRS_OK;
}

/* ---- session state -------------------------------------------------------- */

#define STATE_MAGIC 0x53534553534c4141ULL /* "AALSSESS" */

/* Everything a session carries between calls but its probabilities buffer. */
typedef struct {
    unsigned long long magic;
    unsigned checksum, spare;   /* the controller's: another one refuses the state */
    size_t n_probs;
    int obs_size, observed;
    long last_step, total_steps;
    rng_stream pick;
    double x, plateau_lr, plateau_best;
    long plateau_bad, plateau_cooldown_left;
    int t;
    double pred_ema, change_ema, log_val[LR_SLOPE_SPAN + 1];
    lr_observer_ref ref;
    double obs[LR_ENV_MAX_OBS];
} session_state;

ALRS_API size_t alrs_session_state_size(const alrs_session *s) {
    return s ? sizeof(session_state) + sizeof(float) * s->observer.n_probs : 0;
}

ALRS_API alrs_status alrs_session_save(const alrs_session *s, void *buf, size_t size) {
    if (!s || !buf) return api_fail(ALRS_E_ARGUMENT, "alrs_session_save: NULL argument");
    if (size != alrs_session_state_size(s))
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_save: %zu bytes given, the state takes %zu",
                        size, alrs_session_state_size(s));
    session_state st;
    memset(&st, 0, sizeof st);
    st.magic = STATE_MAGIC;
    st.checksum = s->checksum;
    st.n_probs = s->observer.n_probs;
    st.obs_size = s->observer.obs_size, st.observed = s->observed;
    st.last_step = s->last_step, st.total_steps = s->total_steps;
    st.pick = s->pick;
    const schedule *b = &s->control.base;
    st.x = s->control.x, st.plateau_lr = b->plateau_lr, st.plateau_best = b->plateau_best;
    st.plateau_bad = b->plateau_bad, st.plateau_cooldown_left = b->plateau_cooldown_left;
    const lr_observer *o = &s->observer;
    st.t = o->t, st.pred_ema = o->pred_ema, st.change_ema = o->change_ema;
    memcpy(st.log_val, o->log_val, sizeof st.log_val);
    st.ref = o->ref;
    memcpy(st.obs, s->obs, sizeof st.obs);
    memcpy(buf, &st, sizeof st);
    /* the last observation's probabilities: what the next change is measured from */
    memcpy((char *)buf + sizeof st, o->prev, sizeof(float) * o->n_probs);
    return ALRS_OK;
}

ALRS_API alrs_status alrs_session_restore(alrs_session *s, const void *buf, size_t size) {
    if (!s || !buf) return api_fail(ALRS_E_ARGUMENT, "alrs_session_restore: NULL argument");
    session_state st;
    if (size != alrs_session_state_size(s))
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_restore: %zu bytes, a state of this "
                                         "session takes %zu", size, alrs_session_state_size(s));
    memcpy(&st, buf, sizeof st);
    if (st.magic == STATE_MAGIC && st.checksum != s->checksum)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_restore: the state is of another "
                                         "controller (checksum %08x, this one %08x)",
                        st.checksum, s->checksum);
    if (st.magic != STATE_MAGIC || st.n_probs != s->observer.n_probs ||
        st.obs_size != s->observer.obs_size || st.total_steps != s->total_steps ||
        st.observed < 0 || st.t < 0)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_restore: not the state of a session like "
                                         "this one (another controller, size or run length)");
    s->observed = st.observed, s->last_step = st.last_step, s->pick = st.pick;
    schedule *b = &s->control.base;
    s->control.x = st.x, b->plateau_lr = st.plateau_lr, b->plateau_best = st.plateau_best;
    b->plateau_bad = st.plateau_bad, b->plateau_cooldown_left = st.plateau_cooldown_left;
    lr_observer *o = &s->observer;
    o->t = st.t, o->pred_ema = st.pred_ema, o->change_ema = st.change_ema;
    memcpy(o->log_val, st.log_val, sizeof st.log_val);
    o->ref = st.ref;
    memcpy(s->obs, st.obs, sizeof st.obs);
    memcpy(o->prev, (const char *)buf + sizeof st, sizeof(float) * o->n_probs);
    return ALRS_OK;
}
