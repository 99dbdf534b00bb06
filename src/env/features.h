/* The controller's observation, computed from what any training loop has:
 * the training and validation losses, the validation set's softmax
 * probabilities, the output layer's weights, the rate and where the run
 * stands. The environment (env/lr_env.c) and the public library (a
 * controller driving someone else's training) both call lr_observer_observe,
 * so the two cannot compute a feature differently. The features themselves
 * are listed in env/lr_env.h. */
#ifndef ALRS_ENV_FEATURES_H
#define ALRS_ENV_FEATURES_H

#include <stddef.h>

/* The paper's seven features, always present, at these indices. */
#define LR_ENV_PAPER_OBS 7
enum {
    LR_OBS_TRAIN_LOSS = 0,
    LR_OBS_VAL_LOSS = 1,
    LR_OBS_PRED_VAR = 2,
    LR_OBS_PRED_CHANGE = 3,
    LR_OBS_W_MEAN = 4,
    LR_OBS_W_LOGVAR = 5,
    LR_OBS_LOG_LR = 6
};
/* Optional feature groups (bits), in the order they follow the seven
 * (env/lr_env.h lists what each holds). RELATIVE also rewrites the seven in
 * scale-free form. */
enum {
    LR_FEAT_PROGRESS = 1,
    LR_FEAT_OFFSET = 2,
    LR_FEAT_SLOPE = 4,
    LR_FEAT_RELATIVE = 8,
    LR_FEAT_UPDATE_RATIO = 16,
    LR_FEAT_GRAD_NORM = 32,
    LR_FEAT_LOSS_SPREAD = 64,
    LR_FEAT_GAP = 128,
    LR_FEAT_POSITION = 256
};
#define LR_FEAT_ALL 511u /* every known bit */
/* What --features all names: the groups before the scale-free ones, so that
 * a command (and a committed result) that named "all" means what it did. */
#define LR_FEAT_ALL_NAMED (LR_FEAT_PROGRESS | LR_FEAT_OFFSET | LR_FEAT_SLOPE)
/* The groups that need what a run measures between observations (the
 * parameters' change, the gradients, every batch's loss): the environment
 * has them; a library session takes them from its caller (alrs_run_stats,
 * docs/API.md). */
#define LR_FEAT_ENV_ONLY (LR_FEAT_UPDATE_RATIO | LR_FEAT_GRAD_NORM | LR_FEAT_LOSS_SPREAD)
/* The groups with state beyond the paper's (saved with an episode). */
#define LR_FEAT_REFERENCED (LR_FEAT_RELATIVE | LR_FEAT_GRAD_NORM)
/* The longest observation: the paper's seven and every group. */
#define LR_ENV_MAX_OBS 17
/* Agent steps the slope feature looks back over. */
#define LR_SLOPE_SPAN 5

/* The smoothing of the two prediction-variance features, and the floor added
 * to a variance before its log (both from the authors' code). */
#define LR_ENV_EMA_DECAY 0.8
#define LR_ENV_LOG_EPS 1e-10

/* Values per observation for a set of feature groups. */
int lr_env_obs_size(unsigned features);
/* "paper,progress,offset,slope,relative,update-ratio,grad-norm,loss-spread,
 * gap" -> feature bits ("paper", the seven, may be named or not; "all" is
 * progress,offset,slope: LR_FEAT_ALL_NAMED); -1 with a message naming
 * --features. */
int lr_env_features_parse(const char *text, unsigned *out);
/* The groups as text, "paper" first: "paper,progress". */
void lr_env_features_format(unsigned features, char *buf, int size);

/* The name of observation value k for a set of feature groups ("val_loss",
 * "progress", ...): CSV column names. */
const char *lr_env_feature_name(unsigned features, int k);

/* What one observation is made of. */
typedef struct {
    double train_loss;   /* mean training loss since the last observation
                            (at the first: the validation loss stands in) */
    double val_loss;
    const float *out_w;  /* the output layer's weights (not its bias) */
    size_t out_w_len;
    double lr;           /* the rate of the last training step (or the first one's) */
    double offset;       /* residual offset c, or log(rate / initial rate) */
    long step, total_steps; /* child steps done, and in the whole run */
    /* What only the environment has (LR_FEAT_ENV_ONLY); 0 at the first
     * observation, before any training: */
    double update_ratio; /* ||params now - params at the last observation|| / ||those||
                            (lr_env_update_ratio) */
    double grad_norm;    /* mean gradient norm over the steps since the last observation */
    double loss_spread;  /* std / mean of their batch losses (lr_env_spread) */
} lr_observer_input;

/* What the scale-free features are measured against: the run's first
 * observation (and, for the gradient norm, its first chunk). */
typedef struct {
    double log_val0;     /* log val loss of the fresh network */
    double w_std0, log_w_var0; /* the output layer's weights then */
    double log_lr0;      /* log rate of the first step */
    double log_grad0;    /* log mean gradient norm of the first chunk */
    double log_grad[LR_SLOPE_SPAN + 1]; /* of the last observations, a ring */
} lr_observer_ref;

/* The state the features carry from one observation to the next: the last
 * probabilities (for their change), the two EMAs and the recent validation
 * losses. */
typedef struct {
    unsigned features;
    int obs_size;
    size_t n_probs;      /* validation images x classes */
    float *cur, *prev;   /* this observation's and the previous one's probabilities */
    int t;               /* observations since lr_observer_start (the first is 0) */
    double pred_ema, change_ema;
    double log_val[LR_SLOPE_SPAN + 1]; /* log val loss of the last observations, a ring */
    double log_lr_lo, log_lr_hi; /* the controller's bounds (LR_FEAT_POSITION) */
    lr_observer_ref ref;
} lr_observer;

/* -1 with a message when n_probs is 0 or the features are unknown; the rate
 * stays within [lr_min, lr_max] (the controller's bounds). */
int lr_observer_init(lr_observer *o, unsigned features, size_t n_probs, double lr_min,
                     double lr_max);
void lr_observer_free(lr_observer *o);
/* Forgets the run: the next observation is a run's first. */
void lr_observer_start(lr_observer *o);
/* Where the caller writes the probabilities [n_probs] of the observation it
 * is about to make (the validation images in a fixed order every time). */
float *lr_observer_probs(lr_observer *o);
/* The observation [obs_size] from the input and the probabilities written
 * into lr_observer_probs; then those become the previous ones. */
void lr_observer_observe(lr_observer *o, const lr_observer_input *in, double *obs);

/* The observation of a step whose child diverged, from the previous one
 * (obs, updated in place): both losses at diverge_loss, the rate features
 * at lr; finite, and never bootstrapped from. */
void lr_observer_diverged(const lr_observer *o, double diverge_loss, double lr, double *obs);

/* ||now - before|| / ||before|| over n floats, in double (0 when before is 0). */
double lr_env_update_ratio(const float *now, const float *before, size_t n);
/* ||x||, in double. */
double lr_env_norm(const float *x, size_t n);
/* Population standard deviation over mean of n values (0 for n < 2 or a mean of 0). */
double lr_env_spread(const double *x, int n);

/* Population variance of n floats, in double (two passes: the mean, then the
 * squared deviations, which stays accurate when the variance is tiny next to
 * the mean, as for probabilities that barely changed). */
double lr_env_variance(const float *x, size_t n, double *mean_out);
/* Population variance of a[i] - b[i] over n entries. */
double lr_env_change_variance(const float *a, const float *b, size_t n);

#endif
