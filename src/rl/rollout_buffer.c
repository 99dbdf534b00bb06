#include "rl/rollout_buffer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int rollout_buffer_init(rollout_buffer *b, int steps, int envs, int obs_size) {
    memset(b, 0, sizeof *b);
    if (steps < 1 || envs < 1 || obs_size < 1)
        return alrs_fail("rollout: %d steps x %d environments x %d observations: all must be positive",
                         steps, envs, obs_size);
    if ((double)steps * envs * obs_size > 1e9)
        return alrs_fail("rollout: %d steps x %d environments x %d observations is too large", steps,
                         envs, obs_size);
    size_t n = (size_t)steps * envs;
    b->steps = steps, b->envs = envs, b->obs_size = obs_size;
    b->obs = alrs_calloc(n * obs_size, sizeof(double));
    b->action = alrs_calloc(n, sizeof(double));
    b->logp = alrs_calloc(n, sizeof(double));
    b->value = alrs_calloc(n, sizeof(double));
    b->reward = alrs_calloc(n, sizeof(double));
    b->terminated = alrs_calloc(n, 1);
    b->truncated = alrs_calloc(n, 1);
    b->final_value = alrs_calloc(n, sizeof(double));
    b->advantage = alrs_calloc(n, sizeof(double));
    b->ret = alrs_calloc(n, sizeof(double));
    b->episode = alrs_calloc(n, sizeof(long));
    b->episode_step = alrs_calloc(n, sizeof(int));
    b->to_go = alrs_calloc(n, sizeof(double));
    return 0;
}

void rollout_buffer_free(rollout_buffer *b) {
    free(b->obs), free(b->action), free(b->logp), free(b->value), free(b->reward);
    free(b->terminated), free(b->truncated), free(b->final_value), free(b->advantage), free(b->ret);
    free(b->episode), free(b->episode_step), free(b->to_go);
    memset(b, 0, sizeof *b);
}

static void check_step(const rollout_buffer *b, int t) {
    if (t < 0 || t >= b->steps) alrs_panic("rollout: step %d outside 0..%d", t, b->steps - 1);
}

void rollout_buffer_record(rollout_buffer *b, int t, const double *obs, const double *action,
                           const double *logp, const double *value) {
    check_step(b, t);
    size_t i = (size_t)t * b->envs, E = (size_t)b->envs;
    memcpy(b->obs + i * b->obs_size, obs, sizeof(double) * E * b->obs_size);
    memcpy(b->action + i, action, sizeof(double) * E);
    memcpy(b->logp + i, logp, sizeof(double) * E);
    memcpy(b->value + i, value, sizeof(double) * E);
}

void rollout_buffer_outcome(rollout_buffer *b, int t, const double *reward,
                            const unsigned char *terminated, const unsigned char *truncated,
                            const double *final_value) {
    check_step(b, t);
    size_t i = (size_t)t * b->envs, E = (size_t)b->envs;
    memcpy(b->reward + i, reward, sizeof(double) * E);
    for (size_t e = 0; e < E; e++) {
        b->terminated[i + e] = terminated ? terminated[e] != 0 : 0;
        b->truncated[i + e] = truncated ? truncated[e] != 0 : 0;
        if (b->truncated[i + e] && !b->terminated[i + e] && !final_value)
            alrs_panic("rollout_buffer_outcome: truncated step without a final value");
        b->final_value[i + e] = final_value ? final_value[e] : 0;
    }
}

void rollout_buffer_place(rollout_buffer *b, int t, const long *episode, const int *episode_step) {
    check_step(b, t);
    size_t i = (size_t)t * b->envs, E = (size_t)b->envs;
    memcpy(b->episode + i, episode, sizeof(long) * E);
    memcpy(b->episode_step + i, episode_step, sizeof(int) * E);
}

/* What the state after step i is worth: 0 where the episode terminated, the
 * critic's value of its real final observation where it was truncated, else
 * `following` (the next step's value or return, or last_value after the
 * last step). GAE and the returns to go bootstrap alike. */
static double after_step(const rollout_buffer *b, size_t i, double following) {
    return b->terminated[i] ? 0.0 : b->truncated[i] ? b->final_value[i] : following;
}

void rollout_buffer_gae(rollout_buffer *b, const double *last_value, double gamma, double lambda) {
    int T = b->steps, E = b->envs;
    for (int e = 0; e < E; e++) {
        double next_adv = 0; /* A_{t+1} of the same episode */
        for (int t = T - 1; t >= 0; t--) {
            size_t i = (size_t)t * E + e;
            int ended = b->terminated[i] || b->truncated[i];
            double next_v = after_step(b, i, t == T - 1 ? last_value[e] : b->value[i + E]);
            double delta = b->reward[i] + gamma * next_v - b->value[i];
            double adv = delta + (ended ? 0.0 : gamma * lambda * next_adv);
            b->advantage[i] = adv;
            b->ret[i] = adv + b->value[i];
            next_adv = adv;
        }
    }
}

/* The return to go of every step, bootstrapped where an episode was cut. */
static void returns_to_go(rollout_buffer *b, const double *last_value, double gamma) {
    int T = b->steps, E = b->envs;
    for (int e = 0; e < E; e++) {
        double next = last_value[e];
        for (int t = T - 1; t >= 0; t--) {
            size_t i = (size_t)t * E + e;
            next = b->reward[i] + gamma * after_step(b, i, next);
            b->to_go[i] = next;
        }
    }
}

long rollout_buffer_group_advantages(rollout_buffer *b, int group, const double *last_value,
                                     double gamma) {
    int T = b->steps, E = b->envs;
    if (group < 1 || E % group != 0)
        alrs_panic("rollout: groups of %d do not divide %d environments", group, E);
    returns_to_go(b, last_value, gamma);
    long paired = 0;
    for (int t = 0; t < T; t++)
        for (int e = 0; e < E; e++) {
            size_t i = (size_t)t * E + e, first = (size_t)t * E + (size_t)(e - e % group);
            double sum = 0;
            int peers = 0;
            for (size_t j = first; j < first + (size_t)group; j++)
                if (j != i && b->episode[j] == b->episode[i] &&
                    b->episode_step[j] == b->episode_step[i])
                    sum += b->to_go[j], peers++;
            if (!peers) continue;
            b->advantage[i] = b->to_go[i] - sum / peers;
            paired++;
        }
    return paired;
}

double rollout_buffer_explained_variance(const rollout_buffer *b) {
    size_t n = (size_t)b->steps * b->envs;
    double mr = 0, md = 0;
    for (size_t i = 0; i < n; i++) mr += b->ret[i], md += b->ret[i] - b->value[i];
    mr /= n, md /= n;
    double vr = 0, vd = 0;
    for (size_t i = 0; i < n; i++) {
        double r = b->ret[i] - mr, d = b->ret[i] - b->value[i] - md;
        vr += r * r, vd += d * d;
    }
    return vr == 0 ? NAN : 1.0 - vd / vr;
}
