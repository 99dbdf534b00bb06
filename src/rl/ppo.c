#include "rl/ppo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

ppo_config ppo_config_default(void) {
    ppo_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 4, c.minibatches = 4;
    c.clip = 0.2, c.vf_coef = 0.5, c.ent_coef = 0.0;
    c.clip_value = 0, c.norm_adv = 1;
    c.max_grad_norm = 0.5, c.lr = 3e-4;
    c.gamma = 0.99, c.lambda = 0.95;
    return c;
}

int ppo_config_check(const ppo_config *c) {
    if (c->epochs < 1 || c->epochs > 1000) return alrs_fail("ppo: epochs %d not in 1..1000", c->epochs);
    if (c->minibatches < 1) return alrs_fail("ppo: minibatches %d must be positive", c->minibatches);
    if (!(c->clip > 0 && c->clip < 1))
        return alrs_fail("ppo: clip range %g not in (0, 1) (a range >= 1 disables clipping)", c->clip);
    if (!(c->vf_coef >= 0 && isfinite(c->vf_coef))) return alrs_fail("ppo: vf_coef %g", c->vf_coef);
    if (!(c->ent_coef >= 0 && c->ent_coef < 1))
        return alrs_fail("ppo: entropy coefficient %g not in [0, 1)", c->ent_coef);
    if (!(c->lr > 0 && c->lr < 1)) return alrs_fail("ppo: learning rate %g not in (0, 1)", c->lr);
    if (!(c->gamma >= 0 && c->gamma <= 1)) return alrs_fail("ppo: gamma %g not in [0, 1]", c->gamma);
    if (!(c->lambda >= 0 && c->lambda <= 1)) return alrs_fail("ppo: lambda %g not in [0, 1]", c->lambda);
    if (!isfinite(c->max_grad_norm)) return alrs_fail("ppo: max_grad_norm %g", c->max_grad_norm);
    if (!(c->target_kl >= 0 && isfinite(c->target_kl)))
        return alrs_fail("ppo: target KL %g must be 0 (off) or positive", c->target_kl);
    return 0;
}

double ppo_policy_loss(const double *logp_new, const double *logp_old, const double *adv, int n,
                       double clip, double *dlogp, double *clipped, double *kl) {
    double loss = 0, n_clipped = 0, kl_sum = 0;
    for (int i = 0; i < n; i++) {
        double log_ratio = logp_new[i] - logp_old[i], ratio = exp(log_ratio);
        double lo = 1.0 - clip, hi = 1.0 + clip;
        double ratio_c = ratio < lo ? lo : ratio > hi ? hi : ratio;
        double l_unclipped = -adv[i] * ratio, l_clipped = -adv[i] * ratio_c;
        /* the max picks the clipped term only where clipping bites and removes
         * the incentive: then the sample has no gradient */
        int clip_wins = l_clipped > l_unclipped;
        loss += clip_wins ? l_clipped : l_unclipped;
        dlogp[i] = clip_wins ? 0.0 : -adv[i] * ratio / n; /* d(-A r)/dlogp = -A r */
        n_clipped += fabs(ratio - 1.0) > clip;
        kl_sum += (ratio - 1.0) - log_ratio;
    }
    if (clipped) *clipped += n_clipped;
    if (kl) *kl += kl_sum;
    return loss / n;
}

double ppo_value_loss(const double *v, const double *v_old, const double *ret, int n, double clip,
                      double *dv) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
        double e = v[i] - ret[i];
        if (clip <= 0) {
            loss += 0.5 * e * e;
            dv[i] = e / n;
            continue;
        }
        double step = v[i] - v_old[i];
        int inside = step >= -clip && step <= clip;
        double vc = v_old[i] + (inside ? step : step < 0 ? -clip : clip), ec = vc - ret[i];
        if (ec * ec > e * e) { /* clipped term wins: its gradient passes only inside the clamp */
            loss += 0.5 * ec * ec;
            dv[i] = inside ? ec / n : 0.0;
        } else {
            loss += 0.5 * e * e;
            dv[i] = e / n;
        }
    }
    return loss / n;
}

double clip_grad_norm(double *g, size_t n, double max_norm) {
    double sq = 0;
    for (size_t i = 0; i < n; i++) sq += g[i] * g[i];
    double norm = sqrt(sq);
    if (max_norm > 0 && norm > max_norm) {
        double scale = max_norm / (norm + 1e-6); /* as torch.nn.utils.clip_grad_norm_ */
        for (size_t i = 0; i < n; i++) g[i] *= scale;
    }
    return norm;
}

/* One minibatch gathered into contiguous arrays, and the per-sample gradients. */
typedef struct {
    int cap;
    double *obs, *action, *logp_old, *adv, *ret, *v_old; /* inputs */
    double *logp, *entropy, *v;                          /* policy_evaluate outputs */
    double *dlogp, *dentropy, *dv;                       /* dL/d(outputs) */
} minibatch;

static void minibatch_alloc(minibatch *m, int cap, int obs_size) {
    m->cap = cap;
    m->obs = alrs_malloc(sizeof(double) * (size_t)cap * obs_size);
    double **vecs[] = {&m->action, &m->logp_old, &m->adv, &m->ret, &m->v_old, &m->logp,
                       &m->entropy, &m->v, &m->dlogp, &m->dentropy, &m->dv};
    for (size_t k = 0; k < sizeof vecs / sizeof vecs[0]; k++)
        *vecs[k] = alrs_malloc(sizeof(double) * (size_t)cap);
}

static void minibatch_free(minibatch *m) {
    double *vecs[] = {m->obs, m->action, m->logp_old, m->adv, m->ret, m->v_old, m->logp,
                      m->entropy, m->v, m->dlogp, m->dentropy, m->dv};
    for (size_t k = 0; k < sizeof vecs / sizeof vecs[0]; k++) free(vecs[k]);
}

static void gather(minibatch *m, const rollout_buffer *b, const int *idx, int n) {
    int D = b->obs_size;
    for (int k = 0; k < n; k++) {
        size_t i = (size_t)idx[k];
        memcpy(m->obs + (size_t)k * D, b->obs + i * D, sizeof(double) * D);
        m->action[k] = b->action[i];
        m->logp_old[k] = b->logp[i];
        m->adv[k] = b->advantage[i];
        m->ret[k] = b->ret[i];
        m->v_old[k] = b->value[i];
    }
}

/* Mean 0, standard deviation 1 (unbiased, as torch.std) over the minibatch. */
static void normalize_advantages(double *adv, int n) {
    if (n < 2) return;
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += adv[i];
    mean /= n;
    for (int i = 0; i < n; i++) var += (adv[i] - mean) * (adv[i] - mean);
    double inv = 1.0 / (sqrt(var / (n - 1)) + 1e-8);
    for (int i = 0; i < n; i++) adv[i] = (adv[i] - mean) * inv;
}

/* Loss and gradient of one minibatch; adds its diagnostics to *s and writes
 * its approximate KL to *kl_out. Returns the total loss. */
static double minibatch_step(policy *p, const ppo_config *c, minibatch *m, int n, ppo_stats *s,
                             double *kl_out) {
    if (c->norm_adv) normalize_advantages(m->adv, n);
    policy_evaluate(p, m->obs, m->action, n, m->logp, m->entropy, m->v);
    double clipped = 0, kl = 0;
    double pl = ppo_policy_loss(m->logp, m->logp_old, m->adv, n, c->clip, m->dlogp, &clipped, &kl);
    double vl = ppo_value_loss(m->v, m->v_old, m->ret, n, c->clip_value ? c->clip : 0, m->dv);
    double ent = 0;
    for (int i = 0; i < n; i++) {
        ent += m->entropy[i];
        m->dentropy[i] = -c->ent_coef / n;
        m->dv[i] *= c->vf_coef;
    }
    ent /= n;
    policy_zero_grad(p);
    policy_backward(p, m->dlogp, m->dentropy, m->dv);
    s->policy_loss += pl, s->value_loss += vl, s->entropy += ent;
    s->approx_kl += kl / n, s->clip_frac += clipped / n;
    *kl_out = kl / n;
    return pl + c->vf_coef * vl - c->ent_coef * ent;
}

int ppo_update(policy *p, rl_adam *opt, const ppo_config *c, const rollout_buffer *b, rng_stream *r,
               ppo_stats *out) {
    memset(out, 0, sizeof *out);
    if (ppo_config_check(c) != 0) return -1;
    if (b->obs_size != p->cfg.obs_size)
        return alrs_fail("ppo: rollout observations have %d values, the policy takes %d",
                         b->obs_size, p->cfg.obs_size);
    if (opt->n != p->n_params)
        return alrs_fail("ppo: optimizer holds %zu parameters, the policy %zu", opt->n, p->n_params);
    int N = b->steps * b->envs;
    int mbs = c->minibatches < N ? c->minibatches : N;
    int *idx = alrs_malloc(sizeof(int) * (size_t)N);
    for (int i = 0; i < N; i++) idx[i] = i;
    minibatch m;
    minibatch_alloc(&m, (N + mbs - 1) / mbs, b->obs_size);
    int rc = 0;
    int evaluated = 0; /* minibatches whose diagnostics are in *out */
    for (int epoch = 0; epoch < c->epochs && rc == 0 && !out->stopped_early; epoch++) {
        rng_shuffle(r, idx, N);
        for (int k = 0; k < mbs; k++) {
            int lo = (int)((long)N * k / mbs), hi = (int)((long)N * (k + 1) / mbs);
            gather(&m, b, idx + lo, hi - lo);
            double kl;
            double loss = minibatch_step(p, c, &m, hi - lo, out, &kl);
            evaluated++;
            if (c->target_kl > 0 && kl > 1.5 * c->target_kl) {
                out->stopped_early = 1;
                break;
            }
            double norm = clip_grad_norm(p->grads, p->n_params, c->max_grad_norm);
            if (!isfinite(loss) || !isfinite(norm)) {
                rc = alrs_fail("ppo: non-finite loss %g or gradient norm %g (epoch %d, minibatch %d)",
                               loss, norm, epoch + 1, k + 1);
                break;
            }
            rl_adam_step(opt, p->params, p->grads, c->lr);
            out->grad_norm += norm;
            out->minibatches++;
        }
    }
    int done = evaluated > 0 ? evaluated : 1, stepped = out->minibatches > 0 ? out->minibatches : 1;
    out->policy_loss /= done, out->value_loss /= done, out->entropy /= done;
    out->approx_kl /= done, out->clip_frac /= done, out->grad_norm /= stepped;
    out->explained_var = rollout_buffer_explained_variance(b);
    minibatch_free(&m);
    free(idx);
    return rc;
}
