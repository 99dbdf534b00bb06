#include "rl/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define LOG_SQRT_2PI 0.91893853320467274178

policy_config policy_config_default(int obs_size, policy_dist dist, int n_actions) {
    policy_config c;
    memset(&c, 0, sizeof c);
    c.obs_size = obs_size;
    c.dist = dist;
    c.n_actions = dist == POLICY_CATEGORICAL ? n_actions : 1;
    c.n_hidden = 2;
    c.hidden[0] = c.hidden[1] = 32;
    c.act = MLP_TANH;
    c.init_log_std = log(0.5);
    return c;
}

int policy_action_width(const policy_config *c) {
    return c->dist == POLICY_CATEGORICAL ? c->n_actions : 1;
}

static mlp_config net_config(const policy_config *c, int n_out) {
    mlp_config m;
    memset(&m, 0, sizeof m);
    m.n_in = c->obs_size, m.n_out = n_out;
    m.n_hidden = c->n_hidden;
    for (int i = 0; i < c->n_hidden && i < MLP_MAX_HIDDEN; i++) m.hidden[i] = c->hidden[i];
    m.act = c->act;
    return m;
}

int policy_config_check(const policy_config *c) {
    if (c->dist != POLICY_CATEGORICAL && c->dist != POLICY_GAUSSIAN)
        return alrs_fail("policy: unknown action distribution %d", (int)c->dist);
    if (c->dist == POLICY_CATEGORICAL && (c->n_actions < 2 || c->n_actions > POLICY_MAX_ACTIONS))
        return alrs_fail("policy: %d discrete actions (expected 2 to %d)", c->n_actions,
                         POLICY_MAX_ACTIONS);
    if (c->dist == POLICY_GAUSSIAN && c->n_actions != 1)
        return alrs_fail("policy: a Gaussian policy has one output, not %d", c->n_actions);
    if (!isfinite(c->init_log_std))
        return alrs_fail("policy: initial log-std %g is not finite", c->init_log_std);
    mlp_config a = net_config(c, policy_action_width(c));
    return mlp_config_check(&a);
}

size_t policy_param_count(const policy_config *c) {
    mlp_config a = net_config(c, policy_action_width(c)), v = net_config(c, 1);
    return mlp_param_count(&a) + mlp_param_count(&v) + (c->dist == POLICY_GAUSSIAN);
}

int policy_alloc(policy *p, const policy_config *c) {
    memset(p, 0, sizeof *p);
    if (policy_config_check(c) != 0) return -1;
    p->cfg = *c;
    p->n_params = policy_param_count(c);
    p->params = alrs_calloc(p->n_params, sizeof(double));
    p->grads = alrs_calloc(p->n_params, sizeof(double));
    mlp_config a = net_config(c, policy_action_width(c)), v = net_config(c, 1);
    size_t na = mlp_param_count(&a), nv = mlp_param_count(&v);
    mlp_bind(&p->actor, &a, p->params, p->grads);
    mlp_bind(&p->critic, &v, p->params + na, p->grads + na);
    if (c->dist == POLICY_GAUSSIAN) {
        p->log_std = p->params + na + nv;
        p->log_std_grad = p->grads + na + nv;
        *p->log_std = c->init_log_std;
    }
    return 0;
}

void policy_init_weights(policy *p, rng_stream *r) {
    mlp_init_orthogonal(&p->actor, sqrt(2.0), 0.01, r);
    mlp_init_orthogonal(&p->critic, sqrt(2.0), 1.0, r);
    if (p->log_std) *p->log_std = p->cfg.init_log_std;
}

void policy_prefer(policy *p, int action, double bias) {
    mlp_layer *out = &p->actor.param[p->actor.n_layers - 1];
    memset(out->w, 0, sizeof(double) * (size_t)out->n_in * out->n_out);
    memset(out->b, 0, sizeof(double) * (size_t)out->n_out);
    if (p->cfg.dist == POLICY_CATEGORICAL && action >= 0 && action < out->n_out)
        out->b[action] = bias;
}

int policy_init(policy *p, const policy_config *c, rng_stream *r) {
    if (policy_alloc(p, c) != 0) return -1;
    policy_init_weights(p, r);
    return 0;
}

static void free_workspace(policy *p) {
    mlp_tape_free(&p->actor_tape);
    mlp_tape_free(&p->critic_tape);
    free(p->out), free(p->dout), free(p->val), free(p->dval);
    p->out = p->dout = p->val = p->dval = NULL;
    p->cap = 0;
}

void policy_free(policy *p) {
    free_workspace(p);
    free(p->params);
    free(p->grads);
    memset(p, 0, sizeof *p);
}

/* Makes the workspace hold batches of n. */
static void reserve(policy *p, int n) {
    if (n <= p->cap) return;
    free_workspace(p);
    int cap = n < 64 ? 64 : n;
    int w = policy_action_width(&p->cfg);
    /* sizes are valid (checked at init), so the tapes cannot fail */
    mlp_tape_init(&p->actor_tape, &p->actor, cap);
    mlp_tape_init(&p->critic_tape, &p->critic, cap);
    p->out = alrs_malloc(sizeof(double) * (size_t)cap * w);
    p->dout = alrs_malloc(sizeof(double) * (size_t)cap * w);
    p->val = alrs_malloc(sizeof(double) * (size_t)cap);
    p->dval = alrs_malloc(sizeof(double) * (size_t)cap);
    p->cap = cap;
}

/* Numerically safe softmax of n logits; returns log-sum-exp. */
static double softmax(const double *z, int n, double *prob) {
    double m = z[0];
    for (int k = 1; k < n; k++) m = z[k] > m ? z[k] : m;
    double s = 0;
    for (int k = 0; k < n; k++) s += prob[k] = exp(z[k] - m);
    for (int k = 0; k < n; k++) prob[k] /= s;
    return m + log(s);
}

/* Index of the sampled category: the first k where the cumulative probability
 * exceeds u in [0, 1). */
static int draw_category(const double *prob, int n, double u) {
    double c = 0;
    for (int k = 0; k < n - 1; k++) {
        c += prob[k];
        if (u < c) return k;
    }
    return n - 1;
}

static int discrete_index(const policy *p, double action) {
    int a = (int)action;
    if (a < 0 || a >= p->cfg.n_actions || a != action)
        alrs_panic("policy: discrete action %g is not one of 0..%d", action, p->cfg.n_actions - 1);
    return a;
}

/* Log-prob and entropy of one row's action under its actor output z. */
static void row_logp_entropy(const policy *p, const double *z, double action, double *logp,
                             double *entropy) {
    if (p->cfg.dist == POLICY_CATEGORICAL) {
        int n = p->cfg.n_actions;
        double prob[POLICY_MAX_ACTIONS];
        double lse = softmax(z, n, prob);
        if (logp) *logp = z[discrete_index(p, action)] - lse;
        if (entropy) {
            double h = 0;
            for (int k = 0; k < n; k++) h -= prob[k] * (z[k] - lse);
            *entropy = h;
        }
    } else {
        double ls = *p->log_std, e = (action - z[0]) * exp(-ls);
        if (logp) *logp = -0.5 * e * e - ls - LOG_SQRT_2PI;
        if (entropy) *entropy = 0.5 + LOG_SQRT_2PI + ls;
    }
}

void policy_act(policy *p, const double *obs, int n, rng_stream *r, double *action, double *logp,
                double *value) {
    reserve(p, n);
    mlp_forward(&p->actor, &p->actor_tape, obs, n, p->out);
    int w = policy_action_width(&p->cfg);
    for (int i = 0; i < n; i++) {
        const double *z = p->out + (size_t)i * w;
        if (p->cfg.dist == POLICY_CATEGORICAL) {
            double prob[POLICY_MAX_ACTIONS];
            softmax(z, w, prob);
            action[i] = draw_category(prob, w, rng_uniform_double(&r[i]));
        } else {
            action[i] = z[0] + exp(*p->log_std) * rng_normal(&r[i]);
        }
        row_logp_entropy(p, z, action[i], &logp[i], NULL);
    }
    if (value) policy_value(p, obs, n, value);
}

void policy_mode(policy *p, const double *obs, int n, double *action) {
    reserve(p, n);
    mlp_forward(&p->actor, &p->actor_tape, obs, n, p->out);
    int w = policy_action_width(&p->cfg);
    for (int i = 0; i < n; i++) {
        const double *z = p->out + (size_t)i * w;
        if (p->cfg.dist == POLICY_GAUSSIAN) {
            action[i] = z[0];
            continue;
        }
        int best = 0;
        for (int k = 1; k < w; k++) best = z[k] > z[best] ? k : best;
        action[i] = best;
    }
}

void policy_value(policy *p, const double *obs, int n, double *value) {
    reserve(p, n);
    mlp_forward(&p->critic, &p->critic_tape, obs, n, value);
}

void policy_evaluate(policy *p, const double *obs, const double *action, int n, double *logp,
                     double *entropy, double *value) {
    reserve(p, n);
    mlp_forward(&p->actor, &p->actor_tape, obs, n, p->out);
    mlp_forward(&p->critic, &p->critic_tape, obs, n, p->val);
    int w = policy_action_width(&p->cfg);
    for (int i = 0; i < n; i++)
        row_logp_entropy(p, p->out + (size_t)i * w, action[i], logp ? &logp[i] : NULL,
                         entropy ? &entropy[i] : NULL);
    if (value) memcpy(value, p->val, sizeof(double) * n);
    p->eval_action = action;
}

/* dlogp_a/dz_k = [k = a] - pi_k;  dH/dz_k = -pi_k (log pi_k + H). */
static void discrete_backward(const double *z, int n, int a, double gl, double ge, double *dz) {
    double prob[POLICY_MAX_ACTIONS];
    double lse = softmax(z, n, prob), h = 0;
    for (int k = 0; k < n; k++) h -= prob[k] * (z[k] - lse);
    for (int k = 0; k < n; k++) dz[k] = gl * ((k == a) - prob[k]) - ge * prob[k] * (z[k] - lse + h);
}

void policy_backward(policy *p, const double *dlogp, const double *dentropy, const double *dvalue) {
    int n = p->actor_tape.batch, w = policy_action_width(&p->cfg);
    if (!p->eval_action) alrs_panic("policy_backward without policy_evaluate");
    for (int i = 0; i < n; i++) {
        const double *z = p->out + (size_t)i * w;
        double *dz = p->dout + (size_t)i * w;
        double gl = dlogp ? dlogp[i] : 0, ge = dentropy ? dentropy[i] : 0;
        if (p->cfg.dist == POLICY_CATEGORICAL) {
            discrete_backward(z, w, discrete_index(p, p->eval_action[i]), gl, ge, dz);
        } else {
            /* logp = -e^2/2 - ls - c with e = (u - mu)/sigma:
             * dlogp/dmu = e/sigma, dlogp/dls = e^2 - 1; dH/dls = 1 */
            double inv_sigma = exp(-*p->log_std), e = (p->eval_action[i] - z[0]) * inv_sigma;
            dz[0] = gl * e * inv_sigma;
            *p->log_std_grad += gl * (e * e - 1.0) + ge;
        }
        p->dval[i] = dvalue ? dvalue[i] : 0;
    }
    mlp_backward(&p->actor, &p->actor_tape, p->dout);
    if (dvalue) mlp_backward(&p->critic, &p->critic_tape, p->dval);
}

void policy_zero_grad(policy *p) { memset(p->grads, 0, sizeof(double) * p->n_params); }
