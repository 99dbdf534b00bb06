/* The learning-rate environment: one episode is one child training run.
 *
 * Every `action_every` child steps the agent picks an action; the environment
 * turns it into a change of the rate (env/lr_action.h: plain or residual
 * mode), applies the optional relative noise and the bounds, trains
 * `action_every` steps, validates (inference mode, the first val_size images
 * of the validation split), and returns the observation and the reward. The
 * test split is never touched here: reports call child_run_test(&env->child,
 * 1, ...) after an episode, before the next reset.
 *
 * Episode t of a run seeded `seed` draws everything from streams of
 *     episode seed  s = first number of rng_make(seed, t)
 *     stream 0 of s: initial weights        stream 1 of s: batch order
 *     stream 2 of s: initial rate           stream 3 of s: rate noise
 *     stream 4 of s: the task (a multi-task run, lr_env_config.tasks)
 *     stream 5 of s: the hidden rate scale (lr_env_config.lr_hidden_scale)
 * so an episode is the same whatever thread runs it and whatever ran before;
 * a fixed initial rate or zero noise leaves the other streams unchanged. The
 * child_config's own seed is not used.
 *
 * Multi-task (alrs learn --tasks): each episode draws one of n_tasks tasks
 * (uniformly, from stream 4), and an environment whose child was built for
 * another task rebuilds it (network, optimizer, batch, steps) on the drawn
 * task's data set, which every environment shares read-only. Every task acts
 * at the same action_every, so an agent step means the same on each.
 *
 * Observation (raw doubles; the controller normalises them). The paper's
 * seven come first, always; the groups of `features` follow in this order.
 * log(x) below means log(max(x, 1e-10)), so that every feature is finite:
 *   [0] LR_OBS_TRAIN_LOSS   log of the mean training loss of the last
 *                           action_every steps. At reset (no training yet):
 *                           log of the fresh network's validation loss.
 *   [1] LR_OBS_VAL_LOSS     log of the validation loss.
 *   [2] LR_OBS_PRED_VAR     EMA (decay 0.8) of log(Var(P) + 1e-10), P the
 *                           val_size x classes softmax probabilities, the
 *                           variance taken over all val_size*classes entries
 *                           (np.var of the authors' code). At reset the EMA
 *                           starts at the fresh network's value.
 *   [3] LR_OBS_PRED_CHANGE  EMA (decay 0.8) of log(Var(P_t - P_{t-1}) + 1e-10):
 *                           the change of the same images' probabilities (same
 *                           order) since the previous agent step. At reset
 *                           there is no previous prediction: the feature is
 *                           log(1e-10) (no change yet), and the EMA starts at
 *                           the first real value, after agent step 1.
 *   [4] LR_OBS_W_MEAN       mean of the output layer's weights (not its bias).
 *   [5] LR_OBS_W_LOGVAR     log(Var(output layer's weights) + 1e-10).
 *   [6] LR_OBS_LOG_LR       log of the current learning rate: the rate of the
 *                           last child step (at reset, of the first one).
 *   LR_FEAT_PROGRESS (2):   s/T and log(1 + T - s), s the child steps done and
 *                           T the episode's steps: a fixed-horizon task is
 *                           not Markov without the time left (Pardo et al.,
 *                           "Time limits in reinforcement learning", 2018).
 *   LR_FEAT_OFFSET (1):     where the actions have moved the rate: c in
 *                           residual mode, log(rate) - log(initial rate)
 *                           otherwise.
 *   LR_FEAT_SLOPE (1):      log val loss now minus LR_SLOPE_SPAN agent steps
 *                           ago (fewer at the start; 0 at reset): is the loss
 *                           still falling?
 *   LR_FEAT_RELATIVE (1):   s/T; and the seven above, in place, made scale-free
 *                           so that they mean the same on every task: [0], [1]
 *                           minus log of the fresh network's validation loss
 *                           (a log ratio; the library can compute it, where a
 *                           class count it is not told could not), [4] over
 *                           the output weights' initial standard deviation,
 *                           [5] minus their initial log variance, [6] minus
 *                           log of the first step's rate. [2], [3] are
 *                           statistics of probabilities and stay as they are.
 *   LR_FEAT_UPDATE_RATIO (1): log(||theta - theta'|| / ||theta'||), theta' the
 *                           parameters at the previous observation (the
 *                           training iterate: y for schedule-free); at reset
 *                           log(1e-10), "no change yet", as [3].
 *   LR_FEAT_GRAD_NORM (2):  log of the chunk's mean gradient norm minus that
 *                           of the first chunk, and its change over the last
 *                           LR_SLOPE_SPAN agent steps; both 0 at reset.
 *   LR_FEAT_LOSS_SPREAD (1): population std / mean of the chunk's batch
 *                           losses; 0 at reset.
 *   LR_FEAT_GAP (1):        log val loss minus log train loss (0 at reset).
 *   LR_FEAT_POSITION (0):   [6] replaced, in place, by the rate's place within
 *                           the bounds: 2 (log rate - log lr_min) / (log lr_max
 *                           - log lr_min) - 1, in [-1, 1]. For absolute
 *                           actions, which name that place: the rate relative
 *                           to the start would tell the policy its start.
 * UPDATE_RATIO, GRAD_NORM and LOSS_SPREAD need what a run measures between
 * observations (LR_FEAT_ENV_ONLY): a library session takes them from its
 * caller (alrs_session_observe_run).
 *
 * Reward (per agent step), by lr_env_config.reward:
 *   LR_REWARD_VAL_LOSS  -validation loss (the paper; its code adds 2).
 *   LR_REWARD_LOG_DELTA log(previous val loss) - log(val loss): positive when
 *                       the loss falls; the return telescopes to
 *                       log(val loss at reset) - log(final val loss), so with
 *                       gamma 1 it ranks episodes by their final loss alone.
 *   LR_REWARD_FINAL     0, and -final validation loss at the last step.
 *
 * Divergence: a training loss (any single step) or validation loss that is
 * NaN, infinite or above `diverge_loss` (CHILD_DIVERGENCE_LOSS) ends the episode at
 * once: terminated = 1, and the episode's stats say diverged. The penalty is
 * the reward the episode would still have earned had the network sat at
 * validation loss `penalty_loss` (default 5, about twice ln 10, the loss of a
 * uniform guess over 10 classes) from this agent step to the last one:
 *   VAL_LOSS   -penalty_loss * (agent steps left, this one included)
 *   LOG_DELTA  log(previous val loss) - log(penalty_loss)
 *   FINAL      -penalty_loss
 * A flat penalty (say -10) would pay an agent to diverge early: 95 further
 * steps at -0.3 each cost more than -10. With this penalty, diverging never
 * beats finishing the episode at any validation loss below penalty_loss. The
 * observation returned with a diverged step is the previous one with both
 * loss features set to log(diverge_loss) (relative: over the first loss) and
 * the rate features updated:
 * finite, and never bootstrapped from (the step is terminated). */
#ifndef ALRS_ENV_LR_ENV_H
#define ALRS_ENV_LR_ENV_H

#include <stdint.h>

#include "core/rng.h"
#include "data/dataset.h"
#include "env/features.h"
#include "env/lr_action.h"
#include "env/lr_control.h"
#include "child/child.h"

/* Initial rates an episode may draw from (lr_env_config.initial_rates). */
#define LR_ENV_MAX_INITIAL 8

/* One task of a multi-task run: a child run on its data set. */
typedef struct {
    const char *name;
    child_config child;    /* its seed is ignored, as lr_env_config.child's */
    int steps;             /* child steps per episode */
    const dataset *data;   /* shared by every environment, never written */
} lr_env_task;

typedef enum { LR_REWARD_VAL_LOSS = 0, LR_REWARD_LOG_DELTA = 1, LR_REWARD_FINAL = 2 } lr_reward_kind;

typedef struct {
    child_config child;    /* the child run (its seed is ignored: see above) */
    int steps;             /* child steps per episode: 1000 */
    int action_every;      /* child steps per agent step: 10 (a shorter last
                              chunk when it does not divide steps) */
    lr_action_config action; /* discrete x1.05, /1.05, keep (env/lr_action.h) */
    unsigned features;     /* LR_FEAT_* groups after the paper's seven: none */
    double lr_fixed;       /* initial rate; 0 draws it per episode from
                              initial_rates (stream 2) */
    int n_initial;         /* the rates drawn from: the paper's {1e-2, 1e-3, 1e-4} */
    double initial_rates[LR_ENV_MAX_INITIAL];
    int initial_log_uniform; /* 1: drawn log-uniformly between initial_rates[0]
                              and initial_rates[1] instead (n_initial 2) */
    const lr_env_task *tasks; /* n_tasks > 0: each episode draws one of them
                              (child and steps above are then the one an
                              environment holds); NULL, 0: child and steps */
    int n_tasks;
    double lr_min, lr_max; /* bounds, always applied (also to the initial
                              rate): 1e-6, 1.0 */
    double lr_noise;       /* relative noise: each agent step x += lr_noise
                              N(0,1) (stream 3); 0 = off (default) */
    double lr_hidden_scale;/* R > 1: the child trains at the controller's rate
                              times s, drawn per episode log-uniformly from
                              [1/R, R] (stream 5) and never observed, so that
                              the same rate is too high in one episode and too
                              low in another and only the run itself tells
                              which (learning only); 1 = off (default) */
    lr_reward_kind reward; /* LR_REWARD_VAL_LOSS */
    double diverge_loss;   /* loss bound of a diverged child: CHILD_DIVERGENCE_LOSS */
    double penalty_loss;   /* validation loss the penalty assumes: 5 */
} lr_env_config;

/* What a controller needs of the environment it learned in to act again in
 * another one: its checkpoint keeps this, and run/trainer restores it. */
typedef struct {
    unsigned features;
    lr_action_config action;
    double lr_min, lr_max;
    int action_every;      /* child steps per action while learning */
    long steps;            /* child steps per episode while learning (0: unknown) */
} lr_env_interface;

/* What one episode did: the traces hold one entry per agent step taken. */
typedef struct {
    uint64_t seed;         /* the episode's seed (see above) */
    long episode;          /* the episode index passed to lr_env_reset */
    double initial_lr;     /* after the bounds */
    double lr_scale;       /* the hidden scale the child's rate was multiplied by (1: off) */
    int task;              /* index into lr_env_config.tasks; -1 without tasks */
    int agent_steps;       /* agent steps taken */
    int obs_size;          /* values per observation in `obs` */
    long child_steps;      /* training steps taken */
    const double *lr;      /* [agent_steps] rate of the agent step's last child step */
    const double *val_loss;/* [agent_steps] val loss after agent step t (NaN
                              at a diverged step: not measured) */
    const double *val_acc; /* [agent_steps] validation accuracy (NaN where diverged) */
    const double *train_loss; /* [agent_steps] mean training loss of the chunk */
    const double *action;  /* [agent_steps] the action taken at agent step t */
    const double *reward;  /* [agent_steps] its raw reward */
    const double *obs;     /* [agent_steps + 1][obs_size] the raw observations:
                              row t is what the agent saw before step t */
    double initial_val_loss; /* the fresh network's */
    double final_val_loss; /* after the last agent step; NaN if diverged */
    double best_val_loss;  /* best over the episode (reset included) */
    long best_step;        /* child step of the best (0: the fresh network) */
    int diverged;          /* ended by divergence */
    int done;              /* terminated or truncated */
    double total_reward;   /* undiscounted sum of the rewards */
    double wall_s;         /* seconds from reset to the last step */
} lr_env_episode;

typedef struct {
    lr_env_config cfg;
    child_run child;       /* reused across episodes (rebuilt for another task) */
    int task;              /* the task the child is built for; -1 without tasks */
    int n_agent;           /* agent steps per episode (of the task held) */
    int max_agent;         /* the traces' room: the longest task's agent steps */
    int obs_size;          /* lr_env_obs_size(cfg.features) */
    lr_observer observer;  /* computes the observations */
    double *trace_lr, *trace_val, *trace_acc, *trace_train, *trace_action, *trace_reward;
    double *trace_obs;     /* [n_agent + 1][obs_size] */
    lr_control control;    /* the rate the actions set (env/lr_control.h) */
    double lr;             /* the rate of the last child step (before ep.lr_scale) */
    double prev_val_loss;
    double obs[LR_ENV_MAX_OBS]; /* the last observation */
    /* what only the environment sees (LR_FEAT_ENV_ONLY), gathered per chunk */
    float *prev_params;    /* [n_params] the parameters at the last observation */
    double *chunk_losses;  /* [action_every] the batch losses of the chunk */
    int chunk_n;           /* how many of them */
    double grad_norm_sum;  /* sum of the chunk's gradient norms */
    rng_stream noise;
    int t;                 /* agent steps done in this episode */
    double start_s;
    lr_env_episode ep;
} lr_env;

/* Defaults as listed above around `child`. */
lr_env_config lr_env_config_default(const child_config *child);
/* -1 with a message naming the value at fault. */
int lr_env_config_check(const lr_env_config *c);
/* The part of a configuration a controller keeps, and its restoration. */
lr_env_interface lr_env_interface_of(const lr_env_config *c);
void lr_env_config_adopt(lr_env_config *c, const lr_env_interface *i);
/* 1 if two interfaces describe the same observation and actions. */
int lr_env_interface_equal(const lr_env_interface *a, const lr_env_interface *b);

/* Agent steps of an episode of `steps` child steps; the most over the tasks
 * of a multi-task configuration (a rollout batch's length). */
int lr_env_agent_steps(const lr_env_config *c, long steps);
int lr_env_max_agent_steps(const lr_env_config *c);

/* Builds the child run once for the data set (which must outlive env); with
 * tasks, for the first task (data is then unused and may be NULL). -1 with a
 * message for a bad config or a child run that cannot be built. */
int lr_env_create(lr_env *env, const lr_env_config *cfg, const dataset *data);
void lr_env_free(lr_env *env);
/* Builds task k's child now, in place of the one held (a multi-task run
 * builds every task once before it starts, so that a child that cannot be
 * built stops it before anything is written; the next reset draws its task
 * as always). -1 with a message naming the task. */
int lr_env_hold_task(lr_env *env, int k);

/* Starts episode `episode` of the run seeded `seed`: new weights, batch
 * order, initial rate and noise stream (and task); validates the fresh
 * network and writes the first observation to obs_out [obs_size]. -1 with a
 * message naming the task when its child cannot be built (only a multi-task
 * run rebuilds a child here; otherwise it always returns 0). */
int lr_env_reset(lr_env *env, uint64_t seed, long episode, double *obs_out);

/* As lr_env_reset, with the episode seed given directly: the child is then
 * the one child_run_reset(ep_seed) makes, the same weights and batch order
 * that a schedule-driven run seeded ep_seed gets (alrs train, alrs compare
 * use this so that every schedule of a seed starts from the same network). */
int lr_env_start(lr_env *env, uint64_t ep_seed, long episode, double *obs_out);

/* One agent step: applies the action (lr_action_effect), then the noise and
 * the bounds, trains action_every steps (fewer at the end, or until
 * divergence), validates and writes the observation. terminated: diverged;
 * truncated: the last agent step. Calling it after the episode ended is a bug
 * (panics). */
void lr_env_step(lr_env *env, double action, double *obs_out, double *reward, int *terminated,
                 int *truncated);
/* The same with the action's effect given directly (the mean of several
 * sampled effects, --policy mean:K); `action` is only recorded. */
void lr_env_step_effect(lr_env *env, double action, double effect, double *obs_out,
                        double *reward, int *terminated, int *truncated);

/* An episode in progress, to go on later exactly where it was (alrs train
 * --resume of a controller run): the child, the rate control, the feature
 * state and the episode's record so far; then, only for controllers that
 * observe them, the scale-free references (LR_FEAT_REFERENCED) and the
 * parameters at the last observation (LR_FEAT_UPDATE_RATIO), so that an
 * episode without the newer groups is saved exactly as before them. Load expects an environment started
 * on the same seed (lr_env_start); -1 with a message naming `path`. */
void lr_env_save(const lr_env *env, byte_buf *out);
int lr_env_load(lr_env *env, byte_reader *in, const char *path);

/* The current (or just finished) episode's record; valid until the next reset. */
const lr_env_episode *lr_env_episode_record(const lr_env *env);

/* "val-loss", "log-delta", "final" <-> the reward kinds; -1 with a message
 * for an unknown name. */
int lr_reward_parse(const char *name, lr_reward_kind *out);
const char *lr_reward_name(lr_reward_kind k);

#endif
