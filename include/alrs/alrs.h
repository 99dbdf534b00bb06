/* alrs, the library: a learned learning-rate controller in your own training
 * loop, and alrs's child-training environment for your own agents.
 *
 * Link with -lalrs (CMake: find_package(alrs) then alrs::alrs; pkg-config:
 * alrs). Every function that can fail returns an alrs_status; on failure
 * alrs_last_error() says what went wrong in one line (per thread, like errno).
 * Bad input never aborts the host process: a corrupt controller, a wrong
 * array size, a NaN loss or a call out of order each return an error.
 *
 * A controller in five calls (docs/API.md has the whole loop):
 *
 *   alrs_controller *c;  alrs_session *s;
 *   alrs_controller_open("controller.bin", &c);
 *   alrs_session_config cfg = {.initial_lr = 1e-2, .total_steps = 1000, .n_probs = 2000 * 10};
 *   alrs_session_create(c, &cfg, &s);
 *   alrs_session_observe(s, &obs);        at step 0, then every action_every steps
 *   alrs_session_rate(s, step, &lr);      the rate of each training step
 *
 * The observation features are computed inside the library by the same code
 * as alrs's own environment, so a controller sees in your loop exactly what
 * it saw while it learned. */
#ifndef ALRS_ALRS_H
#define ALRS_ALRS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALRS_VERSION_MAJOR 1
#define ALRS_VERSION_MINOR 2
#define ALRS_VERSION_PATCH 0

#if defined(__GNUC__)
#define ALRS_API __attribute__((visibility("default")))
#else
#define ALRS_API
#endif

typedef enum {
    ALRS_OK = 0,
    ALRS_E_ARGUMENT = 1, /* a NULL pointer, a wrong array size, a value out of range */
    ALRS_E_FILE = 2,     /* a file that cannot be read, or is not what it should be */
    ALRS_E_ORDER = 3,    /* a call out of order (a rate before the first observation, ...) */
    ALRS_E_VALUE = 4,    /* a NaN or infinite loss or probability */
    ALRS_E_FAILED = 5    /* anything else (a network that cannot be built, ...) */
} alrs_status;

/* "1.2.1 (git 1a2b3c4)": the library's version and the commit it was built from. */
ALRS_API const char *alrs_version(void);
/* The last failure's message on this thread ("" when none). */
ALRS_API const char *alrs_last_error(void);
/* "ok", "bad argument", "file", "call out of order", "bad value", "failed". */
ALRS_API const char *alrs_status_name(alrs_status s);

/* ---- controllers ---------------------------------------------------------- */

typedef struct alrs_controller alrs_controller;

/* What a controller observes and what its actions do (docs/CONTROLLER_FORMAT.md). */
typedef struct {
    int format_version;       /* of the file it was read from */
    int n_features;           /* values per observation */
    char features[64];        /* "paper,progress,offset" */
    char action_kind[16];     /* "discrete", "continuous" or "absolute" */
    int n_actions;            /* discrete: the number of factors; else 1 */
    double factors[16];       /* discrete: the factor of each action */
    double delta;             /* continuous: a step moves by [1/(1+delta), 1+delta] */
    char base[256];           /* residual mode's base schedule, "" in plain mode */
    double residual_range;    /* residual: exp(c) within [1/R, R] */
    double lr_min, lr_max;    /* the rate always stays within */
    int action_every;         /* training steps per action while it learned */
    long steps;               /* training steps per run while it learned (0: unknown) */
    long updates;             /* PPO updates it had */
} alrs_controller_info;

/* What a controller learned on (a controller file of format 3 on; from an
 * older file every field is empty: "" and 0). */
typedef struct {
    char model[64];           /* "lenet5", "mlp --hidden 32,16" */
    char optimizer[64];       /* "adam", ... */
    char dataset[64];         /* "fashion-mnist", ... */
    int n_rates;              /* the initial rates its episodes started from */
    double rates[8];
    long val_size;            /* validation images per observation */
    int classes;              /* of the data set: n_probs = val_size x classes */
    char tasks[1024];         /* free text: the tasks it learned on ("" when not given) */
    double default_lr;        /* a suggested initial rate (0 when not given) */
} alrs_controller_origin;

ALRS_API alrs_status alrs_controller_open(const char *path, alrs_controller **out);
ALRS_API void alrs_controller_close(alrs_controller *c);
ALRS_API alrs_status alrs_controller_describe(const alrs_controller *c, alrs_controller_info *info);
ALRS_API alrs_status alrs_controller_learned_on(const alrs_controller *c,
                                                alrs_controller_origin *origin);

/* ---- a controller driving one training run --------------------------------- */

typedef struct alrs_session alrs_session;

typedef struct {
    double initial_lr;        /* the initial rate (the base schedule's rate in residual mode),
                                 within the controller's [lr_min, lr_max] */
    long total_steps;         /* training steps of the run */
    size_t n_probs;           /* values in each observation's probabilities:
                                 validation images x classes */
    const char *policy;       /* "mode" (NULL means mode), "sample" or "mean:K" */
    unsigned long long seed;  /* the stream "sample" and "mean:K" draw from; alrs train
                                 uses the run's --seed */
} alrs_session_config;

/* What a training loop has at an observation. */
typedef struct {
    long step;                /* training steps done: 0 at the first observation (the
                                 fresh network), then every action_every steps (and
                                 total_steps at the end); other steps are refused */
    double train_loss;        /* mean training loss since the last observation
                                 (ignored at the first: the validation loss stands in) */
    double val_loss;          /* mean loss on the validation images */
    const float *probs;       /* softmax probabilities [n_probs]: the same validation
                                 images in the same order every time, row by row; each
                                 in [0, 1], each row summing to 1 within 0.001 */
    size_t n_probs;
    const float *out_weights; /* the output layer's weights (not its bias), any order;
                                 finite */
    size_t n_out_weights;
} alrs_observation;

/* What a training loop measured between two observations, for a controller
 * that observes it (alrs_controller_run_stats says which fields; alrs's own
 * environment measures the same each step of a run). */
typedef struct {
    size_t n_steps;              /* training steps since the last observation: this
                                    observation's step minus the last one's */
    const double *batch_losses;  /* [n_steps] each step's training-batch loss, in order
                                    (loss-spread; NULL when not needed) */
    const double *grad_norms;    /* [n_steps] each step's L2 norm of the gradients of all
                                    trained parameters, before the optimizer used them
                                    (grad-norm; NULL when not needed) */
    double update_ratio;         /* |w - w_last| / |w_last| over all trained parameters,
                                    w_last at the last observation (update-ratio; for
                                    schedule-free optimizers w is the point the gradients
                                    are taken at) */
} alrs_run_stats;

/* Which of alrs_run_stats a controller observes: a bitwise or of these (0: none,
 * alrs_session_observe is all it needs). */
enum {
    ALRS_RUN_BATCH_LOSSES = 1,
    ALRS_RUN_GRAD_NORMS = 2,
    ALRS_RUN_UPDATE_RATIO = 4,
};
ALRS_API unsigned alrs_controller_run_stats(const alrs_controller *c);

ALRS_API alrs_status alrs_session_create(const alrs_controller *c, const alrs_session_config *cfg,
                                         alrs_session **out);
ALRS_API void alrs_session_free(alrs_session *s);
/* Takes an observation and decides the action for the steps that follow it.
 * Steps must increase; the first observation is at step 0. */
ALRS_API alrs_status alrs_session_observe(alrs_session *s, const alrs_observation *o);
/* The same with what the loop measured since the last observation (run may be
 * NULL at the first observation, and for a controller whose
 * alrs_controller_run_stats is 0); the fields it names are checked (finite,
 * not negative, n_steps the steps since the last observation). */
ALRS_API alrs_status alrs_session_observe_run(alrs_session *s, const alrs_observation *o,
                                              const alrs_run_stats *run);
/* The rate of training step `step` (0-based), which must lie at or after the
 * last observation's step and before total_steps. */
ALRS_API alrs_status alrs_session_rate(const alrs_session *s, long step, double *lr);
/* The last observation's raw features [n] (n = the controller's n_features). */
ALRS_API alrs_status alrs_session_features(const alrs_session *s, double *out, size_t n);
/* A session's state as bytes, for a training run's checkpoint: the size, then
 * the bytes; restore puts them into a session made with the same controller
 * and config (in the same build of the library: the bytes are not a file
 * format). The state carries the controller file's checksum: a state of
 * another controller is refused (ALRS_E_ARGUMENT). */
ALRS_API size_t alrs_session_state_size(const alrs_session *s);
ALRS_API alrs_status alrs_session_save(const alrs_session *s, void *buf, size_t size);
ALRS_API alrs_status alrs_session_restore(alrs_session *s, const void *buf, size_t size);

/* ---- the environment, for other agents ------------------------------------- */

typedef struct alrs_env alrs_env;

typedef struct {
    int obs_size;             /* values per observation */
    int n_actions;            /* discrete actions, or 0 for one real-valued action */
    int max_steps;            /* agent steps per episode (then truncated) */
    int action_every;         /* training steps per agent step */
} alrs_env_info;

/* What the last step (or reset) did to the child run. */
typedef struct {
    long child_steps;         /* training steps done */
    double lr;                /* the rate of the last training step */
    double train_loss, val_loss, val_acc; /* NaN where not measured */
    int diverged;
} alrs_env_state;

/* An environment from the flags of `alrs learn` (the child run, the
 * controller's task and the reward), e.g. "--model mlp --steps 500
 * --val-size 1000 --features paper,progress --lr 1e-3"; --threads N sets its
 * OpenMP threads. */
ALRS_API alrs_status alrs_env_create(const char *flags, alrs_env **out);
ALRS_API void alrs_env_free(alrs_env *e);
ALRS_API alrs_status alrs_env_describe(const alrs_env *e, alrs_env_info *info);
/* The name of observation value k ("log_val_loss", "progress", ...); NULL out of range. */
ALRS_API const char *alrs_env_feature_name(const alrs_env *e, int k);
/* A new episode: the child network seeded `seed` (the weights and batch order
 * of `alrs train --seed SEED`), validated; its observation into obs [n]. */
ALRS_API alrs_status alrs_env_reset(alrs_env *e, unsigned long long seed, double *obs, size_t n);
/* One agent step: a discrete action's index (as a double) or a real value. */
ALRS_API alrs_status alrs_env_step(alrs_env *e, double action, double *obs, size_t n,
                                   double *reward, int *terminated, int *truncated);
ALRS_API alrs_status alrs_env_state_get(const alrs_env *e, alrs_env_state *state);
/* The test set's loss and accuracy at the episode's best validation point. */
ALRS_API alrs_status alrs_env_test(alrs_env *e, double *loss, double *acc);

#ifdef __cplusplus
}
#endif

#endif
