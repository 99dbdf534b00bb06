#define _POSIX_C_SOURCE 200809L
#include "rl/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"
#include "core/fileio.h"

#define MAX_CHECKPOINT_BYTES ((size_t)1 << 30)

/* ---- little-endian encoding into a growing buffer ---- */

typedef struct {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void put_raw(bytes *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) alrs_panic("out of memory growing a checkpoint to %zu bytes", cap);
        b->data = d, b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u64(bytes *b, uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    put_raw(b, le, 8);
}

static void put_u32(bytes *b, uint32_t v) {
    unsigned char le[4];
    for (int i = 0; i < 4; i++) le[i] = (unsigned char)(v >> (8 * i));
    put_raw(b, le, 4);
}

static void put_f64(bytes *b, double x) {
    uint64_t v;
    memcpy(&v, &x, 8);
    put_u64(b, v);
}

static void put_f64s(bytes *b, const double *x, size_t n) {
    for (size_t i = 0; i < n; i++) put_f64(b, x[i]);
}

/* ---- decoding with bounds checks ---- */

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int overrun;
} reader;

static const unsigned char *take(reader *r, size_t n) {
    if (r->overrun || n > r->len - r->pos) {
        r->overrun = 1;
        return NULL;
    }
    const unsigned char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint64_t get_u64(reader *r) {
    const unsigned char *p = take(r, 8);
    uint64_t v = 0;
    if (p)
        for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t get_u32(reader *r) {
    const unsigned char *p = take(r, 4);
    uint32_t v = 0;
    if (p)
        for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static double get_f64(reader *r) {
    uint64_t v = get_u64(r);
    double x;
    memcpy(&x, &v, 8);
    return x;
}

/* Reads n doubles if that many remain; otherwise marks the overrun. */
static void get_f64s(reader *r, double *x, size_t n) {
    if (r->overrun || n > (r->len - r->pos) / 8) {
        r->overrun = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = get_f64(r);
}

static uint32_t crc_of(const unsigned char *p, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk, n -= chunk;
    }
    return (uint32_t)crc;
}

/* ---- the payload ---- */

static void encode_config(bytes *b, const policy_config *pc) {
    put_u32(b, (uint32_t)pc->obs_size);
    put_u32(b, (uint32_t)pc->dist);
    put_u32(b, (uint32_t)pc->n_actions);
    put_u32(b, (uint32_t)pc->act);
    put_u32(b, (uint32_t)pc->n_hidden);
    for (int i = 0; i < pc->n_hidden; i++) put_u32(b, (uint32_t)pc->hidden[i]);
    put_f64(b, pc->init_log_std);
}

static void encode_interface(bytes *b, const lr_env_interface *i) {
    const lr_action_config *a = &i->action;
    put_u32(b, i->features);
    put_u32(b, (uint32_t)a->kind);
    put_u32(b, (uint32_t)a->n_factors);
    put_f64s(b, a->factors, (size_t)a->n_factors);
    put_f64(b, a->delta);
    put_f64(b, a->residual_range);
    uint32_t base_len = (uint32_t)strlen(a->base);
    put_u32(b, base_len);
    put_raw(b, a->base, base_len);
    put_f64(b, i->lr_min), put_f64(b, i->lr_max);
    put_u32(b, (uint32_t)i->action_every);
    put_u64(b, (uint64_t)i->steps);
}

static void encode_payload(bytes *b, const controller *c) {
    encode_config(b, &c->pol.cfg);
    encode_interface(b, &c->iface);
    put_u64(b, c->pol.n_params);
    put_f64s(b, c->pol.params, c->pol.n_params);

    const rl_adam *a = &c->adam;
    put_u64(b, a->n);
    put_u64(b, (uint64_t)a->t);
    put_f64(b, a->beta1), put_f64(b, a->beta2), put_f64(b, a->eps);
    put_f64s(b, a->m, a->n);
    put_f64s(b, a->v, a->n);

    const obs_normalizer *o = &c->obs_norm;
    put_u32(b, (uint32_t)o->stats.dim);
    put_f64(b, o->clip), put_f64(b, o->eps), put_f64(b, o->stats.count);
    put_f64s(b, o->stats.mean, o->stats.dim);
    put_f64s(b, o->stats.m2, o->stats.dim);

    const reward_scaler *s = &c->rewards;
    put_f64(b, s->gamma), put_f64(b, s->clip), put_f64(b, s->eps), put_f64(b, s->stats.count);
    put_f64(b, s->stats.mean[0]), put_f64(b, s->stats.m2[0]);
    put_u32(b, (uint32_t)s->n_envs);
    put_f64s(b, s->ret, s->n_envs);

    put_u64(b, (uint64_t)c->updates);
}

int checkpoint_save(const controller *c, const char *path) {
    bytes payload = {0}, header = {0};
    encode_payload(&payload, c);
    put_raw(&header, CHECKPOINT_MAGIC, 8);
    put_u32(&header, CHECKPOINT_VERSION);
    put_u32(&header, 0);
    put_u64(&header, payload.len);
    put_u32(&header, crc_of(payload.data, payload.len));
    put_u32(&header, 0);
    atomic_file f;
    int rc = atomic_open(&f, path);
    if (rc == 0) {
        fwrite(header.data, 1, header.len, f.f); /* errors surface in atomic_commit (ferror) */
        fwrite(payload.data, 1, payload.len, f.f);
        rc = atomic_commit(&f);
    }
    free(payload.data);
    free(header.data);
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

static int read_whole_file(const char *path, unsigned char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return alrs_fail("%s: cannot open checkpoint: %s", path, strerror(errno));
    /* fopen accepts a directory and only the read fails (EISDIR): say what it is. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return alrs_fail("%s: is a directory, not a controller checkpoint", path);
    }
    bytes b = {0};
    unsigned char chunk[65536];
    size_t got;
    errno = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        /* Not a checkpoint at all (/dev/zero, a data file): say so before reading it all. */
        if (b.len == 0 && got >= 8 && memcmp(chunk, CHECKPOINT_MAGIC, 8) != 0) {
            fclose(f);
            return alrs_fail("%s: not an alrs controller checkpoint (wrong magic)", path);
        }
        if (b.len + got > MAX_CHECKPOINT_BYTES) {
            fclose(f);
            free(b.data);
            return alrs_fail("%s: larger than %zu bytes: not a controller checkpoint", path,
                             MAX_CHECKPOINT_BYTES);
        }
        put_raw(&b, chunk, got);
    }
    int failed = ferror(f), saved = errno;
    fclose(f);
    if (failed) {
        free(b.data);
        return alrs_fail("%s: cannot read checkpoint: %s", path, strerror(saved ? saved : EIO));
    }
    *data = b.data, *len = b.len;
    return 0;
}

/* Magic, version, size and checksum; on success the payload's bounds. */
static int check_header(const char *path, const unsigned char *d, size_t len, reader *payload,
                        uint32_t *version_out) {
    if (len == 0)
        return alrs_fail("%s: empty file, not an alrs controller checkpoint (wrong magic)", path);
    if (len < 8 || memcmp(d, CHECKPOINT_MAGIC, 8) != 0)
        return alrs_fail("%s: not an alrs controller checkpoint (wrong magic)", path);
    if (len < CHECKPOINT_HEADER_SIZE)
        return alrs_fail("%s: truncated checkpoint (%zu bytes, shorter than the %d-byte header)",
                         path, len, CHECKPOINT_HEADER_SIZE);
    reader h = {d, len, 8, 0};
    uint32_t version = get_u32(&h);
    get_u32(&h);
    uint64_t size = get_u64(&h);
    uint32_t crc = get_u32(&h);
    if (version < CHECKPOINT_OLDEST_VERSION || version > CHECKPOINT_VERSION)
        return alrs_fail("%s: checkpoint version %u not supported (this build reads versions %u "
                         "to %u)", path, version, CHECKPOINT_OLDEST_VERSION, CHECKPOINT_VERSION);
    *version_out = version;
    size_t have = len - CHECKPOINT_HEADER_SIZE;
    if (size > MAX_CHECKPOINT_BYTES) /* no file cut short announces this much */
        return alrs_fail("%s: corrupt checkpoint header: it announces %llu payload bytes (at most "
                         "%zu)",
                         path, (unsigned long long)size, MAX_CHECKPOINT_BYTES);
    if (size != have)
        return alrs_fail("%s: %s checkpoint: header announces %llu payload bytes, file holds %zu",
                         path, size > have ? "truncated" : "oversized", (unsigned long long)size,
                         have);
    if (crc_of(d + CHECKPOINT_HEADER_SIZE, have) != crc)
        return alrs_fail("%s: checksum mismatch: the checkpoint is corrupted", path);
    *payload = (reader){d + CHECKPOINT_HEADER_SIZE, have, 0, 0};
    return 0;
}

static int decode_hidden(const char *path, reader *r, policy_config *pc) {
    pc->act = (mlp_activation)get_u32(r);
    uint32_t n_hidden = get_u32(r);
    if (n_hidden > MLP_MAX_HIDDEN)
        return alrs_fail("%s: inconsistent sizes: %u hidden layers (at most %d)", path, n_hidden,
                         MLP_MAX_HIDDEN);
    pc->n_hidden = (int)n_hidden;
    for (uint32_t i = 0; i < n_hidden; i++) pc->hidden[i] = (int)get_u32(r);
    pc->init_log_std = get_f64(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends inside the config", path);
    return 0;
}

/* Version 1: the policy config held the action kind and delta; the
 * interface is what that version always meant (see checkpoint.h). */
static int decode_config_v1(const char *path, reader *r, policy_config *pc,
                            lr_env_interface *iface) {
    memset(pc, 0, sizeof *pc);
    memset(iface, 0, sizeof *iface);
    pc->obs_size = (int)get_u32(r);
    uint32_t kind = get_u32(r);
    double delta = get_f64(r);
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

static int decode_interface(const char *path, reader *r, lr_env_interface *iface) {
    memset(iface, 0, sizeof *iface);
    lr_action_config *a = &iface->action;
    iface->features = get_u32(r);
    a->kind = (lr_action_kind)get_u32(r);
    uint32_t n_factors = get_u32(r);
    if (n_factors > LR_ACTION_MAX_FACTORS)
        return alrs_fail("%s: inconsistent sizes: %u action factors (at most %d)", path, n_factors,
                         LR_ACTION_MAX_FACTORS);
    a->n_factors = (int)n_factors;
    get_f64s(r, a->factors, n_factors);
    a->delta = get_f64(r);
    a->residual_range = get_f64(r);
    uint32_t base_len = get_u32(r);
    if (base_len >= LR_ACTION_BASE_MAX)
        return alrs_fail("%s: inconsistent sizes: a base schedule of %u bytes (at most %d)", path,
                         base_len, LR_ACTION_BASE_MAX - 1);
    const unsigned char *base = take(r, base_len);
    if (base) memcpy(a->base, base, base_len);
    iface->lr_min = get_f64(r), iface->lr_max = get_f64(r);
    iface->action_every = (int)get_u32(r);
    iface->steps = (long)get_u64(r);
    if (r->overrun)
        return alrs_fail("%s: inconsistent sizes: payload ends inside the interface", path);
    if (memchr(a->base, '\0', base_len) || iface->features & ~(unsigned)LR_FEAT_ALL ||
        iface->action_every < 1 || iface->steps < 0 ||
        !(iface->lr_min > 0 && iface->lr_min <= iface->lr_max && isfinite(iface->lr_max)))
        return alrs_fail("%s: bad controller interface: features, bounds or action interval out "
                         "of range", path);
    if (lr_action_check(a) != 0) return fail_with_context(path, "bad controller actions: ");
    return 0;
}

static int decode_config(const char *path, reader *r, uint32_t version, policy_config *pc,
                         lr_env_interface *iface) {
    int rc;
    if (version == 1) {
        rc = decode_config_v1(path, r, pc, iface);
    } else {
        memset(pc, 0, sizeof *pc);
        pc->obs_size = (int)get_u32(r);
        pc->dist = (policy_dist)get_u32(r);
        pc->n_actions = (int)get_u32(r);
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

static int decode_state(const char *path, reader *r, controller *c) {
    policy *p = &c->pol;
    if (expect_count(path, "parameter count", get_u64(r), p->n_params)) return -1;
    get_f64s(r, p->params, p->n_params);

    rl_adam *a = &c->adam;
    if (expect_count(path, "Adam moment count", get_u64(r), a->n)) return -1;
    a->t = (long)get_u64(r);
    a->beta1 = get_f64(r), a->beta2 = get_f64(r), a->eps = get_f64(r);
    get_f64s(r, a->m, a->n);
    get_f64s(r, a->v, a->n);

    obs_normalizer *o = &c->obs_norm;
    if (expect_count(path, "observation normaliser size", get_u32(r), o->stats.dim)) return -1;
    o->clip = get_f64(r), o->eps = get_f64(r), o->stats.count = get_f64(r);
    get_f64s(r, o->stats.mean, o->stats.dim);
    get_f64s(r, o->stats.m2, o->stats.dim);

    reward_scaler *s = &c->rewards;
    s->gamma = get_f64(r), s->clip = get_f64(r), s->eps = get_f64(r), s->stats.count = get_f64(r);
    s->stats.mean[0] = get_f64(r), s->stats.m2[0] = get_f64(r);
    uint32_t n_envs = get_u32(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends early", path);
    if (n_envs < 1)
        return alrs_fail("%s: inconsistent sizes: %u environments in the reward scaler", path, n_envs);
    if (n_envs > (r->len - r->pos) / 8)
        return alrs_fail("%s: inconsistent sizes: payload ends inside the reward scaler's %u returns",
                         path, n_envs);
    reward_scaler_set_envs(s, (int)n_envs);
    get_f64s(r, s->ret, n_envs);
    c->updates = (long)get_u64(r);
    if (r->overrun) return alrs_fail("%s: inconsistent sizes: payload ends early", path);
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
static int check_room(const char *path, const reader *r, const policy_config *pc) {
    size_t n = policy_param_count(pc);
    size_t need = (3 * n + 2 * (size_t)pc->obs_size) * 8, left = r->len - r->pos;
    if (need <= left) return 0;
    return alrs_fail("%s: inconsistent sizes: parameter count: the config implies %zu parameters "
                     "(%zu bytes with Adam's moments and the normaliser), but only %zu bytes "
                     "follow it",
                     path, n, need, left);
}

int checkpoint_parse(controller *c, const unsigned char *data, size_t len, const char *path) {
    memset(c, 0, sizeof *c);
    reader r = {0};
    policy_config pc;
    lr_env_interface iface;
    uint32_t version = 0;
    int rc = check_header(path, data, len, &r, &version);
    if (rc == 0) rc = decode_config(path, &r, version, &pc, &iface);
    if (rc == 0) rc = check_room(path, &r, &pc);
    if (rc == 0) {
        /* the scaler's size and gamma come from the file */
        rc = controller_alloc(c, &iface, &pc, 1, 0.99);
        if (rc != 0) rc = fail_with_context(path, "");
        else if ((rc = decode_state(path, &r, c)) != 0) controller_free(c);
        else c->file_version = (int)version;
    }
    return rc;
}

int checkpoint_load(controller *c, const char *path) {
    memset(c, 0, sizeof *c);
    unsigned char *data;
    size_t len;
    if (read_whole_file(path, &data, &len) != 0) return -1;
    int rc = checkpoint_parse(c, data, len, path);
    free(data);
    return rc;
}
