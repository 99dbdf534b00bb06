#include "rl/controller.h"

#include <string.h>

int controller_alloc(controller *c, const policy_config *pc, int n_envs, double gamma) {
    memset(c, 0, sizeof *c);
    if (policy_alloc(&c->pol, pc) != 0) return -1;
    if (reward_scaler_init(&c->rewards, n_envs, gamma) != 0) {
        policy_free(&c->pol);
        return -1;
    }
    obs_normalizer_init(&c->obs_norm, pc->obs_size); /* obs_size was checked by policy_alloc */
    rl_adam_init(&c->adam, c->pol.n_params);
    return 0;
}

int controller_init(controller *c, const policy_config *pc, int n_envs, double gamma,
                    rng_stream *r) {
    if (controller_alloc(c, pc, n_envs, gamma) != 0) return -1;
    policy_init_weights(&c->pol, r);
    return 0;
}

void controller_free(controller *c) {
    policy_free(&c->pol);
    rl_adam_free(&c->adam);
    obs_normalizer_free(&c->obs_norm);
    reward_scaler_free(&c->rewards);
    memset(c, 0, sizeof *c);
}

void controller_observe(controller *c, const double *raw, int n, int learn, double *out) {
    if (learn) obs_normalizer_update(&c->obs_norm, raw, n);
    obs_normalizer_apply(&c->obs_norm, raw, n, out);
}

int controller_update(controller *c, const ppo_config *cfg, const rollout *b, rng_stream *r,
                      ppo_stats *out) {
    if (ppo_update(&c->pol, &c->adam, cfg, b, r, out) != 0) return -1;
    c->updates++;
    return 0;
}
