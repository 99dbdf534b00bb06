#include "rl/normalizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int running_stats_init(running_stats *s, int dim) {
    memset(s, 0, sizeof *s);
    if (dim < 1) return alrs_fail("running statistics: dimension %d must be positive", dim);
    s->dim = dim;
    s->mean = alrs_calloc((size_t)dim, sizeof(double));
    s->m2 = alrs_calloc((size_t)dim, sizeof(double));
    return 0;
}

void running_stats_free(running_stats *s) {
    free(s->mean);
    free(s->m2);
    memset(s, 0, sizeof *s);
}

void running_stats_reset(running_stats *s) {
    s->count = 0;
    memset(s->mean, 0, sizeof(double) * s->dim);
    memset(s->m2, 0, sizeof(double) * s->dim);
}

/* Chan et al.: combine (na, mean_a, M2_a) with (nb, mean_b, M2_b):
 *   d = mean_b - mean_a,  n = na + nb,
 *   mean = mean_a + d nb / n,  M2 = M2_a + M2_b + d^2 na nb / n. */
static void merge_one(double na, double *mean_a, double *m2_a, double nb, double mean_b,
                      double m2_b) {
    double n = na + nb, d = mean_b - *mean_a;
    *mean_a += d * nb / n;
    *m2_a += m2_b + d * d * na * nb / n;
}

void running_stats_update(running_stats *s, const double *x, int n) {
    if (n <= 0) return;
    for (int j = 0; j < s->dim; j++) {
        double mean = 0, m2 = 0;
        for (int i = 0; i < n; i++) mean += x[(size_t)i * s->dim + j];
        mean /= n;
        for (int i = 0; i < n; i++) {
            double d = x[(size_t)i * s->dim + j] - mean;
            m2 += d * d;
        }
        merge_one(s->count, &s->mean[j], &s->m2[j], n, mean, m2);
    }
    s->count += n;
}

int running_stats_merge(running_stats *into, const running_stats *other) {
    if (into->dim != other->dim)
        return alrs_fail("running statistics: cannot merge dimension %d into %d", other->dim,
                         into->dim);
    if (other->count <= 0) return 0;
    for (int j = 0; j < into->dim; j++)
        merge_one(into->count, &into->mean[j], &into->m2[j], other->count, other->mean[j],
                  other->m2[j]);
    into->count += other->count;
    return 0;
}

double running_stats_var(const running_stats *s, int j) {
    return s->count > 0 ? s->m2[j] / s->count : 1.0;
}

int obs_normalizer_init(obs_normalizer *o, int dim) {
    o->clip = 10.0, o->eps = 1e-8;
    return running_stats_init(&o->stats, dim);
}

void obs_normalizer_free(obs_normalizer *o) { running_stats_free(&o->stats); }

void obs_normalizer_update(obs_normalizer *o, const double *x, int n) {
    running_stats_update(&o->stats, x, n);
}

void obs_normalizer_apply(const obs_normalizer *o, const double *x, int n, double *out) {
    int dim = o->stats.dim;
    for (int j = 0; j < dim; j++) {
        double mean = o->stats.mean[j], inv = 1.0 / sqrt(running_stats_var(&o->stats, j) + o->eps);
        for (int i = 0; i < n; i++) {
            double v = (x[(size_t)i * dim + j] - mean) * inv;
            out[(size_t)i * dim + j] = v > o->clip ? o->clip : v < -o->clip ? -o->clip : v;
        }
    }
}

int reward_scaler_init(reward_scaler *s, int n_envs, double gamma) {
    memset(s, 0, sizeof *s);
    if (!(gamma >= 0 && gamma <= 1)) return alrs_fail("reward scaler: gamma %g not in [0, 1]", gamma);
    s->gamma = gamma, s->clip = 10.0, s->eps = 1e-8;
    if (running_stats_init(&s->stats, 1) != 0) return -1;
    if (reward_scaler_set_envs(s, n_envs) != 0) {
        running_stats_free(&s->stats);
        return -1;
    }
    return 0;
}

void reward_scaler_free(reward_scaler *s) {
    running_stats_free(&s->stats);
    free(s->ret);
    memset(s, 0, sizeof *s);
}

int reward_scaler_set_envs(reward_scaler *s, int n_envs) {
    if (n_envs < 1) return alrs_fail("reward scaler: %d environments (need at least 1)", n_envs);
    free(s->ret);
    s->ret = alrs_calloc((size_t)n_envs, sizeof(double));
    s->n_envs = n_envs;
    return 0;
}

double reward_scaler_apply(const reward_scaler *s, double reward) {
    double v = reward / sqrt(running_stats_var(&s->stats, 0) + s->eps);
    return v > s->clip ? s->clip : v < -s->clip ? -s->clip : v;
}

void reward_scaler_scale(reward_scaler *s, const double *reward, const unsigned char *done,
                         double *out) {
    for (int e = 0; e < s->n_envs; e++) s->ret[e] = s->gamma * s->ret[e] + reward[e];
    running_stats_update(&s->stats, s->ret, s->n_envs);
    for (int e = 0; e < s->n_envs; e++) {
        out[e] = reward_scaler_apply(s, reward[e]);
        if (done[e]) s->ret[e] = 0;
    }
}
