#include "rl/controller_file.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

/* What files of this kind are called in messages. */
#define NOUN "alrs controller checkpoint"

/* ---- the payload ---- */

static void encode_config(byte_buf *b, const policy_config *pc) {
    bytes_put_u32(b, (uint32_t)pc->obs_size);
    bytes_put_u32(b, (uint32_t)pc->dist);
    bytes_put_u32(b, (uint32_t)pc->n_actions);
    bytes_put_u32(b, (uint32_t)pc->act);
    bytes_put_u32(b, (uint32_t)pc->n_hidden);
    for (int i = 0; i < pc->n_hidden; i++) bytes_put_u32(b, (uint32_t)pc->hidden[i]);
    bytes_put_f64(b, pc->init_log_std);
}

static void encode_interface(byte_buf *b, const lr_env_interface *i) {
    const lr_action_config *a = &i->action;
    bytes_put_u32(b, i->features);
    bytes_put_u32(b, (uint32_t)a->kind);
    bytes_put_u32(b, (uint32_t)a->n_factors);
    bytes_put_f64s(b, a->factors, (size_t)a->n_factors);
    bytes_put_f64(b, a->delta);
    bytes_put_f64(b, a->residual_range);
    uint32_t base_len = (uint32_t)strlen(a->base);
    bytes_put_u32(b, base_len);
    bytes_put(b, a->base, base_len);
    bytes_put_f64(b, i->lr_min), bytes_put_f64(b, i->lr_max);
    bytes_put_u32(b, (uint32_t)i->action_every);
    bytes_put_u64(b, (uint64_t)i->steps);
}

static void put_text(byte_buf *b, const char *text) {
    uint32_t len = (uint32_t)strlen(text);
    bytes_put_u32(b, len);
    bytes_put(b, text, len);
}

/* Version 3's last section: what the controller learned on. */
static void encode_origin(byte_buf *b, const controller_origin *o) {
    put_text(b, o->model);
    put_text(b, o->optimizer);
    put_text(b, o->dataset);
    bytes_put_u32(b, (uint32_t)o->n_rates);
    bytes_put_f64s(b, o->rates, (size_t)o->n_rates);
    bytes_put_u64(b, (uint64_t)o->val_size);
    bytes_put_u32(b, (uint32_t)o->classes);
    put_text(b, o->tasks);
    bytes_put_f64(b, o->default_lr);
}

static void encode_payload(byte_buf *b, const controller *c) {
    encode_config(b, &c->pol.cfg);
    encode_interface(b, &c->iface);
    bytes_put_u64(b, c->pol.n_params);
    bytes_put_f64s(b, c->pol.params, c->pol.n_params);

    const rl_adam *a = &c->adam;
    bytes_put_u64(b, a->n);
    bytes_put_u64(b, (uint64_t)a->t);
    bytes_put_f64(b, a->beta1), bytes_put_f64(b, a->beta2), bytes_put_f64(b, a->eps);
    bytes_put_f64s(b, a->m, a->n);
    bytes_put_f64s(b, a->v, a->n);

    const obs_normalizer *o = &c->obs_norm;
    bytes_put_u32(b, (uint32_t)o->stats.dim);
    bytes_put_f64(b, o->clip), bytes_put_f64(b, o->eps), bytes_put_f64(b, o->stats.count);
    bytes_put_f64s(b, o->stats.mean, o->stats.dim);
    bytes_put_f64s(b, o->stats.m2, o->stats.dim);

    const reward_scaler *s = &c->rewards;
    bytes_put_f64(b, s->gamma), bytes_put_f64(b, s->clip), bytes_put_f64(b, s->eps), bytes_put_f64(b, s->stats.count);
    bytes_put_f64(b, s->stats.mean[0]), bytes_put_f64(b, s->stats.m2[0]);
    bytes_put_u32(b, (uint32_t)s->n_envs);
    bytes_put_f64s(b, s->ret, s->n_envs);

    bytes_put_u64(b, (uint64_t)c->updates);
    encode_origin(b, &c->origin);
}

int controller_file_save(const controller *c, const char *path) {
    byte_buf payload = {0};
    encode_payload(&payload, c);
    int rc = binfile_write(path, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, &payload);
    bytes_free(&payload);
    return rc;
}

/* ---- loading ---- */

/* Prefixes the recorded message (copied first: it lives in the buffer that
 * alrs_fail writes). */
static int fail_with_context(const char *path, const char *what) {
    char inner[512];
    snprintf(inner, sizeof inner, "%s", alrs_error());
    return alrs_fail("%s: %s%s", path, what, inner);
}

static int decode_hidden(const char *path, byte_reader *r, policy_config *pc) {
    pc->act = (mlp_activation)bytes_get_u32(r);
    uint32_t n_hidden = bytes_get_u32(r);
    if (n_hidden > MLP_MAX_HIDDEN)
        return alrs_fail("%s: inconsistent sizes: %u hidden layers (at most %d)", path, n_hidden,
                         MLP_MAX_HIDDEN);
    pc->n_hidden = (int)n_hidden;
    for (uint32_t i = 0; i < n_hidden; i++) pc->hidden[i] = (int)bytes_get_u32(r);
    pc->init_log_std = bytes_get_f64(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends inside the config", path);
    return 0;
}

/* Whether `len` bytes are printable text: names and specs are one line
 * (an error message may quote them), the tasks text may hold line breaks. */
static int is_text(const unsigned char *text, size_t len, int lines) {
    for (size_t i = 0; i < len; i++)
        if ((text[i] < 0x20 && !(lines && (text[i] == '\n' || text[i] == '\t'))) || text[i] == 0x7f)
            return 0;
    return 1;
}

/* Version 1: the policy config held the action kind and delta; the
 * interface is what that version always meant (see controller_file.h). */
static int decode_config_v1(const char *path, byte_reader *r, policy_config *pc,
                            lr_env_interface *iface) {
    memset(pc, 0, sizeof *pc);
    memset(iface, 0, sizeof *iface);
    pc->obs_size = (int)bytes_get_u32(r);
    uint32_t kind = bytes_get_u32(r);
    double delta = bytes_get_f64(r);
    if (decode_hidden(path, r, pc) != 0) return -1;
    if (kind > 1) return alrs_fail("%s: bad controller config: action kind %u unknown", path, kind);
    iface->action = lr_action_default();
    iface->action.delta = delta;
    iface->action.factors[0] = 1.0 + delta;
    iface->action.factors[1] = 1.0 / (1.0 + delta);
    iface->action.kind = kind == 0 ? LR_ACTION_DISCRETE : LR_ACTION_CONTINUOUS;
    iface->lr_min = 1e-6, iface->lr_max = 1.0;
    iface->action_every = 10;
    pc->dist = kind == 0 ? POLICY_CATEGORICAL : POLICY_GAUSSIAN;
    pc->n_actions = kind == 0 ? 3 : 1;
    return 0;
}

static int decode_interface(const char *path, byte_reader *r, lr_env_interface *iface) {
    memset(iface, 0, sizeof *iface);
    lr_action_config *a = &iface->action;
    iface->features = bytes_get_u32(r);
    a->kind = (lr_action_kind)bytes_get_u32(r);
    uint32_t n_factors = bytes_get_u32(r);
    if (n_factors > LR_ACTION_MAX_FACTORS)
        return alrs_fail("%s: inconsistent sizes: %u action factors (at most %d)", path, n_factors,
                         LR_ACTION_MAX_FACTORS);
    a->n_factors = (int)n_factors;
    bytes_get_f64s(r, a->factors, n_factors);
    a->delta = bytes_get_f64(r);
    a->residual_range = bytes_get_f64(r);
    uint32_t base_len = bytes_get_u32(r);
    if (base_len >= LR_ACTION_BASE_MAX)
        return alrs_fail("%s: inconsistent sizes: a base schedule of %u bytes (at most %d)", path,
                         base_len, LR_ACTION_BASE_MAX - 1);
    const unsigned char *base = bytes_take(r, base_len);
    if (base) memcpy(a->base, base, base_len);
    iface->lr_min = bytes_get_f64(r), iface->lr_max = bytes_get_f64(r);
    iface->action_every = (int)bytes_get_u32(r);
    iface->steps = (long)bytes_get_u64(r);
    if (r->overrun)
        return alrs_fail("%s: inconsistent sizes: payload ends inside the interface", path);
    if (!is_text((const unsigned char *)a->base, base_len, 0) || iface->features & ~(unsigned)LR_FEAT_ALL ||
        iface->action_every < 1 || iface->steps < 0 ||
        !(iface->lr_min > 0 && iface->lr_min <= iface->lr_max && isfinite(iface->lr_max)))
        return alrs_fail("%s: bad controller interface: features, bounds or action interval out "
                         "of range", path);
    if (lr_action_check(a) != 0) return fail_with_context(path, "bad controller actions: ");
    return 0;
}

static int decode_config(const char *path, byte_reader *r, uint32_t version, policy_config *pc,
                         lr_env_interface *iface) {
    int rc;
    if (version == 1) {
        rc = decode_config_v1(path, r, pc, iface);
    } else {
        memset(pc, 0, sizeof *pc);
        pc->obs_size = (int)bytes_get_u32(r);
        pc->dist = (policy_dist)bytes_get_u32(r);
        pc->n_actions = (int)bytes_get_u32(r);
        rc = decode_hidden(path, r, pc);
        if (rc == 0) rc = decode_interface(path, r, iface);
    }
    if (rc != 0) return -1;
    if (policy_config_check(pc) != 0) return fail_with_context(path, "bad controller config: ");
    return 0;
}

/* A stored count that must equal what the config implies. */
static int expect_count(const char *path, const char *what, uint64_t got, uint64_t want) {
    if (got == want) return 0;
    return alrs_fail("%s: inconsistent sizes: %s %llu, the config implies %llu", path, what,
                     (unsigned long long)got, (unsigned long long)want);
}

/* A length-prefixed text into out[size] (NUL-terminated); -1 when it is
 * longer than that or holds a control byte (a line break only where `lines`). */
static int get_text(const char *path, byte_reader *r, const char *what, char *out, size_t size,
                    int lines) {
    uint32_t len = bytes_get_u32(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends inside the %s", path, what);
    if (len >= size)
        return alrs_fail("%s: inconsistent sizes: a %s of %u bytes (at most %zu)", path, what, len,
                         size - 1);
    const unsigned char *text = bytes_take(r, len);
    if (!text) return alrs_fail("%s: inconsistent sizes: payload ends inside the %s", path, what);
    if (!is_text(text, len, lines))
        return alrs_fail("%s: bad %s: it holds a control byte", path, what);
    memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

static int decode_origin(const char *path, byte_reader *r, controller_origin *o) {
    if (get_text(path, r, "model name", o->model, sizeof o->model, 0) ||
        get_text(path, r, "optimizer name", o->optimizer, sizeof o->optimizer, 0) ||
        get_text(path, r, "data set name", o->dataset, sizeof o->dataset, 0))
        return -1;
    uint32_t n_rates = bytes_get_u32(r);
    if (n_rates > LR_ENV_MAX_INITIAL)
        return alrs_fail("%s: inconsistent sizes: %u initial rates (at most %d)", path, n_rates,
                         LR_ENV_MAX_INITIAL);
    o->n_rates = (int)n_rates;
    bytes_get_f64s(r, o->rates, n_rates);
    o->val_size = (long)bytes_get_u64(r);
    o->classes = (int)bytes_get_u32(r);
    if (get_text(path, r, "tasks text", o->tasks, sizeof o->tasks, 1)) return -1;
    o->default_lr = bytes_get_f64(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends inside what it learned on", path);
    if (o->val_size < 0 || o->classes < 0 || !(o->default_lr >= 0) || !isfinite(o->default_lr))
        return alrs_fail("%s: inconsistent values: what it learned on (negative size or rate)", path);
    return 0;
}

static int decode_state(const char *path, byte_reader *r, uint32_t version, controller *c) {
    policy *p = &c->pol;
    if (expect_count(path, "parameter count", bytes_get_u64(r), p->n_params)) return -1;
    bytes_get_f64s(r, p->params, p->n_params);

    rl_adam *a = &c->adam;
    if (expect_count(path, "Adam moment count", bytes_get_u64(r), a->n)) return -1;
    a->t = (long)bytes_get_u64(r);
    a->beta1 = bytes_get_f64(r), a->beta2 = bytes_get_f64(r), a->eps = bytes_get_f64(r);
    bytes_get_f64s(r, a->m, a->n);
    bytes_get_f64s(r, a->v, a->n);

    obs_normalizer *o = &c->obs_norm;
    if (expect_count(path, "observation normaliser size", bytes_get_u32(r), o->stats.dim)) return -1;
    o->clip = bytes_get_f64(r), o->eps = bytes_get_f64(r), o->stats.count = bytes_get_f64(r);
    bytes_get_f64s(r, o->stats.mean, o->stats.dim);
    bytes_get_f64s(r, o->stats.m2, o->stats.dim);

    reward_scaler *s = &c->rewards;
    s->gamma = bytes_get_f64(r), s->clip = bytes_get_f64(r), s->eps = bytes_get_f64(r), s->stats.count = bytes_get_f64(r);
    s->stats.mean[0] = bytes_get_f64(r), s->stats.m2[0] = bytes_get_f64(r);
    uint32_t n_envs = bytes_get_u32(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends early", path);
    if (n_envs < 1)
        return alrs_fail("%s: inconsistent sizes: %u environments in the reward scaler", path, n_envs);
    if (n_envs > (r->len - r->pos) / 8)
        return alrs_fail("%s: inconsistent sizes: payload ends inside the reward scaler's %u returns",
                         path, n_envs);
    reward_scaler_set_envs(s, (int)n_envs);
    bytes_get_f64s(r, s->ret, n_envs);
    c->updates = (long)bytes_get_u64(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends early", path);
    if (version >= 3 && decode_origin(path, r, &c->origin) != 0) return -1;
    if (r->pos != r->len)
        return alrs_fail("%s: inconsistent sizes: %zu bytes after the end of the payload", path,
                         r->len - r->pos);
    if (a->t < 0 || c->updates < 0 || !(o->stats.count >= 0) || !(s->stats.count >= 0) ||
        !(s->gamma >= 0 && s->gamma <= 1))
        return alrs_fail("%s: inconsistent values: negative count or gamma outside [0, 1]", path);
    return 0;
}

/* The arrays the config implies (parameters, Adam's two moments, the
 * normaliser's mean and m2) must fit in the bytes after it, checked before
 * anything is allocated: a short file claiming 4096-wide layers would
 * otherwise ask for gigabytes, and abort where memory is limited. */
static int check_room(const char *path, const byte_reader *r, const policy_config *pc) {
    size_t n = policy_param_count(pc);
    size_t need = (3 * n + 2 * (size_t)pc->obs_size) * 8, left = r->len - r->pos;
    if (need <= left) return 0;
    return alrs_fail("%s: inconsistent sizes: parameter count: the config implies %zu parameters "
                     "(%zu bytes with Adam's moments and the normaliser), but only %zu bytes "
                     "follow it",
                     path, n, need, left);
}

int controller_file_parse(controller *c, const unsigned char *data, size_t len, const char *path) {
    memset(c, 0, sizeof *c);
    byte_reader r = {0};
    policy_config pc;
    lr_env_interface iface;
    uint32_t version = 0;
    int rc = binfile_check(path, CHECKPOINT_MAGIC, NOUN, CHECKPOINT_OLDEST_VERSION,
                           CHECKPOINT_VERSION, data, len, &r, &version);
    if (rc == 0) rc = decode_config(path, &r, version, &pc, &iface);
    if (rc == 0) rc = check_room(path, &r, &pc);
    if (rc == 0) {
        /* the scaler's size and gamma come from the file */
        rc = controller_alloc(c, &iface, &pc, 1, 0.99);
        if (rc != 0) rc = fail_with_context(path, "");
        else if ((rc = decode_state(path, &r, version, c)) != 0) controller_free(c);
        else c->file_version = (int)version;
    }
    return rc;
}

int controller_file_load_fingerprint(controller *c, const char *path, unsigned long *crc,
                                     long *bytes) {
    memset(c, 0, sizeof *c);
    unsigned char *data;
    size_t len;
    if (binfile_read(path, CHECKPOINT_MAGIC, NOUN, &data, &len) != 0) return -1;
    int rc = controller_file_parse(c, data, len, path);
    if (crc) *crc = bytes_crc32(data, len);
    if (bytes) *bytes = (long)len;
    free(data);
    return rc;
}

int controller_file_load(controller *c, const char *path) {
    return controller_file_load_fingerprint(c, path, NULL, NULL);
}
