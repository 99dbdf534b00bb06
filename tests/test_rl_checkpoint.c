/* Controller checkpoints: a trained-looking controller (every part of its
 * state nonzero) survives save -> load -> save byte for byte, interface
 * included (features, factors, residual base), and the loaded controller acts
 * exactly as the saved one (normaliser included); the layout is little-endian
 * as documented; a version-1 checkpoint (the committed LeNet-5 controller)
 * still loads, with the interface that version meant; a missing file, a wrong magic, an
 * unsupported version, a truncated file, an extra byte, a flipped payload
 * byte, a payload whose sizes disagree with its config (with a correct
 * checksum), and a config implying more than the payload holds (before any
 * allocation) are each refused with one line naming the path. */
#include "core/error.h"
#include "rl/controller_file.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(d, 1, (size_t)n, f);
    fclose(f);
    return d;
}

static void spit(const char *path, const unsigned char *d, size_t len) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, len, f);
    fclose(f);
}

/* Plain discrete x1.1, /1.1, keep on the paper's seven features; or (the
 * richer variant) progress and slope features, five factors, a residual
 * warm-up + cosine base; or continuous. */
enum { PLAIN_DISCRETE, RICH_DISCRETE, CONTINUOUS };
#define OBS_MAX LR_ENV_MAX_OBS

static lr_env_interface test_interface(int variant) {
    lr_env_interface i;
    memset(&i, 0, sizeof i);
    i.action = lr_action_default();
    i.action.delta = 0.1;
    i.action.factors[0] = 1.1, i.action.factors[1] = 1 / 1.1;
    i.lr_min = 1e-6, i.lr_max = 1, i.action_every = 10, i.steps = 1000;
    if (variant == CONTINUOUS) i.action.kind = LR_ACTION_CONTINUOUS;
    if (variant == RICH_DISCRETE) {
        i.features = LR_FEAT_PROGRESS | LR_FEAT_SLOPE;
        if (lr_action_parse_factors("0.5,0.8,1,1.25,2", &i.action) != 0) alrs_panic("factors");
        snprintf(i.action.base, sizeof i.action.base, "warmup-cosine:warmup=30");
        i.action.residual_range = 3;
        i.action_every = 5, i.steps = 600;
    }
    return i;
}

/* A controller with every part of its state touched by one PPO update. */
static void make_trained(controller *c, int variant) {
    lr_env_interface iface = test_interface(variant);
    policy_config pc = controller_policy_config(&iface);
    pc.hidden[1] = 16;
    int D = pc.obs_size;
    rng_stream r = rng_make(9, 0), sh = rng_make(9, 1);
    rng_stream envs[3] = {rng_make(9, 10), rng_make(9, 11), rng_make(9, 12)};
    if (controller_init(c, &iface, &pc, 3, 0.99, &r) != 0) fprintf(stderr, "%s\n", alrs_error());
    rollout_buffer b;
    rollout_buffer_init(&b, 8, 3, D);
    double raw[3 * OBS_MAX], obs[3 * OBS_MAX], a[3], lp[3], v[3], rew[3], scaled[3];
    unsigned char done[3] = {0, 0, 0};
    for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 3 * D; i++) raw[i] = 5 + 3 * rng_normal(&r);
        controller_observe(c, raw, 3, 1, obs);
        policy_act(&c->pol, obs, 3, envs, a, lp, v);
        for (int e = 0; e < 3; e++) rew[e] = raw[D * e] - 5;
        done[1] = t == 4;
        reward_scaler_scale(&c->rewards, rew, done, scaled);
        rollout_buffer_record(&b, t, obs, a, lp, v);
        rollout_buffer_outcome(&b, t, scaled, done, NULL, NULL);
    }
    double last[3] = {0.1, 0.2, 0.3};
    rollout_buffer_gae(&b, last, 0.99, 0.95);
    ppo_config cfg = ppo_config_default();
    ppo_stats s;
    if (controller_update(c, &cfg, &b, &sh, &s) != 0) fprintf(stderr, "%s\n", alrs_error());
    rollout_buffer_free(&b);
}

static void test_round_trip(int variant, const char *dir) {
    controller c, d;
    make_trained(&c, variant);
    /* what it learned on, as alrs learn (and later alrs learn --tasks) sets it */
    controller_origin *org = &c.origin;
    snprintf(org->model, sizeof org->model, "mlp --hidden 32,16");
    snprintf(org->optimizer, sizeof org->optimizer, "adamw");
    snprintf(org->dataset, sizeof org->dataset, "cifar10");
    org->n_rates = 2, org->rates[0] = 1e-2, org->rates[1] = 3e-4;
    org->val_size = 500, org->classes = 10, org->default_lr = 2e-3;
    snprintf(org->tasks, sizeof org->tasks, "cifar10 mlp; fashion-mnist lenet5");
    char p1[2048], p2[2048];
    snprintf(p1, sizeof p1, "%s/a.ckpt", dir);
    snprintf(p2, sizeof p2, "%s/b.ckpt", dir);
    CHECK(controller_file_save(&c, p1) == 0);
    CHECK(controller_file_load(&d, p1) == 0);
    CHECK(controller_file_save(&d, p2) == 0);
    size_t n1, n2;
    unsigned char *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* size: header + config + interface + params + Adam + normaliser + scaler + updates */
    size_t np = c.pol.n_params, D = (size_t)c.pol.cfg.obs_size;
    size_t nf = (size_t)c.iface.action.n_factors, nb = strlen(c.iface.action.base);
    size_t want = 32 + (4 + 4 + 4 + 4 + 4 + 2 * 4 + 8) +
                  (4 + 4 + 4 + 8 * nf + 8 + 8 + 4 + nb + 8 + 8 + 4 + 8) + (8 + 8 * np) +
                  (8 + 8 + 24 + 16 * np) + (4 + 24 + 16 * D) + (48 + 4 + 8 * 3) + 8 +
                  (4 + 18 + 4 + 5 + 4 + 7 + 4 + 8 * 2 + 8 + 4 + 4 + 33 + 8); /* origin */
    CHECK(n1 == want);
    CHECK(!strcmp(d.origin.model, org->model) && !strcmp(d.origin.optimizer, "adamw") &&
          !strcmp(d.origin.dataset, "cifar10") && d.origin.n_rates == 2 &&
          d.origin.rates[1] == 3e-4 && d.origin.val_size == 500 && d.origin.classes == 10 &&
          !strcmp(d.origin.tasks, org->tasks) && d.origin.default_lr == 2e-3);
    /* the state itself */
    CHECK(d.pol.cfg.dist == c.pol.cfg.dist && d.pol.cfg.n_actions == c.pol.cfg.n_actions &&
          d.pol.cfg.obs_size == c.pol.cfg.obs_size && d.pol.cfg.hidden[1] == 16);
    CHECK(lr_env_interface_equal(&c.iface, &d.iface));
    CHECK(!strcmp(d.iface.action.base, c.iface.action.base) && d.iface.action.delta == 0.1);
    CHECK(memcmp(c.pol.params, d.pol.params, sizeof(double) * np) == 0);
    CHECK(memcmp(c.adam.m, d.adam.m, sizeof(double) * np) == 0);
    CHECK(memcmp(c.adam.v, d.adam.v, sizeof(double) * np) == 0);
    CHECK(c.adam.t == d.adam.t && c.adam.t == 16); /* 4 epochs x 4 minibatches */
    CHECK(d.updates == 1);
    CHECK(d.obs_norm.stats.count == 24 && d.obs_norm.stats.mean[2] == c.obs_norm.stats.mean[2]);
    CHECK(d.rewards.stats.count == 24 && d.rewards.n_envs == 3 && d.rewards.ret[1] == c.rewards.ret[1]);
    /* the loaded controller acts exactly as the saved one on raw observations */
    double raw[OBS_MAX] = {7, 2, 5, 9, 1, 2, 3, 4, 5, 6, 7}, o1[OBS_MAX], o2[OBS_MAX], m1, m2;
    controller_observe(&c, raw, 1, 0, o1);
    controller_observe(&d, raw, 1, 0, o2);
    policy_mode(&c.pol, o1, 1, &m1);
    policy_mode(&d.pol, o2, 1, &m2);
    CHECK(memcmp(o1, o2, sizeof o1) == 0 && m1 == m2);
    /* little-endian header as documented */
    CHECK(memcmp(b1, "ALRSCTRL", 8) == 0);
    CHECK(b1[8] == 3 && b1[9] == 0 && b1[10] == 0 && b1[11] == 0);
    uint64_t size = 0;
    for (int i = 7; i >= 0; i--) size = size << 8 | b1[16 + i];
    CHECK(size == n1 - 32);
    CHECK(b1[32] == D && b1[33] == 0); /* obs_size */
    /* no temporary file left behind */
    char tmp[2100];
    snprintf(tmp, sizeof tmp, "ls '%s' | wc -l | grep -qx 2", dir);
    CHECK(system(tmp) == 0);
    free(b1), free(b2);
    controller_free(&c), controller_free(&d);
}

/* Loading `data` must fail with a message containing the path and `what`. */
static void expect_reject(const char *path, const unsigned char *data, size_t len,
                          const char *what) {
    spit(path, data, len);
    controller c;
    int rc = controller_file_load(&c, path);
    CHECK(rc == -1);
    const char *msg = alrs_error();
    int ok = strstr(msg, path) != NULL && strstr(msg, what) != NULL && !strchr(msg, '\n');
    if (!ok) fprintf(stderr, "  expected '%s' in: %s\n", what, msg);
    else printf("  rejected: %s\n", msg);
    CHECK(ok);
    if (rc == 0) controller_free(&c);
}

static void put_u32le(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recomputes the header's checksum after editing the payload. */
static void fix_crc(unsigned char *d, size_t len) {
    put_u32le(d + 24, (uint32_t)crc32(crc32(0L, Z_NULL, 0), d + 32, (uInt)(len - 32)));
}

static void test_rejections(const char *dir) {
    controller c;
    make_trained(&c, PLAIN_DISCRETE);
    char good[2048], bad[2048];
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    CHECK(controller_file_save(&c, good) == 0);
    size_t len;
    unsigned char *d = slurp(good, &len), *e = malloc(len + 1);

    controller x;
    char missing[2100];
    snprintf(missing, sizeof missing, "%s/none.ckpt", dir);
    CHECK(controller_file_load(&x, missing) == -1);
    CHECK(strstr(alrs_error(), missing) && strstr(alrs_error(), "No such file"));

    expect_reject(bad, d, 0, "wrong magic"); /* empty file */
    memcpy(e, d, len);
    e[0] = 'X';
    expect_reject(bad, e, len, "wrong magic");
    expect_reject(bad, (const unsigned char *)"hello world, this is not it", 27, "wrong magic");
    memcpy(e, d, len);
    put_u32le(e + 8, 4);
    expect_reject(bad, e, len, "version 4 not supported (this build reads versions 1 to 3)");
    put_u32le(e + 8, 0);
    expect_reject(bad, e, len, "version 0 not supported");
    expect_reject(bad, d, 20, "truncated");        /* inside the header */
    expect_reject(bad, d, len - 1, "truncated");   /* one byte short */
    expect_reject(bad, d, len / 2, "truncated");
    memcpy(e, d, len);
    e[len] = 0;
    expect_reject(bad, e, len + 1, "oversized");   /* one byte extra */
    for (size_t at = 32; at < len; at += (len - 32) / 7) { /* a flipped byte anywhere */
        memcpy(e, d, len);
        e[at] ^= 0x10;
        expect_reject(bad, e, len, "checksum mismatch");
    }
    memcpy(e, d, len);
    e[24] ^= 1; /* the stored checksum itself */
    expect_reject(bad, e, len, "checksum mismatch");
    /* consistent checksum, inconsistent contents: */
    memcpy(e, d, len);
    put_u32le(e + 32, 9); /* obs_size 9: more than the paper's seven features give */
    fix_crc(e, len);
    expect_reject(bad, e, len, "inconsistent sizes: parameter count");
    memcpy(e, d, len);
    put_u32le(e + 32, 5); /* obs_size 5: fewer; the sizes fit, the interface does not */
    fix_crc(e, len);
    expect_reject(bad, e, len, "the policy reads 5 features, the environment gives 7");
    memcpy(e, d, len);
    put_u32le(e + 32 + 16, 9); /* 9 hidden layers */
    fix_crc(e, len);
    expect_reject(bad, e, len, "inconsistent sizes: 9 hidden layers");
    memcpy(e, d, len);
    put_u32le(e + 32 + 4, 7); /* action distribution 7 */
    fix_crc(e, len);
    expect_reject(bad, e, len, "unknown action distribution 7");
    memcpy(e, d, len);
    put_u32le(e + 32 + 36 + 4, 9); /* the interface's action kind 9 */
    fix_crc(e, len);
    expect_reject(bad, e, len, "bad controller actions: action kind 9: unknown");
    memcpy(e, d, len);
    put_u32le(e + 32 + 36 + 8, 4); /* 4 factors for a policy of 3 actions */
    fix_crc(e, len);
    expect_reject(bad, e, len, "inconsistent sizes");
    /* a shorter payload with a matching header size and checksum: ends early */
    memcpy(e, d, len);
    size_t shorter = len - 16;
    for (int i = 0; i < 8; i++) e[16 + i] = (unsigned char)((uint64_t)(shorter - 32) >> (8 * i));
    fix_crc(e, shorter);
    expect_reject(bad, e, shorter, "inconsistent sizes");
    /* A config claiming 4096-wide layers and nothing after it (found by
     * fuzz_checkpoint): refused from the sizes alone. It used to allocate
     * ~4 GB first, and abort where memory was limited. */
    {
        /* the good file's interface: after its 36-byte config (2 hidden layers) */
        enum { IFACE = 4 + 4 + 4 + 3 * 8 + 8 + 8 + 4 + 8 + 8 + 4 + 8, CFG = 44 };
        unsigned char w[32 + CFG + IFACE + 4];
        memcpy(w, d, 32);
        put_u32le(w + 32, 4096);     /* obs_size */
        put_u32le(w + 36, 0);        /* categorical */
        put_u32le(w + 40, 3);        /* 3 actions */
        put_u32le(w + 44, 0);        /* tanh */
        put_u32le(w + 48, 4);        /* 4 hidden layers */
        for (int i = 0; i < 4; i++) put_u32le(w + 52 + 4 * i, 4096);
        memset(w + 68, 0, 8);        /* init_log_std 0 */
        memcpy(w + 32 + CFG, d + 32 + 36, IFACE);
        memset(w + 32 + CFG + IFACE, 0, 4); /* then 4 bytes of nothing */
        uint64_t payload = sizeof w - 32;
        for (int i = 0; i < 8; i++) w[16 + i] = (unsigned char)(payload >> (8 * i));
        fix_crc(w, sizeof w);
        expect_reject(bad, w, sizeof w,
                      "inconsistent sizes: parameter count: the config implies 134266884 "
                      "parameters (3222470752 bytes with Adam's moments and the normaliser), "
                      "but only 4 bytes follow it");
    }
    /* a directory is not a checkpoint */
    CHECK(controller_file_load(&x, dir) == -1);
    CHECK(strstr(alrs_error(), dir) != NULL);
    /* saving into a missing directory fails with the path */
    char nodir[2100];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/c.ckpt", dir);
    CHECK(controller_file_save(&c, nodir) == -1);
    CHECK(strstr(alrs_error(), nodir) != NULL);
    /* the good file still loads after all that */
    CHECK(controller_file_load(&x, good) == 0);
    controller_free(&x);
    free(d), free(e);
    controller_free(&c);
}

/* The committed LeNet-5 controller was saved as version 1: it loads with the
 * interface that version meant, acts, and saves again as version 3 with the
 * same policy. */
/* A base schedule with a line break (found by fuzz_checkpoint: the refusal
 * quoted it and took two lines): refused as text, in one line. */
static void test_control_bytes(const char *dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/broken-base.ckpt", dir);
    controller c;
    make_trained(&c, RICH_DISCRETE);
    CHECK(controller_file_save(&c, path) == 0);
    controller_free(&c);
    size_t len, at = 0;
    unsigned char *d = slurp(path, &len);
    /* the base spec "warmup-cosine:warmup=30": its '=' becomes a line break */
    while (d && at + 9 <= len && memcmp(d + at, "warmup=30", 9) != 0) at++;
    CHECK(d && at + 9 <= len);
    if (d && at + 9 <= len) {
        d[at + 6] = '\n';
        fix_crc(d, len);
        expect_reject(path, d, len, "bad controller interface");
    }
    free(d);
}

static void test_version1(const char *dir) {
    const char *v1 = ALRS_SOURCE_DIR "/results/paper-design-lenet5-controller/controller.bin";
    size_t n;
    unsigned char *bytes = slurp(v1, &n);
    CHECK(bytes && n > 32 && bytes[8] == 1);
    free(bytes);
    controller c, d;
    CHECK(controller_file_load(&c, v1) == 0);
    CHECK(c.iface.features == 0 && c.iface.action.kind == LR_ACTION_DISCRETE);
    CHECK(c.iface.action.n_factors == 3 && c.iface.action.factors[0] == 1.05 &&
          c.iface.action.factors[1] == 1 / 1.05 && c.iface.action.factors[2] == 1);
    CHECK(c.iface.action.base[0] == 0 && c.iface.action_every == 10 && c.iface.lr_min == 1e-6);
    CHECK(c.pol.cfg.obs_size == 7 && c.pol.cfg.n_actions == 3 && c.updates == 32);
    char again[2100];
    snprintf(again, sizeof again, "%s/v2.ckpt", dir);
    CHECK(controller_file_save(&c, again) == 0);
    CHECK(controller_file_load(&d, again) == 0);
    CHECK(lr_env_interface_equal(&c.iface, &d.iface));
    CHECK(memcmp(c.pol.params, d.pol.params, sizeof(double) * c.pol.n_params) == 0);
    controller_free(&c);
    controller_free(&d);
}

int main(void) {
    const char *dir = test_tmpdir("rl-checkpoint");
    char a[1100], b[1100], c[1100];
    snprintf(a, sizeof a, "%s/discrete", dir);
    snprintf(b, sizeof b, "%s/continuous", dir);
    snprintf(c, sizeof c, "%s/bad", dir);
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s' '%s'", a, b, c);
    if (system(cmd) != 0) return 2;
    test_round_trip(PLAIN_DISCRETE, a);
    test_round_trip(CONTINUOUS, b);
    test_round_trip(RICH_DISCRETE, a);
    test_version1(c);
    test_rejections(c);
    test_control_bytes(c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 2;
    return test_finish();
}
