/* The controller's actor-critic: an actor MLP and a separate critic MLP over
 * the same (normalised) observation, and, for continuous actions, one
 * state-independent learned log standard deviation.
 *
 * All parameters sit in ONE flat buffer, views in this order:
 *     [ actor (mlp layout) | critic (mlp layout) | log_std (1 double, continuous only) ]
 * with a gradient buffer of the same layout, so Adam, the global gradient-norm
 * clip and the checkpoint each work on a single array.
 *
 * Actions are stored as one double per step, whatever the distribution:
 *   categorical  a in {0, ..., n_actions-1}: a softmax over n_actions logits;
 *   gaussian     u in R, drawn from N(mean(obs), exp(log_std)^2). u itself is
 *                the recorded action (its log-probability is that of the
 *                Gaussian).
 * What an action does to the learning rate is the environment's business
 * (env/lr_action.h); the policy only knows how many actions there are.
 *
 * Who calls what:
 *   rollouts:   policy_act (sample; log-prob and value recorded in the rollout
 *               buffer), policy_value (bootstrap values of the last / truncated
 *               observations)
 *   deployment: policy_mode (argmax / mean), or policy_act (sampling)
 *   PPO update: policy_evaluate (log-prob, entropy, value of stored actions;
 *               keeps what backward needs) -> policy_backward (accumulates
 *               gradients)
 *
 * A policy keeps a workspace for its batched calls, so it is used by one
 * thread at a time: the rollout engine gathers all environments' observations
 * and makes one call for the batch. */
#ifndef ALRS_RL_POLICY_H
#define ALRS_RL_POLICY_H

#include <stddef.h>

#include "core/rng.h"
#include "rl/mlp.h"

typedef enum { POLICY_CATEGORICAL = 0, POLICY_GAUSSIAN = 1 } policy_dist;

#define POLICY_MAX_ACTIONS 16

typedef struct {
    int obs_size;
    policy_dist dist;
    int n_actions;           /* categorical: 2..POLICY_MAX_ACTIONS; gaussian: 1 */
    int n_hidden;            /* actor and critic share the shape: obs -> hidden... -> out */
    int hidden[MLP_MAX_HIDDEN];
    mlp_activation act;
    double init_log_std;     /* continuous: log 0.5 */
} policy_config;

typedef struct {
    policy_config cfg;
    size_t n_params;
    double *params, *grads;  /* the flat buffers */
    mlp actor, critic;       /* views */
    double *log_std, *log_std_grad; /* views; NULL for discrete */
    /* workspace for batched calls, grown on demand */
    int cap;
    mlp_tape actor_tape, critic_tape;
    double *out, *dout;      /* actor output and its gradient, [cap][n_out] */
    double *val, *dval;      /* critic output and its gradient, [cap] */
    const double *eval_action; /* actions of the last policy_evaluate (caller's memory) */
} policy;

/* Defaults: obs -> 32 -> 32 tanh, log_std log 0.5; n_actions is ignored
 * (taken as 1) for a Gaussian. */
policy_config policy_config_default(int obs_size, policy_dist dist, int n_actions);
int policy_config_check(const policy_config *c);
/* Actor output width: n_actions logits or 1 mean. */
int policy_action_width(const policy_config *c);
/* Doubles in the flat parameter buffer for this config. */
size_t policy_param_count(const policy_config *c);

/* Allocates the buffers and initialises them orthogonally (hidden gain sqrt 2,
 * actor output 0.01, critic output 1, biases 0, log_std = init_log_std) from r.
 * -1 with a message for a bad config. */
int policy_init(policy *p, const policy_config *c, rng_stream *r);
/* As policy_init without drawing any weights (zeros): for loading a checkpoint. */
int policy_alloc(policy *p, const policy_config *c);
/* The initialisation of policy_init on allocated buffers. */
void policy_init_weights(policy *p, rng_stream *r);
/* Makes the actor's mode `action` for every observation, whatever its
 * hidden layers compute: the output layer's weights become 0, its biases 0
 * but `bias` on that logit (categorical), or 0 (Gaussian: the mean is then 0
 * exactly; `action` and `bias` are ignored). The hidden layers keep their
 * random weights and start learning once the output weights move. A residual
 * controller starts this way: its untrained policy keeps its base schedule. */
void policy_prefer(policy *p, int action, double bias);
void policy_free(policy *p);

/* Samples one action for each of n observations obs [n][obs_size]; row i
 * draws from r[i] (one stream per environment, so the draws do not depend on
 * how the environments are batched). Writes action[n], logp[n], value[n]
 * (value may be NULL). */
void policy_act(policy *p, const double *obs, int n, rng_stream *r, double *action, double *logp,
                double *value);
/* The deterministic action: argmax of the logits (the first of equals), or
 * the mean. */
void policy_mode(policy *p, const double *obs, int n, double *action);
/* The critic's value of each observation. */
void policy_value(policy *p, const double *obs, int n, double *value);

/* Log-probability, entropy and value of given actions (any of the outputs
 * may be NULL); remembers obs activations and the action pointer for
 * policy_backward, so `action` must stay unchanged until then. */
void policy_evaluate(policy *p, const double *obs, const double *action, int n, double *logp,
                     double *entropy, double *value);
/* Adds to p->grads the gradient of  sum_i dlogp[i] logp_i + dentropy[i] H_i
 * + dvalue[i] V_i  for the batch of the last policy_evaluate. Any of the three
 * may be NULL (taken as zero). */
void policy_backward(policy *p, const double *dlogp, const double *dentropy, const double *dvalue);
/* Zeroes the gradient buffer. */
void policy_zero_grad(policy *p);

#endif
