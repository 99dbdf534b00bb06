/* The observation features (env/features.h; the list is in env/lr_env.h). */
#include "env/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const struct {
    const char *name;
    unsigned bit;
    int size;
    const char *columns[2];
} GROUPS[] = {{"progress", LR_FEAT_PROGRESS, 2, {"progress", "log_steps_left"}},
              {"offset", LR_FEAT_OFFSET, 1, {"offset"}},
              {"slope", LR_FEAT_SLOPE, 1, {"val_loss_slope"}},
              {"relative", LR_FEAT_RELATIVE, 1, {"run_fraction"}},
              {"update-ratio", LR_FEAT_UPDATE_RATIO, 1, {"log_update_ratio"}},
              {"grad-norm", LR_FEAT_GRAD_NORM, 2, {"log_grad_norm_rel", "grad_norm_trend"}},
              {"loss-spread", LR_FEAT_LOSS_SPREAD, 1, {"loss_spread"}},
              {"gap", LR_FEAT_GAP, 1, {"log_val_train_gap"}},
              {"position", LR_FEAT_POSITION, 0, {NULL}}};
#define N_GROUPS (int)(sizeof GROUPS / sizeof GROUPS[0])

int lr_env_obs_size(unsigned features) {
    int n = LR_ENV_PAPER_OBS;
    for (int g = 0; g < N_GROUPS; g++) n += features & GROUPS[g].bit ? GROUPS[g].size : 0;
    return n;
}

static const char *const PAPER_COLUMNS[LR_ENV_PAPER_OBS] = {
    "log_train_loss", "log_val_loss", "pred_var", "pred_change", "w_mean", "w_logvar", "log_lr"};
/* The same seven in scale-free form (LR_FEAT_RELATIVE). */
static const char *const RELATIVE_COLUMNS[LR_ENV_PAPER_OBS] = {
    "rel_log_train_loss", "rel_log_val_loss", "pred_var", "pred_change", "rel_w_mean",
    "rel_w_logvar", "rel_log_lr"};

const char *lr_env_feature_name(unsigned features, int k) {
    if (k == LR_OBS_LOG_LR && features & LR_FEAT_POSITION) return "lr_position";
    if (k < LR_ENV_PAPER_OBS)
        return k < 0 ? "?" : features & LR_FEAT_RELATIVE ? RELATIVE_COLUMNS[k] : PAPER_COLUMNS[k];
    k -= LR_ENV_PAPER_OBS;
    for (int g = 0; g < N_GROUPS; g++) {
        if (!(features & GROUPS[g].bit)) continue;
        if (k < GROUPS[g].size) return GROUPS[g].columns[k];
        k -= GROUPS[g].size;
    }
    return "?";
}

static int group_named(const char *name, size_t len, unsigned *bits) {
    if (len == 5 && !strncmp(name, "paper", 5)) return 0;
    if (len == 3 && !strncmp(name, "all", 3)) {
        *bits |= LR_FEAT_ALL_NAMED;
        return 0;
    }
    for (int g = 0; g < N_GROUPS; g++)
        if (strlen(GROUPS[g].name) == len && !strncmp(GROUPS[g].name, name, len)) {
            *bits |= GROUPS[g].bit;
            return 0;
        }
    return -1;
}

int lr_env_features_parse(const char *text, unsigned *out) {
    unsigned bits = 0;
    const char *p = text;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (group_named(p, len, &bits) != 0)
            return alrs_fail("--features %s: unknown group '%.*s' (expected paper, progress, "
                             "offset, slope, relative, update-ratio, grad-norm, loss-spread, gap, "
                             "position or all)", text, (int)len, p);
        if (!comma) break;
        p = comma + 1;
    }
    *out = bits;
    return 0;
}

void lr_env_features_format(unsigned features, char *buf, int size) {
    int used = snprintf(buf, (size_t)size, "paper");
    for (int g = 0; g < N_GROUPS && used < size; g++)
        if (features & GROUPS[g].bit)
            used += snprintf(buf + used, (size_t)(size - used), ",%s", GROUPS[g].name);
}

double lr_env_variance(const float *x, size_t n, double *mean_out) {
    if (n == 0) {
        if (mean_out) *mean_out = 0.0;
        return 0.0;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    double mean = sum / (double)n, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        ss += d * d;
    }
    if (mean_out) *mean_out = mean;
    return ss / (double)n;
}

double lr_env_change_variance(const float *a, const float *b, size_t n) {
    if (n == 0) return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)a[i] - (double)b[i];
    double mean = sum / (double)n, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = ((double)a[i] - (double)b[i]) - mean;
        ss += d * d;
    }
    return ss / (double)n;
}

double lr_env_norm(const float *x, size_t n) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return sqrt(ss);
}

double lr_env_update_ratio(const float *now, const float *before, size_t n) {
    double moved = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)now[i] - before[i];
        moved += d * d;
    }
    double size = lr_env_norm(before, n);
    return size > 0 ? sqrt(moved) / size : 0.0;
}

double lr_env_spread(const double *x, int n) {
    if (n < 2) return 0.0;
    double sum = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) sum += x[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    return mean != 0 ? sqrt(ss / n) / fabs(mean) : 0.0;
}

int lr_observer_init(lr_observer *o, unsigned features, size_t n_probs, double lr_min,
                     double lr_max) {
    memset(o, 0, sizeof *o);
    if (features & ~(unsigned)LR_FEAT_ALL)
        return alrs_fail("observation features 0x%x: unknown groups", features);
    if (n_probs == 0) return alrs_fail("observation: no validation probabilities to observe");
    o->features = features;
    o->obs_size = lr_env_obs_size(features);
    o->n_probs = n_probs;
    o->log_lr_lo = log(lr_min), o->log_lr_hi = log(lr_max);
    o->cur = alrs_malloc(sizeof(float) * n_probs);
    o->prev = alrs_malloc(sizeof(float) * n_probs);
    return 0;
}

void lr_observer_free(lr_observer *o) {
    free(o->cur);
    free(o->prev);
    memset(o, 0, sizeof *o);
}

void lr_observer_start(lr_observer *o) { o->t = 0; }

float *lr_observer_probs(lr_observer *o) { return o->cur; }

static double safe_log(double x) { return log(fmax(x, LR_ENV_LOG_EPS)); }

/* The two EMAs of the prediction statistics (the paper's features 2 and 3). */
static void prediction_features(lr_observer *o, double *obs) {
    const double d = LR_ENV_EMA_DECAY;
    double pred = log(lr_env_variance(o->cur, o->n_probs, NULL) + LR_ENV_LOG_EPS);
    o->pred_ema = o->t == 0 ? pred : d * o->pred_ema + (1 - d) * pred;
    obs[LR_OBS_PRED_VAR] = o->pred_ema;
    if (o->t == 0) { /* nothing to compare with yet: "no change" */
        obs[LR_OBS_PRED_CHANGE] = log(LR_ENV_LOG_EPS);
        return;
    }
    double change = log(lr_env_change_variance(o->cur, o->prev, o->n_probs) + LR_ENV_LOG_EPS);
    /* the first real change seeds the EMA */
    o->change_ema = o->t == 1 ? change : d * o->change_ema + (1 - d) * change;
    obs[LR_OBS_PRED_CHANGE] = o->change_ema;
}

/* log val loss now minus LR_SLOPE_SPAN observations ago (fewer at the start). */
static double slope_feature(lr_observer *o, double log_val) {
    o->log_val[o->t % (LR_SLOPE_SPAN + 1)] = log_val;
    int back = o->t < LR_SLOPE_SPAN ? o->t : LR_SLOPE_SPAN;
    return log_val - o->log_val[(o->t - back) % (LR_SLOPE_SPAN + 1)];
}

/* The run's first observation: what the scale-free features are measured
 * against. */
static void start_reference(lr_observer *o, const lr_observer_input *in, const double *obs) {
    lr_observer_ref *r = &o->ref;
    memset(r, 0, sizeof *r);
    r->log_val0 = obs[LR_OBS_VAL_LOSS];
    double var = lr_env_variance(in->out_w, in->out_w_len, NULL);
    r->w_std0 = sqrt(var + LR_ENV_LOG_EPS);
    r->log_w_var0 = log(var + LR_ENV_LOG_EPS);
    r->log_lr0 = obs[LR_OBS_LOG_LR];
}

/* The seven made scale-free (LR_FEAT_RELATIVE): losses as log ratios to the
 * fresh network's validation loss, the output weights against their start,
 * the rate as a log ratio to the first step's. The two prediction features
 * are statistics of probabilities and mean the same on any task already. */
static void relative_paper(const lr_observer *o, double *obs) {
    const lr_observer_ref *r = &o->ref;
    obs[LR_OBS_TRAIN_LOSS] -= r->log_val0;
    obs[LR_OBS_VAL_LOSS] -= r->log_val0;
    obs[LR_OBS_W_MEAN] /= r->w_std0;
    obs[LR_OBS_W_LOGVAR] -= r->log_w_var0;
    obs[LR_OBS_LOG_LR] -= r->log_lr0;
}

/* log gradient norm against the first chunk's, and its change over the last
 * LR_SLOPE_SPAN observations (fewer at the start); both 0 before training. */
static void grad_features(lr_observer *o, double grad_norm, double *rel, double *trend) {
    lr_observer_ref *r = &o->ref;
    if (o->t == 0) {
        *rel = *trend = 0.0;
        return;
    }
    double lg = safe_log(grad_norm);
    if (o->t == 1) r->log_grad0 = lg;
    r->log_grad[o->t % (LR_SLOPE_SPAN + 1)] = lg;
    int back = o->t - 1 < LR_SLOPE_SPAN ? o->t - 1 : LR_SLOPE_SPAN;
    *rel = lg - r->log_grad0;
    *trend = lg - r->log_grad[(o->t - back) % (LR_SLOPE_SPAN + 1)];
}

/* The groups after the seven, in GROUPS' order, from obs[k]. */
static void group_features(lr_observer *o, const lr_observer_input *in, double *obs, double slope) {
    unsigned f = o->features;
    int k = LR_ENV_PAPER_OBS;
    double total = (double)in->total_steps, done = (double)in->step;
    double fraction = total > 0 ? done / total : 0.0;
    if (f & LR_FEAT_PROGRESS) {
        obs[k++] = fraction;
        obs[k++] = log1p(fmax(total - done, 0.0));
    }
    if (f & LR_FEAT_OFFSET) obs[k++] = in->offset;
    if (f & LR_FEAT_SLOPE) obs[k++] = slope;
    if (f & LR_FEAT_RELATIVE) obs[k++] = fraction;
    /* nothing trained yet at the first observation: "no change", as pred_change */
    if (f & LR_FEAT_UPDATE_RATIO)
        obs[k++] = o->t == 0 ? log(LR_ENV_LOG_EPS) : safe_log(in->update_ratio);
    if (f & LR_FEAT_GRAD_NORM) {
        grad_features(o, in->grad_norm, &obs[k], &obs[k + 1]);
        k += 2;
    }
    if (f & LR_FEAT_LOSS_SPREAD) obs[k++] = o->t == 0 ? 0.0 : in->loss_spread;
    if (f & LR_FEAT_GAP) obs[k++] = safe_log(in->val_loss) - safe_log(in->train_loss);
}

/* The rate's place within the controller's bounds, -1 at the lower and +1 at
 * the upper (LR_FEAT_POSITION): what an absolute action names, where the rate
 * relative to the run's start would tell the policy its start instead. */
static double lr_position(const lr_observer *o, double lr) {
    double width = o->log_lr_hi - o->log_lr_lo;
    if (!(width > 0)) return 0.0;
    return fmin(fmax(2.0 * (log(lr) - o->log_lr_lo) / width - 1.0, -1.0), 1.0);
}

void lr_observer_observe(lr_observer *o, const lr_observer_input *in, double *obs) {
    obs[LR_OBS_TRAIN_LOSS] = safe_log(in->train_loss);
    obs[LR_OBS_VAL_LOSS] = safe_log(in->val_loss);
    prediction_features(o, obs);
    double var = lr_env_variance(in->out_w, in->out_w_len, &obs[LR_OBS_W_MEAN]);
    obs[LR_OBS_W_LOGVAR] = log(var + LR_ENV_LOG_EPS);
    obs[LR_OBS_LOG_LR] = log(in->lr);
    if (o->t == 0) start_reference(o, in, obs);
    double slope = slope_feature(o, obs[LR_OBS_VAL_LOSS]);
    group_features(o, in, obs, slope);
    if (o->features & LR_FEAT_RELATIVE) relative_paper(o, obs);
    if (o->features & LR_FEAT_POSITION) obs[LR_OBS_LOG_LR] = lr_position(o, in->lr);
    float *t = o->prev;
    o->prev = o->cur;
    o->cur = t;
    o->t++;
}

void lr_observer_diverged(const lr_observer *o, double diverge_loss, double lr, double *obs) {
    int rel = (o->features & LR_FEAT_RELATIVE) != 0;
    obs[LR_OBS_TRAIN_LOSS] = log(diverge_loss) - (rel ? o->ref.log_val0 : 0.0);
    obs[LR_OBS_VAL_LOSS] = obs[LR_OBS_TRAIN_LOSS];
    obs[LR_OBS_LOG_LR] = o->features & LR_FEAT_POSITION ? lr_position(o, lr)
                                                        : log(lr) - (rel ? o->ref.log_lr0 : 0.0);
}
