#include "rl/controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int controller_act_parse(const char *text, controller_act *out) {
    out->k = 1;
    if (!strcmp(text, "mode")) out->kind = CONTROLLER_ACT_MODE;
    else if (!strcmp(text, "sample")) out->kind = CONTROLLER_ACT_SAMPLE;
    else if (!strncmp(text, "mean:", 5)) {
        char *end;
        long k = strtol(text + 5, &end, 10);
        if (end == text + 5 || *end || k < 1 || k > CONTROLLER_MAX_MEAN)
            return alrs_fail("--policy %s: mean:K wants K from 1 to %d", text, CONTROLLER_MAX_MEAN);
        out->kind = CONTROLLER_ACT_MEAN;
        out->k = (int)k;
    } else {
        return alrs_fail("--policy %s: expected mode, sample or mean:K", text);
    }
    return 0;
}

void controller_act_format(const controller_act *a, char *buf, int size) {
    if (a->kind == CONTROLLER_ACT_MEAN) snprintf(buf, (size_t)size, "mean:%d", a->k);
    else snprintf(buf, (size_t)size, "%s", a->kind == CONTROLLER_ACT_SAMPLE ? "sample" : "mode");
}

policy_config controller_policy_config(const lr_env_interface *iface) {
    int discrete = iface->action.kind == LR_ACTION_DISCRETE;
    return policy_config_default(lr_env_obs_size(iface->features),
                                 discrete ? POLICY_CATEGORICAL : POLICY_GAUSSIAN,
                                 lr_action_count(&iface->action));
}

/* The policy must read the interface's observation and emit its actions. */
static int check_fit(const lr_env_interface *iface, const policy_config *pc) {
    int obs = lr_env_obs_size(iface->features);
    if (pc->obs_size != obs)
        return alrs_fail("the policy reads %d features, the environment gives %d", pc->obs_size,
                         obs);
    int discrete = iface->action.kind == LR_ACTION_DISCRETE;
    if ((pc->dist == POLICY_CATEGORICAL) != discrete ||
        policy_action_width(pc) != (discrete ? lr_action_count(&iface->action) : 1))
        return alrs_fail("the policy has %d %s outputs, the %s actions need %d",
                         policy_action_width(pc),
                         pc->dist == POLICY_CATEGORICAL ? "discrete" : "Gaussian",
                         lr_action_kind_name(iface->action.kind), lr_action_count(&iface->action));
    return 0;
}

int controller_alloc(controller *c, const lr_env_interface *iface, const policy_config *pc,
                     int n_envs, double gamma) {
    memset(c, 0, sizeof *c);
    if (check_fit(iface, pc) != 0) return -1;
    c->iface = *iface;
    if (policy_alloc(&c->pol, pc) != 0) return -1;
    if (reward_scaler_init(&c->rewards, n_envs, gamma) != 0) {
        policy_free(&c->pol);
        return -1;
    }
    obs_normalizer_init(&c->obs_norm, pc->obs_size); /* obs_size was checked by policy_alloc */
    rl_adam_init(&c->adam, c->pol.n_params);
    return 0;
}

int controller_init(controller *c, const lr_env_interface *iface, const policy_config *pc,
                    int n_envs, double gamma, rng_stream *r) {
    if (controller_alloc(c, iface, pc, n_envs, gamma) != 0) return -1;
    policy_init_weights(&c->pol, r);
    if (lr_action_residual(&iface->action))
        policy_prefer(&c->pol, lr_action_keep(&iface->action), CONTROLLER_KEEP_BIAS);
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

double controller_decide(controller *c, const double *raw, const controller_act *how,
                         rng_stream *r, double *action) {
    double obs[LR_ENV_MAX_OBS], a, logp;
    controller_observe(c, raw, 1, 0, obs);
    if (how->kind == CONTROLLER_ACT_MODE) {
        policy_mode(&c->pol, obs, 1, action);
        return lr_action_effect(&c->iface.action, *action);
    }
    double sum = 0;
    for (int k = 0; k < how->k; k++) {
        policy_act(&c->pol, obs, 1, r, &a, &logp, NULL);
        if (k == 0) *action = a;
        sum += lr_action_effect(&c->iface.action, a);
    }
    return sum / how->k;
}

int controller_update(controller *c, const ppo_config *cfg, const rollout_buffer *b, rng_stream *r,
                      ppo_stats *out) {
    if (ppo_update(&c->pol, &c->adam, cfg, b, r, out) != 0) return -1;
    c->updates++;
    return 0;
}
